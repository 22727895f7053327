//! What the workloads write, identical for every system, and the few
//! file-system helpers the driver needs (fresh directories, disk usage, a
//! whole-system `sync`, peak RSS).

use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::Command;

use datawal_typed::Record;
use serde::{Deserialize, Serialize};

/// Payload bytes of one record of W1-W6 (key/value stores: the value).
pub const PAYLOAD_LEN: usize = 64;

/// The payload of record `i`: `i` as 16 hex digits, then 48 `'x'`. ASCII, so
/// the JSONL system carries it as a JSON string unchanged.
pub fn payload(i: u64) -> [u8; PAYLOAD_LEN] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'x'; PAYLOAD_LEN];
    for (k, digit) in out[..16].iter_mut().enumerate() {
        *digit = HEX[((i >> (60 - 4 * k)) & 0xf) as usize];
    }
    out
}

/// Key bytes of W7: `key:%08u`, 12 bytes (as in `datawal-core/benches/compare.rs`).
pub fn kv_key(i: u64) -> [u8; 12] {
    let mut out = *b"key:00000000";
    let mut rest = i;
    for digit in out[4..].iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out
}

/// The typed record of W8: a u64 id, two short strings, a u64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Record)]
#[record(name = "peers_event", version = 1)]
pub struct Event {
    /// The key.
    #[record(key)]
    pub id: u64,
    /// 11 bytes: `user-%06u`.
    pub name: String,
    /// 3 to 6 bytes.
    pub action: String,
    /// Any number.
    pub amount: u64,
}

/// Record `i` of W8.
pub fn event(i: u64) -> Event {
    const ACTIONS: [&str; 4] = ["login", "logout", "buy", "sell"];
    Event {
        id: i,
        name: format!("user-{:06}", i % 1_000_000),
        action: ACTIONS[(i % 4) as usize].to_string(),
        amount: i.wrapping_mul(7919),
    }
}

/// bincode 2, standard configuration: how the byte stores (redb, fjall,
/// okaywal) encode an [`Event`], as datawal-typed does by default.
pub fn encode_event(e: &Event) -> Vec<u8> {
    bincode::serde::encode_to_vec(e, bincode::config::standard()).expect("an Event encodes")
}

/// Decode what [`encode_event`] wrote.
pub fn decode_event(bytes: &[u8]) -> anyhow::Result<Event> {
    let (e, _) = bincode::serde::decode_from_slice(bytes, bincode::config::standard())?;
    Ok(e)
}

/// `0..n` in a pseudo-random order fixed by `seed` (xorshift64*, Fisher-Yates).
pub fn shuffled(n: usize, seed: u64) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    let mut state = seed | 1;
    for i in (1..n).rev() {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        order.swap(i, (r % (i as u64 + 1)) as usize);
    }
    order
}

/// Bytes allocated on disk under `path` (st_blocks × 512, as `du` counts).
pub fn disk_usage(path: &Path) -> io::Result<u64> {
    let meta = fs::symlink_metadata(path)?;
    let mut total = meta.blocks() * 512;
    if meta.is_dir() {
        for entry in fs::read_dir(path)? {
            total += disk_usage(&entry?.path())?;
        }
    }
    Ok(total)
}

/// Remove `dir` and flush the whole file system, so that what one system
/// left dirty (or deleted) is not written back during the next one's fsyncs.
pub fn clean(dir: &Path) -> io::Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    sync_all()
}

/// `sync(1)`: write back every dirty page of every file system.
pub fn sync_all() -> io::Result<()> {
    let status = Command::new("sync").status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("sync exited with {status}")))
    }
}

/// Peak resident set size of this process (`VmHWM` of `/proc/self/status`), in KiB.
pub fn peak_rss_kib() -> io::Result<u64> {
    let status = fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| io::Error::other("no VmHWM line in /proc/self/status"))
}

/// Fold the bytes of a record into a checksum, so that no scan can skip
/// reading what it returns.
pub fn fold(acc: u64, bytes: &[u8]) -> u64 {
    let first = bytes.first().copied().unwrap_or(0) as u64;
    let last = bytes.last().copied().unwrap_or(0) as u64;
    acc.wrapping_mul(31)
        .wrapping_add(bytes.len() as u64 ^ (first << 8) ^ (last << 16))
}

/// What [`fold`] gives over the payloads of records `0..n`, in order.
pub fn expected_fold(n: u64) -> u64 {
    (0..n).fold(0, |acc, i| fold(acc, &payload(i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_and_keys_spell_their_number() {
        assert_eq!(&payload(0x1234_abcd)[..18], b"000000001234abcdxx");
        assert_eq!(&kv_key(42), b"key:00000042");
    }

    #[test]
    fn shuffled_is_a_permutation() {
        let mut order = shuffled(1000, 7);
        assert_ne!(order[..10], (0..10).collect::<Vec<u32>>()[..]);
        order.sort_unstable();
        assert_eq!(order, (0..1000).collect::<Vec<u32>>());
    }

    #[test]
    fn events_round_trip_through_bincode() {
        let e = event(12_345);
        assert_eq!(decode_event(&encode_event(&e)).unwrap(), e);
    }
}
