//! The writer lock against a hostile or unlucky directory: a `.lock` that is
//! a link to a segment (of another store, or of this one), a FIFO; a child
//! forked after the store was opened dropping its copy of the handle; a
//! `.lock` deleted while the writer runs. Opening never writes through
//! `.lock`, and the lock holds for as long as the writer's handle lives
//! (a forked child: `hostile_lock_fork.rs`, alone in its binary, since the
//! child holds copies of every descriptor open at the fork).

use std::fs;
use std::path::Path;

use datawal_core::{Error, RecordLog, RecordLogReader, LOCK_FILE};

/// A store with three records; returns the bytes of its segment.
fn store_with_records(dir: &Path) -> Vec<u8> {
    let mut log = RecordLog::open(dir).unwrap();
    for p in [&b"one"[..], b"two", b"three"] {
        log.append(p).unwrap();
    }
    log.fsync().unwrap();
    drop(log);
    fs::read(dir.join("00000001.dwal")).unwrap()
}

fn payloads(dir: &Path) -> Vec<Vec<u8>> {
    let (records, report) = RecordLogReader::open(dir).unwrap().scan().unwrap();
    assert!(report.tail.is_none(), "{report:?}");
    records.into_iter().map(|r| r.payload).collect()
}

#[test]
fn a_lock_symlinked_to_another_stores_segment_is_refused_and_the_segment_untouched() {
    let td = tempfile::tempdir().unwrap();
    let (victim, attacked) = (td.path().join("victim"), td.path().join("attacked"));
    let before = store_with_records(&victim);
    fs::create_dir(&attacked).unwrap();
    std::os::unix::fs::symlink(victim.join("00000001.dwal"), attacked.join(LOCK_FILE)).unwrap();
    match RecordLog::open(&attacked) {
        Err(Error::LockFile { path, reason }) => {
            assert_eq!(path, attacked.join(LOCK_FILE));
            assert_eq!(reason, "is a symbolic link");
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert_eq!(fs::read(victim.join("00000001.dwal")).unwrap(), before);
    assert_eq!(payloads(&victim).len(), 3);
}

#[test]
fn a_lock_hard_linked_to_this_stores_segment_is_never_written() {
    let td = tempfile::tempdir().unwrap();
    let before = store_with_records(td.path());
    fs::remove_file(td.path().join(LOCK_FILE)).unwrap();
    fs::hard_link(td.path().join("00000001.dwal"), td.path().join(LOCK_FILE)).unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    assert_eq!(
        fs::read(td.path().join("00000001.dwal")).unwrap(),
        before,
        "opening changed no byte of the segment"
    );
    assert!(matches!(
        RecordLog::open(td.path()),
        Err(Error::Locked { .. })
    ));
    log.append(b"four").unwrap();
    log.fsync().unwrap();
    drop(log);
    assert_eq!(
        payloads(td.path()),
        vec![
            b"one".to_vec(),
            b"two".to_vec(),
            b"three".to_vec(),
            b"four".to_vec()
        ]
    );
}

#[test]
fn a_lock_that_is_a_fifo_is_refused_without_blocking() {
    let td = tempfile::tempdir().unwrap();
    store_with_records(td.path());
    let lock = td.path().join(LOCK_FILE);
    fs::remove_file(&lock).unwrap();
    let c = std::ffi::CString::new(lock.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    match RecordLog::open(td.path()) {
        Err(Error::LockFile { reason, .. }) => assert_eq!(reason, "is not a regular file"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert_eq!(payloads(td.path()).len(), 3);
}

#[test]
fn deleting_the_lock_file_while_a_writer_runs_lets_no_second_writer_in() {
    let td = tempfile::tempdir().unwrap();
    let _writer = RecordLog::open(td.path()).unwrap();
    fs::remove_file(td.path().join(LOCK_FILE)).unwrap();
    assert!(matches!(
        RecordLog::open(td.path()),
        Err(Error::Locked { .. })
    ));
}
