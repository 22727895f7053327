//! One workload in a loop, for a profiler (`valgrind --tool=callgrind`,
//! `perf`, `strace -c`): not a benchmark, prints its own timing only.
//!
//! ```text
//! cargo bench -p datawal-core --bench profile --no-run
//! DATAWAL_PROFILE=open DATAWAL_BENCH_N=100000 valgrind --tool=callgrind \
//!     target/release/deps/profile-<hash>
//! ```
//!
//! Workloads (`DATAWAL_PROFILE`): `append`, `scan`, `scan_iter`, `cursor`
//! (open, then the cursor), `visit` (`next_view` alone), `for_each`
//! (`for_each_view` alone),
//! `open`, `kv_open`, `get`, `compact`, `export`. The store is built first
//! (outside the loop); `DATAWAL_PROFILE_ITERS` repeats the measured part;
//! `DATAWAL_PROFILE_THRASH=1` evicts the caches between repetitions.

use std::hint::black_box;
use std::time::Instant;

use datawal_core::{DataWal, RecordLog};

fn main() {
    let what = std::env::var("DATAWAL_PROFILE").unwrap_or_else(|_| "cursor".into());
    let n: usize = std::env::var("DATAWAL_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let iters: usize = std::env::var("DATAWAL_PROFILE_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("store");
    let p: Vec<u8> = (0..64u8).collect();
    let keys: Vec<Vec<u8>> = (0..n).map(|i| format!("key:{i:08}").into_bytes()).collect();
    let kv = matches!(what.as_str(), "kv_open" | "get" | "compact" | "export");
    if kv {
        let mut db = DataWal::open(&dir).unwrap();
        let live = if what == "kv_open" || what == "get" {
            n
        } else {
            n / 2
        };
        for k in &keys[..live] {
            db.put(k, &p).unwrap();
        }
        if live < n {
            for i in 0..live {
                db.put(&keys[(i * 7919) % live], &p).unwrap();
            }
        }
        db.fsync().unwrap();
    } else if what != "append" {
        let mut log = RecordLog::open(&dir).unwrap();
        for _ in 0..n {
            log.append(&p).unwrap();
        }
        log.fsync().unwrap();
    }
    // `visit` and `for_each` time the cursor alone, on a log opened before
    // the clock starts.
    let opened =
        matches!(what.as_str(), "visit" | "for_each").then(|| RecordLog::open(&dir).unwrap());
    // `DATAWAL_PROFILE_THRASH=1`: touch 64 MiB between iterations (not
    // timed), so each starts with cold caches, as in `compare`, where the
    // other crate's run comes between two of ours.
    let thrash = std::env::var_os("DATAWAL_PROFILE_THRASH").is_some();
    let mut timed = std::time::Duration::ZERO;
    for it in 0..iters {
        if thrash {
            black_box(vec![1u8; 64 << 20]);
        }
        let t = Instant::now();
        match what.as_str() {
            "append" => {
                let d = base.path().join(format!("append-{it}"));
                let mut log = RecordLog::open(&d).unwrap();
                for _ in 0..n {
                    black_box(log.append(&p).unwrap());
                }
            }
            "scan" => {
                let mut log = RecordLog::open(&dir).unwrap();
                black_box(log.scan().unwrap());
            }
            "scan_iter" => {
                let log = RecordLog::open(&dir).unwrap();
                let mut bytes = 0;
                for r in log.scan_iter().unwrap() {
                    bytes += r.unwrap().payload.len();
                }
                black_box(bytes);
            }
            "cursor" | "visit" => {
                // `cursor` opens the log in the timed part, `visit` does not.
                let fresh = (what == "cursor").then(|| RecordLog::open(&dir).unwrap());
                let log = fresh.as_ref().or(opened.as_ref()).expect("a log to visit");
                let mut c = log.cursor().unwrap();
                let mut bytes = 0;
                while let Some(v) = c.next_view().unwrap() {
                    bytes += black_box(v.payload).len();
                }
                black_box(bytes);
            }
            "for_each" => {
                let log = opened.as_ref().expect("opened above for `for_each`");
                let mut bytes = 0;
                log.cursor()
                    .unwrap()
                    .for_each_view(|v| bytes += black_box(v.payload).len())
                    .unwrap();
                black_box(bytes);
            }
            "open" => {
                black_box(RecordLog::open(&dir).unwrap());
            }
            "kv_open" => {
                black_box(DataWal::open(&dir).unwrap());
            }
            "get" => {
                let db = DataWal::open(&dir).unwrap();
                let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
                for _ in 0..n {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    black_box(db.get(&keys[(x % n as u64) as usize]).unwrap());
                }
            }
            "compact" => {
                let db = DataWal::open(&dir).unwrap();
                db.compact_to(base.path().join(format!("out-{it}")))
                    .unwrap();
            }
            "export" => {
                let db = DataWal::open(&dir).unwrap();
                db.export_jsonl(base.path().join(format!("out-{it}.jsonl")))
                    .unwrap();
            }
            other => panic!("unknown workload {other}"),
        }
        timed += t.elapsed();
    }
    eprintln!(
        "{what}: n = {n}, {iters} iterations, {:.3} ms per iteration",
        timed.as_secs_f64() * 1e3 / iters as f64
    );
}
