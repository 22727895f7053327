//! A store's description: what the typed handles record, the opens they
//! refuse, and the decoding API a read-only tool uses (issue #17).

#[path = "common/fixture_types.rs"]
mod fixture_types;
#[path = "common/gen.rs"]
mod gen;

use std::path::{Path, PathBuf};

use datawal_typed::describe::{self, DescribeError, Description, KeyDescription, StoreKind};
use datawal_typed::{
    to_payload, Codec, Error, Options, ReadPolicy, Record, SharedTypedLog, SharedTypedWal,
    TypedFollower, TypedLog, TypedReader, TypedWal,
};
use fixture_types::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

fn refusal(e: Error) -> String {
    assert!(matches!(e, Error::Refused { .. }), "{e:?}");
    e.to_string()
}

#[test]
fn a_log_of_another_type_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<Order>::open(dir.path()).unwrap();
    log.append(&order_v3()).unwrap();
    log.close().unwrap();
    let e = TypedLog::<Event>::open(dir.path()).unwrap_err();
    assert_eq!(
        refusal(e),
        format!(
            "refused to open {}: the store holds a log of `order` \
             (describe::fixture_types::Order); asked for a log of `event` \
             (describe::fixture_types::Event) alone (open with `Options::mixed_types()` to \
             hold several types)",
            dir.path().display()
        )
    );
    // Nothing was written: the store still reads as before.
    assert_eq!(
        TypedLog::<Order>::open(dir.path()).unwrap().scan().unwrap(),
        [order_v3()]
    );
    // The shared handle is refused the same way.
    assert!(matches!(
        SharedTypedLog::<Event>::open(dir.path()),
        Err(Error::Refused { .. })
    ));
}

#[test]
fn a_key_value_handle_on_a_log_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    TypedLog::<Order>::open(dir.path()).unwrap();
    let e = TypedWal::<u64, Order>::open(dir.path()).unwrap_err();
    assert_eq!(
        refusal(e),
        format!(
            "refused to open {}: the store holds a log of `order` \
             (describe::fixture_types::Order); asked for key/value state of `order` \
             (describe::fixture_types::Order) keyed by `u64`",
            dir.path().display()
        )
    );
}

#[test]
fn a_log_handle_on_a_key_value_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut kv = TypedWal::<u64, Order>::open(dir.path()).unwrap();
    kv.insert(&order_v3()).unwrap();
    drop(kv);
    let e = TypedLog::<Order>::open(dir.path()).unwrap_err();
    assert_eq!(
        refusal(e),
        format!(
            "refused to open {}: the store holds key/value state of `order` \
             (describe::fixture_types::Order) keyed by `u64`; asked for a log of `order` \
             (describe::fixture_types::Order)",
            dir.path().display()
        )
    );
    assert!(SharedTypedWal::<u64, Order>::open(dir.path()).is_ok());
}

#[test]
fn a_key_value_handle_with_another_key_type_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    TypedWal::<u64, Order>::open(dir.path()).unwrap();
    let e = TypedWal::<String, Order>::open(dir.path()).unwrap_err();
    assert_eq!(
        refusal(e),
        format!(
            "refused to open {}: the store holds key/value state of `order` \
             (describe::fixture_types::Order) keyed by `u64`; asked for key/value state of \
             `order` (describe::fixture_types::Order) keyed by `alloc::string::String`",
            dir.path().display()
        )
    );
    // Another value type is refused too.
    let e = TypedWal::<u64, Audit>::open(dir.path()).unwrap_err();
    assert!(refusal(e).contains("asked for key/value state of `audit`"));
}

/// A log of two types, `Event` then `Audit`, opened with
/// `Options::mixed_types()`.
fn log_of_events_and_audits() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mixed = Options::new().mixed_types();
    let mut events = TypedLog::<Event>::open_with(dir.path(), mixed).unwrap();
    events.append(&Event::Opened).unwrap();
    events.close().unwrap();
    let mut audits = TypedLog::<Audit>::open_with(dir.path(), mixed).unwrap();
    audits.append(&audit()).unwrap();
    audits.close().unwrap();
    dir
}

#[test]
fn a_log_of_several_types_is_opened_deliberately() {
    let dir = log_of_events_and_audits();
    let description = Description::load(dir.path()).unwrap().unwrap();
    assert!(description.mixed);
    let names: Vec<&str> = description.types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["event", "audit"]);
    // Without the option, a handle of one of the types is refused.
    let e = TypedLog::<Event>::open(dir.path()).unwrap_err();
    assert!(
        refusal(e).contains("the store holds a log of several types (`event`"),
        "the message names every type"
    );
}

#[test]
fn readers_and_followers_of_another_type_are_refused_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<Order>::open(dir.path()).unwrap();
    log.append(&order_v3()).unwrap();
    // Lock-free: refused while the writer holds the store, as after.
    let e = TypedReader::<Event>::open(dir.path(), ReadPolicy::Skip).unwrap_err();
    assert_eq!(
        refusal(e),
        format!(
            "refused to open {}: the store holds a log of `order` \
             (describe::fixture_types::Order); asked for a log of `event` \
             (describe::fixture_types::Event)",
            dir.path().display()
        )
    );
    assert!(matches!(
        TypedFollower::<Event>::open(dir.path(), 0, ReadPolicy::Skip),
        Err(Error::Refused { .. })
    ));
    assert!(matches!(
        TypedFollower::<Event>::open_named(dir.path(), "c", ReadPolicy::Skip),
        Err(Error::Refused { .. })
    ));
    // The store's own type reads, and nothing was written by the refusals.
    let reader = TypedReader::<Order>::open(dir.path(), ReadPolicy::Stop).unwrap();
    let read: Vec<Order> = reader.iter().map(|e| e.unwrap().value).collect();
    assert_eq!(read, [order_v3()]);
    let mut follower = TypedFollower::<Order>::open(dir.path(), 0, ReadPolicy::Stop).unwrap();
    assert_eq!(follower.try_next().unwrap().unwrap().value, order_v3());
    log.close().unwrap();
    // A key/value store is not a log to read.
    let kv_dir = tempfile::tempdir().unwrap();
    TypedWal::<u64, Order>::open(kv_dir.path()).unwrap();
    let e = TypedReader::<Order>::open(kv_dir.path(), ReadPolicy::Stop).unwrap_err();
    assert!(refusal(e).contains("holds key/value state of `order`"));
}

#[test]
fn a_reader_of_one_type_reads_a_store_of_several_under_its_policy() {
    let dir = log_of_events_and_audits();
    // No option needed to read: the read policy says what to do with the
    // records of the other types.
    let reader = TypedReader::<Audit>::open(dir.path(), ReadPolicy::Skip).unwrap();
    let read: Vec<Audit> = reader.iter().map(|e| e.unwrap().value).collect();
    assert_eq!(read, [audit()]);
    // A type the store does not hold is refused, naming what it holds.
    let e = TypedReader::<Order>::open(dir.path(), ReadPolicy::Skip).unwrap_err();
    assert!(refusal(e).contains("the store holds a log of several types (`event`"));
}

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "kind-1371838", version = 1)]
struct First {
    n: u32,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "kind-2000402", version = 1)]
struct Second {
    n: u32,
}

#[test]
fn a_fingerprint_collision_no_longer_reads_one_type_as_another() {
    // Found by brute force over `kind-{i}` (1.4M names, 16 s).
    assert_eq!(
        crc32c::crc32c(First::NAME.as_bytes()),
        crc32c::crc32c(Second::NAME.as_bytes()),
        "the two names collide"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<First>::open(dir.path()).unwrap();
    log.append(&First { n: 7 }).unwrap();
    log.close().unwrap();
    // Before descriptions, this open succeeded and read `First { n: 7 }` as
    // `Second { n: 7 }`.
    for options in [Options::new(), Options::new().mixed_types()] {
        let e = TypedLog::<Second>::open_with(dir.path(), options).unwrap_err();
        assert_eq!(
            refusal(e),
            format!(
                "refused to open {}: the store holds a log of `kind-1371838` \
                 (describe::First); asked for a log of `kind-2000402` (describe::Second), \
                 whose type fingerprint 0x4440e9b7 is also `kind-1371838`'s",
                dir.path().display()
            )
        );
    }
}

#[test]
fn the_core_and_the_published_crate_step_over_the_description() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<Order>::open(dir.path()).unwrap();
    log.append_batch(&[order_v3(), order_v3()]).unwrap();
    log.fsync().unwrap();
    log.close().unwrap();
    assert!(dir.path().join(describe::FILE_NAME).is_file());
    let reader = datawal_core::RecordLogReader::open(dir.path()).unwrap();
    assert_eq!(reader.scan().unwrap().0.len(), 2);
    let mut old = datawal015::RecordLog::open(dir.path()).unwrap();
    assert_eq!(old.scan().unwrap().len(), 2);
    old.append(b"from 0.1.5").unwrap();
    old.fsync().unwrap();
    drop(old);
    assert_eq!(
        datawal_core::RecordLog::open(dir.path())
            .unwrap()
            .scan()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn the_description_lists_a_codec_before_its_first_record_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let codecs = || {
        let d = Description::load(dir.path()).unwrap().unwrap();
        d.types[0].versions[0].codecs.clone()
    };
    let mut log = TypedLog::<Order>::open_with(dir.path(), Codec::Postcard).unwrap();
    assert!(codecs().is_empty(), "opened: nothing written yet");
    log.append(&order_v3()).unwrap();
    // Not fsynced yet, but the description already is (it was written
    // through AtomicFile before the append).
    assert_eq!(codecs(), ["postcard"]);
    log.set_codec(Codec::Json);
    log.append_batch(&[order_v3()]).unwrap();
    assert_eq!(codecs(), ["postcard", "json"]);
    let shared = log.into_shared();
    drop(shared);
    let shared = SharedTypedLog::<Order>::open_with(dir.path(), Codec::Bincode).unwrap();
    shared.append(&order_v3()).unwrap();
    assert_eq!(codecs(), ["postcard", "json", "bincode"]);
}

#[test]
fn a_store_without_a_description_gets_one_only_when_consistent() {
    // Written by three program versions before descriptions existed.
    let dir = gen::copy_store(&fixtures(), "order-log").unwrap();
    assert!(Description::load(dir.path()).unwrap().is_none());
    let log = TypedLog::<Order>::open(dir.path()).unwrap();
    assert_eq!(log.scan().unwrap(), gen::order_log_expected());
    drop(log);
    let d = Description::load(dir.path()).unwrap().unwrap();
    assert_eq!(d.kind, StoreKind::Log);
    let versions: Vec<(u16, Vec<String>, bool)> = d.types[0]
        .versions
        .iter()
        .map(|v| (v.version, v.codecs.clone(), v.schema.is_some()))
        .collect();
    assert_eq!(
        versions,
        [
            (1, vec!["bincode".to_string()], false),
            (2, vec!["postcard".to_string()], false),
            (3, vec!["json".to_string()], true),
        ]
    );
    // A log with raw and foreign records: left undescribed, read as before.
    let dir = gen::copy_store(&fixtures(), "mixed-log").unwrap();
    let log = TypedLog::<Event>::open_with(dir.path(), datawal_typed::ReadPolicy::Skip).unwrap();
    assert_eq!(log.scan().unwrap().len(), 3);
    drop(log);
    assert!(Description::load(dir.path()).unwrap().is_none());
    // A key/value store: keys must decode as the key type.
    let dir = gen::copy_store(&fixtures(), "order-wal").unwrap();
    assert!(TypedWal::<String, Order>::open(dir.path()).is_ok());
    assert!(
        Description::load(dir.path()).unwrap().is_none(),
        "u64 keys are not strings"
    );
    TypedWal::<u64, Order>::open(dir.path()).unwrap();
    let d = Description::load(dir.path()).unwrap().unwrap();
    assert_eq!(d.key.unwrap().rust_type, "u64");
}

#[test]
fn backups_carry_the_description() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<Order>::open(dir.path().join("log")).unwrap();
    log.append(&order_v3()).unwrap();
    log.fsync().unwrap();
    log.backup_to(dir.path().join("log-copy")).unwrap();
    let mut kv = TypedWal::<u64, Order>::open(dir.path().join("kv")).unwrap();
    kv.insert(&order_v3()).unwrap();
    kv.fsync().unwrap();
    kv.backup_to(dir.path().join("kv-copy")).unwrap();
    // The shared handles' backups too (they copied the segments only).
    let shared_log = log.into_shared();
    shared_log
        .backup_to(dir.path().join("shared-log-copy"))
        .unwrap();
    let shared_kv = kv.into_shared();
    shared_kv
        .backup_to(dir.path().join("shared-kv-copy"))
        .unwrap();
    for (from, to) in [
        ("log", "log-copy"),
        ("kv", "kv-copy"),
        ("log", "shared-log-copy"),
        ("kv", "shared-kv-copy"),
    ] {
        assert!(
            dir.path().join(to).join(describe::FILE_NAME).exists(),
            "{to}"
        );
        assert_eq!(
            Description::load(dir.path().join(to)).unwrap(),
            Description::load(dir.path().join(from)).unwrap()
        );
    }
    assert!(matches!(
        TypedLog::<Order>::open(dir.path().join("kv-copy")),
        Err(Error::Refused { .. })
    ));
}

#[test]
fn a_typed_log_exports_readable_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<OrderV1>::open(dir.path().join("log")).unwrap();
    log.append(&order_v1()).unwrap();
    log.close().unwrap();
    let mut log = TypedLog::<Order>::open_with(dir.path().join("log"), Codec::Json).unwrap();
    log.append(&order_v3()).unwrap();
    let out = dir.path().join("out").join("orders.jsonl");
    log.export_jsonl(&out).unwrap();
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            json!({"txid": 1, "version": 1, "codec": "bincode",
                   "value": serde_json::to_value(order_v1_upgraded()).unwrap()}),
            json!({"txid": 2, "version": 3, "codec": "json",
                   "value": serde_json::to_value(order_v3()).unwrap()}),
        ]
    );
    // Atomic: only the file, no temporary left beside it.
    assert_eq!(std::fs::read_dir(out.parent().unwrap()).unwrap().count(), 1);
}

#[test]
fn keys_have_text_forms() {
    fn round<K: datawal_typed::Key>(key: &K, text: &str) {
        let d = KeyDescription::of_key::<K>();
        let bytes = datawal_typed::key::encode_key_to_vec(key);
        assert_eq!(d.to_text(&bytes).unwrap(), text);
        assert_eq!(d.from_text(text).unwrap(), bytes, "{text}");
    }
    round(&"run-1".to_string(), "run-1");
    round(&"[not json".to_string(), "[not json");
    round(&42u64, "42");
    round(&-7i32, "-7");
    round(&u128::MAX, "340282366920938463463374607431768211455");
    round(&i128::MIN, "-170141183460469231731687303715884105728");
    round(&("apples".to_string(), 1u32), r#"["apples",1]"#);
    round(&(true, 'x', Some(3u8), None::<u8>), r#"[true,"x",3,null]"#);
    round(&vec![0u8, 255], "[0,255]");
    round(&(), "null");
    let d = KeyDescription::of_key::<(String, u32)>();
    assert_eq!(
        d.from_text(r#"["apples", 1]"#).unwrap(),
        d.from_text(r#"["apples",1]"#).unwrap()
    );
    for bad in ["apples", "[\"apples\"]", "[\"apples\",-1]", "[1,1]"] {
        let e = d.from_text(bad).unwrap_err();
        assert!(matches!(e, DescribeError::Key { .. }), "{bad}: {e}");
    }
    let e = KeyDescription::of_key::<u8>().from_text("256").unwrap_err();
    assert_eq!(e.to_string(), "key of type `u8`: `256` is not a u8");
    let e = KeyDescription::of_key::<u64>()
        .to_text(&[1, 2])
        .unwrap_err();
    assert!(e.to_string().starts_with("key of type `u64`: "), "{e}");
}

/// Every record of a committed store decodes through the public API, read
/// only, to the committed JSON (`tests/fixtures/decoded/`): bincode,
/// postcard and JSON bodies of several versions, with a description, and
/// what a store without one gives.
#[test]
fn committed_stores_decode_to_the_committed_json() {
    for store in gen::UNDESCRIBED.into_iter().chain(gen::DESCRIBED) {
        let dir = fixtures().join("stores").join(store);
        let got = gen::decoded(&dir).unwrap();
        let want =
            std::fs::read_to_string(fixtures().join("decoded").join(format!("{store}.jsonl")))
                .unwrap();
        assert_eq!(got, want, "{store}");
    }
}

/// The schema-driven decoder gives what serde_json makes of the value, for
/// every codec.
#[test]
fn schema_decoding_matches_the_values_as_json() {
    let dir = fixtures().join("stores").join("described-log");
    let d = Description::load(&dir).unwrap().unwrap();
    let reader = datawal_core::RecordLogReader::open(&dir).unwrap();
    let mut seen = Vec::new();
    for record in reader.scan().unwrap().0 {
        let r = d.decode_payload(&record.payload).unwrap();
        let want = match r.version {
            1 => serde_json::to_value(
                datawal_typed::from_payload::<OrderV1>(&record.payload)
                    .unwrap()
                    .0,
            ),
            2 => serde_json::to_value(
                datawal_typed::from_payload::<OrderV2>(&record.payload)
                    .unwrap()
                    .0,
            ),
            _ => serde_json::to_value(
                datawal_typed::from_payload::<Order>(&record.payload)
                    .unwrap()
                    .0,
            ),
        }
        .unwrap();
        assert_eq!(r.value, want, "txid {}", record.txid);
        seen.push((r.version, r.codec));
    }
    for codec in Codec::ALL {
        assert!(seen.contains(&(3, codec)), "{codec:?}");
    }
    for event in events() {
        let p = to_payload(&event, Codec::Bincode).unwrap();
        let mixed = Description::load(fixtures().join("stores").join("described-mixed"))
            .unwrap()
            .unwrap();
        assert_eq!(
            mixed.decode_payload(&p).unwrap().value,
            serde_json::to_value(&event).unwrap()
        );
    }
}

#[derive(Debug, Serialize, Deserialize, Record)]
#[record(name = "nest", version = 1)]
enum Nest {
    Leaf,
    Node(Box<Nest>),
}

#[derive(Debug, Serialize, Deserialize, Record)]
#[record(name = "units", version = 1)]
struct Units(Vec<()>);

#[test]
fn hostile_bodies_are_errors_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let mut nest = TypedLog::<Nest>::open_with(dir.path().join("n"), Codec::Postcard).unwrap();
    nest.append(&Nest::Node(Box::new(Nest::Leaf))).unwrap();
    let d = Description::load(dir.path().join("n")).unwrap().unwrap();
    let header = |codec: Codec| to_payload(&Nest::Leaf, codec).unwrap()[..8].to_vec();
    // 100,000 levels of `Node`: refused at 128, the stack is safe.
    for codec in [Codec::Bincode, Codec::Postcard] {
        let mut p = header(codec);
        p.extend(std::iter::repeat_n(1u8, 100_000));
        p.push(0);
        let e = d.decode_payload(&p).unwrap_err();
        assert!(
            e.to_string().contains("nested deeper than 128 levels"),
            "{e}"
        );
    }
    // A sequence of 2^62 units claimed in 9 bytes: stopped by the value
    // budget, nothing reserved from the claimed length.
    TypedLog::<Units>::open(dir.path().join("u")).unwrap();
    let d = Description::load(dir.path().join("u")).unwrap().unwrap();
    let mut p = to_payload(&Units(vec![]), Codec::Postcard).unwrap();
    p.truncate(8);
    p.extend([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]);
    let e = d.decode_payload(&p).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`units` version 1 (postcard) does not decode by its schema: \
         more values than a body of this length can hold"
    );
    // Every truncation and many corruptions of real payloads: errors or
    // values, never a panic.
    let store = fixtures().join("stores").join("described-log");
    let d = Description::load(&store).unwrap().unwrap();
    let reader = datawal_core::RecordLogReader::open(&store).unwrap();
    let mut errors = 0;
    for record in reader.scan().unwrap().0 {
        let p = &record.payload;
        for cut in 0..p.len() {
            errors += usize::from(d.decode_payload(&p[..cut]).is_err());
        }
        for i in 8..p.len() {
            for b in [0x00, 0x7F, 0x80, 0xFF] {
                let mut q = p.clone();
                q[i] = b;
                let _ = d.decode_payload(&q);
            }
        }
    }
    assert!(errors > 100, "{errors}");
}

#[test]
fn decode_errors_name_the_type_version_and_codec() {
    let d = Description::load(fixtures().join("stores").join("described-log"))
        .unwrap()
        .unwrap();
    let mut p = to_payload(&order_v3(), Codec::Bincode).unwrap();
    p.truncate(10);
    let e = d.decode_payload(&p).unwrap_err();
    assert!(
        matches!(&e, DescribeError::Body { name, version: 3, codec: Codec::Bincode, .. } if name == "order"),
        "{e:?}"
    );
    assert!(e
        .to_string()
        .starts_with("`order` version 3 (bincode) does not decode by its schema: "));
    let p = to_payload(&audit(), Codec::Postcard).unwrap();
    assert_eq!(
        d.decode_payload(&p).unwrap_err().to_string(),
        "the description lists no type with fingerprint 0x62cdc576 (version 1, postcard)"
    );
    let e = d.decode_payload(b"DW").unwrap_err();
    assert!(matches!(e, DescribeError::Envelope(_)), "{e:?}");
    // A description file that is not one is an error naming the file.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(describe::FILE_NAME), b"{\"format\": 2}").unwrap();
    let e = Description::load(dir.path()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "the description {} is invalid: format 2 (this build reads format 1)",
            dir.path().join(describe::FILE_NAME).display()
        )
    );
    assert!(matches!(
        TypedLog::<Order>::open(dir.path()),
        Err(Error::Description(_))
    ));
}

#[test]
fn types_without_a_schema_are_described_as_such() {
    #[derive(Debug, Serialize, Deserialize, Record)]
    #[record(name = "doc", version = 1)]
    struct Doc {
        body: serde_json::Value,
    }
    let dir = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<Doc>::open_with(dir.path(), Codec::Json).unwrap();
    log.append(&Doc {
        body: json!({"a": [1, 2]}),
    })
    .unwrap();
    let d = Description::load(dir.path()).unwrap().unwrap();
    let v = &d.types[0].versions[0];
    assert!(v.schema.is_none());
    assert_eq!(
        v.no_schema.as_deref(),
        Some("Not supported: deserialize_any")
    );
    // JSON bodies still decode, as JSON.
    let record = &log.raw_mut().scan().unwrap()[0];
    assert_eq!(
        d.decode_payload(&record.payload).unwrap().value,
        json!({"body": {"a": [1, 2]}})
    );
}

#[test]
fn in_place_compaction_keeps_the_description() {
    let dir = tempfile::tempdir().unwrap();
    let mut kv = TypedWal::<u64, Order>::open(dir.path()).unwrap();
    for i in 0..3 {
        kv.put(&1, &order_v3()).unwrap();
        kv.put(&(i + 2), &order_v3()).unwrap();
    }
    kv.set_codec(Codec::Postcard);
    kv.compact().unwrap();
    kv.fsync().unwrap();
    drop(kv);
    let d = Description::load(dir.path()).unwrap().unwrap();
    assert_eq!(d.types[0].versions[0].codecs, ["bincode", "postcard"]);
    assert_eq!(TypedWal::<u64, Order>::open(dir.path()).unwrap().len(), 4);
}

/// A description planted as a symbolic link (to a valid description
/// elsewhere) or as a FIFO is refused with an error naming it, never
/// followed or waited on: readers and writers open it without following
/// links and without blocking, and want a regular file.
#[test]
fn a_description_that_is_a_link_or_a_fifo_is_refused_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<Order>::open(outside.path()).unwrap();
    log.append(&order_v3()).unwrap();
    log.close().unwrap();
    let store = tempfile::tempdir().unwrap();
    datawal_core::RecordLog::open(store.path())
        .unwrap()
        .close()
        .unwrap();
    std::os::unix::fs::symlink(
        outside.path().join(describe::FILE_NAME),
        store.path().join(describe::FILE_NAME),
    )
    .unwrap();
    let e = Description::load(store.path()).unwrap_err();
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert!(matches!(
        TypedLog::<Order>::open(store.path()),
        Err(Error::Description(_))
    ));
    assert!(matches!(
        TypedReader::<Order>::open(store.path(), ReadPolicy::Stop),
        Err(Error::Description(_))
    ));

    let fifo = tempfile::tempdir().unwrap();
    let path = fifo.path().join(describe::FILE_NAME);
    let status = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let (tx, rx) = std::sync::mpsc::channel();
    let dir = fifo.path().to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(
            Description::load(&dir)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        );
    });
    let got = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("loading a FIFO description waited for a writer");
    assert!(got.unwrap_err().contains("not a regular file"));
}
