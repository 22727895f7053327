//! Following and positioned reads (figures in `docs/benchmarks.md`).
//!
//! ```text
//! cargo bench -p datawal-core --bench follow
//! ```
//!
//! 1. Follower latency: a writer thread appends one 100-byte record every
//!    millisecond (no fsync); a follower thread blocks in `next`. The
//!    latency of a record is from the writer's `append` returning to the
//!    follower yielding it (0 when the follower had it first), with inotify
//!    and with polling. Store on the machine's disk (not tmpfs).
//! 2. `cursor_from(t)` against a full scan to `t`: 1,000,000 records of
//!    100 bytes in 8 MiB segments; time to the first record of txid `t`.
//!    Also `last()` on the writer and on a reader, and a follower catching
//!    up with the whole log.

use std::hint::black_box;
use std::ops::ControlFlow;
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use datawal_core::{FollowOptions, Follower, LogOptions, RecordLog, RecordLogReader};

const LATENCY_RECORDS: usize = 3_000;
const LOG_RECORDS: u64 = 1_000_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn latency(options: FollowOptions, label: &str) {
    let td = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let mut log = RecordLog::open(td.path()).expect("open");
    let mut follower = Follower::open_with(td.path(), 0, options).expect("follow");
    let (tx, rx) = channel();
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::with_capacity(LATENCY_RECORDS);
        for _ in 0..LATENCY_RECORDS {
            let r = follower.next().expect("record").expect("no error");
            seen.push((r.txid, Instant::now()));
        }
        seen
    });
    let payload = [7u8; 100];
    let start = Instant::now();
    for i in 0..LATENCY_RECORDS {
        // One record a millisecond, on a fixed schedule.
        let due = start + Duration::from_millis(i as u64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let at = log.append(&payload).expect("append");
        tx.send((at, Instant::now())).expect("send");
    }
    let seen = reader.join().expect("reader");
    let appended: Vec<_> = rx.try_iter().collect();
    let mut lat: Vec<Duration> = seen
        .iter()
        .zip(&appended)
        .map(|((txid, got), (_, done))| {
            assert!(*txid > 0);
            got.saturating_duration_since(*done)
        })
        .collect();
    let first = lat.iter().filter(|d| d.is_zero()).count();
    lat.sort();
    println!(
        "| follower latency, {label} | {} | {} | {} | {} | {first} of {} before append returned |",
        micros(percentile(&lat, 0.5)),
        micros(percentile(&lat, 0.9)),
        micros(percentile(&lat, 0.99)),
        micros(*lat.last().expect("records")),
        lat.len()
    );
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn positioned() {
    let td = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let mut log = RecordLog::open_with(td.path(), LogOptions::default().max_segment_bytes(8 << 20))
        .expect("open");
    let payload = [5u8; 100];
    let batch: Vec<_> = (0..1_000)
        .map(|_| (datawal_core::RecordType::Raw, &b""[..], &payload[..]))
        .collect();
    for _ in 0..LOG_RECORDS / 1_000 {
        log.append_batch(batch.iter().copied()).expect("append");
    }
    log.fsync().expect("fsync");
    let reader = RecordLogReader::open(td.path()).expect("reader");
    println!(
        "\n{} records, {} segments\n",
        LOG_RECORDS,
        reader.segments().len()
    );
    println!("| to the first record of txid t | t | median of 5 |");
    println!("|---|---:|---:|");
    for t in [500_000u64, 900_000, 999_999] {
        let scan = median(
            (0..5)
                .map(|_| {
                    let start = Instant::now();
                    let mut cursor = reader.cursor();
                    let found = cursor
                        .try_for_each_view(|v| {
                            if v.txid >= t {
                                ControlFlow::Break(v.txid)
                            } else {
                                ControlFlow::Continue(())
                            }
                        })
                        .expect("scan");
                    let _ = black_box(found);
                    start.elapsed()
                })
                .collect(),
        );
        let from = median(
            (0..5)
                .map(|_| {
                    let start = Instant::now();
                    let mut cursor = reader.cursor_from(t).expect("cursor_from");
                    let v = cursor.next_view().expect("read").expect("record");
                    assert_eq!(v.txid, t);
                    start.elapsed()
                })
                .collect(),
        );
        println!("| full scan | {t} | {} |", micros(scan));
        println!("| `cursor_from` | {t} | {} |", micros(from));
    }
    let writer_last = median(
        (0..5)
            .map(|_| {
                let start = Instant::now();
                black_box(log.last().expect("last"));
                start.elapsed()
            })
            .collect(),
    );
    let reader_last = median(
        (0..5)
            .map(|_| {
                let start = Instant::now();
                black_box(reader.last().expect("last"));
                start.elapsed()
            })
            .collect(),
    );
    println!("| `RecordLog::last` | newest | {} |", micros(writer_last));
    println!(
        "| `RecordLogReader::last` (reads the last segment) | newest | {} |",
        micros(reader_last)
    );
    let start = Instant::now();
    let mut follower = Follower::open(td.path(), 0).expect("follow");
    let mut n = 0u64;
    while let Some(r) = follower.try_next().expect("follow") {
        black_box(r);
        n += 1;
    }
    let took = start.elapsed();
    assert_eq!(n, LOG_RECORDS);
    println!(
        "\nfollower catching up: {n} records in {:.0} ms ({:.1} M records/s)",
        took.as_secs_f64() * 1e3,
        n as f64 / took.as_secs_f64() / 1e6
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("| wake-up | p50 | p90 | p99 | max | |");
    println!("|---|---:|---:|---:|---:|---|");
    latency(FollowOptions::default(), "inotify");
    latency(FollowOptions::default().poll_only(), "polling");
    positioned();
}
