//! Durable appends from 1 and 8 threads: `SharedLog::append_durable`
//! (group commit) against an `Arc<Mutex<RecordLog>>` where each thread
//! appends and fsyncs under the mutex. Prints records per second; the
//! figures measure the disk's `fdatasync` as much as the code.
//!
//! ```text
//! cargo bench -p datawal-core --bench shared
//! DATAWAL_BENCH_SECS=5 cargo bench -p datawal-core --bench shared   # longer runs
//! ```

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use datawal_core::{RecordLog, SharedLog};

const PAYLOAD: [u8; 64] = [7; 64];

/// How long each configuration runs.
fn run_for() -> Duration {
    let secs = std::env::var("DATAWAL_BENCH_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2.0);
    Duration::from_secs_f64(secs)
}

/// Run `append` on `threads` threads until the time is up; records per second.
fn measure(threads: usize, append: impl Fn() + Sync) -> f64 {
    let stop = AtomicBool::new(false);
    let count = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    append();
                    count.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
        std::thread::sleep(run_for());
        stop.store(true, Ordering::Relaxed);
    });
    count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too,
    // briefly, without it.
    if !std::env::args().any(|a| a == "--bench") {
        std::env::set_var("DATAWAL_BENCH_SECS", "0.05");
    }
    println!(
        "durable appends of 64-byte records, records/s ({:?} each)",
        run_for()
    );
    println!("| threads | SharedLog::append_durable | Mutex<RecordLog> append + fsync | ratio |");
    println!("|---:|---:|---:|---:|");
    for threads in [1, 8] {
        let td = tempfile::tempdir().unwrap();
        let shared = SharedLog::open(td.path().join("shared")).unwrap();
        let group = measure(threads, || {
            shared.append_durable(&PAYLOAD).unwrap();
        });
        let mutex = Arc::new(Mutex::new(
            RecordLog::open(td.path().join("mutex")).unwrap(),
        ));
        let locked = measure(threads, || {
            let mut log = mutex.lock().unwrap();
            log.append(&PAYLOAD).unwrap();
            log.fsync().unwrap();
        });
        println!(
            "| {threads} | {group:.0} | {locked:.0} | {:.2} |",
            group / locked
        );
    }
}
