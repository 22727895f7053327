//! Bodies nested deeper than the decoders' limit (128 levels) are a typed
//! error, or a skipped record under `ReadPolicy::Skip` — never a stack
//! overflow that aborts the process — and the writers refuse values nested
//! that deep, so nothing they write is unreadable.
//!
//! The hostile bodies are 100,000 levels deep. The tests run on the test
//! harness's threads (2 MiB stacks by default): before the limit, decoding
//! one overflowed the stack and aborted the whole test binary.

use datawal::typed::envelope::{fingerprint, Header};
use datawal::{
    Codec, DecodeError, Error, Options, ReadPolicy, Record, TypedLog, TypedReader, TypedWal,
};
use serde::{Deserialize, Serialize};

/// A recursive type: `Node(Node(…(Leaf)))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "nest", version = 1)]
enum Nest {
    Leaf,
    Node(Box<Nest>),
}

/// A linked list through `Option` (counted as nesting too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "link", version = 1)]
struct Link {
    value: u8,
    next: Option<Box<Link>>,
}

const HOSTILE: usize = 100_000;

/// The deepest a value may sit in a body, the top-level value being at
/// depth 1 (`datawal_typed`'s documented limit).
const MAX_DEPTH: usize = 128;

/// A `Nest` `levels` deep (`levels` values: `levels - 1` nodes, then a leaf).
fn nest(levels: usize) -> Nest {
    let mut n = Nest::Leaf;
    for _ in 1..levels {
        n = Nest::Node(Box::new(n));
    }
    n
}

/// Drop a deep `Nest` without recursing once per level.
fn unnest(mut n: Nest) {
    while let Nest::Node(inner) = n {
        n = *inner;
    }
}

fn link(levels: usize) -> Link {
    let mut l = Link {
        value: 0,
        next: None,
    };
    for i in 1..levels {
        l = Link {
            value: i as u8,
            next: Some(Box::new(l)),
        };
    }
    l
}

/// The envelope and body of a `Nest` `levels` deep, written by hand: under
/// bincode and postcard a variant is its index as a one-byte varint, so the
/// body is `levels - 1` bytes `01` (Node) and one `00` (Leaf).
fn hostile_nest(codec: Codec, levels: usize) -> Vec<u8> {
    let header = Header::new(codec, Nest::VERSION, fingerprint(Nest::NAME));
    let mut p = header.to_bytes().to_vec();
    match codec {
        Codec::Json => {
            p.extend(std::iter::repeat_n(&b"{\"Node\":"[..], levels - 1).flatten());
            p.extend_from_slice(b"\"Leaf\"");
            p.extend(std::iter::repeat_n(b'}', levels - 1));
        }
        _ => {
            p.extend(std::iter::repeat_n(1u8, levels - 1));
            p.push(0);
        }
    }
    p
}

fn is_body_error(e: &Error) -> bool {
    matches!(e, Error::Decode { source, .. } if matches!(**source, DecodeError::Body { .. }))
}

/// A log of a good record, a hostile one, and a good one.
fn hostile_log(dir: &std::path::Path, codec: Codec) {
    let mut log = TypedLog::<Nest>::open_with(dir, codec).unwrap();
    log.append(&nest(3)).unwrap();
    log.raw_mut()
        .append_record(datawal::RecordType::Raw, b"", &hostile_nest(codec, HOSTILE))
        .unwrap();
    log.append(&nest(2)).unwrap();
    log.fsync().unwrap();
}

#[test]
fn a_hostile_body_is_a_typed_error_not_an_abort() {
    for codec in Codec::ALL {
        let dir = tempfile::tempdir().unwrap();
        hostile_log(dir.path(), codec);
        let log = TypedLog::<Nest>::open(dir.path()).unwrap();
        let e = log.scan().unwrap_err();
        assert!(is_body_error(&e), "{codec}: {e:?}");
        assert_eq!(e.location().unwrap().txid, Some(2), "{codec}");
        // serde_json says so in its own words.
        let msg = e.to_string();
        let says = match codec {
            Codec::Json => "recursion limit exceeded",
            _ => "deeper than 128 levels",
        };
        assert!(msg.contains(says), "{codec}: {msg}");

        // The streaming iterator and a reader stop at it the same way.
        let mut it = log.iter().unwrap();
        assert_eq!(it.next().unwrap().unwrap().value, nest(3));
        assert!(is_body_error(&it.next().unwrap().unwrap_err()), "{codec}");
        let reader = TypedReader::<Nest>::open(dir.path(), ReadPolicy::Stop).unwrap();
        let got: Vec<_> = reader.iter().collect();
        assert!(got[1].as_ref().is_err(), "{codec}");
    }
}

#[test]
fn skip_passes_over_a_hostile_body_and_reads_the_next_record() {
    for codec in Codec::ALL {
        let dir = tempfile::tempdir().unwrap();
        hostile_log(dir.path(), codec);
        let log = TypedLog::<Nest>::open_with(dir.path(), ReadPolicy::Skip).unwrap();
        assert_eq!(log.scan().unwrap(), [nest(3), nest(2)], "{codec}");
        assert_eq!(log.skipped().len(), 1, "{codec}");
        assert_eq!(log.skipped()[0].location.txid, Some(2), "{codec}");
        assert!(is_body_error(&log.skipped()[0].reason), "{codec}");
        let entries: Vec<_> = log.iter().unwrap().map(|e| e.unwrap().txid).collect();
        assert_eq!(entries, [1, 3], "{codec}");
    }
}

#[test]
fn a_hostile_value_in_a_key_value_store_is_an_error() {
    for codec in Codec::ALL {
        let dir = tempfile::tempdir().unwrap();
        let mut kv = TypedWal::<u8, Nest>::open_with(dir.path(), codec).unwrap();
        kv.put(&1, &nest(1)).unwrap();
        kv.raw_mut()
            .put(&[2], &hostile_nest(codec, HOSTILE))
            .unwrap();
        kv.put(&3, &nest(4)).unwrap();
        assert!(is_body_error(&kv.get(&2).unwrap_err()), "{codec}");
        kv.set_read_policy(ReadPolicy::Skip);
        let items = kv.items().unwrap();
        assert_eq!(items, [(1, nest(1)), (3, nest(4))], "{codec}");
        assert_eq!(kv.skipped().len(), 1, "{codec}");
    }
}

/// The limit is exact, the same for every codec, and the same on both
/// sides: a value at depth 128 is written and read back; one level more is
/// refused by the writer (nothing written) and by the reader.
#[test]
fn the_writer_refuses_what_the_reader_would_refuse() {
    for codec in Codec::ALL {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TypedLog::<Nest>::open_with(dir.path(), codec).unwrap();
        let deepest = nest(MAX_DEPTH);
        log.append(&deepest).unwrap();
        let too_deep = nest(MAX_DEPTH + 1);
        let e = log.append(&too_deep).unwrap_err();
        assert!(
            matches!(&e, Error::Encode { codec: c, .. } if *c == codec),
            "{codec}: {e:?}"
        );
        assert!(e.to_string().contains("128"), "{codec}: {e}");
        unnest(too_deep);
        let scanned = log.scan().unwrap();
        assert_eq!(scanned, std::slice::from_ref(&deepest), "{codec}");
        scanned.into_iter().for_each(unnest);

        // Hand-written: one level more than the writer allows.
        log.raw_mut()
            .append(&hostile_nest(codec, MAX_DEPTH + 1))
            .unwrap();
        log.raw_mut()
            .append(&hostile_nest(codec, MAX_DEPTH))
            .unwrap();
        log.set_read_policy(ReadPolicy::Skip);
        let scanned = log.scan().unwrap();
        assert_eq!(scanned, [deepest.clone(), deepest.clone()], "{codec}");
        assert_eq!(log.skipped().len(), 1, "{codec}");
        assert_eq!(log.skipped()[0].location.txid, Some(2), "{codec}");
        scanned.into_iter().for_each(unnest);
        unnest(deepest);
    }
}

/// `Some` counts as a level: a linked list through `Option<Box<_>>` is
/// limited the same way (each link is a struct and a `Some`: two levels).
#[test]
fn options_count_as_nesting() {
    for codec in Codec::ALL {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TypedLog::<Link>::open_with(dir.path(), Options::new().codec(codec)).unwrap();
        log.append(&link(MAX_DEPTH / 2)).unwrap();
        assert!(
            matches!(
                log.append(&link(MAX_DEPTH / 2 + 1)),
                Err(Error::Encode { .. })
            ),
            "{codec}"
        );
        assert_eq!(log.scan().unwrap(), [link(MAX_DEPTH / 2)], "{codec}");
    }
}
