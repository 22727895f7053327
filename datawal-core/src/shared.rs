//! Shared handles: [`SharedLog`] and [`SharedWal`], one writer process and
//! any number of threads in it, with group commit.
//!
//! A shared handle is `Clone + Send + Sync` and every method takes `&self`.
//! Appends take a short lock that orders their bytes in the file (one
//! `write` each). [`SharedLog::sync`] is a *group commit*: it returns once
//! every record appended by any thread before the call began is durable.
//! One thread at a time (the leader) runs the `fdatasync`, with no lock
//! held, for itself and for every thread waiting meanwhile; a thread whose
//! records a finished sync already covered returns at once; threads that
//! come while a sync runs wait for it to end, and one of them leads the
//! next sync for all of them. Reads and appends never wait for a sync in
//! progress (an append that must rotate the segment first does: see
//! [`SharedLog::rotate`]).
//!
//! A failed `fdatasync` poisons the handle for every thread: the leader
//! gets the I/O error, every other waiter and every later write
//! [`crate::Error::Poisoned`], and no thread is told "durable" for a record that
//! is not. Reads keep working; reopening the directory recovers.
//!
//! The protocol is modelled in `formal/GroupCommit.tla` (several writers,
//! one leader's sync, a crash at any point, a failing sync), and the
//! machinery is in [`commit`].

mod commit;
mod wal;

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use crate::error::Result;
use crate::format::{frame_len, RecordType};
use crate::log::{check_lengths, BackupStats, LogOptions, RecordIter, RecordLog, TruncateStats};
use crate::reader::RecordLogReader;
use crate::recovery::{Record, RecordCursor, RecordRef, RecoveryReport};
use crate::segment::list_segments;

use commit::{GroupCommit, Rotate};
pub use wal::SharedWal;

/// A [`RecordLog`] shared by threads: `Clone + Send + Sync`, `&self`
/// everywhere, with group commit.
///
/// ```
/// use datawal_core::SharedLog;
/// # fn main() -> datawal_core::Result<()> {
/// let dir = tempfile::tempdir().expect("tempdir");
/// let log = SharedLog::open(dir.path())?;
/// let workers: Vec<_> = (0..4)
///     .map(|i| {
///         let log = log.clone();
///         std::thread::spawn(move || log.append_durable(format!("event {i}").as_bytes()))
///     })
///     .collect();
/// for w in workers {
///     w.join().expect("worker")?;
/// }
/// assert_eq!(log.scan()?.len(), 4);
/// # Ok(())
/// # }
/// ```
///
/// # Group commit
/// Appends take a short lock that orders their bytes in the file (one
/// `write` each). [`sync`](Self::sync) returns once every record appended
/// by any thread before the call began is durable. One thread at a time
/// (the leader) runs the `fdatasync`, with no lock held, for itself and for
/// every thread waiting meanwhile; a thread whose records a finished sync
/// already covered returns at once; threads that come while a sync runs
/// wait for it to end, and one of them leads the next sync for all of
/// them. Reads and appends never wait for a sync in progress, except an
/// append that must first rotate the segment (see [`rotate`](Self::rotate)).
///
/// # Durability
/// [`append`](Self::append) hands the record to the operating system (a
/// killed process loses nothing appended); [`sync`](Self::sync) makes every
/// record appended before it began survive a power cut;
/// [`append_durable`](Self::append_durable) does both. The table in
/// `docs/canon.md` lists every operation.
///
/// # Failure model
/// As [`RecordLog`]'s, for all threads at once: a failed write, sync or
/// rotation poisons the handle, and every later write or sync that needs
/// the disk returns [`crate::Error::Poisoned`]. A record whose `sync` failed may
/// or may not be found after reopening; it was never acknowledged.
#[derive(Clone)]
pub struct SharedLog {
    core: Arc<GroupCommit<RecordLog>>,
}

impl RecordLog {
    /// Share this log between threads: see [`SharedLog`]. Records appended
    /// and not yet fsynced are covered by the shared handle's first
    /// [`sync`](SharedLog::sync).
    pub fn into_shared(self) -> SharedLog {
        SharedLog {
            core: Arc::new(GroupCommit::new(self)),
        }
    }
}

impl fmt::Debug for SharedLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedLog")
            .field("dir", &self.core.dir())
            .field("next_txid", &self.core.appended())
            .finish_non_exhaustive()
    }
}

impl SharedLog {
    /// Open (or create) the log in `dir`, as [`RecordLog::open`].
    ///
    /// # Errors
    /// As [`RecordLog::open`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        Ok(RecordLog::open(dir)?.into_shared())
    }

    /// As [`open`](Self::open), with settings.
    ///
    /// # Errors
    /// As [`RecordLog::open`].
    pub fn open_with(dir: impl AsRef<Path>, options: LogOptions) -> Result<Self> {
        Ok(RecordLog::open_with(dir, options)?.into_shared())
    }

    /// Append an opaque payload as a [`RecordType::Raw`] record with an
    /// empty key. Not durable until [`sync`](Self::sync).
    ///
    /// # Errors
    /// As [`RecordLog::append_record`].
    pub fn append(&self, payload: &[u8]) -> Result<RecordRef> {
        self.append_record(RecordType::Raw, b"", payload)
    }

    /// Append one record in one write. Not durable until [`sync`](Self::sync).
    ///
    /// # Errors
    /// As [`RecordLog::append_record`]; when the record rotates the segment
    /// (see [`LogOptions::max_segment_bytes`]), as [`rotate`](Self::rotate).
    pub fn append_record(
        &self,
        record_type: RecordType,
        key: &[u8],
        payload: &[u8],
    ) -> Result<RecordRef> {
        Ok(self.append_record_at(record_type, key, payload)?.0)
    }

    /// Append, returning the txid the next record gets.
    fn append_record_at(
        &self,
        record_type: RecordType,
        key: &[u8],
        payload: &[u8],
    ) -> Result<(RecordRef, u64)> {
        check_lengths(key, payload)?;
        let incoming = frame_len(key.len(), payload.len());
        self.core
            .append(incoming, |log| log.append_record(record_type, key, payload))
    }

    /// Append many records with one write, as [`RecordLog::append_batch`]
    /// (not a transaction). Not durable until [`sync`](Self::sync).
    ///
    /// # Errors
    /// As [`append_record`](Self::append_record).
    pub fn append_batch<'a, I>(&self, records: I) -> Result<Vec<RecordRef>>
    where
        I: IntoIterator<Item = (RecordType, &'a [u8], &'a [u8])>,
    {
        let records: Vec<(RecordType, &[u8], &[u8])> = records.into_iter().collect();
        let mut incoming = 0;
        for (_, key, payload) in &records {
            check_lengths(key, payload)?;
            incoming += frame_len(key.len(), payload.len());
        }
        Ok(self
            .core
            .append(incoming, |log| log.append_batch(records))?
            .0)
    }

    /// Group commit: return once every record appended by any thread
    /// before this call began is durable (see [*Group
    /// commit*](SharedLog#group-commit)).
    ///
    /// # Errors
    /// [`crate::Error::Io`] when this thread ran the `fdatasync` and it failed;
    /// [`crate::Error::Poisoned`] when another thread's did (or any earlier write,
    /// sync or rotation failed). Either way the records are not
    /// acknowledged, and the handle is poisoned.
    pub fn sync(&self) -> Result<()> {
        self.core.sync_to(self.core.appended())
    }

    /// [`append`](Self::append), then wait until that record is durable
    /// (it shares the `fdatasync` of every thread syncing meanwhile).
    ///
    /// # Errors
    /// As [`append`](Self::append) and [`sync`](Self::sync).
    pub fn append_durable(&self, payload: &[u8]) -> Result<RecordRef> {
        self.append_record_durable(RecordType::Raw, b"", payload)
    }

    /// [`append_record`](Self::append_record), then wait until that record
    /// is durable.
    ///
    /// # Errors
    /// As [`append_record`](Self::append_record) and [`sync`](Self::sync).
    pub fn append_record_durable(
        &self,
        record_type: RecordType,
        key: &[u8],
        payload: &[u8],
    ) -> Result<RecordRef> {
        let (r, end) = self.append_record_at(record_type, key, payload)?;
        self.core.sync_to(end)?;
        Ok(r)
    }

    /// Close the active segment and start the next one, as
    /// [`RecordLog::rotate`]. Holds the sync token: waits for a sync in
    /// progress, syncs what is appended without blocking appends, then
    /// blocks appends while it syncs what was appended meanwhile and
    /// creates the segment. Every record appended before it is durable
    /// once it returns.
    ///
    /// # Errors
    /// As [`RecordLog::rotate`] and [`sync`](Self::sync).
    pub fn rotate(&self) -> Result<()> {
        self.core.sync_then(Rotate::Always, |_| Ok(())).map(|_| ())
    }

    /// Remove, durably, every closed segment whose records all have a txid
    /// below `txid`, as [`RecordLog::truncate_before`], while other threads
    /// keep appending. Holds the sync token (as [`rotate`](Self::rotate)):
    /// waits for a sync in progress, syncs what is appended, then blocks
    /// appends while it writes the txid floor and removes the segments
    /// (never the active one: no record appended since is touched).
    ///
    /// # Errors
    /// As [`RecordLog::truncate_before`] and [`sync`](Self::sync).
    pub fn truncate_before(&self, txid: u64) -> Result<TruncateStats> {
        self.core
            .sync_then(Rotate::Never, |log| log.truncate_before(txid))
            .map(|(stats, _)| stats)
    }

    /// Write a consistent copy of the log to `out` (absent or an empty
    /// directory), as [`RecordLog::backup_to`], while other threads keep
    /// appending. Syncs what is appended (under the sync token) and copies
    /// exactly what that sync made durable: the copy opens to the log as
    /// of [`BackupStats::last_txid`], with every record appended before
    /// the call. Appends and other threads' syncs wait only while the
    /// closed segments are hard-linked and the others opened; the copying
    /// runs with no lock, through those open handles (a segment that
    /// retention or a compaction removes meanwhile is still read whole).
    ///
    /// # Errors
    /// As [`RecordLog::backup_to`] and [`sync`](Self::sync).
    pub fn backup_to(&self, out: impl AsRef<Path>) -> Result<BackupStats> {
        self.core.backup_to(out.as_ref())
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        self.core.dir()
    }

    /// The txid the next appended record gets.
    pub fn next_txid(&self) -> u64 {
        self.core.appended()
    }

    /// Id of the segment appends go to.
    pub fn active_segment(&self) -> u32 {
        self.core.read().active_segment()
    }

    /// What recovery found when the log was opened.
    ///
    /// # Errors
    /// None today; as [`RecordLog::recovery_report`].
    pub fn recovery_report(&self) -> Result<RecoveryReport> {
        self.core.read().recovery_report()
    }

    /// `true` once a failed write, sync or rotation has poisoned the handle.
    pub fn is_poisoned(&self) -> bool {
        self.core.is_poisoned()
    }

    /// A zero-copy lending cursor over the records, read from the files
    /// with no lock: it ends at the last complete record when it reaches
    /// the end of the active segment.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when the directory cannot be listed.
    pub fn cursor(&self) -> Result<RecordCursor> {
        Ok(RecordCursor::new(self.dir(), list_segments(self.dir())?))
    }

    /// A streaming iterator over owned records, as [`cursor`](Self::cursor).
    ///
    /// # Errors
    /// [`crate::Error::Io`] when the directory cannot be listed; later errors come
    /// as `Err` items.
    pub fn scan_iter(&self) -> Result<RecordIter<'_>> {
        Ok(RecordIter::new(self.cursor()?))
    }

    /// Every record, as [`cursor`](Self::cursor).
    ///
    /// # Errors
    /// [`crate::Error::Corrupt`], [`crate::Error::Io`].
    pub fn scan(&self) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        self.cursor()?.for_each_view(|v| out.push(v.to_record()))?;
        Ok(out)
    }

    /// A read-only snapshot of the directory (the read side's every
    /// method), taking no lock.
    ///
    /// # Errors
    /// As [`RecordLogReader::open`].
    pub fn reader(&self) -> Result<RecordLogReader> {
        RecordLogReader::open(self.dir())
    }
}

#[cfg(test)]
mod tests;
