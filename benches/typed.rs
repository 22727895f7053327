//! Criterion benches of the typed layer (`TypedLog`, `TypedWal`); the ratio
//! table against raw appends and scans of the same bytes is
//! `benches/typed_compare.rs`.
//!
//! ```text
//! cargo bench --bench typed
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use datawal_typed::{Codec, TypedLog, TypedWal};

mod common;
use common::{order, Order};

const N: u64 = 20_000;

fn typed_log(c: &mut Criterion) {
    let td = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("typed_log");
    for codec in [Codec::Bincode, Codec::Postcard, Codec::Json] {
        let v = order(42);
        let mut log =
            TypedLog::<Order>::open_with(td.path().join(format!("a-{codec}")), codec).unwrap();
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("append/{codec}"), |b| {
            b.iter(|| log.append(black_box(&v)).unwrap())
        });

        let values: Vec<Order> = (0..N).map(order).collect();
        let mut log =
            TypedLog::<Order>::open_with(td.path().join(format!("s-{codec}")), codec).unwrap();
        log.append_batch(&values).unwrap();
        g.throughput(Throughput::Elements(N));
        g.bench_function(format!("scan_{N}/{codec}"), |b| {
            b.iter(|| black_box(log.scan().unwrap()))
        });
        g.bench_function(format!("iter_{N}/{codec}"), |b| {
            b.iter(|| {
                let mut sum = 0;
                for e in log.iter().unwrap() {
                    sum += e.unwrap().value.cents;
                }
                black_box(sum)
            })
        });
    }
    g.finish();
}

fn typed_wal(c: &mut Criterion) {
    let td = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("typed_wal");
    let mut db = TypedWal::<u64, Order>::open(td.path().join("kv")).unwrap();
    for i in 0..N {
        db.insert(&order(i)).unwrap();
    }
    let mut i = 0u64;
    g.throughput(Throughput::Elements(1));
    g.bench_function("get", |b| {
        b.iter(|| {
            i = (i + 7919) % N;
            black_box(db.get(&i).unwrap())
        })
    });
    let v = order(7);
    g.bench_function("insert", |b| b.iter(|| db.insert(black_box(&v)).unwrap()));
    drop(db);
    g.sample_size(10).throughput(Throughput::Elements(N));
    g.bench_function(format!("open_{N}_keys"), |b| {
        b.iter(|| black_box(TypedWal::<u64, Order>::open(td.path().join("kv")).unwrap()))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = typed_log, typed_wal
}
criterion_main!(benches);
