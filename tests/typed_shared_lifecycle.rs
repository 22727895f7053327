//! The typed shared handles' lifecycle operations (forwarded to the core's
//! `SharedWal` / `SharedLog`, which `datawal-core/tests/shared_lifecycle.rs`
//! tests under load): compaction, truncation and backups while threads
//! write, checked against what the writers wrote.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use datawal::{LogOptions, Options, SharedTypedLog, SharedTypedWal, TypedLog, TypedWal};

const THREADS: u64 = 3;
const OPS: u64 = 300;

#[test]
fn a_shared_typed_wal_compacts_and_backs_up_while_threads_write() {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("kv");
    let options = Options::default().log_options(LogOptions::default().max_segment_bytes(4096));
    let kv = SharedTypedWal::<u64, String>::open_with(&dir, options).unwrap();
    let mut removed = 0;
    let done = AtomicU64::new(0);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (kv, done) = (&kv, &done);
            s.spawn(move || {
                for i in 0..OPS {
                    // 20 keys per thread, each rewritten 15 times.
                    kv.put_durable(&(t * 100 + i % 20), &format!("{t}:{i}"))
                        .unwrap();
                }
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        // Compacts while the writers write, and at least 10 times (the
        // last ones after they are done, so some compaction has dead
        // versions to remove however the threads were scheduled).
        s.spawn(|| {
            let mut n = 0;
            while done.load(Ordering::SeqCst) < THREADS || n < 10 {
                removed += kv.compact().unwrap().removed.segments_removed;
                n += 1;
            }
        });
    });
    let want: BTreeMap<u64, String> = (0..THREADS)
        .flat_map(|t| (OPS - 20..OPS).map(move |i| (t * 100 + i % 20, format!("{t}:{i}"))))
        .collect();
    for (k, v) in &want {
        assert_eq!(kv.get(k).unwrap().as_ref(), Some(v), "key {k}");
    }
    assert_eq!(kv.len(), want.len());
    assert!(removed > 0, "no compaction removed a segment");
    kv.backup_to(td.path().join("backup")).unwrap();
    assert_eq!(kv.truncate_before(1).unwrap().segments_removed, 0);
    drop(kv);
    for at in [dir, td.path().join("backup")] {
        let kv = TypedWal::<u64, String>::open(&at).unwrap();
        let got: BTreeMap<u64, String> = want
            .keys()
            .map(|k| (*k, kv.get(k).unwrap().unwrap()))
            .collect();
        assert_eq!(got, want, "{}", at.display());
        assert_eq!(kv.len(), want.len());
    }
}

#[test]
fn a_shared_typed_log_truncates_and_backs_up_while_threads_append() {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("log");
    let options = Options::default().log_options(LogOptions::default().max_segment_bytes(1024));
    let log = SharedTypedLog::<String>::open_with(&dir, options).unwrap();
    let mut removed = 0;
    let done = AtomicU64::new(0);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (log, done) = (&log, &done);
            s.spawn(move || {
                for i in 0..OPS {
                    log.append_durable(&format!("{t}:{i}")).unwrap();
                }
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        // Truncates while the writers append, and at least 10 times (the
        // last ones after they are done, when closed segments are sure to
        // lie below the bound).
        s.spawn(|| {
            let mut n = 0;
            while done.load(Ordering::SeqCst) < THREADS || n < 10 {
                let below = log.raw().next_txid();
                removed += log.truncate_before(below).unwrap().segments_removed;
                n += 1;
            }
        });
    });
    assert!(removed > 0, "no truncation removed a segment");
    let stats = log.backup_to(td.path().join("backup")).unwrap();
    let kept = log.scan().unwrap();
    assert_eq!(stats.last_txid, Some(THREADS * OPS));
    // Each thread's values are a suffix of what it appended, ending last.
    for t in 0..THREADS {
        let mine: Vec<u64> = kept
            .iter()
            .filter_map(|v| v.strip_prefix(&format!("{t}:")))
            .map(|i| i.parse().unwrap())
            .collect();
        let start = OPS - mine.len() as u64;
        assert_eq!(mine, (start..OPS).collect::<Vec<_>>(), "thread {t}");
    }
    drop(log);
    let backup = TypedLog::<String>::open(td.path().join("backup")).unwrap();
    assert_eq!(backup.scan().unwrap(), kept);
}
