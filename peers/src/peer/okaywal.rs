//! okaywal: every durable unit is one entry (`begin_entry`, one
//! `write_chunk` per record, `commit`). W1-W3 use the default configuration
//! (1 MiB preallocated segments, checkpoint after 768 KiB) with a
//! checkpointer that keeps nothing, so okaywal recycles its segments as it
//! is designed to; what a real checkpointer would write elsewhere is not
//! counted. W4-W8 keep every record (no checkpoint; a recovered segment
//! stays active), written as one entry of n chunks, and read back through
//! recovery, okaywal's one sequential read.

use std::io::{self, Read};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{ensure, Result};
use okaywal::{
    Configuration, Entry, EntryId, LogManager, ReadChunkResult, SegmentReader, WriteAheadLog,
};

use super::{check_scan, on_threads, thread_ids, timed, Peer, TypedTimes, Workload};
use crate::data::{decode_event, encode_event, event, fold, payload, Event};

/// okaywal 0.3.
pub struct Okaywal;

/// What a recovery read.
#[derive(Debug, Default)]
struct Collected {
    count: u64,
    folded: u64,
    first: Option<Vec<u8>>,
    events: Vec<Event>,
}

/// The log manager of the benchmark.
#[derive(Debug)]
struct Manager {
    /// Decode the chunks as [`Event`]s (W8).
    typed: bool,
    /// Refuse to checkpoint: the segments (and the records) stay.
    keep: bool,
    out: Arc<Mutex<Collected>>,
}

impl Manager {
    /// Writes only: W1-W3 (recycling) or W4/W8 (keeping).
    fn writer(keep: bool) -> Manager {
        Manager {
            typed: false,
            keep,
            out: Arc::default(),
        }
    }

    fn reader(typed: bool) -> Manager {
        Manager {
            typed,
            keep: true,
            out: Arc::default(),
        }
    }
}

impl LogManager for Manager {
    fn recover(&mut self, entry: &mut Entry<'_>) -> io::Result<()> {
        let mut out = self.out.lock().unwrap();
        let mut buf = Vec::new();
        loop {
            let mut chunk = match entry.read_chunk()? {
                ReadChunkResult::Chunk(chunk) => chunk,
                ReadChunkResult::EndOfEntry | ReadChunkResult::AbortedEntry => break,
            };
            buf.clear();
            chunk.read_to_end(&mut buf)?;
            if !chunk.check_crc()? {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "okaywal: bad chunk CRC",
                ));
            }
            out.count += 1;
            out.folded = fold(out.folded, &buf);
            if self.typed {
                out.events
                    .push(decode_event(&buf).map_err(io::Error::other)?);
            }
            if out.first.is_none() {
                out.first = Some(buf.clone());
            }
        }
        Ok(())
    }

    fn checkpoint_to(
        &mut self,
        _last_checkpointed_id: EntryId,
        _checkpointed_entries: &mut SegmentReader,
        _wal: &WriteAheadLog,
    ) -> io::Result<()> {
        if self.keep {
            // The checkpoint thread stops here and the segment stays as it is.
            Err(io::Error::other("the benchmark keeps its records"))
        } else {
            Ok(())
        }
    }
}

/// A configuration that never checkpoints what W4-W8 wrote.
fn keeping(dir: &Path) -> Configuration {
    Configuration::default_for(dir).checkpoint_after_bytes(u64::MAX)
}

/// Open the log, reading every chunk of every entry during recovery.
fn recover(dir: &Path, typed: bool) -> Result<Collected> {
    let manager = Manager::reader(typed);
    let out = Arc::clone(&manager.out);
    let wal = keeping(dir).open(manager)?;
    drop(wal);
    let collected = std::mem::take(&mut *out.lock().unwrap());
    Ok(collected)
}

impl Peer for Okaywal {
    fn name(&self) -> &'static str {
        "okaywal"
    }

    fn durable(&self) -> &'static str {
        "`EntryWriter::commit` returned: the entry's bytes are fdatasynced (one sync \
         covers every thread committing meanwhile), and the directory fsynced after a \
         segment was created"
    }

    fn runs(&self, w: Workload) -> bool {
        w != Workload::W7 && w != Workload::W6Store
    }

    fn w1(&self, dir: &Path, n: usize) -> Result<Duration> {
        let wal = WriteAheadLog::recover(dir, Manager::writer(false))?;
        let (t, ()) = timed(|| {
            for i in 0..n as u64 {
                let mut entry = wal.begin_entry()?;
                entry.write_chunk(&payload(i))?;
                entry.commit()?;
            }
            Ok(())
        })?;
        wal.shutdown()?;
        Ok(t)
    }

    fn w2(&self, dir: &Path, batches: usize, batch: usize) -> Result<Duration> {
        let wal = WriteAheadLog::recover(dir, Manager::writer(false))?;
        let (t, ()) = timed(|| {
            for b in 0..batches {
                let first = (b * batch) as u64;
                let mut entry = wal.begin_entry()?;
                for i in first..first + batch as u64 {
                    entry.write_chunk(&payload(i))?;
                }
                entry.commit()?;
            }
            Ok(())
        })?;
        wal.shutdown()?;
        Ok(t)
    }

    fn w3(&self, dir: &Path, threads: usize, per_thread: usize) -> Result<Duration> {
        let wal = WriteAheadLog::recover(dir, Manager::writer(false))?;
        let t = on_threads(threads, |t| {
            for i in thread_ids(t, per_thread) {
                let mut entry = wal.begin_entry()?;
                entry.write_chunk(&payload(i))?;
                entry.commit()?;
            }
            Ok(())
        })?;
        wal.shutdown()?;
        Ok(t)
    }

    fn w4(&self, dir: &Path, n: usize) -> Result<Duration> {
        let wal = keeping(dir).open(Manager::writer(true))?;
        let (t, ()) = timed(|| {
            let mut entry = wal.begin_entry()?;
            for i in 0..n as u64 {
                entry.write_chunk(&payload(i))?;
            }
            entry.commit()?;
            Ok(())
        })?;
        drop(wal);
        Ok(t)
    }

    fn w5(&self, dir: &Path, n: usize) -> Result<Duration> {
        let (t, got) = timed(|| recover(dir, false))?;
        check_scan("okaywal W5", got.count, got.folded, n)?;
        Ok(t)
    }

    fn w6_log(&self, dir: &Path) -> Result<Duration> {
        // The open reads every chunk, as W5 does: a manager that leaves
        // chunks unread makes okaywal 0.3.1 skip each unread chunk's CRC
        // twice (`skip_remaining_bytes`, then its `Drop`), lose its place,
        // and take the log as valid only up to there (strace: 164 bytes of
        // a 92 MB segment), where the next entry would be written.
        let (t, got) = timed(|| recover(dir, false))?;
        ensure!(
            got.first.as_deref() == Some(&payload(0)[..]),
            "okaywal W6: first record"
        );
        Ok(t)
    }

    fn w8(&self, dir: &Path, n: usize) -> Result<TypedTimes> {
        let events: Vec<Event> = (0..n as u64).map(event).collect();
        let wal = keeping(dir).open(Manager::writer(true))?;
        let (append, ()) = timed(|| {
            let mut entry = wal.begin_entry()?;
            for e in &events {
                entry.write_chunk(&encode_event(e))?;
            }
            entry.commit()?;
            Ok(())
        })?;
        drop(wal);
        let (scan, got) = timed(|| recover(dir, true))?;
        ensure!(got.events == events, "okaywal W8: read back differs");
        Ok(TypedTimes { append, scan })
    }
}
