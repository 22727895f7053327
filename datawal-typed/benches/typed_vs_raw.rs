//! Cost of the typed layer over the raw core, on the same bytes.
//!
//! Targets: typed append ≤ 1.25× raw append of the same bytes; typed scan
//! ≤ 2× raw scan.
//!
//! ```text
//! cargo bench -p datawal-typed --bench typed_vs_raw
//! ```

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use datawal_core::{RecordLog, RecordType};
use datawal_typed::{key::encode_key_to_vec, to_payload, Codec, Record, TypedLog};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "order", version = 1)]
struct Order {
    #[record(key)]
    id: u64,
    customer: String,
    cents: u64,
    items: u16,
}

fn order(i: u64) -> Order {
    Order {
        id: i,
        customer: format!("cust{:04}", i % 1000),
        cents: i * 7,
        items: (i % 9) as u16,
    }
}

const SCAN_RECORDS: u64 = 20_000;

fn append(c: &mut Criterion) {
    let mut g = c.benchmark_group("append");
    for codec in [Codec::Bincode, Codec::Postcard] {
        let value = order(42);
        let key = encode_key_to_vec(&value.key());
        let payload = to_payload(&value, codec).unwrap();

        let dir = tempfile::tempdir().unwrap();
        let mut raw = RecordLog::open(dir.path()).unwrap();
        g.bench_function(format!("raw/{codec}"), |b| {
            b.iter(|| {
                raw.append_record(RecordType::Raw, black_box(&key), black_box(&payload))
                    .unwrap()
            })
        });

        let dir = tempfile::tempdir().unwrap();
        let mut typed = TypedLog::<Order>::open_with(dir.path(), codec).unwrap();
        g.bench_function(format!("typed/{codec}"), |b| {
            b.iter(|| typed.append(black_box(&value)).unwrap())
        });
    }
    g.finish();
}

fn scan(c: &mut Criterion) {
    let mut g = c.benchmark_group("scan");
    g.sample_size(20);
    for codec in [Codec::Bincode, Codec::Postcard] {
        let dir = tempfile::tempdir().unwrap();
        let mut typed = TypedLog::<Order>::open_with(dir.path(), codec).unwrap();
        let values: Vec<Order> = (0..SCAN_RECORDS).map(order).collect();
        typed.append_batch(&values).unwrap();
        typed.fsync().unwrap();

        g.bench_function(format!("raw-owned/{codec}"), |b| {
            b.iter(|| black_box(typed.raw_mut().scan().unwrap().len()))
        });
        g.bench_function(format!("raw-cursor/{codec}"), |b| {
            b.iter(|| {
                let mut cursor = typed.raw().cursor().unwrap();
                let mut n = 0usize;
                while let Some(v) = cursor.next_view().unwrap() {
                    n += v.payload.len();
                }
                black_box(n)
            })
        });
        g.bench_function(format!("typed/{codec}"), |b| {
            b.iter(|| black_box(typed.scan().unwrap().len()))
        });
    }
    g.finish();
}

criterion_group!(benches, append, scan);
criterion_main!(benches);
