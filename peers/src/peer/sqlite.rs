//! SQLite through rusqlite (bundled SQLite), WAL mode, with
//! `synchronous=FULL` (durable at commit) or `NORMAL` (not durable at commit).
//! Records are rows `(id INTEGER PRIMARY KEY, v BLOB)`; W7 a `WITHOUT ROWID`
//! table keyed by a BLOB; W8 a table with one column per field. W3 shares one
//! connection behind a mutex (rusqlite's `Connection` is not `Sync`; eight
//! connections would serialise on SQLite's write lock and its busy handler
//! sleeps for milliseconds).

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{ensure, Result};
use rusqlite::{params, Connection, OptionalExtension};

use super::{check_scan, on_threads, thread_ids, timed, KvTimes, Peer, TypedTimes, Workload};
use crate::data::{event, fold, kv_key, payload, shuffled, Event};

/// SQLite in WAL mode with one `synchronous` setting.
pub struct Sqlite {
    full: bool,
}

impl Sqlite {
    /// `synchronous=FULL`: a commit fsyncs the WAL.
    pub const FULL: Sqlite = Sqlite { full: true };
    /// `synchronous=NORMAL`: the WAL is fsynced only at checkpoints.
    pub const NORMAL: Sqlite = Sqlite { full: false };

    fn open(&self, dir: &Path) -> Result<Connection> {
        std::fs::create_dir_all(dir)?;
        let conn = Connection::open(dir.join("db.sqlite"))?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        ensure!(
            mode.eq_ignore_ascii_case("wal"),
            "SQLite refused WAL mode: {mode}"
        );
        conn.pragma_update(
            None,
            "synchronous",
            if self.full { "FULL" } else { "NORMAL" },
        )?;
        Ok(conn)
    }

    fn open_log(&self, dir: &Path) -> Result<Connection> {
        let conn = self.open(dir)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, v BLOB NOT NULL)",
        )?;
        Ok(conn)
    }
}

const INSERT_LOG: &str = "INSERT INTO log (id, v) VALUES (?1, ?2)";

impl Peer for Sqlite {
    fn name(&self) -> &'static str {
        if self.full {
            "sqlite-full"
        } else {
            "sqlite-normal"
        }
    }

    fn label(&self, _: Workload) -> String {
        if self.full {
            "SQLite WAL, synchronous=FULL".into()
        } else {
            "SQLite WAL, synchronous=NORMAL (NOT durable)".into()
        }
    }

    fn durable(&self) -> &'static str {
        if self.full {
            "COMMIT returned (autocommit in W1/W3): in WAL mode with `synchronous=FULL` \
             every commit fsyncs the WAL file"
        } else {
            "NOT durable when counted: COMMIT returned, the WAL is written but fsynced \
             only at checkpoints; a process crash loses nothing, a power cut loses the \
             commits since the last checkpoint"
        }
    }

    fn runs(&self, w: Workload) -> bool {
        // NORMAL differs from FULL only where commits are frequent.
        self.full || matches!(w, Workload::W1 | Workload::W2 | Workload::W3)
    }

    fn w1(&self, dir: &Path, n: usize) -> Result<Duration> {
        let conn = self.open_log(dir)?;
        let mut insert = conn.prepare(INSERT_LOG)?;
        let (t, ()) = timed(|| {
            for i in 0..n as u64 {
                insert.execute(params![i as i64, &payload(i)[..]])?;
            }
            Ok(())
        })?;
        Ok(t)
    }

    fn w2(&self, dir: &Path, batches: usize, batch: usize) -> Result<Duration> {
        let mut conn = self.open_log(dir)?;
        let (t, ()) = timed(|| {
            for b in 0..batches {
                let first = (b * batch) as u64;
                let tx = conn.transaction()?;
                {
                    let mut insert = tx.prepare_cached(INSERT_LOG)?;
                    for i in first..first + batch as u64 {
                        insert.execute(params![i as i64, &payload(i)[..]])?;
                    }
                }
                tx.commit()?;
            }
            Ok(())
        })?;
        Ok(t)
    }

    fn w3(&self, dir: &Path, threads: usize, per_thread: usize) -> Result<Duration> {
        let conn = Mutex::new(self.open_log(dir)?);
        let t = on_threads(threads, |t| {
            for i in thread_ids(t, per_thread) {
                let conn = conn.lock().unwrap();
                conn.prepare_cached(INSERT_LOG)?
                    .execute(params![i as i64, &payload(i)[..]])?;
            }
            Ok(())
        })?;
        let conn = conn.into_inner().unwrap();
        let count: i64 = conn.query_row("SELECT count(*) FROM log", [], |r| r.get(0))?;
        ensure!(
            count == (threads * per_thread) as i64,
            "SQLite W3: {count} rows"
        );
        Ok(t)
    }

    fn w4(&self, dir: &Path, n: usize) -> Result<Duration> {
        let mut conn = self.open_log(dir)?;
        let (t, ()) = timed(|| {
            let tx = conn.transaction()?;
            {
                let mut insert = tx.prepare(INSERT_LOG)?;
                for i in 0..n as u64 {
                    insert.execute(params![i as i64, &payload(i)[..]])?;
                }
            }
            tx.commit()?;
            Ok(())
        })?;
        conn.close().map_err(|(_, e)| e)?;
        Ok(t)
    }

    fn w5(&self, dir: &Path, n: usize) -> Result<Duration> {
        let (t, (count, folded)) = timed(|| {
            let conn = self.open(dir)?;
            let mut select = conn.prepare("SELECT v FROM log ORDER BY id")?;
            let mut rows = select.query([])?;
            let (mut count, mut folded) = (0u64, 0u64);
            while let Some(row) = rows.next()? {
                count += 1;
                folded = fold(folded, row.get_ref(0)?.as_blob()?);
            }
            Ok((count, folded))
        })?;
        check_scan("SQLite W5", count, folded, n)?;
        Ok(t)
    }

    fn w6_log(&self, dir: &Path) -> Result<Duration> {
        let (t, first) = timed(|| {
            let conn = self.open(dir)?;
            let first: Vec<u8> =
                conn.query_row("SELECT v FROM log ORDER BY id LIMIT 1", [], |r| r.get(0))?;
            Ok(first)
        })?;
        ensure!(first == payload(0), "SQLite W6: first record");
        Ok(t)
    }

    fn w7(&self, dir: &Path, n: usize) -> Result<KvTimes> {
        let puts = shuffled(n, 1);
        let gets = shuffled(n, 2);
        let mut conn = self.open(dir)?;
        conn.execute_batch("CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")?;
        let (put_time, ()) = timed(|| {
            let tx = conn.transaction()?;
            {
                let mut put = tx.prepare("INSERT OR REPLACE INTO kv (k, v) VALUES (?1, ?2)")?;
                for &i in &puts {
                    let i = u64::from(i);
                    put.execute(params![&kv_key(i)[..], &payload(i)[..]])?;
                }
            }
            tx.commit()?;
            Ok(())
        })?;
        let (get_time, found) = timed(|| {
            let mut get = conn.prepare("SELECT v FROM kv WHERE k = ?1")?;
            let mut found = 0usize;
            for &i in &gets {
                let i = u64::from(i);
                let first: Option<u8> = get
                    .query_row([&kv_key(i)[..]], |r| Ok(r.get_ref(0)?.as_blob()?[0]))
                    .optional()?;
                found += usize::from(first == Some(payload(i)[0]));
            }
            Ok(found)
        })?;
        ensure!(found == n, "SQLite W7: {found} of {n} values matched");
        Ok(KvTimes {
            puts: put_time,
            gets: get_time,
        })
    }

    fn w6_store(&self, dir: &Path) -> Result<Duration> {
        let (t, v) = timed(|| {
            let conn = self.open(dir)?;
            let v: Vec<u8> =
                conn.query_row("SELECT v FROM kv WHERE k = ?1", [&kv_key(0)[..]], |r| {
                    r.get(0)
                })?;
            Ok(v)
        })?;
        ensure!(v == payload(0), "SQLite W6: key 0");
        Ok(t)
    }

    fn w8(&self, dir: &Path, n: usize) -> Result<TypedTimes> {
        let events: Vec<Event> = (0..n as u64).map(event).collect();
        let mut conn = self.open(dir)?;
        conn.execute_batch(
            "CREATE TABLE ev (id INTEGER PRIMARY KEY, name TEXT NOT NULL, \
             action TEXT NOT NULL, amount INTEGER NOT NULL)",
        )?;
        let (append, ()) = timed(|| {
            let tx = conn.transaction()?;
            {
                let mut insert = tx
                    .prepare("INSERT INTO ev (id, name, action, amount) VALUES (?1, ?2, ?3, ?4)")?;
                for e in &events {
                    insert.execute(params![e.id as i64, e.name, e.action, e.amount as i64])?;
                }
            }
            tx.commit()?;
            Ok(())
        })?;
        conn.close().map_err(|(_, e)| e)?;
        let (scan, read) = timed(|| {
            let conn = self.open(dir)?;
            let mut select = conn.prepare("SELECT id, name, action, amount FROM ev ORDER BY id")?;
            let read = select
                .query_map([], |r| {
                    Ok(Event {
                        id: r.get::<_, i64>(0)? as u64,
                        name: r.get(1)?,
                        action: r.get(2)?,
                        amount: r.get::<_, i64>(3)? as u64,
                    })
                })?
                .collect::<rusqlite::Result<Vec<Event>>>()?;
            Ok(read)
        })?;
        ensure!(read == events, "SQLite W8: read back differs");
        Ok(TypedTimes { append, scan })
    }
}
