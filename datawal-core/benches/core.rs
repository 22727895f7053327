//! Criterion benches of the core API, ours only (the side-by-side table with
//! the published crate is `benches/compare.rs`).
//!
//! ```text
//! cargo bench -p datawal-core --bench core
//! cargo bench -p datawal-core --bench core -- scan     # one group
//! ```
//!
//! Sizes: 64-byte payloads, 12-byte keys, stores of `N` = 100k records
//! (`DATAWAL_BENCH_N` overrides). Groups with "fsync" in their name measure
//! the disk as much as the code.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use datawal_core::{DataWal, RecordLog, RecordType};

const PAYLOAD_LEN: usize = 64;
const BATCH: usize = 100;

fn n() -> usize {
    std::env::var("DATAWAL_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn payload() -> Vec<u8> {
    (0..PAYLOAD_LEN as u8).collect()
}

fn key(i: usize) -> Vec<u8> {
    format!("key:{i:08}").into_bytes()
}

fn log_of(dir: &Path, n: usize) {
    let p = payload();
    let mut log = RecordLog::open(dir).unwrap();
    log.append_batch((0..n).map(|_| (RecordType::Raw, &b""[..], &p[..])))
        .unwrap();
    log.fsync().unwrap();
}

/// `puts` puts over `live` keys: every key once, then again in a scrambled
/// order until `puts` is reached.
fn kv_of(dir: &Path, puts: usize, live: usize) {
    let p = payload();
    let mut db = DataWal::open(dir).unwrap();
    for i in 0..puts {
        let k = if i < live { i } else { (i * 7919) % live };
        db.put(&key(k), &p).unwrap();
    }
    db.fsync().unwrap();
}

fn append(c: &mut Criterion) {
    let p = payload();
    let mut g = c.benchmark_group("append");
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path().join("one")).unwrap();
    g.throughput(Throughput::Elements(1));
    g.bench_function("64B", |b| b.iter(|| log.append(black_box(&p)).unwrap()));
    let mut log = RecordLog::open(td.path().join("batch")).unwrap();
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("batch_100x64B", |b| {
        b.iter(|| {
            log.append_batch((0..BATCH).map(|_| (RecordType::Raw, &b""[..], black_box(&p[..]))))
                .unwrap()
        })
    });
    g.finish();

    let mut g = c.benchmark_group("append_fsync");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    let mut log = RecordLog::open(td.path().join("fsync")).unwrap();
    g.throughput(Throughput::Elements(1));
    g.bench_function("64B_then_fsync", |b| {
        b.iter(|| {
            log.append(black_box(&p)).unwrap();
            log.fsync().unwrap();
        })
    });
    let mut log = RecordLog::open(td.path().join("batch-fsync")).unwrap();
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("batch_100x64B_then_fsync", |b| {
        b.iter(|| {
            log.append_batch((0..BATCH).map(|_| (RecordType::Raw, &b""[..], black_box(&p[..]))))
                .unwrap();
            log.fsync().unwrap();
        })
    });
    g.finish();
}

fn scan(c: &mut Criterion) {
    let n = n();
    let td = tempfile::tempdir().unwrap();
    log_of(td.path(), n);
    let mut log = RecordLog::open(td.path()).unwrap();
    let mut g = c.benchmark_group("scan");
    g.sample_size(20).throughput(Throughput::Elements(n as u64));
    g.bench_function("scan", |b| b.iter(|| black_box(log.scan().unwrap())));
    g.bench_function("scan_iter", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for r in log.scan_iter().unwrap() {
                bytes += r.unwrap().payload.len();
            }
            black_box(bytes)
        })
    });
    g.bench_function("cursor_next_view", |b| {
        b.iter(|| {
            let mut cursor = log.cursor().unwrap();
            let mut bytes = 0;
            while let Some(v) = cursor.next_view().unwrap() {
                bytes += black_box(v.payload).len();
            }
            black_box(bytes)
        })
    });
    g.finish();
    drop(log);

    let mut g = c.benchmark_group("open");
    g.sample_size(20).throughput(Throughput::Elements(n as u64));
    g.bench_function("record_log", |b| {
        b.iter(|| black_box(RecordLog::open(td.path()).unwrap()))
    });
    g.finish();
}

fn kv(c: &mut Criterion) {
    let n = n();
    let p = payload();
    let keys: Vec<Vec<u8>> = (0..n).map(key).collect();
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("kv");
    kv_of(&store, n, n);

    let mut g = c.benchmark_group("kv");
    g.sample_size(20).throughput(Throughput::Elements(n as u64));
    g.bench_function("datawal_open", |b| {
        b.iter(|| black_box(DataWal::open(&store).unwrap()))
    });
    let db = DataWal::open(&store).unwrap();
    let mut i = 0usize;
    g.throughput(Throughput::Elements(1));
    g.bench_function("get", |b| {
        b.iter(|| {
            i = (i + 7919) % n;
            black_box(db.get(&keys[i]).unwrap())
        })
    });
    drop(db);

    let mut db = DataWal::open(td.path().join("put")).unwrap();
    let mut i = 0usize;
    g.bench_function("put", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            db.put(&keys[i], black_box(&p)).unwrap()
        })
    });
    g.bench_function("delete_live", |b| {
        b.iter_custom(|iters| {
            let iters = iters as usize;
            for k in keys.iter().cycle().take(iters) {
                db.put(k, &p).unwrap();
            }
            let t = Instant::now();
            for k in keys.iter().cycle().take(iters) {
                db.delete(k).unwrap();
            }
            t.elapsed()
        })
    });
    g.finish();
}

fn compaction(c: &mut Criterion) {
    let n = n();
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("kv");
    kv_of(&store, n, n / 2);
    let db = DataWal::open(&store).unwrap();
    let mut g = c.benchmark_group("compaction");
    g.sample_size(10)
        .throughput(Throughput::Elements((n / 2) as u64));
    let out = td.path().join("out");
    g.bench_function("compact_to_n_puts_half_live", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                black_box(db.compact_to(&out).unwrap());
                total += t.elapsed();
                std::fs::remove_dir_all(&out).unwrap();
            }
            total
        })
    });
    let jsonl = td.path().join("out.jsonl");
    g.bench_function("export_jsonl_half_live", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                db.export_jsonl(&jsonl).unwrap();
                total += t.elapsed();
                std::fs::remove_file(&jsonl).unwrap();
            }
            total
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = append, scan, kv, compaction
}
criterion_main!(benches);
