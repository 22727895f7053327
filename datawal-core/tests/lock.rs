//! The single-writer lock.

use datawal_core::{DataWal, Error, RecordLog, RecordLogReader};

#[test]
fn second_writer_in_process_is_refused_naming_the_directory() {
    let td = tempfile::tempdir().unwrap();
    let _w = RecordLog::open(td.path()).unwrap();
    for err in [
        RecordLog::open(td.path()).unwrap_err(),
        DataWal::open(td.path()).unwrap_err(),
    ] {
        match &err {
            Error::Locked { dir } => assert_eq!(dir, td.path()),
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains(&td.path().display().to_string()));
    }
}

#[test]
fn readers_need_no_lock_and_the_lock_is_released_on_drop() {
    let td = tempfile::tempdir().unwrap();
    let mut w = RecordLog::open(td.path()).unwrap();
    w.append(b"x").unwrap();
    assert_eq!(
        RecordLogReader::open(td.path())
            .unwrap()
            .scan()
            .unwrap()
            .0
            .len(),
        1
    );
    drop(w);
    RecordLog::open(td.path()).unwrap();
}

#[test]
fn close_releases_the_lock() {
    let td = tempfile::tempdir().unwrap();
    RecordLog::open(td.path()).unwrap().close().unwrap();
    DataWal::open(td.path()).unwrap();
}
