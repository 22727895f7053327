//! datawal: `RecordLog` for the log workloads, `DataWal` for the key/value
//! ones, `TypedLog` for W8; W3 through a `Mutex<RecordLog>` (and, with the
//! `shared` feature, through `SharedLog` in its own row).

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use datawal_core::{DataWal, LogOptions, RecordLog, RecordLogReader, RecordType};
use datawal_typed::{ReadPolicy, TypedLog, TypedReader};

use super::{check_scan, on_threads, thread_ids, timed, KvTimes, Peer, TypedTimes, Workload};
use crate::data::{event, fold, kv_key, payload, shuffled, Event};

/// datawal's single-writer handles.
pub struct Datawal;

impl Peer for Datawal {
    fn name(&self) -> &'static str {
        "datawal"
    }

    fn label(&self, w: Workload) -> String {
        match w {
            Workload::W3 => "datawal Mutex<RecordLog> append+fsync".into(),
            Workload::W6Store | Workload::W7 => "datawal (DataWal)".into(),
            Workload::W8 => "datawal (TypedLog, bincode)".into(),
            _ => "datawal (RecordLog)".into(),
        }
    }

    fn durable(&self) -> &'static str {
        "`fsync` returned: `fdatasync` of the active segment (and an fsync of the \
         directory when a segment was created). W3: each thread takes the mutex, \
         appends, fsyncs, releases"
    }

    fn runs(&self, _: Workload) -> bool {
        true
    }

    fn w1(&self, dir: &Path, n: usize) -> Result<Duration> {
        w1(dir, n, LogOptions::default()).map(|(t, _)| t)
    }

    fn w2(&self, dir: &Path, batches: usize, batch: usize) -> Result<Duration> {
        w2(dir, batches, batch, LogOptions::default()).map(|(t, _)| t)
    }

    fn w3(&self, dir: &Path, threads: usize, per_thread: usize) -> Result<Duration> {
        let log = RecordLog::open(dir)?;
        let log = Mutex::new(log);
        log.lock().unwrap().fsync()?;
        let t = on_threads(threads, |t| {
            for i in thread_ids(t, per_thread) {
                let mut log = log.lock().unwrap();
                log.append(&payload(i))?;
                log.fsync()?;
            }
            Ok(())
        })?;
        let log = log.into_inner().unwrap();
        ensure!(log.next_txid() == (threads * per_thread) as u64 + 1);
        Ok(t)
    }

    fn w4(&self, dir: &Path, n: usize) -> Result<Duration> {
        let mut log = RecordLog::open(dir)?;
        log.fsync()?;
        let (t, ()) = timed(|| {
            for i in 0..n as u64 {
                log.append(&payload(i))?;
            }
            log.fsync()?;
            Ok(())
        })?;
        log.close()?;
        Ok(t)
    }

    fn w5(&self, dir: &Path, n: usize) -> Result<Duration> {
        let (t, (count, folded)) = timed(|| {
            let reader = RecordLogReader::open(dir)?;
            let mut cursor = reader.cursor();
            let (mut count, mut folded) = (0u64, 0u64);
            cursor.for_each_view(|view| {
                count += 1;
                folded = fold(folded, view.payload);
            })?;
            Ok((count, folded))
        })?;
        check_scan("datawal W5", count, folded, n)?;
        Ok(t)
    }

    fn w6_log(&self, dir: &Path) -> Result<Duration> {
        let (t, first) = timed(|| {
            let log = RecordLog::open(dir)?;
            let mut cursor = log.cursor()?;
            let first = cursor.next_view()?.map(|v| v.payload.to_vec());
            Ok(first)
        })?;
        ensure!(
            first.as_deref() == Some(&payload(0)[..]),
            "datawal W6: first record"
        );
        Ok(t)
    }

    fn w7(&self, dir: &Path, n: usize) -> Result<KvTimes> {
        let puts = shuffled(n, 1);
        let gets = shuffled(n, 2);
        let mut db = DataWal::open(dir)?;
        db.fsync()?;
        let (put_time, ()) = timed(|| {
            for &i in &puts {
                db.put(&kv_key(u64::from(i)), &payload(u64::from(i)))?;
            }
            db.fsync()?;
            Ok(())
        })?;
        let (get_time, found) = timed(|| {
            let mut found = 0usize;
            for &i in &gets {
                let v = db
                    .get(&kv_key(u64::from(i)))?
                    .context("datawal W7: a key is missing")?;
                found += usize::from(v[0] == payload(u64::from(i))[0]);
            }
            Ok(found)
        })?;
        ensure!(found == n, "datawal W7: {found} of {n} values matched");
        Ok(KvTimes {
            puts: put_time,
            gets: get_time,
        })
    }

    fn w6_store(&self, dir: &Path) -> Result<Duration> {
        let (t, v) = timed(|| {
            let db = DataWal::open(dir)?;
            Ok(db.get(&kv_key(0))?)
        })?;
        ensure!(v.as_deref() == Some(&payload(0)[..]), "datawal W6: key 0");
        Ok(t)
    }

    fn w8(&self, dir: &Path, n: usize) -> Result<TypedTimes> {
        let events: Vec<Event> = (0..n as u64).map(event).collect();
        let mut log = TypedLog::<Event>::open(dir)?;
        log.fsync()?;
        let (append, ()) = timed(|| {
            for e in &events {
                log.append(e)?;
            }
            log.fsync()?;
            Ok(())
        })?;
        log.close()?;
        let (scan, read) = timed(|| {
            let reader = TypedReader::<Event>::open(dir, ReadPolicy::Stop)?;
            let read: Vec<Event> = reader
                .iter()
                .map(|e| e.map(|e| e.value))
                .collect::<Result<_, _>>()?;
            Ok(read)
        })?;
        ensure!(read == events, "datawal W8: read back differs");
        Ok(TypedTimes { append, scan })
    }
}

/// datawal's `SharedLog`: group commit across threads (W1 and W3 only).
#[cfg(feature = "shared")]
pub struct Shared;

#[cfg(feature = "shared")]
impl Peer for Shared {
    fn name(&self) -> &'static str {
        "datawal-shared"
    }

    fn label(&self, _: Workload) -> String {
        "datawal SharedLog append_durable".into()
    }

    fn durable(&self) -> &'static str {
        "`append_durable` returned: an `fdatasync` that began after the record was \
         written has completed (one sync covers every thread waiting meanwhile)"
    }

    fn runs(&self, w: Workload) -> bool {
        matches!(w, Workload::W1 | Workload::W3)
    }

    fn w1(&self, dir: &Path, n: usize) -> Result<Duration> {
        let log = datawal_core::SharedLog::open(dir)?;
        log.sync()?;
        let (t, ()) = timed(|| {
            for i in 0..n as u64 {
                log.append_durable(&payload(i))?;
            }
            Ok(())
        })?;
        Ok(t)
    }

    fn w3(&self, dir: &Path, threads: usize, per_thread: usize) -> Result<Duration> {
        shared_w3(dir, threads, per_thread, LogOptions::default())
    }
}

/// W1 through a `RecordLog` opened with `options`: one record, then
/// `fsync`; the handle, still open.
fn w1(dir: &Path, n: usize, options: LogOptions) -> Result<(Duration, RecordLog)> {
    let mut log = RecordLog::open_with(dir, options)?;
    log.fsync()?;
    let (t, ()) = timed(|| {
        for i in 0..n as u64 {
            log.append(&payload(i))?;
            log.fsync()?;
        }
        Ok(())
    })?;
    ensure!(
        log.next_txid() == n as u64 + 1,
        "datawal W1: txid {}",
        log.next_txid()
    );
    Ok((t, log))
}

/// W2 through a `RecordLog` opened with `options`: batches, each then
/// `fsync`; the handle, still open.
fn w2(
    dir: &Path,
    batches: usize,
    batch: usize,
    options: LogOptions,
) -> Result<(Duration, RecordLog)> {
    let mut log = RecordLog::open_with(dir, options)?;
    log.fsync()?;
    let (t, ()) = timed(|| {
        for b in 0..batches {
            let first = (b * batch) as u64;
            let payloads: Vec<_> = (first..first + batch as u64).map(payload).collect();
            log.append_batch(payloads.iter().map(|p| (RecordType::Raw, &b""[..], &p[..])))?;
            log.fsync()?;
        }
        Ok(())
    })?;
    Ok((t, log))
}

/// W3 through a `SharedLog` opened with `options`: every thread's record
/// durable (`append_durable`) before it goes on.
#[cfg(feature = "shared")]
fn shared_w3(
    dir: &Path,
    threads: usize,
    per_thread: usize,
    options: LogOptions,
) -> Result<Duration> {
    let log = datawal_core::SharedLog::open_with(dir, options)?;
    log.sync()?;
    let t = on_threads(threads, |t| {
        for i in thread_ids(t, per_thread) {
            log.append_durable(&payload(i))?;
        }
        Ok(())
    })?;
    ensure!(log.next_txid() == (threads * per_thread) as u64 + 1);
    Ok(t)
}

/// The space [`Preallocated`] reserves ahead of the data.
const PREALLOCATE: u64 = 1 << 20;

/// datawal with `LogOptions::preallocate` (1 MiB, the size of okaywal's segments): W1 and W2 through
/// `RecordLog`, W3 through `SharedLog` (with the `shared` feature).
pub struct Preallocated;

impl Preallocated {
    fn options() -> LogOptions {
        LogOptions::default().preallocate(PREALLOCATE)
    }
}

impl Peer for Preallocated {
    fn name(&self) -> &'static str {
        "datawal-prealloc"
    }

    fn label(&self, w: Workload) -> String {
        match w {
            Workload::W3 => "datawal SharedLog append_durable, preallocate 1 MiB".into(),
            _ => "datawal (RecordLog, preallocate 1 MiB)".into(),
        }
    }

    fn durable(&self) -> &'static str {
        "as datawal (W3: as datawal-shared); the segment is written into 1 MiB of zeros \
         reserved ahead, so the `fdatasync` commits no new file length"
    }

    fn runs(&self, w: Workload) -> bool {
        matches!(w, Workload::W1 | Workload::W2) || (cfg!(feature = "shared") && w == Workload::W3)
    }

    // The handle is closed (the zeros trimmed) after the clock stops.
    fn w1(&self, dir: &Path, n: usize) -> Result<Duration> {
        let (t, log) = w1(dir, n, Self::options())?;
        log.close()?;
        Ok(t)
    }

    fn w2(&self, dir: &Path, batches: usize, batch: usize) -> Result<Duration> {
        let (t, log) = w2(dir, batches, batch, Self::options())?;
        log.close()?;
        Ok(t)
    }

    #[cfg(feature = "shared")]
    fn w3(&self, dir: &Path, threads: usize, per_thread: usize) -> Result<Duration> {
        shared_w3(dir, threads, per_thread, Self::options())
    }
}
