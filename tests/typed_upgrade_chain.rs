//! Stores written by earlier versions of a record (the committed golden
//! stores) read as the latest version, keep reading after new writes, and
//! compact to the latest version.

#[path = "../datawal-typed/tests/common/fixture_types.rs"]
mod fixture_types;
#[path = "../datawal-typed/tests/common/gen.rs"]
mod gen;

use std::path::PathBuf;

use datawal::typed::envelope::Header;
use datawal::{Codec, DecodeError, Error, Options, ReadPolicy, SharedTypedWal, TypedLog, TypedWal};
use fixture_types::*;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("datawal-typed/tests/fixtures")
}

/// The (version, codec) of every live value, as stored.
fn versions_and_codecs(kv: &TypedWal<u64, Order>) -> Vec<(u16, Codec)> {
    kv.raw()
        .items()
        .unwrap()
        .iter()
        .map(|(_, v)| {
            let h = Header::parse(v).unwrap().0;
            (h.version, h.codec)
        })
        .collect()
}

#[test]
fn old_log_reads_as_latest_and_takes_new_records() {
    let dir = gen::copy_store(&fixtures(), "order-log").unwrap();
    let mut log = TypedLog::<Order>::open(dir.path()).unwrap();
    let mut want = gen::order_log_expected();
    assert_eq!(log.scan().unwrap(), want);

    let newer = Order {
        id: 100,
        ..order_v3()
    };
    log.append(&newer).unwrap();
    log.fsync().unwrap();
    drop(log);
    want.push(newer);
    let log = TypedLog::<Order>::open(dir.path()).unwrap();
    assert_eq!(log.scan().unwrap(), want);
}

#[test]
fn each_version_reads_the_part_of_the_chain_it_knows() {
    let dir = gen::copy_store(&fixtures(), "order-log").unwrap();
    let v2 = TypedLog::<OrderV2>::open_with(dir.path(), ReadPolicy::Skip).unwrap();
    let read = v2.scan().unwrap();
    assert_eq!(read.len(), 3, "v1, v1, v2 records");
    assert_eq!(read[2], order_v2());
    assert_eq!(read[0], OrderV2::from(order_v1()));
    let skipped = v2.skipped();
    assert_eq!(skipped.len(), 1);
    assert_eq!(
        (skipped[0].location.segment, skipped[0].location.txid),
        (3, Some(4))
    );
    let Error::Decode {
        source,
        version: 3,
        codec: Codec::Json,
        ..
    } = &skipped[0].reason
    else {
        panic!("{:?}", skipped[0].reason)
    };
    assert!(matches!(
        **source,
        DecodeError::TooNew {
            version: 3,
            latest: 2,
            ..
        }
    ));
}

#[test]
fn old_wal_reads_as_latest_and_compacts_to_latest() {
    let dir = gen::copy_store(&fixtures(), "order-wal").unwrap();
    let mut kv = TypedWal::<u64, Order>::open_with(dir.path(), Codec::Postcard).unwrap();
    assert_eq!(kv.items().unwrap(), gen::order_wal_expected());

    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("compacted");
    let stats = kv.compact_upgraded_to(&target).unwrap();
    assert_eq!(stats.live_keys, 3);
    drop(kv);

    let kv = TypedWal::<u64, Order>::open(&target).unwrap();
    let headers = versions_and_codecs(&kv);
    // Keys 1 and 2 were v1/v2 and are rewritten as v3 with the handle's
    // codec; key 9 was already v3 in JSON, so it is re-encoded too
    // (another codec than the handle's).
    assert_eq!(
        headers,
        [
            (3, Codec::Postcard),
            (3, Codec::Postcard),
            (3, Codec::Postcard)
        ]
    );
    let kv = kv;
    assert_eq!(kv.items().unwrap(), gen::order_wal_expected());
}

#[test]
fn plain_compaction_keeps_old_versions_as_they_are() {
    let dir = gen::copy_store(&fixtures(), "order-wal").unwrap();
    let kv = TypedWal::<u64, Order>::open(dir.path()).unwrap();
    let out = tempfile::tempdir().unwrap();
    kv.compact_to(out.path().join("c")).unwrap();
    let copy = TypedWal::<u64, Order>::open(out.path().join("c")).unwrap();
    let versions: Vec<u16> = copy
        .raw()
        .items()
        .unwrap()
        .iter()
        .map(|(_, v)| Header::parse(v).unwrap().0.version)
        .collect();
    assert_eq!(versions, [1, 2, 3]);
    assert_eq!(copy.items().unwrap(), gen::order_wal_expected());
}

/// A key/value store of two `OrderV2`s, the one under key 5 with a
/// currency its upgrade to `Order` refuses ("EURO").
fn store_with_an_order_that_fails_its_upgrade() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut v2 = TypedWal::<u64, OrderV2>::open(dir.path()).unwrap();
    v2.insert(&OrderV2 {
        id: 5,
        cents: 1,
        currency: "EURO".into(),
    })
    .unwrap();
    v2.insert(&order_v2()).unwrap();
    v2.fsync().unwrap();
    dir
}

#[test]
fn a_failing_try_from_stops_upgrade_compaction_and_names_the_record() {
    let dir = store_with_an_order_that_fails_its_upgrade();

    let mut kv = TypedWal::<u64, Order>::open(dir.path()).unwrap();
    let target = dir.path().join("out");
    let e = kv.compact_upgraded_to(&target).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("`order` version 2 could not be upgraded to version 3"),
        "{msg}"
    );
    assert!(msg.contains("\"EURO\" is not a 3-letter code"), "{msg}");
    assert!(msg.contains("key 0x0000000000000005"), "{msg}");
    assert!(!target.exists(), "a failed compaction leaves no target");

    // Skip: the bad value is copied unchanged and reported.
    kv.set_read_policy(ReadPolicy::Skip);
    kv.compact_upgraded_to(&target).unwrap();
    assert_eq!(kv.skipped().len(), 1);
    assert_eq!(
        kv.skipped()[0].location.key.as_deref(),
        Some(&5u64.to_be_bytes()[..])
    );
    let out = TypedWal::<u64, OrderV2>::open(&target).unwrap();
    assert_eq!(out.get(&5).unwrap().unwrap().currency, "EURO");
    let e = out.items().unwrap_err();
    assert!(
        matches!(e, Error::Decode { version: 3, .. }),
        "order 8 is now v3: {e}"
    );
}

/// In place: old versions are rewritten as the latest with the handle's
/// codec, the old segments are gone, and the store reads the same values.
#[test]
fn in_place_compaction_rewrites_old_versions_as_the_latest() {
    let dir = gen::copy_store(&fixtures(), "order-wal").unwrap();
    let mut kv = TypedWal::<u64, Order>::open_with(dir.path(), Codec::Postcard).unwrap();
    let segments_before = datawal::raw::segment::list_segments(dir.path()).unwrap();
    let stats = kv.compact().unwrap();
    assert_eq!(stats.live_keys, 3);
    assert_eq!(
        stats.removed.segments_removed as usize,
        segments_before.len()
    );
    assert_eq!(kv.items().unwrap(), gen::order_wal_expected());
    drop(kv);
    let kv = TypedWal::<u64, Order>::open(dir.path()).unwrap();
    let headers = versions_and_codecs(&kv);
    assert_eq!(headers, [(3, Codec::Postcard); 3]);
}

/// The shared handle's in-place compaction upgrades too (it copied
/// values as stored), and its backup carries the description (it had
/// none).
#[test]
fn a_shared_typed_wal_compacts_to_the_latest_version_and_backs_up_its_description() {
    let dir = gen::copy_store(&fixtures(), "order-wal").unwrap();
    let kv = SharedTypedWal::<u64, Order>::open_with(dir.path(), Codec::Postcard).unwrap();
    let stats = kv.compact().unwrap();
    assert_eq!(stats.live_keys, 3);
    assert!(kv.skipped().is_empty());
    let backup = tempfile::tempdir().unwrap();
    let out = backup.path().join("copy");
    kv.backup_to(&out).unwrap();
    drop(kv);
    for at in [dir.path(), out.as_path()] {
        let kv = TypedWal::<u64, Order>::open(at).unwrap();
        assert_eq!(kv.items().unwrap(), gen::order_wal_expected());
        let headers = versions_and_codecs(&kv);
        assert_eq!(headers, [(3, Codec::Postcard); 3], "{}", at.display());
    }
    let described = datawal::typed::describe::Description::load(dir.path()).unwrap();
    assert!(described.is_some(), "the store describes itself");
    assert_eq!(
        datawal::typed::describe::Description::load(&out).unwrap(),
        described,
        "the backup carries the description"
    );
}

/// The shared handle's compaction under `Skip` copies a value that does
/// not upgrade and lists it; under `Stop` it removes nothing.
#[test]
fn a_shared_typed_wal_compaction_follows_the_read_policy() {
    let dir = store_with_an_order_that_fails_its_upgrade();
    let kv = SharedTypedWal::<u64, Order>::open(dir.path()).unwrap();
    let e = kv.compact().unwrap_err();
    assert!(e.to_string().contains("is not a 3-letter code"), "{e}");
    assert!(datawal::raw::segment::list_segments(dir.path())
        .unwrap()
        .contains(&1));
    drop(kv);
    let kv = SharedTypedWal::<u64, Order>::open_with(
        dir.path(),
        Options::new().read_policy(ReadPolicy::Skip),
    )
    .unwrap();
    kv.compact().unwrap();
    assert_eq!(kv.skipped().len(), 1);
    assert_eq!(
        kv.skipped()[0].location.key.as_deref(),
        Some(&5u64.to_be_bytes()[..])
    );
}

/// In place, a value that fails its upgrade stops the compaction before
/// anything is removed, and the error names where the record is.
#[test]
fn a_failing_upgrade_stops_in_place_compaction_and_removes_nothing() {
    let dir = store_with_an_order_that_fails_its_upgrade();
    let mut kv = TypedWal::<u64, Order>::open(dir.path()).unwrap();
    let at = kv.raw().ref_of(&5u64.to_be_bytes()).unwrap();
    let e = kv.compact().unwrap_err();
    let loc = e.location().expect("the record is named").clone();
    assert_eq!((loc.segment, loc.offset), (at.segment, at.offset));
    assert!(e.to_string().contains("is not a 3-letter code"), "{e}");
    assert!(datawal::raw::segment::list_segments(dir.path())
        .unwrap()
        .contains(&1));
    drop(kv);
    let old = TypedWal::<u64, OrderV2>::open(dir.path()).unwrap();
    assert_eq!(old.get(&5).unwrap().unwrap().currency, "EURO");
    assert_eq!(old.items().unwrap().len(), 2);
}
