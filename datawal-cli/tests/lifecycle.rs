//! `datawal compact --in-place`, `datawal truncate` and `datawal backup`:
//! the library's lifecycle operations from the shell, each taking the
//! writer lock (exit 5 when another writer holds it).

mod common;
use common::*;

use datawal_core::{DataWal, LogOptions, RecordLog, RecordLogReader};

fn run(args: &[&std::ffi::OsStr]) -> Run {
    datawal(args.iter().copied())
}

/// A key/value store of overwrites over several segments (no raw records).
fn churned(dir: &std::path::Path) {
    let mut db = DataWal::open_with(dir, LogOptions::default().max_segment_bytes(512)).unwrap();
    for i in 0..300u32 {
        db.put(
            format!("k{}", i % 10).as_bytes(),
            format!("v{i}").as_bytes(),
        )
        .unwrap();
    }
    db.fsync().unwrap();
}

#[test]
fn compact_in_place_keeps_the_live_state() {
    let td = tempfile::tempdir().unwrap();
    churned(td.path());
    let before = DataWal::open(td.path()).unwrap().items().unwrap();
    let segments = datawal_core::segment::list_segments(td.path())
        .unwrap()
        .len();
    let r = run(&[
        "compact".as_ref(),
        "--in-place".as_ref(),
        td.path().as_os_str(),
    ]);
    r.code(0);
    assert!(r.stdout.contains("in place: 10 live keys"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&format!("removed {segments} old segments")),
        "{}",
        r.stdout
    );
    assert_eq!(DataWal::open(td.path()).unwrap().items().unwrap(), before);
    assert!(
        datawal_core::segment::list_segments(td.path())
            .unwrap()
            .len()
            < segments
    );
}

#[test]
fn compact_in_place_refuses_raw_records_and_changes_nothing() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    let before = snapshot(td.path());
    run(&[
        "compact".as_ref(),
        "--in-place".as_ref(),
        td.path().as_os_str(),
    ])
    .code(7)
    .one_line_error(&["raw log record", "--drop-raw-records"]);
    assert_eq!(snapshot(td.path()), before);
}

#[test]
fn compact_needs_an_output_or_in_place() {
    let td = tempfile::tempdir().unwrap();
    churned(td.path());
    run(&["compact".as_ref(), td.path().as_os_str()]).code(2);
}

#[test]
fn truncate_removes_old_segments() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    for seg in 0..3 {
        for i in 0..4 {
            log.append(format!("{seg}-{i}").as_bytes()).unwrap();
        }
        log.rotate().unwrap();
    }
    log.fsync().unwrap();
    drop(log);
    let r = run(&[
        "truncate".as_ref(),
        td.path().as_os_str(),
        "--before".as_ref(),
        "9".as_ref(),
    ]);
    r.code(0);
    assert!(
        r.stdout.starts_with("removed 2 segments (8 records, "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.ends_with("first txid now 9\n"), "{}", r.stdout);
    let (records, _) = RecordLogReader::open(td.path()).unwrap().scan().unwrap();
    assert_eq!(records.first().map(|r| r.txid), Some(9));
}

#[test]
fn backup_writes_a_store_that_opens_to_the_same_state() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    churned(&store);
    let out = td.path().join("b");
    let r = run(&["backup".as_ref(), store.as_os_str(), out.as_os_str()]);
    r.code(0);
    assert!(r.stdout.contains("up to txid 300"), "{}", r.stdout);
    assert_eq!(
        DataWal::open(&out).unwrap().items().unwrap(),
        DataWal::open(&store).unwrap().items().unwrap()
    );
}

#[test]
fn every_lifecycle_command_refuses_a_locked_store() {
    let td = tempfile::tempdir().unwrap();
    churned(td.path());
    let _writer = DataWal::open(td.path()).unwrap();
    let out = td.path().join("elsewhere");
    for args in [
        vec![
            "compact".as_ref(),
            "--in-place".as_ref(),
            td.path().as_os_str(),
        ],
        vec![
            "truncate".as_ref(),
            td.path().as_os_str(),
            "--before".as_ref(),
            "5".as_ref(),
        ],
        vec!["backup".as_ref(), td.path().as_os_str(), out.as_os_str()],
    ] {
        run(&args).code(5).one_line_error(&["locked"]);
    }
    assert!(!out.exists());
}
