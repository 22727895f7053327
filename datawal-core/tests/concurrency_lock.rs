//! Concurrency: one writer per directory, in this process and across
//! processes; a lock left by a killed process is no obstacle; a reader opened
//! while a writer appends (another thread) sees a valid prefix, never a torn
//! record as data.

mod reliability_support;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use datawal_core::{DataWal, Error, RecordLog, RecordLogReader};
use reliability_support::{child_dir, child_mode, say, ChildProc};

#[test]
fn child_entry() {
    let Some(mode) = child_mode() else { return };
    say("");
    let dir = child_dir();
    match mode.as_str() {
        "hold" => {
            let mut log = RecordLog::open(&dir).unwrap();
            log.append(b"from the child").unwrap();
            log.fsync().unwrap();
            say("LOCKED");
            std::thread::sleep(std::time::Duration::from_secs(20));
        }
        "try" => match DataWal::open(&dir) {
            Err(Error::Locked { dir: d }) => {
                assert_eq!(d, dir);
                say("REFUSED");
            }
            other => panic!("expected Error::Locked, got {:?}", other.map(|_| ())),
        },
        "open" => {
            DataWal::open(&dir).unwrap().put(b"child", b"2").unwrap();
            say("OPENED");
        }
        other => panic!("unknown mode {other}"),
    }
}

fn is_child() -> bool {
    child_mode().is_some()
}

#[test]
fn second_writer_in_the_same_process_is_refused() {
    if is_child() {
        return;
    }
    let td = tempfile::tempdir().unwrap();
    let _w = DataWal::open(td.path()).unwrap();
    for _ in 0..3 {
        assert!(matches!(
            RecordLog::open(td.path()),
            Err(Error::Locked { .. })
        ));
        assert!(matches!(
            DataWal::open(td.path()),
            Err(Error::Locked { .. })
        ));
    }
    // From another thread too.
    let dir = td.path().to_path_buf();
    let r = std::thread::spawn(move || matches!(RecordLog::open(&dir), Err(Error::Locked { .. })));
    assert!(r.join().unwrap());
}

#[test]
fn writer_in_another_process_is_refused_and_its_lock_dies_with_it() {
    if is_child() {
        return;
    }
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("store");
    // Another process holds the lock.
    let holder = ChildProc::spawn("child_entry", "hold", &dir, &[]);
    let mut seen = Vec::new();
    for line in holder.lines.iter() {
        let done = line == "LOCKED";
        seen.push(line);
        if done {
            break;
        }
    }
    assert!(seen.iter().any(|l| l == "LOCKED"), "{seen:?}");
    match RecordLog::open(&dir) {
        Err(e @ Error::Locked { .. }) => {
            assert!(e.to_string().contains("locked by another writer"), "{e}");
        }
        other => panic!("expected Error::Locked, got {:?}", other.map(|_| ())),
    }
    // And the reverse: this process holds it, a child is refused.
    // (First kill the holder: SIGKILL, no cleanup; the lock file stays.)
    holder.kill();
    assert!(dir.join(datawal_core::LOCK_FILE).exists());
    let mut db = DataWal::open(&dir).expect("a dead process's lock is no obstacle");
    db.put(b"k", b"v").unwrap();
    db.fsync().unwrap();
    assert_eq!(
        RecordLogReader::open(&dir).unwrap().scan().unwrap().0.len(),
        2
    );
    let (lines, status) = ChildProc::spawn("child_entry", "try", &dir, &[]).wait();
    assert!(status.success(), "{lines:?}");
    assert!(lines.iter().any(|l| l == "REFUSED"), "{lines:?}");
    drop(db);
    // Released on drop: the next child may write.
    let (lines, status) = ChildProc::spawn("child_entry", "open", &dir, &[]).wait();
    assert!(status.success(), "{lines:?}");
    assert!(lines.iter().any(|l| l == "OPENED"), "{lines:?}");
}

fn payload(i: u64) -> Vec<u8> {
    // Sizes vary widely, some larger than the reader's 1 MiB chunk.
    let len = match i % 50 {
        0 => 1_300_000,
        1..=5 => 20_000 + (i as usize * 7919) % 40_000,
        _ => 16 + (i as usize * 31) % 600,
    };
    let mut p = vec![(i % 251) as u8; len];
    p[..8].copy_from_slice(&i.to_le_bytes());
    p
}

#[test]
fn reader_during_appends_sees_a_valid_prefix() {
    if is_child() {
        return;
    }
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().to_path_buf();
    let appended = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (dir, appended, stop) = (dir.clone(), appended.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut log = RecordLog::open(&dir).unwrap();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) && i < 1_000 {
                log.append(&payload(i)).unwrap();
                i += 1;
                appended.store(i, Ordering::Release);
                if i.is_multiple_of(7) {
                    log.fsync().unwrap();
                }
                if i.is_multiple_of(400) {
                    log.rotate().unwrap();
                }
            }
            i
        })
    };
    let (mut scans, mut max_seen) = (0, 0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while std::time::Instant::now() < deadline {
        let before = appended.load(Ordering::Acquire);
        let reader = match RecordLogReader::open(&dir) {
            Ok(r) => r,
            Err(_) => continue, // the writer has not created the directory yet
        };
        let (records, _report) = reader
            .scan()
            .unwrap_or_else(|e| panic!("a concurrent reader got an error: {e}"));
        scans += 1;
        // A prefix: 0, 1, 2, ... with intact payloads, at least everything
        // appended before the reader opened.
        assert!(
            records.len() as u64 >= before,
            "{} < {before}",
            records.len()
        );
        for (i, r) in records.iter().enumerate() {
            assert_eq!(
                r.payload,
                payload(i as u64),
                "record {i} torn or out of order"
            );
            assert_eq!(r.txid, i as u64 + 1);
        }
        max_seen = max_seen.max(records.len());
        if appended.load(Ordering::Acquire) >= 1_000 {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    eprintln!("reader during appends: {scans} scans, up to {max_seen} of {written} records, never a torn record");
    assert!(scans >= 5);
}
