//! [`SharedWal`]: a [`DataWal`] shared by threads, with group commit.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use super::commit::{GroupCommit, Rotate};
use crate::compaction::{CompactionStats, TransformError};
use crate::error::Result;
use crate::format::frame_len;
use crate::kv::DataWal;
use crate::log::{check_lengths, BackupStats, LogOptions, TruncateStats};
use crate::reader::RecordLogReader;
use crate::recovery::RecordRef;

/// A [`DataWal`] shared by threads: `Clone + Send + Sync`, `&self`
/// everywhere, with group commit ([`sync`](Self::sync)).
///
/// Writes (`put`, `delete`) take the writer lock for one append and the
/// key directory's update; reads (`get`, `contains_key`, `len`) take it
/// shared, for a lookup and a `pread`. Neither waits for a sync in
/// progress: syncs run with no lock held (see [`crate::SharedLog`]).
/// Concurrent writes to one key are ordered by the log: the last record
/// appended wins, in memory and after a reopen alike.
///
/// ```
/// use datawal_core::SharedWal;
/// # fn main() -> datawal_core::Result<()> {
/// let dir = tempfile::tempdir().expect("tempdir");
/// let kv = SharedWal::open(dir.path())?;
/// std::thread::scope(|s| {
///     for i in 0..4u8 {
///         let kv = &kv;
///         s.spawn(move || kv.put_durable(&[b'k', i], b"v"));
///     }
/// });
/// assert_eq!(kv.len(), 4);
/// assert_eq!(kv.get(b"k\x02")?.as_deref(), Some(&b"v"[..]));
/// # Ok(())
/// # }
/// ```
///
/// # Failure model
/// As [`crate::SharedLog`]'s. After a failed sync the key directory may
/// name records that are no longer on disk (the unsynced end of the
/// segment is cut): `get` of such a key returns an error; reopen to
/// recover.
#[derive(Clone)]
pub struct SharedWal {
    pub(super) core: Arc<GroupCommit<DataWal>>,
}

impl DataWal {
    /// Share this store between threads: see [`SharedWal`]. Writes not yet
    /// fsynced are covered by the shared handle's first
    /// [`sync`](SharedWal::sync).
    pub fn into_shared(self) -> SharedWal {
        SharedWal {
            core: Arc::new(GroupCommit::new(self)),
        }
    }
}

impl fmt::Debug for SharedWal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedWal")
            .field("dir", &self.core.dir())
            .field("next_txid", &self.core.appended())
            .finish_non_exhaustive()
    }
}

impl SharedWal {
    /// Open (or create) the store in `dir`, as [`DataWal::open`].
    ///
    /// # Errors
    /// As [`DataWal::open`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        Ok(DataWal::open(dir)?.into_shared())
    }

    /// As [`open`](Self::open), with settings for the log.
    ///
    /// # Errors
    /// As [`DataWal::open_with`].
    pub fn open_with(dir: impl AsRef<Path>, options: LogOptions) -> Result<Self> {
        Ok(DataWal::open_with(dir, options)?.into_shared())
    }

    /// Set `key` to `value` (one Put record). Not durable until
    /// [`sync`](Self::sync).
    ///
    /// # Errors
    /// As [`DataWal::put`]; when the record rotates the segment, as
    /// [`crate::SharedLog::rotate`].
    pub fn put(&self, key: &[u8], value: &[u8]) -> Result<()> {
        self.put_at(key, value).map(|_| ())
    }

    /// Put, returning the txid the next record gets.
    fn put_at(&self, key: &[u8], value: &[u8]) -> Result<u64> {
        check_lengths(key, value)?;
        let incoming = frame_len(key.len(), value.len());
        Ok(self.core.append(incoming, |db| db.put(key, value))?.1)
    }

    /// Remove `key` (one Delete tombstone, written even when the key is
    /// absent). Not durable until [`sync`](Self::sync).
    ///
    /// # Errors
    /// As [`put`](Self::put).
    pub fn delete(&self, key: &[u8]) -> Result<()> {
        self.delete_at(key).map(|_| ())
    }

    fn delete_at(&self, key: &[u8]) -> Result<u64> {
        check_lengths(key, b"")?;
        let incoming = frame_len(key.len(), 0);
        Ok(self.core.append(incoming, |db| db.delete(key))?.1)
    }

    /// [`put`](Self::put), then wait until that record is durable (it
    /// shares the `fdatasync` of every thread syncing meanwhile).
    ///
    /// # Errors
    /// As [`put`](Self::put) and [`sync`](Self::sync).
    pub fn put_durable(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let end = self.put_at(key, value)?;
        self.core.sync_to(end)
    }

    /// [`delete`](Self::delete), then wait until the tombstone is durable.
    ///
    /// # Errors
    /// As [`put`](Self::put) and [`sync`](Self::sync).
    pub fn delete_durable(&self, key: &[u8]) -> Result<()> {
        let end = self.delete_at(key)?;
        self.core.sync_to(end)
    }

    /// Group commit: return once every write made by any thread before
    /// this call began is durable. See [`crate::SharedLog::sync`].
    ///
    /// # Errors
    /// As [`crate::SharedLog::sync`].
    pub fn sync(&self) -> Result<()> {
        self.core.sync_to(self.core.appended())
    }

    /// Start a new segment. See [`crate::SharedLog::rotate`].
    ///
    /// # Errors
    /// As [`crate::SharedLog::rotate`].
    pub fn rotate(&self) -> Result<()> {
        self.core.sync_then(Rotate::Always, |_| Ok(())).map(|_| ())
    }

    /// Compact the store in place, as [`DataWal::compact`], while other
    /// threads keep writing. Holds the sync token (as
    /// [`rotate`](Self::rotate)): waits for a sync in progress, syncs what
    /// is written, then holds the writer lock for the whole rewrite, so
    /// writes and reads wait until it returns. Every write acknowledged
    /// before the call keeps its value (moved, durably, before any segment
    /// is removed); a write that waited for it lands after it.
    ///
    /// # Errors
    /// As [`DataWal::compact`] and [`sync`](Self::sync).
    pub fn compact(&self) -> Result<CompactionStats> {
        self.compact_with(|_, v| Ok(v))
    }

    /// As [`compact`](Self::compact), passing every live value through
    /// `transform`, as [`DataWal::compact_with`].
    ///
    /// # Errors
    /// As [`DataWal::compact_with`] and [`sync`](Self::sync).
    pub fn compact_with<F>(&self, transform: F) -> Result<CompactionStats>
    where
        F: FnMut(&[u8], Vec<u8>) -> std::result::Result<Vec<u8>, TransformError>,
    {
        self.core
            .sync_then(Rotate::Never, |db| db.compact_with(transform))
            .map(|(stats, _)| stats)
    }

    /// Remove whole closed segments below `txid`, as
    /// [`DataWal::truncate_before`] (keys whose live value was in them are
    /// gone), while other threads keep writing. See
    /// [`crate::SharedLog::truncate_before`].
    ///
    /// # Errors
    /// As [`crate::SharedLog::truncate_before`].
    pub fn truncate_before(&self, txid: u64) -> Result<TruncateStats> {
        self.core
            .sync_then(Rotate::Never, |db| db.truncate_before(txid))
            .map(|(stats, _)| stats)
    }

    /// A consistent copy of the store, while other threads keep writing:
    /// see [`crate::SharedLog::backup_to`].
    ///
    /// # Errors
    /// As [`crate::SharedLog::backup_to`].
    pub fn backup_to(&self, out: impl AsRef<Path>) -> Result<BackupStats> {
        self.core.backup_to(out.as_ref())
    }

    /// The live value of `key`, read from disk and CRC-checked.
    ///
    /// # Errors
    /// As [`DataWal::get`].
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.core.read().get(key)
    }

    /// `true` when `key` is live.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.core.read().contains_key(key)
    }

    /// Where the live value of `key` is on disk.
    pub fn ref_of(&self, key: &[u8]) -> Option<RecordRef> {
        self.core.read().ref_of(key)
    }

    /// Number of live keys.
    pub fn len(&self) -> usize {
        self.core.read().len()
    }

    /// `true` when no key is live.
    pub fn is_empty(&self) -> bool {
        self.core.read().is_empty()
    }

    /// The live keys, sorted by bytes.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        self.core.read().keys()
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        self.core.dir()
    }

    /// `true` once a failed write, sync or rotation has poisoned the handle.
    pub fn is_poisoned(&self) -> bool {
        self.core.is_poisoned()
    }

    /// A read-only snapshot of the log, taking no lock.
    ///
    /// # Errors
    /// As [`RecordLogReader::open`].
    pub fn reader(&self) -> Result<RecordLogReader> {
        RecordLogReader::open(self.dir())
    }
}
