//! Model-based property test of the lifecycle operations: `DataWal` under
//! random put / delete / fsync / rotate / compact / truncate_before /
//! reopen, with automatic rotation, retention and automatic compaction
//! drawn per case, against a model of the log as a list of segments with
//! their records.

use std::collections::BTreeMap;

use datawal_core::segment::list_segments;
use datawal_core::{DataWal, LogOptions};

/// Found while writing the model below: compaction's own rotation applied retention,
/// which removed a segment whose live values were still to be copied (the
/// call failed with `Io` NotFound, and the handle kept pointing at the
/// removed segment).
#[test]
fn compaction_under_retention_keeps_the_live_state() {
    let td = tempfile::tempdir().unwrap();
    let opts = LogOptions::default().retain_segments(2);
    let mut db = DataWal::open_with(td.path(), opts).unwrap();
    db.put(b"a", b"1").unwrap();
    db.rotate().unwrap();
    db.put(b"b", b"2").unwrap();
    // (No read before: a read would leave segment 1 open in the handle's
    // file cache, and the removed file would still read.)
    let want = vec![
        (b"a".to_vec(), b"1".to_vec()),
        (b"b".to_vec(), b"2".to_vec()),
    ];
    let stats = db.compact().unwrap();
    assert_eq!(stats.live_keys, 2);
    assert_eq!(db.items().unwrap(), want);
    assert_eq!(list_segments(td.path()).unwrap(), vec![3]);
    drop(db);
    assert_eq!(DataWal::open(td.path()).unwrap().items().unwrap(), want);
}

/// The same with a live set of several copy batches (about 1 MiB each):
/// the rotation between two batches must not remove an old segment whose
/// values a later batch reads (keys written in descending order, so the
/// oldest segment holds the keys copied last).
#[test]
fn compaction_under_retention_keeps_a_live_set_of_several_batches() {
    let td = tempfile::tempdir().unwrap();
    let max = LogOptions::default().max_segment_bytes(64 << 10);
    let mut db = DataWal::open_with(td.path(), max).unwrap();
    let mut model = BTreeMap::new();
    for i in (0..2400u32).rev() {
        let key = format!("key{i:05}").into_bytes();
        let value = vec![i as u8; 1000];
        db.put(&key, &value).unwrap();
        model.insert(key, value);
    }
    db.fsync().unwrap();
    drop(db);
    // Room for every segment and the compaction's first: its second
    // rotation is over the limit.
    let n = list_segments(td.path()).unwrap().len() as u32;
    assert!(n > 30, "{n} segments");
    let mut db = DataWal::open_with(td.path(), max.retain_segments(n + 1)).unwrap();
    let stats = db.compact().unwrap();
    assert_eq!(stats.live_keys, 2400);
    let want: Vec<_> = model.into_iter().collect();
    assert_eq!(db.items().unwrap(), want);
    drop(db);
    assert_eq!(DataWal::open(td.path()).unwrap().items().unwrap(), want);
}
