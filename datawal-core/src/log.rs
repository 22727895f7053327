//! [`RecordLog`]: the append-only, segmented, single-writer record log.

use std::fs::{File, OpenOptions};
use std::marker::PhantomData;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub(crate) use crate::floor::read_floor;
use crate::format::{encode_into, frame_len, RecordType, MAX_KEY_LEN, MAX_PAYLOAD_LEN};
use crate::hint::{self, Fold, Hint, KeyOp, Replayed};
use crate::lock::DirLock;
use crate::recovery::{Record, RecordCursor, RecordRef, RecordView, RecoveryReport};
use crate::segment::{
    create_segment, ensure_dir, extend_zeroed, fsync_dir, list_segments, open_segment,
    release_beyond_end, reserve_beyond_end, segment_path, RESERVE_STEP,
};
use lifecycle::SegmentInfo;
pub use lifecycle::{BackupStats, TruncateStats};

mod lifecycle;
use crate::tail::repair_tail;

/// Refuse a key or payload over the limits, before anything is allocated.
pub(crate) fn check_lengths(key: &[u8], payload: &[u8]) -> Result<()> {
    if key.len() > MAX_KEY_LEN as usize {
        return Err(Error::KeyTooLarge { len: key.len() });
    }
    if payload.len() > MAX_PAYLOAD_LEN as usize {
        return Err(Error::PayloadTooLarge { len: payload.len() });
    }
    Ok(())
}

/// At a writer's open: what to do with zeros after the active segment's
/// data (`size` bytes), which recovery counted as free space in `report`
/// (a preallocating writer's space, left by a crash or a drop without
/// trimming). With [`LogOptions::preallocate`] they are kept and appends
/// go into them; without, the segment is cut to its data, durably, so that
/// datawal 0.1.x reads it again. The file's length afterwards.
fn keep_or_trim_free_space(
    active: &File,
    path: &Path,
    size: u64,
    report: &RecoveryReport,
    options: LogOptions,
) -> Result<u64> {
    let len = active
        .metadata()
        .map_err(|e| Error::io("stat active segment", path, e))?
        .len();
    if len <= size || (options.preallocate.is_some() && report.free_bytes == len - size) {
        return Ok(len);
    }
    active
        .set_len(size)
        .and_then(|()| active.sync_all())
        .map_err(|e| Error::io("trim free space of segment", path, e))?;
    Ok(size)
}

/// Settings for [`RecordLog::open_with`] and [`crate::DataWal::open_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogOptions {
    /// Rotate to a new segment before an append that would make the active
    /// segment larger than this many bytes (a segment always takes at least
    /// one record). `None`, the default, rotates only on [`RecordLog::rotate`].
    pub max_segment_bytes: Option<u64>,
    /// Retention by size: after a rotation, remove the oldest closed
    /// segments while the log's segments hold more than this many bytes
    /// (the active segment counts, and is never removed).
    pub retain_bytes: Option<u64>,
    /// Retention by count: after a rotation, remove the oldest closed
    /// segments while there are more than this many segments (active
    /// included; at least 1 is kept).
    pub retain_segments: Option<u32>,
    /// Retention by age: after a rotation, remove the oldest closed segments
    /// whose newest record is older than this, by the segment file's
    /// modification time (the time of its last append).
    pub retain_age: Option<std::time::Duration>,
    /// `DataWal` only: compact in place (see [`crate::DataWal::compact`])
    /// after a rotation when more than this percentage of the log's bytes
    /// are dead versions and tombstones. Off by default.
    pub compact_dead_percent: Option<u8>,
    /// Write the active segment into zero-filled space reserved this many
    /// bytes ahead of its data, so that an `fdatasync` after an append has
    /// no file length to commit (see [`LogOptions::preallocate`]). `None`,
    /// the default, appends to the end of the file.
    pub preallocate: Option<u64>,
}

impl LogOptions {
    /// Rotate automatically once a segment would exceed `bytes`.
    pub fn max_segment_bytes(mut self, bytes: u64) -> Self {
        self.max_segment_bytes = Some(bytes);
        self
    }

    /// Keep at most about `bytes` of log: see [`LogOptions::retain_bytes`].
    pub fn retain_bytes(mut self, bytes: u64) -> Self {
        self.retain_bytes = Some(bytes);
        self
    }

    /// Keep at most `segments` segments: see [`LogOptions::retain_segments`].
    pub fn retain_segments(mut self, segments: u32) -> Self {
        self.retain_segments = Some(segments);
        self
    }

    /// Remove closed segments older than `age`: see [`LogOptions::retain_age`].
    pub fn retain_age(mut self, age: std::time::Duration) -> Self {
        self.retain_age = Some(age);
        self
    }

    /// Compact a `DataWal` in place once dead bytes exceed `percent` of the
    /// log: see [`LogOptions::compact_dead_percent`].
    pub fn compact_dead_percent(mut self, percent: u8) -> Self {
        self.compact_dead_percent = Some(percent.min(100));
        self
    }

    /// Write segments into zero-filled space reserved `bytes` ahead of the
    /// data (opt-in; `0` turns it off).
    ///
    /// Each time an append would pass the end of the space, the segment
    /// file is extended by `bytes` (at least the append's frame; never past
    /// [`LogOptions::max_segment_bytes`] unless one frame needs it), and
    /// later appends overwrite the zeros in place. An `fdatasync` after
    /// such an append has no file length to commit, only the data: on
    /// this machine's ext4, an 88-byte append + `fdatasync` took 149 µs
    /// against 210 µs without the option (`docs/benchmarks.md`). The space
    /// is freed, the segment cut to its data and the cut synced, by
    /// [`RecordLog::rotate`] (before the next segment exists), by
    /// [`RecordLog::close`] and by dropping the handle.
    ///
    /// The zeros after the data are free space, not damage: readers,
    /// followers and recovery read them as the end of the log. A crash
    /// leaves them in place; the next writer reuses them (with
    /// `preallocate` on) or cuts them off at open. **An open preallocated
    /// segment, or one left by a crash, is not readable by datawal 0.1.x
    /// until a datawal 0.2 writer opens and trims it**: 0.1.5 stops at 24
    /// zero bytes or more with "bad magic", and takes fewer for a torn
    /// tail that its writer would append after (do not write such a store
    /// with 0.1.x). Closed and trimmed segments read with 0.1.x as before.
    ///
    /// A reader that reaches the zeros reads them to the end of the file
    /// to tell free space from damage: pick `bytes` in megabytes, not
    /// gigabytes (1-8 MiB covers thousands of appends between extensions).
    pub fn preallocate(mut self, bytes: u64) -> Self {
        self.preallocate = (bytes > 0).then_some(bytes);
        self
    }

    /// `true` when a retention setting is on.
    pub(crate) fn retains(&self) -> bool {
        self.retain_bytes.is_some() || self.retain_segments.is_some() || self.retain_age.is_some()
    }
}

/// Append-only, segmented log of framed records; one writer per directory.
///
/// # Durability
/// [`append`](Self::append) hands each record to the operating system in one
/// `write` (a killed process loses nothing appended). [`fsync`](Self::fsync)
/// is the durability boundary: once it returns, everything appended survives
/// a power cut.
///
/// # Failure model
/// A failed write or fsync *poisons* the handle: every later write returns
/// [`Error::Poisoned`] with the cause, reads keep working, and reopening the
/// directory recovers the valid prefix.
#[derive(Debug)]
pub struct RecordLog {
    dir: PathBuf,
    _lock: DirLock,
    active_id: u32,
    active: File,
    active_size: u64,
    /// The active segment file's length: `active_size`, or more when
    /// zero-filled space follows the data ([`LogOptions::preallocate`]).
    file_len: u64,
    /// The closed segments, oldest first, with their txid ranges (for
    /// retention and [`RecordLog::truncate_before`]).
    closed: Vec<SegmentInfo>,
    /// Txid range of the active segment's records.
    active_info: SegmentInfo,
    /// How much of the active segment its hint file covers (0: none).
    active_hinted: u64,
    /// The thread writing the hint of the segment the last rotation
    /// closed, if it may still run.
    sealing: Option<std::thread::JoinHandle<()>>,
    /// The active segment's length at its last successful data sync (or at
    /// open): what a failed sync truncates it back to.
    durable_size: u64,
    next_txid: u64,
    report: RecoveryReport,
    options: LogOptions,
    poisoned: Option<String>,
    /// Bytes written to the active segment since its last data sync.
    data_dirty: bool,
    /// A segment was created since the directory was last synced.
    dir_dirty: bool,
    /// Where the disk space reserved for the active segment ends (0: none
    /// reserved by this handle yet).
    reserved_to: u64,
    /// `false` once reserving failed: the file system cannot, stop asking.
    reserving: bool,
    buf: Vec<u8>,
    /// Where the newest record is (what [`last`](Self::last) reads).
    last: Option<RecordRef>,
}

/// A writer's open in progress, in the order it runs: [`start`](Self::start)
/// takes the lock, lists the segments and finds their usable hints; the
/// caller reads the valid prefix with [`replay`](Self::replay) or
/// [`for_each_view`](Self::for_each_view) (one pass serves recovery and
/// whatever the caller builds from the records, such as `DataWal`'s key
/// directory); [`finish`](Self::finish) refuses a store whose txids are
/// exhausted, repairs a torn tail and opens the active segment.
pub(crate) struct Opening {
    dir: PathBuf,
    lock: DirLock,
    options: LogOptions,
    ids: Vec<u32>,
    /// The usable hint of each segment (`hint.rs`), in the order of `ids`.
    hints: Vec<Option<Hint>>,
    /// Segments whose hint's entries turned out damaged: removed once the
    /// open succeeded, so the next open does not try them again.
    bad_hints: Vec<u32>,
    active_id: u32,
    /// What the replay found.
    seen: Seen,
    report: RecoveryReport,
}

/// What a writer's open keeps of the records it replays.
struct Seen {
    active_id: u32,
    active_size: u64,
    last_txid_at: Option<RecordRef>,
    /// Where the newest record of the valid prefix is.
    last: Option<RecordRef>,
    /// Every segment found, with what the replay saw of it.
    infos: Vec<SegmentInfo>,
    /// Where in `infos` the replay is: segments come in order.
    at: usize,
}

impl Seen {
    fn new(ids: &[u32]) -> Self {
        Seen {
            active_id: *ids.last().unwrap_or(&1),
            active_size: 0,
            last_txid_at: None,
            last: None,
            infos: ids.iter().map(|&id| SegmentInfo::empty(id)).collect(),
            at: 0,
        }
    }

    #[inline]
    fn info(&mut self, segment: u32) -> Option<&mut SegmentInfo> {
        while self.infos.get(self.at).is_some_and(|i| i.id != segment) {
            self.at += 1;
        }
        self.infos.get_mut(self.at)
    }
}

/// The caller's fold, with the bookkeeping of the open around it.
struct Tracked<'a, F> {
    seen: &'a mut Seen,
    fold: &'a mut F,
}

impl<F: Fold> Fold for Tracked<'_, F> {
    const KEYS: bool = F::KEYS;

    fn hinted(&mut self, hint: &Hint) {
        if hint.segment == self.seen.active_id {
            self.seen.active_size = hint.covered;
        }
        self.seen.last = Some(RecordRef {
            segment: hint.segment,
            offset: hint.last_at,
            len: (hint.covered - hint.last_at) as u32,
        });
        if let Some(info) = self.seen.info(hint.segment) {
            info.first_txid = Some(hint.first_txid);
            info.last_txid = Some(hint.last_txid);
            info.records = hint.records;
            info.bytes = hint.covered;
        }
        self.fold.hinted(hint);
    }

    #[inline]
    fn key_op(&mut self, op: KeyOp<'_>) {
        self.fold.key_op(op);
    }

    #[inline]
    fn record(&mut self, view: &RecordView<'_>) {
        self.fold.record(view);
        self.seen.last = Some(view.position());
        if view.segment == self.seen.active_id {
            self.seen.active_size = view.offset + u64::from(view.len);
        }
        if view.txid == u64::MAX {
            self.seen.last_txid_at = Some(view.position());
        }
        if let Some(info) = self.seen.info(view.segment) {
            info.saw(view);
        }
    }
}

/// A fold that only visits records (hints give their counts).
struct Visit<V>(V);

impl<V: FnMut(&RecordView<'_>)> Fold for Visit<V> {
    const KEYS: bool = false;

    fn hinted(&mut self, _: &Hint) {}

    fn key_op(&mut self, _: KeyOp<'_>) {}

    #[inline]
    fn record(&mut self, view: &RecordView<'_>) {
        (self.0)(view);
    }
}

impl Opening {
    /// Create the directory, take the writer lock, list the segments (creating
    /// the first one of a new store) and find which have a usable hint.
    pub(crate) fn start(dir: &Path, options: LogOptions) -> Result<Self> {
        ensure_dir(dir)?;
        let lock = DirLock::acquire(dir)?;
        let mut ids = list_segments(dir)?;
        if ids.is_empty() {
            // A hint left from an earlier store must not describe this one
            // (best effort: what cannot be removed is no regular file, and
            // never used).
            let _ = hint::remove(dir, 1);
            let (id, _) = create_segment(dir, 1)?;
            ids.push(id);
        }
        let active_id = *ids.last().unwrap_or(&1);
        let hints = hint::plan(dir, &ids);
        Ok(Opening {
            dir: dir.to_path_buf(),
            lock,
            options,
            seen: Seen::new(&ids),
            ids,
            hints,
            bad_hints: Vec::new(),
            active_id,
            report: RecoveryReport::default(),
        })
    }

    /// The segment ids found, ascending.
    pub(crate) fn segments(&self) -> &[u32] {
        &self.ids
    }

    /// The usable hints found, by segment.
    pub(crate) fn hints(&self) -> &[Option<Hint>] {
        &self.hints
    }

    /// Read the valid prefix into a fold made by `make`: hinted prefixes
    /// from their hints, the rest record by record. When a hint's entries
    /// turn out damaged, every hint is dropped and a new fold replays the
    /// whole log.
    ///
    /// # Errors
    /// As [`RecordCursor::for_each_view`].
    pub(crate) fn replay<F: Fold>(&mut self, mut make: impl FnMut(&Self) -> F) -> Result<F> {
        loop {
            let mut fold = make(self);
            match self.run(&mut fold)? {
                None => return Ok(fold),
                Some(segment) => {
                    self.bad_hints.push(segment);
                    hint::drop_bad(&mut self.hints, segment, self.bad_hints.len() as u32);
                }
            }
        }
    }

    /// Read the valid prefix, calling `visit` with every record read in
    /// order (records of hinted prefixes are counted, not visited).
    ///
    /// # Errors
    /// As [`RecordCursor::for_each_view`].
    pub(crate) fn for_each_view(&mut self, visit: impl FnMut(&RecordView<'_>)) -> Result<()> {
        // No entries are read: no hint can fail half-way.
        self.run(&mut Visit(visit)).map(drop)
    }

    /// One pass of [`replay`](Self::replay); the segment whose hint failed.
    fn run<F: Fold>(&mut self, fold: &mut F) -> Result<Option<u32>> {
        self.seen = Seen::new(&self.ids);
        let mut tracked = Tracked {
            seen: &mut self.seen,
            fold,
        };
        match hint::replay(&self.dir, &self.ids, &self.hints, &mut tracked)? {
            Replayed::Done(report) => {
                self.report = report;
                Ok(None)
            }
            Replayed::BadHint(segment) => Ok(Some(segment)),
        }
    }

    /// Check, repair and open for appending.
    pub(crate) fn finish(self) -> Result<RecordLog> {
        let dir = self.dir;
        let seen = self.seen;
        // Refused before the repair: a store that cannot be written is left
        // exactly as it was.
        if let Some(at) = seen.last_txid_at {
            return Err(Error::TxidsExhausted {
                segment: at.segment,
                offset: at.offset,
                path: segment_path(&dir, at.segment),
            });
        }
        let floor = read_floor(&dir)?;
        let mut report = self.report;
        if let Some(tail) = report.tail.as_mut() {
            repair_tail(&dir, tail)?;
        }
        let mut closed = seen.infos;
        let active_info = closed
            .pop()
            .unwrap_or_else(|| SegmentInfo::empty(self.active_id));
        let active_path = segment_path(&dir, self.active_id);
        // Readable too: `DataWal` reads the active segment's records through
        // this handle (no lock, no second descriptor).
        let active = open_segment(OpenOptions::new().read(true).write(true), &active_path)
            .map_err(|e| Error::io("open active segment", &active_path, e))?;
        let file_len = keep_or_trim_free_space(
            &active,
            &active_path,
            seen.active_size,
            &report,
            self.options,
        )?;
        hint::remove_strays(&dir, &self.ids);
        for &id in &self.bad_hints {
            let _ = hint::remove(&dir, id);
        }
        let active_hinted = self
            .hints
            .last()
            .copied()
            .flatten()
            .filter(|h| h.segment == self.active_id)
            .map_or(0, |h| h.covered);
        // Known durable: the active segment's hint covers all of it. A hint
        // of the active segment is written only by a drop with nothing
        // unsynced, after the fsync that made its bytes durable and, when
        // it was new, its directory entry (a rotation makes every older
        // segment's entry durable before creating the next). Anything
        // appended since makes the segment longer than its hint, a segment
        // created since is the active one and has no hint, and a removal
        // since is fsynced at once (or, the last one of a killed writer,
        // harmless undone: the log is a longer suffix).
        let clean =
            report.tail.is_none() && seen.active_size > 0 && active_hinted == seen.active_size;
        Ok(RecordLog {
            dir,
            _lock: self.lock,
            active_id: self.active_id,
            active,
            active_size: seen.active_size,
            file_len,
            closed,
            active_info,
            active_hinted,
            sealing: None,
            durable_size: seen.active_size,
            // Never below the floor that retention left behind.
            next_txid: report
                .last_txid_seen
                .saturating_add(1)
                .max(floor.unwrap_or(0)),
            report,
            options: self.options,
            poisoned: None,
            // Unless known durable, what open found may be a killed
            // writer's bytes still only in the page cache, and its newest
            // segment's directory entry not yet durable: the first fsync
            // (or a rotation, which would close the segment) syncs them
            // rather than trusting them.
            data_dirty: seen.active_size > 0 && !clean,
            dir_dirty: !clean,
            reserved_to: 0,
            reserving: true,
            buf: Vec::new(),
            last: seen.last,
        })
    }
}

impl RecordLog {
    /// Open (or create) the log in `dir`: create the directory, take the
    /// writer lock, recover the longest valid prefix, and repair a torn tail
    /// (its bytes are saved to a `*.torn` file beside the segment and the
    /// segment is truncated, durably, before anything is appended).
    ///
    /// # Errors
    /// [`Error::Locked`] when another writer holds the directory,
    /// [`Error::LockFile`] when `.lock` is not a regular file,
    /// [`Error::NotADirectory`], [`Error::Corrupt`] for damage that is not a
    /// torn tail, [`Error::TxidsExhausted`] when a record carries txid
    /// `u64::MAX` (nothing is changed on disk then), [`Error::Io`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(dir, LogOptions::default())
    }

    /// As [`open`](Self::open), with settings.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with(dir: impl AsRef<Path>, options: LogOptions) -> Result<Self> {
        let mut opening = Opening::start(dir.as_ref(), options)?;
        opening.for_each_view(|_| {})?;
        opening.finish()
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The settings the log was opened with.
    pub fn options(&self) -> &LogOptions {
        &self.options
    }

    /// Id of the segment appends go to.
    pub fn active_segment(&self) -> u32 {
        self.active_id
    }

    /// The active segment's id and file, open for reading as well as
    /// appending.
    pub(crate) fn active_file(&self) -> (u32, &File) {
        (self.active_id, &self.active)
    }

    /// The txid the next appended record gets.
    pub fn next_txid(&self) -> u64 {
        self.next_txid
    }

    /// What recovery found when the log was opened (refreshed by [`scan`](Self::scan)).
    ///
    /// # Errors
    /// None today; kept fallible for the published signature.
    pub fn recovery_report(&self) -> Result<RecoveryReport> {
        Ok(self.report.clone())
    }

    /// `true` once a failed write or fsync has poisoned the handle.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned.is_some()
    }

    fn check_writable(&self) -> Result<()> {
        match &self.poisoned {
            Some(reason) => Err(Error::Poisoned {
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    fn poison(&mut self, what: &str, err: Error) -> Error {
        self.poisoned = Some(format!("{what} failed: {err}"));
        err
    }

    /// Append an opaque payload as a [`RecordType::Raw`] record with an empty key.
    ///
    /// # Errors
    /// As [`append_record`](Self::append_record).
    pub fn append(&mut self, payload: &[u8]) -> Result<RecordRef> {
        self.append_record(RecordType::Raw, b"", payload)
    }

    /// Append one record in one write. Not durable until [`fsync`](Self::fsync).
    ///
    /// # Errors
    /// [`Error::KeyTooLarge`] / [`Error::PayloadTooLarge`] (nothing written),
    /// [`Error::Poisoned`], [`Error::Io`] (which poisons the handle).
    pub fn append_record(
        &mut self,
        record_type: RecordType,
        key: &[u8],
        payload: &[u8],
    ) -> Result<RecordRef> {
        self.check_writable()?;
        check_lengths(key, payload)?;
        self.rotate_if_full(frame_len(key.len(), payload.len()))?;
        let txid = self.take_txids(1)?;
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        encode_into(&mut buf, record_type, txid, key, payload);
        let offset = self.active_size;
        let res = self.write_buf(&buf);
        self.buf = buf;
        res?;
        self.saw_txids(txid, txid);
        let at = RecordRef {
            segment: self.active_id,
            offset,
            len: frame_len(key.len(), payload.len()) as u32,
        };
        self.last = Some(at);
        Ok(at)
    }

    /// Append one record under a txid the caller gives, for copying a log
    /// with its txids (`datawal pull` rebuilding a store from a stream).
    /// `txid` must be [`next_txid`](Self::next_txid); an empty log (no
    /// record written or recovered) may also start at any higher txid.
    /// Not durable until [`fsync`](Self::fsync).
    ///
    /// # Errors
    /// [`Error::TxidNotNext`] (nothing written), else as
    /// [`append_record`](Self::append_record).
    pub fn append_record_at(
        &mut self,
        txid: u64,
        record_type: RecordType,
        key: &[u8],
        payload: &[u8],
    ) -> Result<RecordRef> {
        let empty_start = self.last.is_none() && txid > self.next_txid;
        if txid != self.next_txid && !empty_start {
            return Err(Error::TxidNotNext {
                txid,
                next: self.next_txid,
            });
        }
        let next = self.next_txid;
        self.next_txid = txid;
        let res = self.append_record(record_type, key, payload);
        if res.is_err() {
            // Nothing was appended (the lengths were refused, or the write
            // failed and poisoned the handle).
            self.next_txid = next;
        }
        res
    }

    /// Append many records with one write. Lengths are all checked before
    /// anything is written, and an empty batch writes nothing.
    ///
    /// A batch is not a transaction: if the write fails (the handle is then
    /// poisoned) or the process dies during it, a prefix of the batch may be
    /// on disk, and recovery keeps the whole frames of that prefix. Not
    /// durable until [`fsync`](Self::fsync).
    ///
    /// # Errors
    /// As [`append_record`](Self::append_record).
    pub fn append_batch<'a, I>(&mut self, records: I) -> Result<Vec<RecordRef>>
    where
        I: IntoIterator<Item = (RecordType, &'a [u8], &'a [u8])>,
    {
        self.check_writable()?;
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        let encoded = self.encode_batch(&mut buf, records);
        let res = encoded.and_then(|(mut refs, txid)| {
            if refs.is_empty() {
                return Ok(refs);
            }
            // The batch is one write, so it lands in one segment.
            self.rotate_if_full(buf.len() as u64)?;
            for r in &mut refs {
                r.segment = self.active_id;
                r.offset += self.active_size;
            }
            let first = self.next_txid;
            self.write_buf(&buf)?;
            self.next_txid = txid;
            self.saw_txids(first, txid - 1);
            self.last = refs.last().copied();
            Ok(refs)
        });
        self.buf = buf;
        res
    }

    /// Encode a batch into `buf`; positions are relative to the batch start.
    fn encode_batch<'a, I>(&self, buf: &mut Vec<u8>, records: I) -> Result<(Vec<RecordRef>, u64)>
    where
        I: IntoIterator<Item = (RecordType, &'a [u8], &'a [u8])>,
    {
        let mut refs = Vec::new();
        let mut txid = self.next_txid;
        for (record_type, key, payload) in records {
            check_lengths(key, payload)?;
            let offset = buf.len() as u64;
            encode_into(buf, record_type, txid, key, payload);
            refs.push(RecordRef {
                segment: 0,
                offset,
                len: (buf.len() as u64 - offset) as u32,
            });
            txid = txid
                .checked_add(1)
                .ok_or(Error::Exhausted { what: "txid" })?;
        }
        Ok((refs, txid))
    }

    fn take_txids(&mut self, n: u64) -> Result<u64> {
        let txid = self.next_txid;
        let next = txid
            .checked_add(n)
            .ok_or(Error::Exhausted { what: "txid" })?;
        self.next_txid = next;
        Ok(txid)
    }

    /// Rotate first when `incoming` more bytes would overflow a non-empty
    /// active segment under [`LogOptions::max_segment_bytes`].
    fn rotate_if_full(&mut self, incoming: u64) -> Result<()> {
        match self.options.max_segment_bytes {
            Some(max) if self.active_size > 0 && self.active_size + incoming > max => self.rotate(),
            _ => Ok(()),
        }
    }

    fn write_buf(&mut self, buf: &[u8]) -> Result<()> {
        self.make_room(buf.len() as u64);
        if let Err(e) = self.active.write_all_at(buf, self.active_size) {
            let err = Error::io(
                "append to segment",
                segment_path(&self.dir, self.active_id),
                e,
            );
            return Err(self.poison("write", err));
        }
        self.active_size += buf.len() as u64;
        self.file_len = self.file_len.max(self.active_size);
        self.data_dirty = true;
        Ok(())
    }

    /// Before writing `incoming` bytes at the end of the active segment's
    /// data: with [`LogOptions::preallocate`], make sure zero-filled space
    /// holds them (extending the file by the option's step when it does
    /// not); else reserve blocks past the end ([`reserve_for`]
    /// (Self::reserve_for)). Only an optimisation: when the space cannot be
    /// had, the write goes past the file's end as without it.
    fn make_room(&mut self, incoming: u64) {
        let Some(step) = self.options.preallocate else {
            self.reserve_for(incoming);
            return;
        };
        let end = self.active_size + incoming;
        if end <= self.file_len {
            return;
        }
        let mut to = end.max(self.active_size + step);
        if let Some(max) = self.options.max_segment_bytes {
            to = to.min(max.max(end));
        }
        self.file_len = match extend_zeroed(&self.active, self.file_len, to) {
            Ok(()) => to,
            // Partly extended, perhaps: what the file says.
            Err(_) => self.active.metadata().map_or(self.file_len, |m| m.len()),
        };
    }

    /// Cut the active segment to its data when zero-filled space follows
    /// it, and sync the cut (which makes every byte appended durable too):
    /// what [`rotate`](Self::rotate), [`close`](Self::close) and dropping
    /// do with [`LogOptions::preallocate`]. A failure is handled as a
    /// failed [`fsync`](Self::fsync): the segment is cut back to what the
    /// disk holds and the handle poisoned.
    fn trim(&mut self, during: &str) -> Result<()> {
        if self.file_len <= self.active_size {
            return Ok(());
        }
        if let Err(e) = self
            .active
            .set_len(self.active_size)
            .and_then(|()| self.active.sync_all())
        {
            let path = segment_path(&self.dir, self.active_id);
            let err = Error::io("trim preallocated space of segment", path, e);
            return Err(self.cut_back(during, err));
        }
        self.file_len = self.active_size;
        self.durable_size = self.active_size;
        self.data_dirty = false;
        Ok(())
    }

    /// Before writing `incoming` bytes past the active segment's end, reserve
    /// disk space for them and the next [`RESERVE_STEP`] bytes (capped at
    /// [`LogOptions::max_segment_bytes`]) without changing the file's length.
    /// An `fdatasync` after appends into reserved space has no block
    /// allocation to commit (a batch of 100 × 64 B + fsync: 226 → 169 µs on
    /// ext4, `docs/benchmarks.md`). Readers see no difference: the reserved
    /// blocks lie past the file's length. [`rotate`](Self::rotate) and
    /// [`close`](Self::close) release what is left.
    fn reserve_for(&mut self, incoming: u64) {
        let end = self.active_size + incoming;
        if !self.reserving || end <= self.reserved_to {
            return;
        }
        let mut to = end.max(self.active_size + RESERVE_STEP);
        if let Some(max) = self.options.max_segment_bytes {
            to = to.min(max.max(end));
        }
        self.reserving = reserve_beyond_end(&self.active, self.active_size, to - self.active_size);
        self.reserved_to = to;
    }

    /// Give back the space reserved past the active segment's end. Changes
    /// no byte of the file; errors are reported, not fatal (the space is
    /// then only held until the segment is next truncated).
    fn release_reserved(&mut self) -> Result<()> {
        if self.reserved_to == 0 {
            return Ok(());
        }
        self.reserved_to = 0;
        release_beyond_end(&self.active).map_err(|e| {
            Error::io(
                "release reserved space of segment",
                segment_path(&self.dir, self.active_id),
                e,
            )
        })
    }

    /// Make every appended record durable: `fdatasync` the active segment, and
    /// fsync the directory if a segment was created since the last time.
    ///
    /// When the `fdatasync` fails, the kernel may already have dropped the
    /// pages it could not write while still showing them to readers, so the
    /// bytes after the last successful sync are of unknown durability: the
    /// segment is truncated back to its length at that sync (and the
    /// truncation synced) before the handle is poisoned. A writer opened
    /// afterwards appends after the last durable record, never after bytes
    /// that may read back as zeros once the page cache is gone (tested on a
    /// real failing file system: `tests/fsync_failure.rs`).
    ///
    /// # Errors
    /// [`Error::Poisoned`], or [`Error::Io`] (which poisons the handle).
    pub fn fsync(&mut self) -> Result<()> {
        self.check_writable()?;
        self.sync_active("fsync")?;
        self.sync_dir("fsync")
    }

    /// `fdatasync` the active segment if anything was written to it since;
    /// on failure, cut it back to what the last successful sync made durable.
    fn sync_active(&mut self, during: &str) -> Result<()> {
        if self.data_dirty {
            if let Err(e) = self.active.sync_data() {
                let err = Error::io("fsync segment", segment_path(&self.dir, self.active_id), e);
                return Err(self.cut_back(during, err));
            }
            self.data_dirty = false;
            self.durable_size = self.active_size;
        }
        Ok(())
    }

    /// After a failed data sync (`err`): cut the active segment back to what
    /// the disk really holds, sync the cut, and poison the handle, saying
    /// whether the cut worked.
    ///
    /// The cut is at the last successful sync (or, before any, at the
    /// length open found), or lower where the disk holds less: the pages
    /// Linux could not write are clean now but still cached, so the cache
    /// is dropped for the segment (`POSIX_FADV_DONTNEED`) and the segment's
    /// valid prefix scanned again. That covers bytes a killed writer left
    /// only in the page cache, whose durability a reopened writer cannot
    /// know. Where dropping the cache or the scan fails, the cut is at the
    /// last successful sync.
    pub(crate) fn cut_back(&mut self, during: &str, err: Error) -> Error {
        let path = segment_path(&self.dir, self.active_id);
        // Never past the last successful sync (or what open found): bytes
        // appended since may still be dirty in the cache, which dropping it
        // does not touch, and would scan as valid.
        let to = self
            .on_disk_prefix()
            .map_or(self.durable_size, |p| p.min(self.durable_size));
        let cut = self
            .active
            .set_len(to)
            .and_then(|()| self.active.sync_all());
        self.poisoned = Some(match cut {
            Ok(()) => format!(
                "{during} failed: {err}; {} cut back to what the disk holds, {to} bytes",
                path.display(),
            ),
            Err(cut) => format!(
                "{during} failed: {err}; cutting {} back to what the disk holds \
                 ({to} bytes) failed too: {cut}",
                path.display(),
            ),
        });
        self.active_size = to;
        self.durable_size = to;
        self.file_len = to;
        err
    }

    /// The valid prefix of the active segment as the disk holds it (the
    /// page cache dropped first), or `None` when that cannot be found.
    fn on_disk_prefix(&self) -> Option<u64> {
        #[cfg(target_os = "linux")]
        rustix::fs::fadvise(&self.active, 0, None, rustix::fs::Advice::DontNeed).ok()?;
        let mut cursor = RecordCursor::new(&self.dir, vec![self.active_id]);
        let mut end = 0;
        cursor
            .for_each_view(|v| end = v.offset + u64::from(v.len))
            .ok()?;
        Some(end.min(self.active_size))
    }

    /// fsync the directory if a segment was created since it was last synced.
    fn sync_dir(&mut self, during: &str) -> Result<()> {
        if self.dir_dirty {
            if let Err(err) = fsync_dir(&self.dir) {
                return Err(self.poison(during, err));
            }
            self.dir_dirty = false;
        }
        Ok(())
    }

    /// Close the active segment (making it durable) and start the next one.
    ///
    /// Before creating the new segment, the directory is synced if an
    /// earlier segment's creation is not yet durable: at most the newest
    /// segment can vanish in a crash, so the log never recovers with a hole
    /// (found by the `formal/RecordLog` model, variant `bug-posix-dir-gap`).
    ///
    /// The new segment takes the next free name: an entry that is not a
    /// regular file (a FIFO, a directory, a symbolic link) in the way is
    /// stepped over, since no reader takes it for a segment.
    ///
    /// # Errors
    /// [`Error::Poisoned`]; [`Error::Exhausted`] past segment id
    /// [`MAX_SEGMENT_ID`](crate::segment::MAX_SEGMENT_ID) and [`Error::Io`]
    /// when the new segment cannot be created (both before anything is
    /// written: the active segment stays active); [`Error::Io`] from a
    /// failed sync (which poisons the handle).
    pub fn rotate(&mut self) -> Result<()> {
        self.check_writable()?;
        if self.active_id >= crate::segment::MAX_SEGMENT_ID {
            return Err(Error::Exhausted { what: "segment id" });
        }
        self.sync_active("rotate")?;
        // A closed segment ends with its last record: cut preallocated
        // space off, durably, before the next segment exists (readers take
        // any damage in a closed segment for corruption).
        self.trim("rotate")?;
        self.sync_dir("rotate")?;
        let (new_id, file) = create_segment(&self.dir, self.active_id + 1)?;
        // A hint left from an earlier segment of that name must never be
        // taken for this one's (best effort: a hint that cannot be removed
        // is no regular file, and never used).
        let _ = hint::remove(&self.dir, new_id);
        // Best effort: a closed segment keeping some reserved blocks is
        // harmless, and nothing about the log depends on it.
        let _ = self.release_reserved();
        let mut closing = std::mem::replace(&mut self.active_info, SegmentInfo::empty(new_id));
        closing.bytes = self.active_size;
        self.closed.push(closing);
        let (closed_id, closed_size, hinted) =
            (self.active_id, self.active_size, self.active_hinted);
        self.active = file;
        self.active_id = new_id;
        self.active_size = 0;
        self.file_len = 0;
        self.active_hinted = 0;
        self.durable_size = 0;
        self.dir_dirty = true;
        if self.options.retains() {
            self.apply_retention()?;
        }
        // The closed segment is durable (synced above): hint it, unless
        // retention just removed it.
        if closed_size >= hint::MIN_HINTED_BYTES
            && closed_size != hinted
            && self.closed.last().is_some_and(|s| s.id == closed_id)
        {
            self.seal_in_background(closed_id, closed_size);
        }
        Ok(())
    }

    /// Write the hint of closed segment `id` (`size` bytes) on a thread of
    /// its own: building it reads the segment back (about as long as an
    /// open without hints takes to read it), which an append that rotated
    /// should not wait for. One at a time: an earlier one is waited for
    /// first. Best effort: a hint that is not written is only missing.
    fn seal_in_background(&mut self, id: u32, size: u64) {
        self.wait_for_hint();
        let dir = self.dir.clone();
        self.sealing = std::thread::Builder::new()
            .name("datawal-hint".into())
            .spawn(move || {
                let _ = hint::seal(&dir, id, size);
            })
            .ok();
    }

    /// Wait until the hint being written by [`seal_in_background`]
    /// (Self::seal_in_background), if any, is in place (or failed): before a
    /// segment is removed, and before the handle goes.
    pub(crate) fn wait_for_hint(&mut self) {
        if let Some(thread) = self.sealing.take() {
            let _ = thread.join();
        }
    }

    /// Every record of the valid prefix, in order. Refreshes
    /// [`recovery_report`](Self::recovery_report).
    ///
    /// # Errors
    /// [`Error::Corrupt`], [`Error::Io`].
    pub fn scan(&mut self) -> Result<Vec<Record>> {
        let mut cursor = self.cursor()?;
        let mut out = Vec::with_capacity(self.record_count_hint(cursor.segments()));
        cursor.for_each_view(|v| out.push(v.to_record()))?;
        let tail = self.report.tail.take();
        self.report = cursor.into_report();
        if self.report.tail.is_none() {
            self.report.tail = tail;
        }
        Ok(out)
    }

    /// How many records `segments` hold, for sizing [`scan`](Self::scan)'s
    /// output (growing a vector of 100k records by doubling costs a third
    /// of a scan): the last txid, since txids are dense from 1 in logs this
    /// crate and the published one write, capped by the most frames the
    /// segments' bytes can hold, so a wrong guess costs capacity, not
    /// correctness.
    fn record_count_hint(&self, segments: &[u32]) -> usize {
        let bytes: u64 = segments
            .iter()
            .map(|&id| {
                if id == self.active_id {
                    self.active_size
                } else {
                    std::fs::metadata(segment_path(&self.dir, id)).map_or(0, |m| m.len())
                }
            })
            .sum();
        let most = bytes / frame_len(0, 0);
        // Txids come from disk: cap the guess so that one crafted txid
        // cannot reserve a huge vector up front (the vector still grows).
        let guess = self.next_txid.saturating_sub(1).min(most).min(1 << 20);
        usize::try_from(guess).unwrap_or(0)
    }

    /// A streaming iterator over owned records (bounded memory).
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be listed; later errors come
    /// as `Err` items.
    pub fn scan_iter(&self) -> Result<RecordIter<'_>> {
        Ok(RecordIter::new(self.cursor()?))
    }

    /// A zero-copy lending cursor over the records.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be listed.
    pub fn cursor(&self) -> Result<RecordCursor> {
        Ok(RecordCursor::new(&self.dir, list_segments(&self.dir)?))
    }

    /// The record at `at` (a position from [`append`](Self::append), a
    /// scan, a cursor or a follower): one positioned read, CRC-checked.
    ///
    /// # Errors
    /// [`Error::NoRecordAt`] when no record of exactly that length starts
    /// there (never another record); [`Error::Io`], also when the segment
    /// is gone.
    pub fn read_at(&self, at: RecordRef) -> Result<Record> {
        crate::position::read_at(&self.dir, at)
    }

    /// A cursor from the first record whose txid is at least `txid` (every
    /// record for 0). The segment is picked by a binary search over the
    /// segments' first txids, and only that segment is read up to the
    /// record: the segments before it are not read.
    ///
    /// # Errors
    /// [`Error::Truncated`] when `txid` is at least 1 and below the oldest
    /// txid left (older segments were removed); [`Error::Corrupt`] in the
    /// segment read; [`Error::Io`].
    pub fn cursor_from(&self, txid: u64) -> Result<RecordCursor> {
        crate::position::cursor_from(&self.dir, list_segments(&self.dir)?, txid)
    }

    /// The newest record, or `None` for an empty log: one positioned read
    /// (the writer keeps the position of the record it appended or
    /// recovered last).
    ///
    /// # Errors
    /// As [`read_at`](Self::read_at).
    pub fn last(&self) -> Result<Option<Record>> {
        match self.last {
            // A failed sync may have cut the active segment below it.
            Some(at)
                if at.segment != self.active_id
                    || at.offset + u64::from(at.len) <= self.active_size =>
            {
                match self.read_at(at) {
                    // Its segment was removed (truncation, in-place
                    // compaction with nothing live): what is left decides.
                    Err(Error::Io { source, .. })
                        if source.kind() == std::io::ErrorKind::NotFound =>
                    {
                        crate::position::last_record(&self.dir, &list_segments(&self.dir)?)
                    }
                    other => other.map(Some),
                }
            }
            Some(_) => crate::position::last_record(&self.dir, &list_segments(&self.dir)?),
            None => Ok(None),
        }
    }

    /// Give back the disk space reserved past the active segment's end and
    /// release the lock. Does not fsync: call [`fsync`](Self::fsync) first
    /// for durability, which also lets the close write the active
    /// segment's hint file, as dropping does (see [`RecordLog`]'s `Drop`).
    /// (A handle dropped without `close` leaves up to 1 MiB reserved past
    /// the segment's end, invisible to readers; the next writer appends
    /// into it.)
    ///
    /// With [`LogOptions::preallocate`], the zero-filled space after the
    /// data is cut off and the cut synced (so everything appended is
    /// durable once `close` returns `Ok`): the segment then reads with
    /// datawal 0.1.x. Dropping the handle does the same, ignoring errors.
    /// A poisoned handle cuts nothing (the next writer's open does).
    ///
    /// # Errors
    /// [`Error::Io`] when the reserved space cannot be released (the log
    /// itself is unaffected), or when cutting preallocated space off or
    /// syncing the cut fails (the handle is poisoned then, as by a failed
    /// [`fsync`](Self::fsync)).
    pub fn close(mut self) -> Result<()> {
        if self.poisoned.is_none() {
            self.trim("close")?;
        }
        self.release_reserved()
    }
}

/// Dropping a handle cuts preallocated space off the active segment, as
/// [`RecordLog::close`] does. Dropping (or closing) a handle with nothing
/// left unsynced writes the hint of the active segment (`{id:08}.hint`, see
/// `docs/canon.md`), so that the next open reads the hint rather than the
/// segment: once the segment holds 64 KiB and has grown by 64 KiB and an
/// eighth since its hint was written. Building it reads the segment back,
/// so such a drop takes about what an open without hints takes to read the
/// segment. A failure only leaves the old hint, or none; nothing is written
/// after a failed write or sync. The hint of the segment the last rotation
/// closed, written on a thread of its own, is waited for.
impl Drop for RecordLog {
    fn drop(&mut self) {
        self.wait_for_hint();
        if self.poisoned.is_some() || std::thread::panicking() {
            return;
        }
        // Best effort: an untrimmed segment is trimmed by the next open.
        let _ = self.trim("drop");
        if self.poisoned.is_some() || self.data_dirty {
            return;
        }
        let (size, hinted) = (self.active_size, self.active_hinted);
        if size >= hint::MIN_HINTED_BYTES
            && size - hinted.min(size) >= hint::MIN_HINTED_BYTES.max(hinted / 8)
        {
            let _ = hint::seal(&self.dir, self.active_id, size);
        }
    }
}

/// Iterator over owned records, from [`RecordLog::scan_iter`] or
/// [`crate::RecordLogReader::scan_iter`]. Ends after the first error.
#[derive(Debug)]
pub struct RecordIter<'a> {
    cursor: RecordCursor,
    _borrow: PhantomData<&'a ()>,
}

impl RecordIter<'_> {
    pub(crate) fn new(cursor: RecordCursor) -> Self {
        RecordIter {
            cursor,
            _borrow: PhantomData,
        }
    }

    /// What the scan has found so far; complete once the iterator returned `None`.
    pub fn recovery_report(&self) -> RecoveryReport {
        self.cursor.report().clone()
    }
}

impl Iterator for RecordIter<'_> {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Self::Item> {
        self.cursor
            .next_view()
            .map(|v| v.map(|v| v.to_record()))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::testing::dir_syncs;

    /// Directory fsyncs made by `f` (on this thread).
    fn dir_syncs_of(f: impl FnOnce()) -> u64 {
        let before = dir_syncs();
        f();
        dir_syncs() - before
    }

    /// Fill `log` past the size that gets a hint on a synced drop.
    fn fill(log: &mut RecordLog) {
        while log.active_size < hint::MIN_HINTED_BYTES {
            log.append(&[7u8; 1000]).unwrap();
        }
    }

    /// A reopen of a store whose writer synced and dropped it (the active
    /// segment's hint covers it whole) changes nothing in the directory:
    /// its first fsync syncs no directory. Every other reopen still does,
    /// since what it found may be a killed writer's newest segment, whose
    /// directory entry only that fsync makes durable.
    #[test]
    fn the_first_fsync_after_a_clean_reopen_syncs_no_directory() {
        let td = tempfile::tempdir().unwrap();
        let dir = td.path();
        let mut log = RecordLog::open(dir).unwrap();
        fill(&mut log);
        assert_eq!(dir_syncs_of(|| log.fsync().unwrap()), 1, "new store");
        drop(log);
        assert!(hint::hint_path(dir, 1).exists());

        // Reopened untouched: appends and fsyncs sync no directory.
        let mut log = RecordLog::open(dir).unwrap();
        log.append(b"after a clean reopen").unwrap();
        assert_eq!(dir_syncs_of(|| log.fsync().unwrap()), 0, "clean reopen");
        // ...but a rotation still makes its new segment durable.
        log.rotate().unwrap();
        log.append(b"in segment 2").unwrap();
        assert_eq!(dir_syncs_of(|| log.fsync().unwrap()), 1, "after rotate");
        drop(log);

        // The active segment (2) has no hint: as after a killed writer.
        let mut log = RecordLog::open(dir).unwrap();
        log.append(b"x").unwrap();
        assert_eq!(dir_syncs_of(|| log.fsync().unwrap()), 1, "no hint");
        fill(&mut log);
        log.fsync().unwrap();
        drop(log);
        let mut log = RecordLog::open(dir).unwrap();
        assert_eq!(dir_syncs_of(|| log.fsync().unwrap()), 0, "hinted again");
        // Appended and dropped unsynced (a killed writer's bytes): the hint
        // covers a prefix only.
        log.append(b"unsynced").unwrap();
        drop(log);
        let mut log = RecordLog::open(dir).unwrap();
        assert_eq!(dir_syncs_of(|| log.fsync().unwrap()), 1, "hint short");
    }

    #[test]
    fn limits_refused_before_writing() {
        let key = vec![0u8; MAX_KEY_LEN as usize + 1];
        assert!(matches!(
            check_lengths(&key, b""),
            Err(Error::KeyTooLarge { .. })
        ));
        assert!(check_lengths(&key[..MAX_KEY_LEN as usize], b"").is_ok());
        let payload = vec![0u8; MAX_PAYLOAD_LEN as usize + 1];
        assert!(matches!(
            check_lengths(b"", &payload),
            Err(Error::PayloadTooLarge { .. })
        ));
    }
}

/// Where the log stands when a sync run outside the writer's lock (by
/// [`crate::shared`]) begins: every record below `next_txid` is in `file`
/// (the active segment, up to `size`) or in a closed segment, which
/// [`RecordLog::rotate`] synced before closing it.
#[derive(Debug)]
pub(crate) struct SyncPoint {
    /// The active segment's id.
    pub(crate) segment: u32,
    /// Its length: what a successful `fdatasync` of `file` covers at least.
    pub(crate) size: u64,
    /// The txid the next record gets.
    pub(crate) next_txid: u64,
    /// A second handle on the active segment, to sync without the lock.
    pub(crate) file: File,
    /// A segment was created since the directory was last synced.
    pub(crate) dir_dirty: bool,
}

// Hooks for `crate::shared`, whose group commit runs the `fdatasync`
// outside the lock that orders appends, then reports back here.
impl RecordLog {
    /// Count what open found as unsynced: the segment's bytes and the
    /// directory entries may still be only in the page cache (a killed
    /// writer's appends are read back after reopen). The next sync then
    /// covers them, and the next rotation syncs the segment it closes.
    /// `true` when the active segment holds bytes.
    pub(crate) fn assume_unsynced(&mut self) -> bool {
        self.data_dirty = true;
        self.dir_dirty = true;
        self.active_size > 0
    }

    /// `true` when appending `incoming` bytes would rotate first (see
    /// [`LogOptions::max_segment_bytes`]).
    pub(crate) fn would_rotate(&self, incoming: u64) -> bool {
        matches!(self.options.max_segment_bytes,
            Some(max) if self.active_size > 0 && self.active_size + incoming > max)
    }

    /// The failure that poisoned the handle, if any.
    pub(crate) fn poison_reason(&self) -> Option<&str> {
        self.poisoned.as_deref()
    }

    /// Capture a [`SyncPoint`].
    ///
    /// # Errors
    /// [`Error::Poisoned`]; [`Error::Io`] when the segment's handle cannot
    /// be duplicated (nothing is poisoned then).
    pub(crate) fn sync_point(&self) -> Result<SyncPoint> {
        self.check_writable()?;
        let file = self.active.try_clone().map_err(|e| {
            Error::io(
                "duplicate handle of segment",
                segment_path(&self.dir, self.active_id),
                e,
            )
        })?;
        Ok(SyncPoint {
            segment: self.active_id,
            size: self.active_size,
            next_txid: self.next_txid,
            file,
            dir_dirty: self.dir_dirty,
        })
    }

    /// The sync of `point` succeeded: the segment is durable up to its
    /// size then, and the directory if it was dirty.
    pub(crate) fn synced(&mut self, point: &SyncPoint) {
        if point.segment != self.active_id {
            // A rotation closed (and synced) that segment since.
            return;
        }
        self.durable_size = self.durable_size.max(point.size);
        if self.active_size == point.size {
            self.data_dirty = false;
        }
        if point.dir_dirty {
            self.dir_dirty = false;
        }
    }

    /// The sync of `point` failed with `err`: as a failed
    /// [`fsync`](Self::fsync), cut the segment back to its last durable
    /// length and poison the handle.
    pub(crate) fn sync_failed(&mut self, point: &SyncPoint, err: Error) -> Error {
        if point.segment != self.active_id {
            // Cannot happen under the sync token (no rotation between the
            // capture and here); the segment is closed and was synced.
            return self.poison("fsync", err);
        }
        self.cut_back("fsync", err)
    }
}
