//! The read-only side: [`RecordLogReader`] (a snapshot of the log, and
//! [`RecordLogReader::verify`]) and [`DataWalReader`] (a key/value snapshot),
//! neither taking the writer's lock nor changing anything on disk.

use std::path::{Path, PathBuf};

use crate::error::{CorruptKind, Error, Result};
use crate::format::RecordType;
use crate::hint::{self, Fold, Hint, KeyOp, Replayed};
use crate::log::RecordIter;
use crate::projection::{LiveIter, Projection, Replay, Values};
use crate::recovery::{Record, RecordCursor, RecordRef, RecordView, RecoveryReport, TailDamage};
use crate::segment::{list_segments, require_dir, segment_path};
use crate::tail::count_intact_frames;

/// A read-only view of a store directory, safe to open while a writer appends.
///
/// The set of segments is fixed at [`open`](Self::open); each scan reads them
/// as they are then. An incomplete record at the end of the last segment (a
/// writer mid-append, or a torn tail) ends the scan: a reader sees a valid
/// prefix, never a torn record as data. The reader changes nothing on disk.
#[derive(Debug, Clone)]
pub struct RecordLogReader {
    dir: PathBuf,
    segments: Vec<u32>,
}

impl RecordLogReader {
    /// Snapshot the segments of `dir`. Does not create anything.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when `dir` does not exist or cannot be listed,
    /// [`crate::Error::NotADirectory`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        require_dir(dir)?;
        Ok(RecordLogReader {
            dir: dir.to_path_buf(),
            segments: list_segments(dir)?,
        })
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The segment ids of the snapshot, ascending.
    pub fn segments(&self) -> &[u32] {
        &self.segments
    }

    /// A zero-copy lending cursor over the snapshot.
    pub fn cursor(&self) -> RecordCursor {
        RecordCursor::new(&self.dir, self.segments.clone())
    }

    /// A streaming iterator over owned records of the snapshot.
    ///
    /// # Errors
    /// None today (errors come as items); kept fallible for the published signature.
    pub fn scan_iter(&self) -> Result<RecordIter<'_>> {
        Ok(RecordIter::new(self.cursor()))
    }

    /// The record at `at`: one positioned read, CRC-checked (as
    /// [`RecordLog::read_at`](crate::RecordLog::read_at)).
    ///
    /// # Errors
    /// [`crate::Error::NoRecordAt`] when no record of exactly that length
    /// starts there; [`crate::Error::Io`].
    pub fn read_at(&self, at: RecordRef) -> Result<Record> {
        crate::position::read_at(&self.dir, at)
    }

    /// A cursor over the snapshot from the first record whose txid is at
    /// least `txid` (every record for 0), without reading the segments
    /// before the one that holds it (as
    /// [`RecordLog::cursor_from`](crate::RecordLog::cursor_from)).
    ///
    /// # Errors
    /// [`crate::Error::Truncated`] when `txid` is at least 1 and below the
    /// oldest txid left; [`crate::Error::Corrupt`]; [`crate::Error::Io`].
    pub fn cursor_from(&self, txid: u64) -> Result<RecordCursor> {
        crate::position::cursor_from(&self.dir, self.segments.clone(), txid)
    }

    /// The newest record of the snapshot, or `None` when it holds none.
    /// Reads only the last segment that holds a record (a reader does not
    /// know where its last frame starts; the writer's
    /// [`RecordLog::last`](crate::RecordLog::last) reads one frame).
    ///
    /// # Errors
    /// [`crate::Error::Corrupt`] for damage in that segment that is not a
    /// torn tail of the last one; [`crate::Error::Io`].
    pub fn last(&self) -> Result<Option<Record>> {
        crate::position::last_record(&self.dir, &self.segments)
    }

    /// Every record of the snapshot, with what the scan found.
    ///
    /// # Errors
    /// [`crate::Error::Corrupt`], [`crate::Error::Io`].
    pub fn scan(&self) -> Result<(Vec<Record>, RecoveryReport)> {
        let mut cursor = self.cursor();
        let mut out = Vec::new();
        cursor.for_each_view(|v| out.push(v.to_record()))?;
        Ok((out, cursor.into_report()))
    }
}

/// Counts over the valid records of a log, taken in one pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogStats {
    /// Valid records.
    pub records: u64,
    /// Put records.
    pub puts: u64,
    /// Delete records (tombstones).
    pub deletes: u64,
    /// Raw records (written by `append`, not part of the key/value view).
    pub raws: u64,
    /// Bytes of valid frames.
    pub frame_bytes: u64,
    /// Lowest txid seen.
    pub first_txid: Option<u64>,
    /// Highest txid seen.
    pub last_txid: Option<u64>,
}

impl LogStats {
    /// Count the records of a hinted prefix.
    pub(crate) fn hinted(&mut self, h: &Hint) {
        self.records += h.records;
        self.puts += h.puts;
        self.deletes += h.deletes;
        self.raws += h.records - h.puts - h.deletes;
        // Frames follow each other from offset 0.
        self.frame_bytes += h.covered;
        self.first_txid = Some(
            self.first_txid
                .map_or(h.first_txid, |t| t.min(h.first_txid)),
        );
        self.last_txid = Some(self.last_txid.map_or(h.last_txid, |t| t.max(h.last_txid)));
    }

    /// Count one more record.
    #[inline]
    pub(crate) fn visit(&mut self, v: &RecordView<'_>) {
        self.records += 1;
        match v.record_type {
            RecordType::Put => self.puts += 1,
            RecordType::Delete => self.deletes += 1,
            RecordType::Raw => self.raws += 1,
        }
        self.frame_bytes += u64::from(v.len);
        self.first_txid = Some(self.first_txid.map_or(v.txid, |t| t.min(v.txid)));
        self.last_txid = Some(self.last_txid.map_or(v.txid, |t| t.max(v.txid)));
    }
}

/// Damage that is not a torn tail, found by [`RecordLogReader::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Damage {
    /// Segment id.
    pub segment: u32,
    /// Offset of the damaged frame in the segment.
    pub offset: u64,
    /// The segment file.
    pub path: PathBuf,
    /// What is wrong.
    pub kind: CorruptKind,
    /// Valid records read before this damage (in this and earlier segments).
    pub records_before: u64,
}

impl Damage {
    /// The error a writer's open (or a scan) gives for this damage.
    pub fn to_error(&self) -> Error {
        Error::Corrupt {
            segment: self.segment,
            offset: self.offset,
            path: self.path.clone(),
            kind: self.kind.clone(),
        }
    }
}

/// What a full verification pass found. Nothing on disk is changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verification {
    /// Counts over every valid record read, in every segment.
    pub stats: LogStats,
    /// Segment files read.
    pub segments: usize,
    /// Damage that stops a writer's open, in segment order: the first
    /// damaged frame of each damaged segment (a scan resumes at the next
    /// segment).
    pub damage: Vec<Damage>,
    /// The torn tail of the last segment, with the intact frames after the
    /// damage counted (`saved_to` is `None`: nothing is moved).
    pub tail: Option<TailDamage>,
    /// Zero bytes after the data of the last segment: free space (see
    /// [`RecoveryReport::free_bytes`]), not damage.
    pub free_bytes: u64,
}

impl RecordLogReader {
    /// Read every segment of the snapshot to its end, and report all
    /// damage: see [`Verification`].
    ///
    /// # Errors
    /// [`Error::Io`] when a segment cannot be read (damage is data in the
    /// result, not an error).
    pub fn verify(&self) -> Result<Verification> {
        self.verify_with(|_| {})
    }

    /// [`verify`](Self::verify), calling `visit` with each valid record in
    /// order (for progress).
    ///
    /// # Errors
    /// As [`verify`](Self::verify).
    pub fn verify_with(&self, mut visit: impl FnMut(&RecordView<'_>)) -> Result<Verification> {
        let mut v = Verification {
            segments: self.segments.len(),
            ..Verification::default()
        };
        let mut rest: &[u32] = &self.segments;
        while !rest.is_empty() {
            let mut cursor = RecordCursor::new(&self.dir, rest.to_vec());
            let stats = &mut v.stats;
            match cursor.for_each_view(|view| {
                visit(&view);
                stats.visit(&view);
            }) {
                Ok(()) => {
                    let report = cursor.into_report();
                    (v.tail, v.free_bytes) = (report.tail, report.free_bytes);
                    break;
                }
                Err(Error::Corrupt {
                    segment,
                    offset,
                    path,
                    kind,
                }) => {
                    v.damage.push(Damage {
                        segment,
                        offset,
                        path,
                        kind,
                        records_before: v.stats.records,
                    });
                    let next = rest
                        .iter()
                        .position(|&id| id > segment)
                        .unwrap_or(rest.len());
                    rest = &rest[next..];
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(t) = v.tail.as_mut() {
            t.intact_frames_cut = Some(count_intact_frames(
                &segment_path(&self.dir, t.segment),
                t.offset,
            )?);
        }
        Ok(v)
    }
}

/// A read-only key/value snapshot: the [`crate::DataWal`] projection of a
/// store, built without the writer's lock (safe while a writer appends, and
/// for a user who cannot write the directory). Like [`RecordLogReader`], it
/// sees the segments as they were at [`open`](Self::open) and changes
/// nothing on disk; a torn tail ends its view and is reported.
#[derive(Debug)]
pub struct DataWalReader {
    reader: RecordLogReader,
    proj: Projection,
    report: RecoveryReport,
    stats: LogStats,
}

/// What a [`DataWalReader`] builds from the records it replays.
struct ReaderFold<V> {
    replay: Replay,
    stats: LogStats,
    visit: V,
}

impl<V: FnMut(&RecordView<'_>)> Fold for ReaderFold<V> {
    const KEYS: bool = true;

    fn hinted(&mut self, hint: &Hint) {
        self.stats.hinted(hint);
    }

    #[inline]
    fn key_op(&mut self, op: KeyOp<'_>) {
        self.replay.key_op(op);
    }

    #[inline]
    fn record(&mut self, view: &RecordView<'_>) {
        (self.visit)(view);
        self.stats.visit(view);
        self.replay.visit(view);
    }
}

impl DataWalReader {
    /// Replay the store in `dir` into a key directory, taking the records
    /// of hinted segment prefixes from their hint files (`{id:08}.hint`,
    /// see `docs/canon.md`) as a writer's open does.
    ///
    /// # Errors
    /// As [`RecordLogReader::open`]; [`Error::Corrupt`] for damage that is
    /// not a torn tail; [`Error::Exhausted`] when more than 4,294,967,295
    /// keys would be live.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let reader = RecordLogReader::open(dir)?;
        let hints = hint::plan(&reader.dir, &reader.segments);
        Self::replay(reader, hints, |_| {})
    }

    /// [`open`](Self::open), calling `visit` with every record replayed, in
    /// order (for progress, or counts of one's own): every segment is read,
    /// hints are not used.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_visit(dir: impl AsRef<Path>, visit: impl FnMut(&RecordView<'_>)) -> Result<Self> {
        let reader = RecordLogReader::open(dir)?;
        let hints = vec![None; reader.segments.len()];
        Self::replay(reader, hints, visit)
    }

    fn replay(
        reader: RecordLogReader,
        mut hints: Vec<Option<Hint>>,
        mut visit: impl FnMut(&RecordView<'_>),
    ) -> Result<Self> {
        let (dir, segments) = (&reader.dir, &reader.segments);
        let mut failures = 0;
        loop {
            let mut fold = ReaderFold {
                replay: Replay::with_hints(dir, segments, &hints),
                stats: LogStats::default(),
                visit: &mut visit,
            };
            match hint::replay(dir, segments, &hints, &mut fold)? {
                Replayed::Done(report) => {
                    let proj = fold.replay.finish(dir)?;
                    return Ok(DataWalReader {
                        proj,
                        report,
                        stats: fold.stats,
                        reader,
                    });
                }
                Replayed::BadHint(segment) => {
                    failures += 1;
                    hint::drop_bad(&mut hints, segment, failures);
                }
            }
        }
    }

    fn values(&self) -> Values<'_> {
        Values {
            proj: &self.proj,
            active: None,
        }
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        self.reader.dir()
    }

    /// The log snapshot the projection was built from.
    pub fn log(&self) -> &RecordLogReader {
        &self.reader
    }

    /// What the replay found (a torn tail is reported here, not repaired).
    pub fn recovery_report(&self) -> &RecoveryReport {
        &self.report
    }

    /// Counts over the records replayed.
    pub fn stats(&self) -> &LogStats {
        &self.stats
    }

    crate::projection::key_directory_reads!();

    /// The live value of `key`, read from disk and CRC-checked.
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the bytes at the recorded position are no
    /// longer that record (a writer compacted or repaired the store since),
    /// [`Error::Io`].
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.values().get(key)
    }

    /// The live record of `key` (the Put, with its txid and position),
    /// read from disk and CRC-checked.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn get_record(&self, key: &[u8]) -> Result<Option<Record>> {
        self.values().get_record(key)
    }

    /// Every live `(key, value)`, sorted by key.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn items(&self) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.values().items()
    }

    /// Every live key with its value, in key order, read in batches.
    pub fn iter(&self) -> LiveIter<'_> {
        LiveIter::new(self.values())
    }

    /// The lines of [`export_jsonl`](Self::export_jsonl), written to `w`
    /// (standard output, a pipe).
    ///
    /// # Errors
    /// As [`get`](Self::get); [`Error::Io`] naming `-` when `w` fails.
    pub fn write_jsonl(&self, mut w: impl std::io::Write) -> Result<()> {
        self.values().write_jsonl(&mut w, Path::new("-"))
    }

    /// [`crate::DataWal::export_jsonl`] of the snapshot: the same bytes.
    ///
    /// # Errors
    /// As [`get`](Self::get), [`Error::Io`].
    pub fn export_jsonl(&self, out: impl AsRef<Path>) -> Result<()> {
        self.values().export_jsonl(out.as_ref())
    }
}
