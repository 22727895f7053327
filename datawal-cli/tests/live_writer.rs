//! The read-only subcommands work while a writer holds the lock, see what
//! it has written, and leave its store alone.

mod common;
use common::*;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[test]
fn read_only_commands_while_a_writer_holds_the_lock() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    let mut db = datawal_core::DataWal::open(&store).unwrap();
    db.put(b"a", b"1").unwrap();
    db.put(b"b", b"2").unwrap();
    db.fsync().unwrap();

    let dir = store.as_os_str();
    assert!(datawal(["stat".as_ref(), dir])
        .code(0)
        .stdout
        .contains("live keys    2"));
    datawal(["verify".as_ref(), dir]).code(0);
    assert_eq!(
        datawal(["scan".as_ref(), dir])
            .code(0)
            .stdout
            .lines()
            .count(),
        2
    );
    assert_eq!(
        datawal(["get".as_ref(), dir, "a".as_ref()]).code(0).stdout,
        "\"1\"\n"
    );
    let out = td.path().join("e.jsonl");
    datawal(["export".as_ref(), dir, out.as_os_str()]).code(0);
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 2);

    // The writer goes on; the next snapshot sees its new records.
    db.put(b"a", b"3").unwrap();
    db.delete(b"b").unwrap();
    db.fsync().unwrap();
    assert_eq!(
        datawal(["get".as_ref(), dir, "a".as_ref()]).code(0).stdout,
        "\"3\"\n"
    );
    datawal(["get".as_ref(), dir, "b".as_ref()]).code(1);
    // And the writer is unaffected by the readers.
    db.put(b"c", b"4").unwrap();
    db.fsync().unwrap();
    assert_eq!(db.get(b"c").unwrap().as_deref(), Some(&b"4"[..]));
}

#[test]
fn published_crate_writer_holding_the_lock() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    let mut db = datawal015::DataWal::open(&store).unwrap();
    db.put(b"k", b"v").unwrap();
    db.fsync().unwrap();
    let dir = store.as_os_str();
    datawal(["verify".as_ref(), dir]).code(0);
    assert_eq!(
        datawal(["get".as_ref(), dir, "k".as_ref()]).code(0).stdout,
        "\"v\"\n"
    );
    assert!(datawal(["stat".as_ref(), dir])
        .code(0)
        .stdout
        .contains("records      1 (1 put"));
    assert_eq!(
        datawal(["scan".as_ref(), dir])
            .code(0)
            .stdout
            .lines()
            .count(),
        1
    );
}

#[test]
fn scans_during_appends_see_growing_prefixes() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    let mut log = datawal_core::RecordLog::open(&store).unwrap();
    log.append(b"first").unwrap();
    log.fsync().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                log.append(format!("event {n}").as_bytes()).unwrap();
                if n.is_multiple_of(16) {
                    log.fsync().unwrap();
                }
                n += 1;
            }
            log.fsync().unwrap();
            n
        })
    };
    let mut last = 0;
    for _ in 0..5 {
        let r = datawal(["scan".as_ref(), store.as_os_str()]);
        // A record being appended at that instant may show as a torn tail
        // note, never as an error or as data.
        r.code(0);
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert!(lines.len() >= last, "a later snapshot saw fewer records");
        for (i, l) in lines.iter().enumerate().skip(1) {
            assert!(l.ends_with(&format!("payload=\"event {}\"", i - 1)), "{l}");
        }
        last = lines.len();
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    let r = datawal(["verify".as_ref(), store.as_os_str()]);
    r.code(0);
    assert!(
        r.stdout
            .starts_with(&format!("ok: {} records", written + 1)),
        "{}",
        r.stdout
    );
}
