//! Stores that run for years: retention (`truncate_before`, the `retain_*`
//! settings), in-place compaction (`DataWal::compact`, also automatic),
//! online backup; txids never go backwards; the published crate reads every
//! store these leave.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use datawal015 as published;
use datawal_core::segment::list_segments;
use datawal_core::{DataWal, DataWalReader, LogOptions, RecordLog, RecordLogReader};

fn txids(dir: &Path) -> Vec<u64> {
    let (records, report) = RecordLogReader::open(dir).unwrap().scan().unwrap();
    assert!(report.tail.is_none());
    records.iter().map(|r| r.txid).collect()
}

fn published_items(dir: &Path) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut db = published::DataWal::open(dir).unwrap();
    let mut items = db.items().unwrap();
    items.sort();
    items
}

#[test]
fn truncate_before_removes_whole_closed_segments_and_txids_never_go_back() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    for seg in 0..4u64 {
        for i in 0..5u64 {
            log.append(format!("{seg}-{i}").as_bytes()).unwrap();
        }
        log.rotate().unwrap();
    }
    log.append(b"active").unwrap();
    log.fsync().unwrap();
    // txids 1-5, 6-10, 11-15, 16-20 closed; 21 active.
    let stats = log.truncate_before(12).unwrap();
    assert_eq!((stats.segments_removed, stats.records_removed), (2, 10));
    assert_eq!(stats.first_available, Some(11));
    assert_eq!(log.first_txid(), Some(11));
    assert_eq!(list_segments(td.path()).unwrap(), vec![3, 4, 5]);
    // Nothing at or above the txid goes, and never the active segment.
    let stats = log.truncate_before(u64::MAX).unwrap();
    assert_eq!(stats.segments_removed, 2);
    assert_eq!(list_segments(td.path()).unwrap(), vec![5]);
    assert_eq!(txids(td.path()), vec![21]);
    // Every record-bearing segment gone: the floor keeps txids going up.
    log.rotate().unwrap();
    assert_eq!(log.truncate_before(u64::MAX).unwrap().segments_removed, 1);
    assert_eq!(txids(td.path()), Vec::<u64>::new());
    drop(log);
    let mut log = RecordLog::open(td.path()).unwrap();
    assert_eq!(log.next_txid(), 22);
    log.append(b"after").unwrap();
    log.fsync().unwrap();
    drop(log);
    assert_eq!(txids(td.path()), vec![22]);
    let mut theirs = published::RecordLog::open(td.path()).unwrap();
    assert_eq!(theirs.scan().unwrap().len(), 1);
}

#[test]
fn retention_settings_apply_on_rotation() {
    let td = tempfile::tempdir().unwrap();
    let opts = LogOptions::default()
        .max_segment_bytes(300)
        .retain_segments(3);
    let mut log = RecordLog::open_with(td.path(), opts).unwrap();
    for i in 0..200u32 {
        log.append(format!("record {i:04}").as_bytes()).unwrap();
    }
    log.fsync().unwrap();
    let segs = list_segments(td.path()).unwrap();
    assert_eq!(segs.len(), 3, "{segs:?}");
    let kept = txids(td.path());
    assert_eq!(*kept.last().unwrap(), 200);
    assert!(kept.windows(2).all(|w| w[1] == w[0] + 1));
    drop(log);

    let td = tempfile::tempdir().unwrap();
    let opts = LogOptions::default()
        .max_segment_bytes(300)
        .retain_bytes(1000);
    let mut log = RecordLog::open_with(td.path(), opts).unwrap();
    for i in 0..200u32 {
        log.append(format!("record {i:04}").as_bytes()).unwrap();
    }
    let total: u64 = list_segments(td.path())
        .unwrap()
        .iter()
        .map(|&id| {
            fs::metadata(datawal_core::segment::segment_path(td.path(), id))
                .unwrap()
                .len()
        })
        .sum();
    assert!(total <= 1000 + 300, "{total}");
    drop(log);
    assert_eq!(*txids(td.path()).last().unwrap(), 200);
}

/// A store of overwrites and deletes over several segments, and its model.
fn churned_store(dir: &Path) -> (DataWal, BTreeMap<Vec<u8>, Vec<u8>>) {
    let mut db = DataWal::open_with(dir, LogOptions::default().max_segment_bytes(4096)).unwrap();
    let mut model = BTreeMap::new();
    for i in 0..3000u32 {
        let key = format!("key{}", i % 97).into_bytes();
        if i % 5 == 0 {
            db.delete(&key).unwrap();
            model.remove(&key);
        } else {
            let value = format!("value {i}").into_bytes();
            db.put(&key, &value).unwrap();
            model.insert(key, value);
        }
    }
    db.fsync().unwrap();
    (db, model)
}

#[test]
fn compaction_in_place_keeps_the_live_state_and_reclaims_the_rest() {
    let td = tempfile::tempdir().unwrap();
    let (mut db, model) = churned_store(td.path());
    let before_bytes = db.log().options().max_segment_bytes;
    assert!(before_bytes.is_some());
    let segments_before = list_segments(td.path()).unwrap();
    let last_txid_before = db.log().next_txid() - 1;
    let snapshot = DataWalReader::open(td.path()).unwrap();

    let stats = db.compact().unwrap();
    assert_eq!(stats.live_keys, model.len() as u64);
    assert_eq!(
        stats.removed.segments_removed as usize,
        segments_before.len()
    );
    let items = db.items().unwrap();
    assert_eq!(items, model.clone().into_iter().collect::<Vec<_>>());
    // Rewritten with new txids, above every old one.
    assert!(txids(td.path()).iter().all(|&t| t > last_txid_before));
    // A reader opened before: a typed error, never a wrong value.
    for (k, v) in &model {
        match snapshot.get(k) {
            Ok(got) => assert_eq!(got.as_ref(), Some(v)),
            Err(e) => assert!(matches!(e, datawal_core::Error::Io { .. }), "{e}"),
        }
    }
    db.put(b"after", b"compaction").unwrap();
    db.fsync().unwrap();
    drop(db);
    let db = DataWal::open(td.path()).unwrap();
    let mut want: Vec<_> = model.into_iter().collect();
    want.push((b"after".to_vec(), b"compaction".to_vec()));
    want.sort();
    assert_eq!(db.items().unwrap(), want);
    drop(db);
    assert_eq!(published_items(td.path()), want);
}

#[test]
fn automatic_compaction_keeps_a_churned_store_small() {
    let td = tempfile::tempdir().unwrap();
    let opts = LogOptions::default()
        .max_segment_bytes(2048)
        .compact_dead_percent(50);
    let mut db = DataWal::open_with(td.path(), opts).unwrap();
    let mut model = BTreeMap::new();
    for i in 0..5000u32 {
        let key = format!("k{}", i % 20).into_bytes();
        let value = format!("v{i}").into_bytes();
        db.put(&key, &value).unwrap();
        model.insert(key, value);
    }
    db.fsync().unwrap();
    let segs = list_segments(td.path()).unwrap();
    // Without it the log would be ~5000 records over ~80 segments.
    assert!(segs.len() <= 4, "{segs:?}");
    assert_eq!(db.items().unwrap(), model.into_iter().collect::<Vec<_>>());
}

#[test]
fn a_backup_taken_while_the_writer_runs_opens_to_the_state_at_one_txid() {
    let td = tempfile::tempdir().unwrap();
    let (mut db, model) = churned_store(&td.path().join("store"));
    let out = td.path().join("backup");
    let stats = db.backup_to(&out).unwrap();
    assert!(stats.segments_linked > 0, "{stats:?}");
    assert_eq!(stats.last_txid, Some(db.log().next_txid() - 1));
    // The writer goes on; the backup does not move.
    db.put(b"later", b"not in the backup").unwrap();
    db.compact().unwrap();
    db.fsync().unwrap();
    let want: Vec<_> = model.into_iter().collect();
    let backup = DataWal::open(&out).unwrap();
    assert_eq!(backup.items().unwrap(), want);
    assert_eq!(backup.log().next_txid(), stats.last_txid.unwrap() + 1);
    drop(backup);
    assert_eq!(published_items(&out), want);
    // The target must be absent or empty.
    assert!(matches!(
        db.backup_to(&out),
        Err(datawal_core::Error::TargetNotEmpty { .. })
    ));
}
