//! Every supported shape round-trips through `TypedLog` and `TypedWal`, in
//! every codec, across a reopen.

use std::collections::BTreeMap;
use std::fmt::Debug;

use datawal::{Codec, Record, TypedLog, TypedWal};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(version = 1)]
struct Unit;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(version = 1)]
struct Newtype(u64);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(version = 1)]
struct Tuple(i8, String, Option<bool>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Inner {
    x: f64,
    tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "everything", version = 4)]
struct Everything {
    #[record(key)]
    id: (String, i64),
    small: u8,
    big: u128,
    neg: i128,
    c: char,
    bytes: Vec<u8>,
    inner: Inner,
    nested: Vec<Option<Inner>>,
    map: BTreeMap<String, u32>,
    pair: (u16, String),
    array: [u8; 4],
    unit: (),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "shape", version = 1)]
enum Shape {
    Empty,
    Circle(f32),
    Rect { w: u32, h: u32 },
    Poly(Vec<(i32, i32)>),
    Labeled(String, Box<Shape>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(version = 1)]
struct Generic<T> {
    #[record(key)]
    id: u32,
    value: T,
}

fn everything(i: i64) -> Everything {
    Everything {
        id: (format!("k\0{i}"), -i),
        small: 255,
        big: u128::MAX - u128::from(i.unsigned_abs()),
        neg: i128::MIN + i128::from(i.unsigned_abs()),
        c: '\u{1F980}',
        bytes: vec![0, 1, 0, 255],
        inner: Inner {
            x: -0.5,
            tags: vec!["é".into(), String::new()],
        },
        nested: vec![
            None,
            Some(Inner {
                x: f64::MAX,
                tags: vec![],
            }),
        ],
        map: [("a".to_string(), 1), ("b".to_string(), 2)].into(),
        pair: (9, "nine".into()),
        array: [1, 2, 3, 4],
        unit: (),
    }
}

fn shapes() -> Vec<Shape> {
    vec![
        Shape::Empty,
        Shape::Circle(1.5),
        Shape::Rect { w: 3, h: 4 },
        Shape::Poly(vec![(0, 0), (-1, 2)]),
        Shape::Labeled("big".into(), Box::new(Shape::Rect { w: 9, h: 9 })),
    ]
}

/// Append `values` with `codec`, reopen, and read them back, then check
/// the entries' metadata.
fn log_round_trip<T: Record + PartialEq + Debug + Clone>(codec: Codec, values: &[T]) {
    let dir = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<T>::open_with(dir.path(), codec).unwrap();
    let (first, rest) = values.split_first().unwrap();
    log.append(first).unwrap();
    log.append_batch(rest).unwrap();
    log.fsync().unwrap();
    log.close().unwrap();

    let log = TypedLog::<T>::open(dir.path()).unwrap();
    assert_eq!(log.scan().unwrap(), values, "{codec} {}", T::NAME);
    let entries: Vec<_> = log.iter().unwrap().map(|e| e.unwrap()).collect();
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.txid, i as u64 + 1);
        assert_eq!((e.version, e.codec), (T::VERSION, codec));
    }
    assert!(log.skipped().is_empty());
    // The key field of each raw record is the encoded key.
    let raw = log.into_raw().scan().unwrap();
    for (r, v) in raw.iter().zip(values) {
        assert_eq!(r.key, datawal::typed::key::encode_key_to_vec(&v.key()));
    }
}

#[test]
fn logs_of_every_shape_and_codec() {
    for codec in Codec::ALL {
        log_round_trip(codec, &[Unit, Unit]);
        log_round_trip(codec, &[Newtype(0), Newtype(u64::MAX)]);
        log_round_trip(
            codec,
            &[
                Tuple(-1, "\0".into(), None),
                Tuple(1, String::new(), Some(true)),
            ],
        );
        log_round_trip(codec, &[everything(1), everything(2), everything(-3)]);
        log_round_trip(codec, &shapes());
        log_round_trip(
            codec,
            &[Generic {
                id: 1,
                value: vec![1u8, 2],
            }],
        );
        log_round_trip(
            codec,
            &[Generic {
                id: 2,
                value: Shape::Empty,
            }],
        );
        log_round_trip(codec, &[1u64, 2, 3]);
        log_round_trip(codec, &["x".to_string(), String::new()]);
        log_round_trip(codec, &[-1.25f64, f64::MIN_POSITIVE]);
        log_round_trip(codec, &['a', '\u{10FFFF}']);
        log_round_trip(codec, &[vec!["a".to_string()], vec![]]);
        log_round_trip(codec, &[vec![0u8, 255], vec![]]);
    }
}

#[test]
fn a_large_value_round_trips() {
    let big = Generic {
        id: 1,
        value: "x".repeat(3 << 20),
    };
    for codec in Codec::ALL {
        log_round_trip(codec, std::slice::from_ref(&big));
    }
}

#[test]
fn wals_of_every_key_shape_and_codec() {
    for codec in Codec::ALL {
        let dir = tempfile::tempdir().unwrap();
        let mut kv = TypedWal::<(String, i64), Everything>::open_with(dir.path(), codec).unwrap();
        for i in [3, -1, 0, 2] {
            kv.insert(&everything(i)).unwrap();
        }
        kv.delete(&everything(0).id).unwrap();
        kv.fsync().unwrap();
        drop(kv);
        let kv = TypedWal::<(String, i64), Everything>::open(dir.path()).unwrap();
        assert_eq!(kv.len(), 3);
        assert_eq!(kv.get(&everything(2).id).unwrap(), Some(everything(2)));
        assert_eq!(kv.get(&everything(0).id).unwrap(), None);
        let keys = kv.keys().unwrap();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "key order is the tuple's Ord");
        assert_eq!(kv.items().unwrap().len(), 3);

        let dir = tempfile::tempdir().unwrap();
        let mut kv = TypedWal::<i32, Shape>::open_with(dir.path(), codec).unwrap();
        for (i, s) in shapes().into_iter().enumerate() {
            kv.put(&(2 - i as i32), &s).unwrap();
        }
        let keys = kv.keys().unwrap();
        assert_eq!(keys, [-2, -1, 0, 1, 2]);
        let values: Vec<Shape> = kv.iter().map(|p| p.unwrap().1).collect();
        let mut want = shapes();
        want.reverse();
        assert_eq!(values, want);

        let dir = tempfile::tempdir().unwrap();
        let mut kv = TypedWal::<String, u64>::open_with(dir.path(), codec).unwrap();
        kv.put(&"b".into(), &2).unwrap();
        kv.put(&"a".into(), &1).unwrap();
        kv.put(&"b".into(), &3).unwrap();
        assert_eq!(
            kv.items().unwrap(),
            [("a".to_string(), 1), ("b".to_string(), 3)]
        );
        assert!(kv.contains_key(&"a".into()) && !kv.contains_key(&"c".into()));
        assert!(!kv.is_empty());

        let dir = tempfile::tempdir().unwrap();
        let mut kv = TypedWal::<(), Newtype>::open_with(dir.path(), codec).unwrap();
        kv.insert(&Newtype(1)).unwrap();
        kv.insert(&Newtype(2)).unwrap();
        assert_eq!(kv.items().unwrap(), [((), Newtype(2))]);
    }
}
