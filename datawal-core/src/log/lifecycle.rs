//! How a log stays bounded and is copied while it runs: retention
//! ([`RecordLog::truncate_before`], [`LogOptions`]'s `retain_*` settings,
//! applied on rotation), the txid floor that keeps txids from going
//! backwards once old segments are gone, and [`RecordLog::backup_to`].
//!
//! Segments are only ever removed whole, closed, and oldest first, after the
//! floor is durable: at every moment the store is a suffix of the log that
//! was, which the published crate reads, and a crash at any step leaves the
//! previous or a shorter suffix (model: `formal/InPlaceCompaction.tla`).

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::FileExt as _;
use std::path::Path;

use super::{LogOptions, RecordLog};
use crate::atomic::{check_target, rename_dir_into_place, temp_dir_beside};
use crate::error::{Error, Result};
use crate::floor::write_floor;
use crate::recovery::RecordView;
use crate::segment::{fsync_dir, segment_path};

/// What the log knows of one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SegmentInfo {
    pub(crate) id: u32,
    pub(crate) first_txid: Option<u64>,
    pub(crate) last_txid: Option<u64>,
    /// Valid records.
    pub(crate) records: u64,
    /// Bytes of valid frames.
    pub(crate) bytes: u64,
}

impl SegmentInfo {
    pub(crate) fn empty(id: u32) -> Self {
        SegmentInfo {
            id,
            first_txid: None,
            last_txid: None,
            records: 0,
            bytes: 0,
        }
    }

    /// Count a record of this segment.
    #[inline]
    pub(crate) fn saw(&mut self, v: &RecordView<'_>) {
        self.first_txid = Some(self.first_txid.map_or(v.txid, |t| t.min(v.txid)));
        self.last_txid = Some(self.last_txid.map_or(v.txid, |t| t.max(v.txid)));
        self.records += 1;
        self.bytes = v.offset + u64::from(v.len);
    }
}

/// What [`RecordLog::truncate_before`] (or retention) removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TruncateStats {
    /// Segment files removed.
    pub segments_removed: u32,
    /// Records they held.
    pub records_removed: u64,
    /// Bytes of valid frames they held.
    pub bytes_removed: u64,
    /// The lowest txid still in the log, if any record is.
    pub first_available: Option<u64>,
}

impl TruncateStats {
    /// Count in what a later removal (from the same log) removed.
    pub(crate) fn absorb(&mut self, later: TruncateStats) {
        self.segments_removed += later.segments_removed;
        self.records_removed += later.records_removed;
        self.bytes_removed += later.bytes_removed;
        self.first_available = later.first_available;
    }
}

/// What [`RecordLog::backup_to`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupStats {
    /// Closed segments hard-linked into the backup (no bytes copied).
    pub segments_linked: u32,
    /// Segments copied (the active one, and closed ones the file system
    /// would not link).
    pub segments_copied: u32,
    /// Bytes copied.
    pub bytes_copied: u64,
    /// The newest txid in the backup (`None` for an empty log).
    pub last_txid: Option<u64>,
}

impl RecordLog {
    /// Count records `first..=last` appended to the active segment.
    #[inline]
    pub(super) fn saw_txids(&mut self, first: u64, last: u64) {
        let info = &mut self.active_info;
        info.first_txid = Some(info.first_txid.unwrap_or(first));
        info.last_txid = Some(last);
        info.records += last - first + 1;
    }

    /// The oldest segment's id.
    pub fn first_segment(&self) -> u32 {
        self.closed.first().map_or(self.active_id, |s| s.id)
    }

    /// Bytes of valid frames in all segments.
    pub(crate) fn log_bytes(&self) -> u64 {
        self.closed.iter().map(|s| s.bytes).sum::<u64>() + self.active_size
    }

    /// The lowest txid in the log, if it holds a record.
    pub fn first_txid(&self) -> Option<u64> {
        self.closed
            .iter()
            .find_map(|s| s.first_txid)
            .or(self.active_info.first_txid)
    }

    /// Remove, durably, every closed segment whose records all have a txid
    /// below `txid`: never the active segment, never a record at or above
    /// `txid`. The txid floor is made durable first, so txids never go
    /// backwards, whatever is removed, across any crash and reopen.
    /// Segments go oldest first: a crash at any moment leaves a suffix of
    /// the log.
    ///
    /// # Errors
    /// [`Error::Poisoned`]; [`Error::Io`] (segments removed before the
    /// failure stay removed; the handle is not poisoned: nothing of the log
    /// itself was written).
    pub fn truncate_before(&mut self, txid: u64) -> Result<TruncateStats> {
        self.check_writable()?;
        let n = self
            .closed
            .iter()
            .take_while(|s| s.last_txid.is_none_or(|last| last < txid))
            .count();
        self.remove_oldest(n)
    }

    /// Remove every closed segment with an id below `id` (in-place
    /// compaction, once the live set is rewritten past them).
    pub(crate) fn remove_below(&mut self, id: u32) -> Result<TruncateStats> {
        let n = self.closed.iter().take_while(|s| s.id < id).count();
        self.remove_oldest(n)
    }

    /// Turn the `retain_*` settings off and return the settings as they
    /// were, for [`resume_retention`](Self::resume_retention): the
    /// rotations of an in-place compaction must not remove a segment whose
    /// values are still to be copied.
    pub(crate) fn suspend_retention(&mut self) -> LogOptions {
        let saved = self.options;
        self.options.retain_bytes = None;
        self.options.retain_segments = None;
        self.options.retain_age = None;
        saved
    }

    /// Put back the settings [`suspend_retention`](Self::suspend_retention)
    /// returned (nothing is removed here).
    pub(crate) fn resume_retention(&mut self, saved: LogOptions) {
        self.options = saved;
    }

    /// After a rotation: remove the oldest closed segments as the
    /// `retain_*` settings say.
    pub(crate) fn apply_retention(&mut self) -> Result<TruncateStats> {
        let n = retained_cut(&self.options, &self.closed, self.active_size, |id| {
            fs::metadata(segment_path(&self.dir, id))
                .and_then(|m| m.modified())
                .ok()
        });
        self.remove_oldest(n)
    }

    /// Remove the `n` oldest closed segments, floor first.
    fn remove_oldest(&mut self, n: usize) -> Result<TruncateStats> {
        let mut stats = TruncateStats::default();
        if n > 0 {
            // A hint still being written must not outlive its segment.
            self.wait_for_hint();
            write_floor(&self.dir, self.next_txid)?;
            for _ in 0..n {
                let Some(info) = self.closed.first().cloned() else {
                    break;
                };
                let path = segment_path(&self.dir, info.id);
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io("remove segment", path, e)),
                }
                // Each removal durable before the next: POSIX does not keep
                // unsynced directory changes in order, and a newer segment
                // gone while an older one came back could resurrect a key
                // its tombstone had deleted (formal/InPlaceCompaction).
                fsync_dir(&self.dir)?;
                // Its hint is of no use now (best effort: an open removes
                // strays too).
                let _ = crate::hint::remove(&self.dir, info.id);
                self.closed.remove(0);
                stats.segments_removed += 1;
                stats.bytes_removed += info.bytes;
                stats.records_removed += info.records;
            }
        }
        stats.first_available = self.first_txid();
        Ok(stats)
    }

    /// Write a consistent copy of the log, as of its newest record, to
    /// `out` (absent or an empty directory) while the writer keeps the
    /// store open: closed segments are hard-linked where the file system
    /// allows it (they never change again) and copied otherwise, the active
    /// segment's records are copied, the txid floor is carried over. The
    /// copy is built in a temporary sibling and renamed into place, durably;
    /// it opens (with this crate or the published one) to the log as of
    /// [`BackupStats::last_txid`].
    ///
    /// # Errors
    /// [`Error::TargetNotEmpty`], [`Error::NotADirectory`], [`Error::Io`].
    pub fn backup_to(&self, out: impl AsRef<Path>) -> Result<BackupStats> {
        self.stage_backup(out.as_ref(), self.active_size, self.next_txid)?
            .finish()
    }

    /// The part of a backup that needs the segments to stay where they
    /// are: link the closed segments into a temporary sibling of `out` and
    /// open what must be copied (the active segment up to `active_len`,
    /// whose records are those below `next_txid`). What is left,
    /// [`StagedBackup::finish`], reads through the open handles and needs
    /// nothing of the log: [`crate::SharedLog::backup_to`] runs it while
    /// other threads rotate and remove segments.
    pub(crate) fn stage_backup(
        &self,
        out: &Path,
        active_len: u64,
        next_txid: u64,
    ) -> Result<StagedBackup> {
        let target = check_target(out)?;
        let tmp = temp_dir_beside(&target, "backup")?;
        let mut staged = StagedBackup {
            target,
            tmp,
            copies: Vec::new(),
            next_txid,
            has_records: active_len > 0,
            stats: BackupStats::default(),
        };
        for info in &self.closed {
            staged.has_records |= info.records > 0;
            let (from, to) = (
                segment_path(&self.dir, info.id),
                segment_path(staged.tmp.path(), info.id),
            );
            if fs::hard_link(&from, &to).is_ok() {
                staged.stats.segments_linked += 1;
            } else {
                staged.copy_later(&from, info.id, info.bytes)?;
            }
        }
        staged.copy_later(
            &segment_path(&self.dir, self.active_id),
            self.active_id,
            active_len,
        )?;
        Ok(staged)
    }
}

/// A backup under way: see [`RecordLog::stage_backup`].
pub(crate) struct StagedBackup {
    target: std::path::PathBuf,
    tmp: tempfile::TempDir,
    /// Segments to copy: an open handle, its path, its id, the bytes to copy.
    copies: Vec<(File, std::path::PathBuf, u32, u64)>,
    next_txid: u64,
    has_records: bool,
    stats: BackupStats,
}

impl StagedBackup {
    /// Open segment `id` at `from` now, to copy its first `len` bytes in
    /// [`finish`](Self::finish) (a handle reads the file even once it is
    /// removed).
    fn copy_later(&mut self, from: &Path, id: u32, len: u64) -> Result<()> {
        let file = File::open(from).map_err(|e| Error::io("open segment", from, e))?;
        self.copies.push((file, from.to_path_buf(), id, len));
        Ok(())
    }

    /// Copy what is left, write the txid floor, and rename the copy into
    /// place, durably.
    pub(crate) fn finish(mut self) -> Result<BackupStats> {
        for (src, from, id, len) in std::mem::take(&mut self.copies) {
            let to = segment_path(self.tmp.path(), id);
            self.stats.bytes_copied += copy_prefix(&src, &from, &to, len)?;
            self.stats.segments_copied += 1;
        }
        write_floor(self.tmp.path(), self.next_txid)?;
        fsync_dir(self.tmp.path())?;
        self.stats.last_txid = self.next_txid.checked_sub(1).filter(|_| self.has_records);
        rename_dir_into_place(self.tmp, &self.target)?;
        Ok(self.stats)
    }
}

/// Copy the first `len` bytes of `src` (opened from `from`) into a new
/// file `to`, and fsync it.
fn copy_prefix(src: &File, from: &Path, to: &Path, len: u64) -> Result<u64> {
    let dst = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(|e| Error::io("create backup segment", to, e))?;
    let mut buf = vec![0u8; (1 << 20).min(len as usize)];
    let mut at = 0u64;
    while at < len {
        let n = (len - at).min(buf.len() as u64) as usize;
        src.read_exact_at(&mut buf[..n], at)
            .map_err(|e| Error::io("read segment", from, e))?;
        dst.write_all_at(&buf[..n], at)
            .map_err(|e| Error::io("write backup segment", to, e))?;
        at += n as u64;
    }
    dst.sync_all()
        .map_err(|e| Error::io("fsync backup segment", to, e))?;
    Ok(len)
}

/// How many of the oldest `closed` segments the retention settings remove
/// (the active segment holds `active_bytes`; `modified` gives a segment's
/// file time).
fn retained_cut(
    options: &LogOptions,
    closed: &[SegmentInfo],
    active_bytes: u64,
    modified: impl Fn(u32) -> Option<std::time::SystemTime>,
) -> usize {
    let mut n = 0;
    let mut bytes: u64 = closed.iter().map(|s| s.bytes).sum::<u64>() + active_bytes;
    let now = std::time::SystemTime::now();
    while let Some(s) = closed.get(n) {
        let segments = (closed.len() - n + 1) as u64;
        let too_big = options.retain_bytes.is_some_and(|max| bytes > max);
        let too_many = options
            .retain_segments
            .is_some_and(|max| segments > u64::from(max.max(1)));
        let too_old = options.retain_age.is_some_and(|age| {
            modified(s.id)
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|a| a > age)
        });
        if !(too_big || too_many || too_old) {
            break;
        }
        bytes -= s.bytes;
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_cuts_the_oldest_first_and_keeps_the_active() {
        let seg = |id, bytes| SegmentInfo {
            id,
            first_txid: Some(u64::from(id)),
            last_txid: Some(u64::from(id)),
            records: 1,
            bytes,
        };
        let closed = [seg(1, 100), seg(2, 100), seg(3, 100)];
        let never = |_| None;
        // 350 bytes: the first cut leaves 250, still over 240; the second 150.
        let by_bytes = LogOptions::default().retain_bytes(240);
        assert_eq!(retained_cut(&by_bytes, &closed, 50, never), 2);
        let at_the_limit = LogOptions::default().retain_bytes(250);
        assert_eq!(retained_cut(&at_the_limit, &closed, 50, never), 1);
        let by_count = LogOptions::default().retain_segments(2);
        assert_eq!(retained_cut(&by_count, &closed, 0, never), 2);
        let keep_one = LogOptions::default().retain_segments(0);
        assert_eq!(retained_cut(&keep_one, &closed, 0, never), 3);
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let by_age = LogOptions::default().retain_age(std::time::Duration::from_secs(60));
        assert_eq!(
            retained_cut(&by_age, &closed, 0, |id| (id < 3).then_some(old)),
            2
        );
        assert_eq!(retained_cut(&LogOptions::default(), &closed, 0, never), 0);
    }
}
