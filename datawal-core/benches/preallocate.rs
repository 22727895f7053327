//! Which way of reserving a segment's space makes a small write + `fdatasync`
//! cheapest on this disk: the question behind `LogOptions::preallocate`.
//! Each round writes `N` records of 88 bytes (a 64-byte payload's frame),
//! each followed by `fdatasync`, into a fresh file prepared one of five ways,
//! the ways interleaved round by round; prints, per way, the median time
//! of one record (write + `fdatasync`) over every record of every round,
//! the 10th and 90th percentiles, the mean, and the records/s the mean
//! makes (percentiles of single records hold up better than per-round
//! rates on a shared, noisy disk; the mean is what throughput pays). No datawal code runs: this measures the file system.
//!
//! - `grow`: appends to an empty file (every sync commits a new length);
//! - `keep-size`: `fallocate(FALLOC_FL_KEEP_SIZE)` ahead, then appends (the
//!   blocks exist, but each sync still commits a new length);
//! - `fallocate`: `fallocate(0)` (the length set, unwritten extents), then
//!   writes inside it (the first write to each extent converts it:
//!   metadata again);
//! - `zeros`: zeros written and synced ahead, then writes inside them;
//! - `zeros-unsynced`: zeros written ahead without a sync (the first
//!   record's sync carries them).
//!
//! ```text
//! cargo bench -p datawal-core --bench preallocate
//! DATAWAL_BENCH_N=2000 DATAWAL_BENCH_ROUNDS=5 DATAWAL_BENCH_DIR=/var/tmp cargo bench ...
//! ```

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Instant;

/// Bytes of one record: the frame of a 64-byte payload with an empty key.
const RECORD: usize = 88;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Clone, Copy)]
enum Way {
    Grow,
    KeepSize,
    Fallocate,
    Zeros,
    ZerosUnsynced,
}

impl Way {
    const ALL: [Way; 5] = [
        Way::Grow,
        Way::KeepSize,
        Way::Fallocate,
        Way::Zeros,
        Way::ZerosUnsynced,
    ];

    fn name(self) -> &'static str {
        match self {
            Way::Grow => "grow",
            Way::KeepSize => "keep-size",
            Way::Fallocate => "fallocate",
            Way::Zeros => "zeros",
            Way::ZerosUnsynced => "zeros-unsynced",
        }
    }

    /// A fresh file with room for `bytes`, prepared this way.
    fn prepare(self, path: &Path, bytes: u64) -> std::io::Result<File> {
        let _ = std::fs::remove_file(path);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        use rustix::fs::{fallocate, FallocateFlags};
        match self {
            Way::Grow => {}
            Way::KeepSize => fallocate(&file, FallocateFlags::KEEP_SIZE, 0, bytes)?,
            Way::Fallocate => fallocate(&file, FallocateFlags::empty(), 0, bytes)?,
            Way::Zeros | Way::ZerosUnsynced => {
                let zeros = vec![0u8; 1 << 16];
                let mut left = bytes;
                while left > 0 {
                    let n = left.min(zeros.len() as u64) as usize;
                    file.write_all(&zeros[..n])?;
                    left -= n as u64;
                }
            }
        }
        if !matches!(self, Way::ZerosUnsynced) {
            file.sync_all()?;
        }
        Ok(file)
    }
}

fn main() -> std::io::Result<()> {
    let n = env("DATAWAL_BENCH_N", 2000);
    let rounds = env("DATAWAL_BENCH_ROUNDS", 5);
    let base = std::env::var_os("DATAWAL_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let dir = tempfile::tempdir_in(base)?;
    let path = dir.path().join("segment");
    let record = [7u8; RECORD];
    let room = n * RECORD as u64;
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); Way::ALL.len()];
    for round in 0..rounds {
        for (i, way) in Way::ALL.iter().enumerate() {
            // Alternate the order, so no way always follows the same one.
            let (i, way) = if round % 2 == 0 {
                (i, *way)
            } else {
                let j = Way::ALL.len() - 1 - i;
                (j, Way::ALL[j])
            };
            let file = way.prepare(&path, room)?;
            for k in 0..n {
                let start = Instant::now();
                file.write_all_at(&record, k * RECORD as u64)?;
                file.sync_data()?;
                times[i].push(start.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    println!("{n} records of {RECORD} bytes, each + fdatasync, {rounds} rounds");
    println!("| way | median µs | p10-p90 µs | mean µs | records/s (1 / mean) |");
    println!("|---|---:|---|---:|---:|");
    for (way, t) in Way::ALL.iter().zip(&mut times) {
        t.sort_by(f64::total_cmp);
        let at = |q: usize| t[(t.len() - 1) * q / 100];
        let mean = t.iter().sum::<f64>() / t.len() as f64;
        println!(
            "| {} | {:.0} | {:.0}-{:.0} | {:.0} | {:.0} |",
            way.name(),
            at(50),
            at(10),
            at(90),
            mean,
            1e6 / mean
        );
    }
    Ok(())
}
