//! Shared helpers for the reliability tests (`crash_*`, `fault_*`,
//! `concurrency_*`, `fuzz_*`, `model_*`): a small deterministic PRNG, frame
//! builders, and the plumbing that re-executes the test binary as a child
//! process.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::thread::JoinHandle;

use datawal_core::format::encode_into;
use datawal_core::RecordType;

/// SplitMix64: tiny, fast in debug builds, good enough for test inputs.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// `true` with probability `1/n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let x = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&x[..chunk.len()]);
        }
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0u8; n];
        self.fill(&mut v);
        v
    }
}

/// A seed from the environment (`DATAWAL_SEED`) or the clock; printed so a
/// failure can be replayed.
pub fn seed(test: &str) -> u64 {
    let seed = std::env::var("DATAWAL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    eprintln!("{test}: DATAWAL_SEED={seed}");
    seed
}

/// One encoded frame.
pub fn frame(rt: RecordType, txid: u64, key: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    encode_into(&mut v, rt, txid, key, payload);
    v
}

/// Environment variable that turns a test binary into a child process.
pub const CHILD_ENV: &str = "DATAWAL_RELIABILITY_CHILD";

/// The child mode this process runs in, if any.
pub fn child_mode() -> Option<String> {
    std::env::var(CHILD_ENV).ok()
}

/// A re-executed copy of the current test binary running `test_name` with
/// `env`, stdout piped and read line by line on a thread.
pub struct ChildProc {
    pub child: Child,
    pub lines: Receiver<String>,
    reader: Option<JoinHandle<()>>,
}

impl ChildProc {
    pub fn spawn(test_name: &str, mode: &str, dir: &Path, env: &[(&str, String)]) -> Self {
        let exe = std::env::current_exe().expect("current_exe");
        let mut cmd = Command::new(exe);
        cmd.args([test_name, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, mode)
            .env("DATAWAL_CHILD_DIR", dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn child");
        let stdout = child.stdout.take().expect("child stdout");
        let (tx, rx) = channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        ChildProc {
            child,
            lines: rx,
            reader: Some(reader),
        }
    }

    /// SIGKILL the child and reap it; returns every line it printed that
    /// the caller has not taken yet (the pipe is drained to EOF).
    pub fn kill(mut self) -> Vec<String> {
        // `Child::kill` sends SIGKILL on Unix.
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.drain()
    }

    /// Wait for the child to exit on its own; returns its remaining lines and status.
    pub fn wait(mut self) -> (Vec<String>, std::process::ExitStatus) {
        let status = self.child.wait().expect("wait child");
        (self.drain(), status)
    }

    fn drain(&mut self) -> Vec<String> {
        if let Some(h) = self.reader.take() {
            let _ = h.join();
        }
        self.lines.try_iter().collect()
    }
}

/// Print one protocol line from a child and flush it.
pub fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// The store directory a child was given.
pub fn child_dir() -> std::path::PathBuf {
    std::env::var_os("DATAWAL_CHILD_DIR")
        .expect("DATAWAL_CHILD_DIR")
        .into()
}

pub fn env_u64(name: &str) -> u64 {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} not set"))
        .parse()
        .unwrap_or_else(|_| panic!("{name} not a number"))
}

/// Append raw bytes to the end of a file (damage injected behind the API).
pub fn append_bytes(path: &Path, bytes: &[u8]) {
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

/// Cut the file at `path` to `len` bytes (what a power cut can leave of
/// unsynced bytes, or hand-made garbage removed).
pub fn truncate_to(path: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

/// Zero-fill `path` from `cut` to `len` (what a power cut can leave of
/// unsynced bytes) and return where the damage really starts: the first of
/// those bytes that was not already zero, or `len` when none changed. (A
/// frame whose CRC ends in a zero byte is intact after a one-byte fill.)
pub fn zero_fill_from(path: &Path, cut: u64, len: u64) -> u64 {
    let bytes = std::fs::read(path).unwrap();
    let span = bytes.get(cut as usize..len as usize).unwrap_or_default();
    let first_changed = span
        .iter()
        .position(|&b| b != 0)
        .map_or(len, |i| cut + i as u64);
    let mut zeroed = bytes;
    zeroed[cut as usize..len as usize].fill(0);
    std::fs::write(path, zeroed).unwrap();
    first_changed
}

/// `default` proptest cases, or `PROPTEST_CASES` when set (for longer local runs).
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// How long a child waits to be killed before it gives up and exits 3 (a
/// parent that never kills it has failed already).
pub const CHILD_LIFETIME: std::time::Duration = std::time::Duration::from_secs(20);

/// The end of a child's work: wait for the parent's SIGKILL.
pub fn sleep_until_killed() -> ! {
    std::thread::sleep(CHILD_LIFETIME);
    std::process::exit(3)
}

/// Whether this process is a child re-executed by a crash test.
pub fn is_child() -> bool {
    child_mode().is_some()
}

/// In a child: its mode and store directory, after ending the harness's
/// "test child_entry ... " line (printed without a newline), so that every
/// protocol line starts a line of its own. `None` in a normal test run.
pub fn child_start() -> Option<(String, std::path::PathBuf)> {
    let mode = child_mode()?;
    say("");
    Some((mode, child_dir()))
}

/// The log options a parent passed to its child: `max_segment_bytes` from
/// `DATAWAL_MAX_SEGMENT` and `preallocate` from `DATAWAL_PREALLOCATE`, when
/// set.
pub fn child_log_options() -> datawal_core::LogOptions {
    let mut options = datawal_core::LogOptions::default();
    if let Ok(v) = std::env::var("DATAWAL_MAX_SEGMENT") {
        options = options.max_segment_bytes(v.parse().expect("DATAWAL_MAX_SEGMENT"));
    }
    if let Ok(v) = std::env::var("DATAWAL_PREALLOCATE") {
        options = options.preallocate(v.parse().expect("DATAWAL_PREALLOCATE"));
    }
    options
}

/// What [`power_cut`] did to the newest segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerCut {
    /// There was no segment yet: nothing to lose.
    Nothing,
    /// The whole file went (its directory entry was never synced); its
    /// length.
    Vanished(u64),
    /// Cut off at the offset.
    Truncated { at: u64, len: u64 },
    /// Zero-filled in place from the first offset that was not zero.
    ZeroFilled { from: u64, len: u64 },
}

impl PowerCut {
    /// Bytes the cut took away.
    pub fn bytes_lost(self) -> u64 {
        match self {
            PowerCut::Nothing => 0,
            PowerCut::Vanished(len) => len,
            PowerCut::Truncated { at, len } => len - at,
            PowerCut::ZeroFilled { from, len } => len - from,
        }
    }
}

/// A power cut's effect on the newest segment of `dir`, whose durable end
/// is `durable` (segment id, offset): a random part of what lies past the
/// durable end is lost, cut off or zero-filled in place; a segment created
/// after the durable point sometimes vanishes whole (one in four, when it
/// is not the only one).
pub fn power_cut(dir: &Path, durable: (u32, u64), rng: &mut Rng) -> PowerCut {
    use datawal_core::segment::{list_segments, segment_path};
    // A child killed before its open made the directory, or the first
    // segment in it, left nothing written, so nothing acknowledged either.
    let ids = if dir.exists() {
        list_segments(dir).unwrap()
    } else {
        Vec::new()
    };
    let Some(&last) = ids.last() else {
        assert_eq!(durable, (1, 0), "durable data, and no segment");
        return PowerCut::Nothing;
    };
    assert!(last >= durable.0, "segment {last} below the durable one");
    let path = segment_path(dir, last);
    let len = std::fs::metadata(&path).unwrap().len();
    let lo = if last == durable.0 { durable.1 } else { 0 };
    assert!(lo <= len, "durable end {lo} beyond the file's {len} bytes");
    if last > durable.0 && ids.len() > 1 && rng.one_in(4) {
        std::fs::remove_file(&path).unwrap();
        return PowerCut::Vanished(len);
    }
    let cut = rng.range(lo, len);
    if rng.one_in(2) {
        truncate_to(&path, cut);
        PowerCut::Truncated { at: cut, len }
    } else {
        let from = zero_fill_from(&path, cut, len);
        PowerCut::ZeroFilled { from, len }
    }
}

/// What a crash test did to its stores, for its report and its checks.
#[derive(Debug, Default, Clone, Copy)]
pub struct Kills {
    /// SIGKILLs.
    pub kills: u32,
    /// Of those, the ones before the child finished its work.
    pub mid_run: u32,
    /// Power cuts that cut the newest segment off.
    pub truncations: u32,
    /// Power cuts that zero-filled part of it.
    pub zero_fills: u32,
    /// Power cuts that took the whole newest segment.
    pub lost_segments: u32,
}

impl Kills {
    /// Count a power cut.
    pub fn count(&mut self, cut: PowerCut) {
        match cut {
            PowerCut::Nothing => {}
            PowerCut::Vanished(_) => self.lost_segments += 1,
            PowerCut::Truncated { .. } => self.truncations += 1,
            PowerCut::ZeroFilled { .. } => self.zero_fills += 1,
        }
    }

    /// Add another store's counts.
    pub fn add(&mut self, other: &Kills) {
        self.kills += other.kills;
        self.mid_run += other.mid_run;
        self.truncations += other.truncations;
        self.zero_fills += other.zero_fills;
        self.lost_segments += other.lost_segments;
    }

    /// Power cuts of every kind.
    pub fn power_cuts(&self) -> u32 {
        self.truncations + self.zero_fills + self.lost_segments
    }

    /// Print the totals of the test `what`, which checked `acked`
    /// acknowledged records.
    pub fn report(&self, what: &str, acked: u64) {
        eprintln!(
            "{what}: {} kills ({} before the child finished its work), {} power cuts by \
             truncation, {} by zero-fill, {} lost last segments, {acked} acknowledged records, \
             0 lost",
            self.kills, self.mid_run, self.truncations, self.zero_fills, self.lost_segments,
        );
    }
}

/// The recovery rule for zeros, as the models expect it: the tail a model
/// predicts in the last segment at `path` (`Some((offset, bytes))`) is
/// free space when every byte of it is zero. Returns the tail the open
/// must report and the free bytes it must count.
pub fn tail_or_free_space(path: &Path, tail: Option<(u64, u64)>) -> (Option<(u64, u64)>, u64) {
    let Some((offset, bytes)) = tail else {
        return (None, 0);
    };
    let file = std::fs::read(path).unwrap();
    let rest = &file[offset as usize..];
    if rest.len() as u64 == bytes && rest.iter().all(|&b| b == 0) {
        (None, bytes)
    } else {
        (tail, 0)
    }
}
