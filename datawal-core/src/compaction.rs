//! `compact_to`: write the live projection of a [`DataWal`] to a new store.

use std::path::Path;

use crate::atomic::{check_target, rename_dir_into_place, temp_dir_beside};
use crate::error::{Error, Result};
use crate::format::RecordType;
use crate::kv::DataWal;
use crate::log::{BackupStats, RecordLog, TruncateStats};
use crate::projection::Values;

/// What [`DataWal::compact_to`] or [`DataWal::compact`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompactionStats {
    /// Live keys in the source (one Put each in the output).
    pub live_keys: u64,
    /// Records written to the output.
    pub records_written: u64,
    /// Bytes written to the output's segment.
    pub bytes_written: u64,
    /// In place: the segments removed once the live set was rewritten past
    /// them (empty for `compact_to`).
    pub removed: TruncateStats,
}

/// The boxed error a compaction transform returns.
pub type TransformError = Box<dyn std::error::Error + Send + Sync>;

impl DataWal {
    /// Write the live projection (one Put per live key, sorted by key, txids
    /// from 1) as a new store in `out_dir`, which must be absent or empty.
    ///
    /// The output is built in a temporary sibling directory (a fresh
    /// `.{name}.compacting-XXXXXX`, random suffix, made by `mkdir` so
    /// nothing already there is used or removed), fsynced, and renamed into
    /// place: `out_dir` never holds a partial store, and a failure removes
    /// the temporary. The segment written is byte-identical to the
    /// published crate's.
    ///
    /// # Errors
    /// [`Error::TargetNotEmpty`], [`Error::NotADirectory`], read errors as
    /// [`get`](Self::get), [`Error::Io`].
    pub fn compact_to(&self, out_dir: impl AsRef<Path>) -> Result<CompactionStats> {
        self.compact_to_with(out_dir, |_, v| Ok(v))
    }

    /// As [`compact_to`](Self::compact_to), passing every live value through
    /// `transform` (for example to rewrite old encodings as the latest).
    ///
    /// # Errors
    /// As [`compact_to`](Self::compact_to), and [`Error::Transform`] when the
    /// transform refuses a value (the target is then left untouched).
    pub fn compact_to_with<F>(
        &self,
        out_dir: impl AsRef<Path>,
        mut transform: F,
    ) -> Result<CompactionStats>
    where
        F: FnMut(&[u8], Vec<u8>) -> std::result::Result<Vec<u8>, TransformError>,
    {
        let target = check_target(out_dir.as_ref())?;
        // A fresh directory of our own, removed with its contents on any
        // error until it is renamed into place.
        let tmp = temp_dir_beside(&target, "compacting")?;
        let stats = self.write_compacted(tmp.path(), &mut transform)?;
        rename_dir_into_place(tmp, &target)?;
        Ok(stats)
    }

    /// Write the live projection, through `transform`, as a new store in
    /// the empty directory `dir`.
    fn write_compacted<F>(&self, dir: &Path, transform: &mut F) -> Result<CompactionStats>
    where
        F: FnMut(&[u8], Vec<u8>) -> std::result::Result<Vec<u8>, TransformError>,
    {
        let mut out = RecordLog::open(dir)?;
        let mut stats = CompactionStats::default();
        let values = self.values();
        let entries = self.proj.sorted_entries();
        stats.live_keys = entries.len() as u64;
        for (batch, read) in values.value_batches(&entries) {
            let mut values = Vec::with_capacity(batch.len());
            for ((key, _), value) in batch.iter().zip(read) {
                let value = transform(key, value?).map_err(|source| Error::Transform {
                    key: key.to_vec(),
                    source,
                })?;
                values.push(value);
            }
            let refs = out.append_batch(
                batch
                    .iter()
                    .zip(&values)
                    .map(|((k, _), v)| (RecordType::Put, *k, &v[..])),
            )?;
            stats.records_written += refs.len() as u64;
            stats.bytes_written += refs.iter().map(|r| u64::from(r.len)).sum::<u64>();
        }
        out.fsync()?;
        out.close()?;
        Ok(stats)
    }

    /// Compact the store in place, while it stays open: rotate, rewrite one
    /// Put per live key (its current value, in key order) into the new
    /// segments, make them durable, then remove every older segment, oldest
    /// first (the txid floor made durable before the first removal). Dead
    /// versions and tombstones are gone; txids keep increasing.
    ///
    /// Crash-safe at every step, with no manual step after: until the
    /// rewritten set is durable nothing is removed, and the copies are
    /// re-puts of the same values, so the store opens to the same live
    /// state; removing oldest first keeps every store in between a suffix
    /// of the log whose projection is that state (a tombstone is never
    /// removed before the puts it shadows). The published crate reads the
    /// store at every moment. Model: `formal/InPlaceCompaction.tla`.
    ///
    /// The `retain_*` settings do not apply to the compaction's own
    /// rotations (they would remove segments whose values are still to be
    /// copied): they apply once, to the rewritten log, before it returns,
    /// and the keys whose segments they remove are gone as after any
    /// rotation.
    ///
    /// A [`crate::DataWalReader`] opened before keeps its key directory; its
    /// reads of values in removed segments fail with [`Error::Io`] (never a
    /// wrong value): reopen it.
    ///
    /// # Errors
    /// Read errors as [`get`](Self::get); write errors as
    /// [`RecordLog::append_batch`] (nothing is removed then, and the store
    /// opens to the same live state).
    pub fn compact(&mut self) -> Result<CompactionStats> {
        self.compact_with(|_, v| Ok(v))
    }

    /// As [`compact`](Self::compact), passing every live value through
    /// `transform` (for example to rewrite old encodings as the latest).
    ///
    /// # Errors
    /// As [`compact`](Self::compact), and [`Error::Transform`] when the
    /// transform refuses a value (nothing is removed then).
    pub fn compact_with<F>(&mut self, transform: F) -> Result<CompactionStats>
    where
        F: FnMut(&[u8], Vec<u8>) -> std::result::Result<Vec<u8>, TransformError>,
    {
        let options = self.log_mut().suspend_retention();
        let rewritten = self.rewrite_in_place(transform);
        self.log_mut().resume_retention(options);
        let mut stats = rewritten?;
        if options.retains() {
            let cut = self.log_mut().apply_retention()?;
            if cut.segments_removed > 0 {
                self.forget_removed_segments();
            }
            stats.removed.absorb(cut);
        }
        Ok(stats)
    }

    /// [`compact_with`](Self::compact_with) with retention off: rotate,
    /// rewrite the live set past the rotation, sync it, remove the older
    /// segments.
    fn rewrite_in_place<F>(&mut self, mut transform: F) -> Result<CompactionStats>
    where
        F: FnMut(&[u8], Vec<u8>) -> std::result::Result<Vec<u8>, TransformError>,
    {
        self.log_mut().rotate()?;
        let boundary = self.log().active_segment();
        let mut stats = CompactionStats::default();
        let mut moved: Vec<(Vec<u8>, crate::RecordRef)> = Vec::with_capacity(self.len());
        {
            let (log, proj) = self.parts_mut();
            // Every live value is in a closed segment now: read through the
            // cache of segment files, append through the log.
            let values = Values { proj, active: None };
            let entries = proj.sorted_entries();
            stats.live_keys = entries.len() as u64;
            for (batch, read) in values.value_batches(&entries) {
                let mut out = Vec::with_capacity(batch.len());
                for ((key, _), value) in batch.iter().zip(read) {
                    let value = transform(key, value?).map_err(|source| Error::Transform {
                        key: key.to_vec(),
                        source,
                    })?;
                    out.push(value);
                }
                let refs = log.append_batch(
                    batch
                        .iter()
                        .zip(&out)
                        .map(|((k, _), v)| (RecordType::Put, *k, &v[..])),
                )?;
                stats.records_written += refs.len() as u64;
                stats.bytes_written += refs.iter().map(|r| u64::from(r.len)).sum::<u64>();
                moved.extend(batch.iter().map(|(k, _)| k.to_vec()).zip(refs));
            }
            log.fsync()?;
        }
        for (key, r) in &moved {
            self.point_key(key, *r)?;
        }
        stats.removed = self.log_mut().remove_below(boundary)?;
        Ok(stats)
    }

    /// Remove whole closed segments below `txid`: see
    /// [`RecordLog::truncate_before`]. Keys whose live Put was removed are
    /// gone from the store (and from this handle).
    ///
    /// # Errors
    /// As [`RecordLog::truncate_before`].
    pub fn truncate_before(&mut self, txid: u64) -> Result<TruncateStats> {
        let stats = self.log_mut().truncate_before(txid)?;
        if stats.segments_removed > 0 {
            self.forget_removed_segments();
        }
        Ok(stats)
    }

    /// A consistent copy of the store: see [`RecordLog::backup_to`].
    ///
    /// # Errors
    /// As [`RecordLog::backup_to`].
    pub fn backup_to(&self, out_dir: impl AsRef<Path>) -> Result<BackupStats> {
        self.log().backup_to(out_dir)
    }
}
