//! fjall: one keyspace, records under big-endian `u64` keys (W7: the 12-byte
//! keys), made durable with `Database::persist(PersistMode::SyncAll)`; W2's
//! batches are `WriteBatch`es; W8 values are bincode. Default configuration
//! (LZ4, background flushes and compactions).

use std::path::Path;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};

use super::{check_scan, on_threads, thread_ids, timed, KvTimes, Peer, TypedTimes, Workload};
use crate::data::{decode_event, encode_event, event, fold, kv_key, payload, shuffled, Event};

/// fjall with its defaults.
pub struct Fjall;

fn open(dir: &Path, keyspace: &str) -> Result<(Database, Keyspace)> {
    let db = Database::builder(dir).open()?;
    let ks = db.keyspace(keyspace, KeyspaceCreateOptions::default)?;
    Ok((db, ks))
}

impl Peer for Fjall {
    fn name(&self) -> &'static str {
        "fjall"
    }

    fn durable(&self) -> &'static str {
        "`Database::persist(PersistMode::SyncAll)` returned: the journal is flushed \
         and fsynced (`fsync`, data and metadata). W3: every thread calls `persist` \
         after its insert"
    }

    fn runs(&self, _: Workload) -> bool {
        true
    }

    fn w1(&self, dir: &Path, n: usize) -> Result<Duration> {
        let (db, ks) = open(dir, "log")?;
        db.persist(PersistMode::SyncAll)?;
        let (t, ()) = timed(|| {
            for i in 0..n as u64 {
                ks.insert(i.to_be_bytes(), payload(i))?;
                db.persist(PersistMode::SyncAll)?;
            }
            Ok(())
        })?;
        Ok(t)
    }

    fn w2(&self, dir: &Path, batches: usize, batch: usize) -> Result<Duration> {
        let (db, ks) = open(dir, "log")?;
        db.persist(PersistMode::SyncAll)?;
        let (t, ()) = timed(|| {
            for b in 0..batches {
                let first = (b * batch) as u64;
                let mut wb = db.batch();
                for i in first..first + batch as u64 {
                    wb.insert(&ks, i.to_be_bytes(), payload(i));
                }
                wb.commit()?;
                db.persist(PersistMode::SyncAll)?;
            }
            Ok(())
        })?;
        Ok(t)
    }

    fn w3(&self, dir: &Path, threads: usize, per_thread: usize) -> Result<Duration> {
        let (db, ks) = open(dir, "log")?;
        db.persist(PersistMode::SyncAll)?;
        let t = on_threads(threads, |t| {
            for i in thread_ids(t, per_thread) {
                ks.insert(i.to_be_bytes(), payload(i))?;
                db.persist(PersistMode::SyncAll)?;
            }
            Ok(())
        })?;
        let count = ks.len()?;
        ensure!(count == threads * per_thread, "fjall W3: {count} records");
        Ok(t)
    }

    fn w4(&self, dir: &Path, n: usize) -> Result<Duration> {
        let (db, ks) = open(dir, "log")?;
        db.persist(PersistMode::SyncAll)?;
        let (t, ()) = timed(|| {
            for i in 0..n as u64 {
                ks.insert(i.to_be_bytes(), payload(i))?;
            }
            db.persist(PersistMode::SyncAll)?;
            Ok(())
        })?;
        Ok(t)
    }

    fn w5(&self, dir: &Path, n: usize) -> Result<Duration> {
        let (t, (count, folded)) = timed(|| {
            let (_db, ks) = open(dir, "log")?;
            let (mut count, mut folded) = (0u64, 0u64);
            for guard in ks.iter() {
                let (_, v) = guard.into_inner()?;
                count += 1;
                folded = fold(folded, &v);
            }
            Ok((count, folded))
        })?;
        check_scan("fjall W5", count, folded, n)?;
        Ok(t)
    }

    fn w6_log(&self, dir: &Path) -> Result<Duration> {
        let (t, first) = timed(|| {
            let (_db, ks) = open(dir, "log")?;
            let first = ks.first_key_value().map(|g| g.into_inner()).transpose()?;
            Ok(first.map(|(_, v)| v.to_vec()))
        })?;
        ensure!(
            first.as_deref() == Some(&payload(0)[..]),
            "fjall W6: first record"
        );
        Ok(t)
    }

    fn w7(&self, dir: &Path, n: usize) -> Result<KvTimes> {
        let puts = shuffled(n, 1);
        let gets = shuffled(n, 2);
        let (db, ks) = open(dir, "kv")?;
        db.persist(PersistMode::SyncAll)?;
        let (put_time, ()) = timed(|| {
            for &i in &puts {
                let i = u64::from(i);
                ks.insert(kv_key(i), payload(i))?;
            }
            db.persist(PersistMode::SyncAll)?;
            Ok(())
        })?;
        let (get_time, found) = timed(|| {
            let mut found = 0usize;
            for &i in &gets {
                let i = u64::from(i);
                let v = ks.get(kv_key(i))?.context("fjall W7: a key is missing")?;
                found += usize::from(v[0] == payload(i)[0]);
            }
            Ok(found)
        })?;
        ensure!(found == n, "fjall W7: {found} of {n} values matched");
        Ok(KvTimes {
            puts: put_time,
            gets: get_time,
        })
    }

    fn w6_store(&self, dir: &Path) -> Result<Duration> {
        let (t, v) = timed(|| {
            let (_db, ks) = open(dir, "kv")?;
            Ok(ks.get(kv_key(0))?.map(|v| v.to_vec()))
        })?;
        ensure!(v.as_deref() == Some(&payload(0)[..]), "fjall W6: key 0");
        Ok(t)
    }

    fn w8(&self, dir: &Path, n: usize) -> Result<TypedTimes> {
        let events: Vec<Event> = (0..n as u64).map(event).collect();
        let (db, ks) = open(dir, "events")?;
        db.persist(PersistMode::SyncAll)?;
        let (append, ()) = timed(|| {
            for e in &events {
                ks.insert(e.id.to_be_bytes(), encode_event(e))?;
            }
            db.persist(PersistMode::SyncAll)?;
            Ok(())
        })?;
        drop((ks, db));
        let (scan, read) = timed(|| {
            let (_db, ks) = open(dir, "events")?;
            let mut read = Vec::new();
            for guard in ks.iter() {
                let (_, v) = guard.into_inner()?;
                read.push(decode_event(&v)?);
            }
            Ok(read)
        })?;
        ensure!(read == events, "fjall W8: read back differs");
        Ok(TypedTimes { append, scan })
    }
}
