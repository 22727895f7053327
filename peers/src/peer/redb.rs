//! redb: one write transaction per durable unit, committed with
//! `Durability::Immediate` (the default, set explicitly). Records are
//! `u64 → &[u8]`; W7 `&[u8] → &[u8]`; W8 values are bincode.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    WriteTransaction,
};

use super::{check_scan, on_threads, thread_ids, timed, KvTimes, Peer, TypedTimes, Workload};
use crate::data::{decode_event, encode_event, event, fold, kv_key, payload, shuffled, Event};

const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
const KV: TableDefinition<&[u8], &[u8]> = TableDefinition::new("kv");
const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");

/// redb with its defaults.
pub struct Redb;

fn file(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    Ok(dir.join("db.redb"))
}

fn write(db: &Database) -> Result<WriteTransaction> {
    let mut tx = db.begin_write()?;
    tx.set_durability(Durability::Immediate)?;
    Ok(tx)
}

impl Peer for Redb {
    fn name(&self) -> &'static str {
        "redb"
    }

    fn durable(&self) -> &'static str {
        "`WriteTransaction::commit` returned with `Durability::Immediate`: the pages \
         and the new header are fsynced (`fdatasync`) before it returns. W3: writers \
         take turns (one write transaction at a time)"
    }

    fn runs(&self, _: Workload) -> bool {
        true
    }

    fn w1(&self, dir: &Path, n: usize) -> Result<Duration> {
        let db = Database::create(file(dir)?)?;
        let (t, ()) = timed(|| {
            for i in 0..n as u64 {
                let tx = write(&db)?;
                tx.open_table(LOG)?.insert(i, &payload(i)[..])?;
                tx.commit()?;
            }
            Ok(())
        })?;
        Ok(t)
    }

    fn w2(&self, dir: &Path, batches: usize, batch: usize) -> Result<Duration> {
        let db = Database::create(file(dir)?)?;
        let (t, ()) = timed(|| {
            for b in 0..batches {
                let first = (b * batch) as u64;
                let tx = write(&db)?;
                {
                    let mut table = tx.open_table(LOG)?;
                    for i in first..first + batch as u64 {
                        table.insert(i, &payload(i)[..])?;
                    }
                }
                tx.commit()?;
            }
            Ok(())
        })?;
        Ok(t)
    }

    fn w3(&self, dir: &Path, threads: usize, per_thread: usize) -> Result<Duration> {
        let db = Database::create(file(dir)?)?;
        let t = on_threads(threads, |t| {
            for i in thread_ids(t, per_thread) {
                let tx = write(&db)?;
                tx.open_table(LOG)?.insert(i, &payload(i)[..])?;
                tx.commit()?;
            }
            Ok(())
        })?;
        let count = db.begin_read()?.open_table(LOG)?.len()?;
        ensure!(
            count == (threads * per_thread) as u64,
            "redb W3: {count} rows"
        );
        Ok(t)
    }

    fn w4(&self, dir: &Path, n: usize) -> Result<Duration> {
        let db = Database::create(file(dir)?)?;
        let (t, ()) = timed(|| {
            let tx = write(&db)?;
            {
                let mut table = tx.open_table(LOG)?;
                for i in 0..n as u64 {
                    table.insert(i, &payload(i)[..])?;
                }
            }
            tx.commit()?;
            Ok(())
        })?;
        Ok(t)
    }

    fn w5(&self, dir: &Path, n: usize) -> Result<Duration> {
        let (t, (count, folded)) = timed(|| {
            let db = Database::open(file(dir)?)?;
            let tx = db.begin_read()?;
            let table = tx.open_table(LOG)?;
            let (mut count, mut folded) = (0u64, 0u64);
            for row in table.iter()? {
                let (_, v) = row?;
                count += 1;
                folded = fold(folded, v.value());
            }
            Ok((count, folded))
        })?;
        check_scan("redb W5", count, folded, n)?;
        Ok(t)
    }

    fn w6_log(&self, dir: &Path) -> Result<Duration> {
        let (t, first) = timed(|| {
            let db = Database::open(file(dir)?)?;
            let tx = db.begin_read()?;
            let table = tx.open_table(LOG)?;
            let first = table.first()?.map(|(_, v)| v.value().to_vec());
            Ok(first)
        })?;
        ensure!(
            first.as_deref() == Some(&payload(0)[..]),
            "redb W6: first record"
        );
        Ok(t)
    }

    fn w7(&self, dir: &Path, n: usize) -> Result<KvTimes> {
        let puts = shuffled(n, 1);
        let gets = shuffled(n, 2);
        let db = Database::create(file(dir)?)?;
        let (put_time, ()) = timed(|| {
            let tx = write(&db)?;
            {
                let mut table = tx.open_table(KV)?;
                for &i in &puts {
                    let i = u64::from(i);
                    table.insert(&kv_key(i)[..], &payload(i)[..])?;
                }
            }
            tx.commit()?;
            Ok(())
        })?;
        let (get_time, found) = timed(|| {
            let tx = db.begin_read()?;
            let table = tx.open_table(KV)?;
            let mut found = 0usize;
            for &i in &gets {
                let i = u64::from(i);
                let v = table
                    .get(&kv_key(i)[..])?
                    .context("redb W7: a key is missing")?;
                found += usize::from(v.value()[0] == payload(i)[0]);
            }
            Ok(found)
        })?;
        ensure!(found == n, "redb W7: {found} of {n} values matched");
        Ok(KvTimes {
            puts: put_time,
            gets: get_time,
        })
    }

    fn w6_store(&self, dir: &Path) -> Result<Duration> {
        let (t, v) = timed(|| {
            let db = Database::open(file(dir)?)?;
            let tx = db.begin_read()?;
            let table = tx.open_table(KV)?;
            let v = table.get(&kv_key(0)[..])?.map(|v| v.value().to_vec());
            Ok(v)
        })?;
        ensure!(v.as_deref() == Some(&payload(0)[..]), "redb W6: key 0");
        Ok(t)
    }

    fn w8(&self, dir: &Path, n: usize) -> Result<TypedTimes> {
        let events: Vec<Event> = (0..n as u64).map(event).collect();
        let db = Database::create(file(dir)?)?;
        let (append, ()) = timed(|| {
            let tx = write(&db)?;
            {
                let mut table = tx.open_table(EVENTS)?;
                for e in &events {
                    table.insert(e.id, &encode_event(e)[..])?;
                }
            }
            tx.commit()?;
            Ok(())
        })?;
        drop(db);
        let (scan, read) = timed(|| {
            let db = Database::open(file(dir)?)?;
            let tx = db.begin_read()?;
            let table = tx.open_table(EVENTS)?;
            let mut read = Vec::with_capacity(table.len()? as usize);
            for row in table.iter()? {
                let (_, v) = row?;
                read.push(decode_event(v.value())?);
            }
            Ok(read)
        })?;
        ensure!(read == events, "redb W8: read back differs");
        Ok(TypedTimes { append, scan })
    }
}
