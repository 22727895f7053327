//! Lifecycle operations on the shared handles while other threads write:
//! `SharedWal::compact` / `backup_to` and `SharedLog::truncate_before` /
//! `backup_to`, called again and again by one thread while four others put,
//! delete and append (some durably, some not).
//!
//! Each writer thread owns its keys (`t<thread>-<slot>`, 16 slots) and runs
//! a fixed sequence of operations, so the state its keys must have after
//! its first `j` operations is a function of `j` ([`state_after`]): the
//! store after every writer is done must equal that model, in the handle
//! and after a reopen, and every backup must hold, for every thread, the
//! state after some `j` between the operations that were acknowledged
//! durable before `backup_to` began and those appended before it returned.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use datawal_core::{DataWal, LogOptions, RecordLog, SharedLog, SharedWal};

const WRITERS: u64 = 4;
const OPS: u64 = 1_500;
const SLOTS: u64 = 16;

type State = BTreeMap<Vec<u8>, Vec<u8>>;

fn key(thread: u64, slot: u64) -> Vec<u8> {
    format!("t{thread}-{slot:02}").into_bytes()
}

/// Operation `i` of a thread: a delete every fifth, else a put of `i`
/// (with a pad that varies its length).
fn is_delete(i: u64) -> bool {
    i % 5 == 4
}

fn value(thread: u64, i: u64) -> Vec<u8> {
    let mut v = format!("{thread}:{i}:").into_bytes();
    v.resize(v.len() + (i % 37) as usize, b'.');
    v
}

/// The state of `thread`'s keys after its first `j` operations.
fn state_after(thread: u64, j: u64) -> State {
    let mut m = State::new();
    for slot in 0..SLOTS.min(j) {
        // The last operation below `j` on this slot.
        let last = slot + (j - 1 - slot) / SLOTS * SLOTS;
        if !is_delete(last) {
            m.insert(key(thread, slot), value(thread, last));
        }
    }
    m
}

/// `thread`'s keys in `state`.
fn of_thread(state: &State, thread: u64) -> State {
    let prefix = format!("t{thread}-").into_bytes();
    state
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn items(db: &DataWal) -> State {
    db.items().unwrap().into_iter().collect()
}

/// Per writer: operations acknowledged durable, operations that returned.
struct Progress {
    acked: Vec<AtomicU64>,
    done: Vec<AtomicU64>,
}

impl Progress {
    fn new() -> Self {
        Progress {
            acked: (0..WRITERS).map(|_| AtomicU64::new(0)).collect(),
            done: (0..WRITERS).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn acked(&self) -> Vec<u64> {
        self.acked
            .iter()
            .map(|a| a.load(Ordering::SeqCst))
            .collect()
    }

    /// Operations that may have reached the log: those returned, and the
    /// one each thread may have under way.
    fn reached(&self) -> Vec<u64> {
        self.done
            .iter()
            .map(|a| (a.load(Ordering::SeqCst) + 1).min(OPS))
            .collect()
    }
}

/// Check that `state` holds, for every thread, its state after some `j`
/// in `lo[t]..=hi[t]` operations.
fn check_consistent(state: &State, lo: &[u64], hi: &[u64], what: &str) {
    let mut total = 0;
    for t in 0..WRITERS {
        let got = of_thread(state, t);
        total += got.len();
        let (lo, hi) = (lo[t as usize], hi[t as usize]);
        assert!(
            (lo..=hi).any(|j| state_after(t, j) == got),
            "{what}: thread {t}'s keys are no state after {lo}..={hi} operations: {got:?}"
        );
    }
    assert_eq!(total, state.len(), "{what}: keys of no writer");
}

#[test]
fn shared_wal_compacts_and_backs_up_while_threads_write() {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("store");
    let opts = LogOptions::default().max_segment_bytes(8 * 1024);
    let kv = SharedWal::open_with(&dir, opts).unwrap();
    let progress = Progress::new();
    let writing = AtomicBool::new(true);
    let mut backups = Vec::new();
    let (mut compactions, mut removed) = (0u32, 0u32);

    std::thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|t| {
                let (kv, progress) = (&kv, &progress);
                s.spawn(move || {
                    for i in 0..OPS {
                        let k = key(t, i % SLOTS);
                        let durable = i % 3 == 0;
                        match (is_delete(i), durable) {
                            (true, true) => kv.delete_durable(&k).unwrap(),
                            (true, false) => kv.delete(&k).unwrap(),
                            (false, true) => kv.put_durable(&k, &value(t, i)).unwrap(),
                            (false, false) => kv.put(&k, &value(t, i)).unwrap(),
                        }
                        if i % 7 == 0 && !durable {
                            kv.sync().unwrap();
                        }
                        if durable || i % 7 == 0 {
                            progress.acked[t as usize].store(i + 1, Ordering::SeqCst);
                        }
                        progress.done[t as usize].store(i + 1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        let maintenance = s.spawn(|| {
            let mut n = 0;
            while writing.load(Ordering::SeqCst) || n < 4 {
                let stats = kv.compact().unwrap();
                compactions += 1;
                removed += stats.removed.segments_removed;
                let lo = progress.acked();
                let out = td.path().join(format!("backup-{n}"));
                let b = kv.backup_to(&out).unwrap();
                assert!(b.segments_copied >= 1, "{b:?}");
                backups.push((out, lo, progress.reached()));
                n += 1;
            }
        });
        for w in writers {
            w.join().unwrap();
        }
        writing.store(false, Ordering::SeqCst);
        maintenance.join().unwrap();
    });

    let want: State = (0..WRITERS).flat_map(|t| state_after(t, OPS)).collect();
    let got: State = kv
        .keys()
        .into_iter()
        .map(|k| {
            let v = kv.get(&k).unwrap().unwrap();
            (k, v)
        })
        .collect();
    assert_eq!(got, want, "the shared handle after the writers");
    drop(kv);
    let db = DataWal::open(&dir).unwrap();
    assert_eq!(items(&db), want, "reopened");
    drop(db);
    assert!(compactions >= 4 && removed > 0, "{compactions} {removed}");
    eprintln!(
        "{compactions} compactions removed {removed} segments; {} backups",
        backups.len()
    );
    for (out, lo, hi) in &backups {
        let db = DataWal::open(out).unwrap();
        check_consistent(&items(&db), lo, hi, &out.display().to_string());
    }
    // A backup syncs first: it holds every write made before it began,
    // acknowledged or not.
    let last = td.path().join("backup-last");
    SharedWal::open(&dir).unwrap().backup_to(&last).unwrap();
    assert_eq!(items(&DataWal::open(&last).unwrap()), want);
}

/// `(thread, index)` of a log record's payload.
fn log_payload(thread: u64, i: u64) -> Vec<u8> {
    let mut p = Vec::with_capacity(16 + (i % 29) as usize);
    p.extend_from_slice(&thread.to_le_bytes());
    p.extend_from_slice(&i.to_le_bytes());
    p.resize(16 + (i % 29) as usize, thread as u8);
    p
}

fn parse_payload(p: &[u8]) -> (u64, u64) {
    let (t, i) = p.split_at(8);
    let t = u64::from_le_bytes(t.try_into().unwrap());
    let i = u64::from_le_bytes(i[..8].try_into().unwrap());
    assert_eq!(p, log_payload(t, i), "payload of {t}:{i}");
    (t, i)
}

/// Check the records of a log: txids increase by one; each thread's
/// records are its indexes `a..b`, in order, with `b` in `lo..=hi` (or
/// none: truncation may have removed them all). Returns the first and the
/// last txid.
fn check_log(dir: &Path, lo: &[u64], hi: &[u64]) -> Option<(u64, u64)> {
    let mut log = RecordLog::open(dir).unwrap();
    let records = log.scan().unwrap();
    for w in records.windows(2) {
        assert_eq!(w[1].txid, w[0].txid + 1, "{}: a hole", dir.display());
    }
    let mut next: BTreeMap<u64, u64> = BTreeMap::new();
    for r in &records {
        let (t, i) = parse_payload(&r.payload);
        if let Some(&n) = next.get(&t) {
            assert_eq!(i, n, "{}: thread {t} out of order", dir.display());
        }
        next.insert(t, i + 1);
    }
    for t in 0..WRITERS {
        let Some(&end) = next.get(&t) else { continue };
        let (lo, hi) = (lo[t as usize], hi[t as usize]);
        assert!(
            (lo..=hi).contains(&end),
            "{}: thread {t} ends at {end}, not in {lo}..={hi}",
            dir.display()
        );
    }
    Some((records.first()?.txid, records.last()?.txid))
}

#[test]
fn shared_log_truncates_and_backs_up_while_threads_append() {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("log");
    let opts = LogOptions::default().max_segment_bytes(4 * 1024);
    let log = SharedLog::open_with(&dir, opts).unwrap();
    let progress = Progress::new();
    let writing = AtomicBool::new(true);
    let mut backups = Vec::new();
    let (mut highest_bound, mut removed) = (0u64, 0u32);

    std::thread::scope(|s| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|t| {
                let (log, progress) = (&log, &progress);
                s.spawn(move || {
                    for i in 0..OPS {
                        let p = log_payload(t, i);
                        if i % 3 == 0 {
                            log.append_durable(&p).unwrap();
                            progress.acked[t as usize].store(i + 1, Ordering::SeqCst);
                        } else {
                            log.append(&p).unwrap();
                        }
                        progress.done[t as usize].store(i + 1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        let maintenance = s.spawn(|| {
            let mut n = 0;
            let mut bound = 1;
            while writing.load(Ordering::SeqCst) || n < 4 {
                // Truncate below where the log stood one round ago.
                let stats = log.truncate_before(bound).unwrap();
                removed += stats.segments_removed;
                highest_bound = highest_bound.max(bound);
                if let Some(first) = stats.first_available {
                    assert!(first <= bound, "{first} > {bound}");
                }
                bound = log.next_txid();
                let lo = progress.acked();
                let out = td.path().join(format!("backup-{n}"));
                let b = log.backup_to(&out).unwrap();
                backups.push((out, lo, progress.reached(), b.last_txid));
                n += 1;
            }
        });
        for w in writers {
            w.join().unwrap();
        }
        writing.store(false, Ordering::SeqCst);
        maintenance.join().unwrap();
    });

    let all = vec![OPS; WRITERS as usize];
    // Once more after the writers, so that something is removed however
    // the threads were scheduled.
    let next = log.next_txid();
    removed += log.truncate_before(next).unwrap().segments_removed;
    highest_bound = next;
    drop(log);
    let (first, _) = check_log(&dir, &all, &all).unwrap();
    assert!(first <= highest_bound, "{first} > {highest_bound}");
    assert!(removed > 0);
    assert_eq!(RecordLog::open(&dir).unwrap().next_txid(), next);
    eprintln!(
        "{removed} segments removed, {} backups, first txid kept {first}",
        backups.len()
    );
    for (out, lo, hi, last_txid) in &backups {
        // The copy is the log as of the txid it says, no more, no less.
        let last = check_log(out, lo, hi).map(|(_, last)| last);
        assert_eq!(last, *last_txid, "{}", out.display());
        let floor = RecordLog::open(out).unwrap().next_txid();
        assert_eq!(floor, last_txid.map_or(floor, |t| t + 1));
    }
    let last = td.path().join("backup-last");
    let b = SharedLog::open(&dir).unwrap().backup_to(&last).unwrap();
    assert_eq!(b.last_txid, Some(next - 1));
    assert_eq!(check_log(&last, &all, &all), Some((first, next - 1)));
}
