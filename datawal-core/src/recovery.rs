//! Reading segments: the streaming frame scanner, the record cursor, and
//! recovery of the longest valid prefix (with torn-tail repair for the writer).
//!
//! Rules (normative text in `docs/canon.md`):
//! - A closed segment (any but the last) must be clean to its end: any damage
//!   is [`Error::Corrupt`].
//! - In the last segment, a truncated frame, a CRC mismatch, or a zero-filled
//!   header (what a crash can leave) ends the valid prefix: a *torn tail*,
//!   reported in [`RecoveryReport::tail`]. Bad magic other than zeros, an
//!   unknown version or record type, non-zero flags and oversize lengths are
//!   hard errors anywhere.
//! - Everything after the first damage in the last segment is the tail, even
//!   when intact frames follow it (a crash can write pages back out of
//!   order): the writer keeps those bytes aside and reports how many intact
//!   frames they hold.

use std::convert::Infallible;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use crate::crc::{crc32c_lanes, LANES};
use crate::error::{CorruptKind, Error, Result};
use crate::format::{
    decode_frame, frame_parts, Decoded, Header, RecordType, CRC_LEN, HEADER_LEN, MAGIC,
};
use crate::segment::{open_segment, segment_path};

/// Bytes read from a segment per `read` call.
const CHUNK: usize = 1 << 20;

/// A record decoded from disk, borrowing its key and payload from the
/// cursor's buffer (valid until the cursor moves on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// Record type.
    pub record_type: RecordType,
    /// Transaction id.
    pub txid: u64,
    /// Key bytes (empty for records written by `append`).
    pub key: &'a [u8],
    /// Payload bytes.
    pub payload: &'a [u8],
    /// Segment id.
    pub segment: u32,
    /// Offset of the frame within the segment.
    pub offset: u64,
    /// Frame length on disk.
    pub len: u32,
}

impl RecordView<'_> {
    /// Copy into an owned [`Record`].
    pub fn to_record(&self) -> Record {
        Record {
            record_type: self.record_type,
            txid: self.txid,
            key: self.key.to_vec(),
            payload: self.payload.to_vec(),
            segment: self.segment,
            offset: self.offset,
            len: self.len,
        }
    }

    /// Where the record is.
    pub fn position(&self) -> RecordRef {
        RecordRef {
            segment: self.segment,
            offset: self.offset,
            len: self.len,
        }
    }
}

/// A decoded record, owning its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Record type.
    pub record_type: RecordType,
    /// Transaction id.
    pub txid: u64,
    /// Key bytes (empty for records written by `append`).
    pub key: Vec<u8>,
    /// Payload bytes.
    pub payload: Vec<u8>,
    /// Segment id.
    pub segment: u32,
    /// Offset of the frame within the segment.
    pub offset: u64,
    /// Frame length on disk.
    pub len: u32,
}

impl Record {
    /// Where the record is (for [`crate::RecordLog::read_at`]).
    pub fn position(&self) -> RecordRef {
        RecordRef {
            segment: self.segment,
            offset: self.offset,
            len: self.len,
        }
    }
}

/// Where a record is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordRef {
    /// Segment id (the file `{segment:08}.dwal`).
    pub segment: u32,
    /// Offset of the frame's header within the segment.
    pub offset: u64,
    /// Frame length: header, key, payload and CRC.
    pub len: u32,
}

/// A torn tail found at the end of the last segment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TailDamage {
    /// Segment id.
    pub segment: u32,
    /// Where the valid prefix ends (the damaged frame's offset).
    pub offset: u64,
    /// How many bytes follow the valid prefix.
    pub bytes: u64,
    /// What was found at `offset`.
    pub kind: CorruptKind,
    /// Where the writer saved the cut bytes before truncating the segment
    /// (`None` for read-only scans, which change nothing).
    pub saved_to: Option<PathBuf>,
    /// How many CRC-valid frames the cut bytes still contain after the
    /// damage, counted by the writer's repair (`None` for read-only scans).
    /// Non-zero means records were cut that a crash alone does not explain
    /// (for example a store where the published crate appended after torn
    /// bytes, or media damage): they are in the `saved_to` file.
    pub intact_frames_cut: Option<u64>,
}

/// What a scan or recovery found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryReport {
    /// Segment files read.
    pub files_scanned: u32,
    /// Valid records found.
    pub records_replayed: u64,
    /// 1 when the last segment had a torn tail, else 0.
    pub tail_truncated: u32,
    /// Bytes after the valid prefix of the last segment.
    pub tail_bytes_discarded: u64,
    /// Always 0: damage that is not a torn tail is an error, not a count.
    #[deprecated(
        since = "0.2.0",
        note = "always 0, kept for the published 0.1 API: damage that is not a torn tail is an Error::Corrupt"
    )]
    pub mid_stream_errors: u32,
    /// Always 0: unknown versions are an error.
    #[deprecated(
        since = "0.2.0",
        note = "always 0, kept for the published 0.1 API: an unknown wire version is an Error::Corrupt"
    )]
    pub unsupported_versions: u32,
    /// Highest txid seen, 0 when there are no records.
    pub last_txid_seen: u64,
    /// The torn tail, if any, and where its bytes were saved.
    pub tail: Option<TailDamage>,
}

/// One step of a segment scanner.
enum Step {
    Frame { at: usize, header: Header },
    End,
    Damage { offset: u64, kind: CorruptKind },
}

/// Streams frames out of one segment file with a bounded buffer.
struct SegmentScanner {
    file: File,
    path: PathBuf,
    /// First buffer size: the file's length at open, within `HEADER_LEN..=CHUNK`.
    floor: usize,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    base: u64,
    eof: bool,
    /// Frames after `pos` already checked (CRC included), with their
    /// positions in `buf`: `ahead[next..len]` are still to be returned.
    ahead: Ahead,
}

/// Up to [`LANES`] frames whose CRCs were checked together.
struct Ahead {
    frames: [(usize, Header); LANES],
    next: usize,
    len: usize,
}

/// A placeholder for an unused slot of [`Ahead`] (never returned).
const NO_FRAME: (usize, Header) = (
    0,
    Header {
        record_type: RecordType::Raw,
        txid: 0,
        key_len: 0,
        payload_len: 0,
    },
);

impl Default for Ahead {
    fn default() -> Self {
        Ahead {
            frames: [NO_FRAME; LANES],
            next: 0,
            len: 0,
        }
    }
}

impl SegmentScanner {
    /// Scan the segment at `path` from byte `start` on (a frame boundary).
    fn open(path: PathBuf, start: u64) -> Result<Self> {
        let mut file = open_segment(OpenOptions::new().read(true), &path)
            .map_err(|e| Error::io("open segment", &path, e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io("stat segment", &path, e))?
            .len();
        if start > 0 {
            file.seek(SeekFrom::Start(start))
                .map_err(|e| Error::io("seek segment", &path, e))?;
        }
        Ok(SegmentScanner {
            file,
            path,
            floor: (len.saturating_sub(start).min(CHUNK as u64) as usize).max(HEADER_LEN),
            buf: Vec::new(),
            pos: 0,
            end: 0,
            base: start,
            eof: false,
            ahead: Ahead::default(),
        })
    }

    /// Make at least `needed` unconsumed bytes available, or reach EOF.
    fn fill(&mut self, needed: usize) -> Result<()> {
        // Positions move below; nothing is ahead anyway when a refill is due.
        self.ahead = Ahead::default();
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.base += self.pos as u64;
            self.end -= self.pos;
            self.pos = 0;
        }
        let cap = needed.max(self.floor);
        while self.end < needed {
            if self.end == self.buf.len() {
                // Start from the file's size (small segments get small
                // buffers) and grow by doubling toward the frame's declared
                // length, so a garbage length on a short file costs no big
                // allocation.
                let len = (self.buf.len() * 2).max(self.floor).min(cap);
                self.buf.resize(len, 0);
            }
            match self.file.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => self.end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io("read segment", &self.path, e)),
            }
        }
        Ok(())
    }

    /// The next frame when it is complete in the buffer and valid: the hot
    /// path, with no error values built. `None` sends the caller to
    /// [`advance`](Self::advance).
    #[inline]
    fn next_fast(&mut self) -> Option<(usize, Header)> {
        if self.ahead.next == self.ahead.len {
            self.check_ahead();
        }
        let &(at, header) = self.ahead.frames[..self.ahead.len].get(self.ahead.next)?;
        self.ahead.next += 1;
        self.pos = at + header.frame_len() as usize;
        Some((at, header))
    }

    /// Check the complete frames from `pos` on, up to [`LANES`] of them, and
    /// keep the leading run that is valid for [`next_fast`](Self::next_fast).
    fn check_ahead(&mut self) {
        let (frames, len) = checked_batch(self.buf.get(..self.end).unwrap_or_default(), self.pos);
        self.ahead = Ahead {
            frames,
            next: 0,
            len,
        };
    }

    /// Hand every frame from `pos` on that is complete and valid to `f`,
    /// checked [`LANES`] at a time; stop before the first one that is not
    /// (for [`advance`](Self::advance) to deal with), or after the one for
    /// which `f` breaks. The batch loop behind
    /// [`RecordCursor::try_for_each_view`]: positions and counts stay in
    /// locals and are written back once.
    fn drain<B>(
        &mut self,
        segment: u32,
        report: &mut RecoveryReport,
        f: &mut impl FnMut(RecordView<'_>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        // Frames `next_view` already checked come first.
        let Ahead {
            mut frames,
            mut next,
            mut len,
        } = std::mem::take(&mut self.ahead);
        let buf = self.buf.get(..self.end).unwrap_or_default();
        let mut pos = self.pos;
        let (mut records, mut last_txid) = (0u64, report.last_txid_seen);
        let flow = 'batches: loop {
            for &(at, header) in frames.get(next..len).unwrap_or_default() {
                pos = at + header.frame_len() as usize;
                records += 1;
                last_txid = last_txid.max(header.txid);
                if let ControlFlow::Break(b) = f(view_at(buf, at, header, segment, self.base)) {
                    break 'batches ControlFlow::Break(b);
                }
            }
            (frames, len) = checked_batch(buf, pos);
            next = 0;
            if len == 0 {
                break ControlFlow::Continue(());
            }
        };
        self.pos = pos;
        report.records_replayed += records;
        report.last_txid_seen = last_txid;
        flow
    }

    fn advance(&mut self) -> Result<Step> {
        loop {
            let offset = self.base + self.pos as u64;
            match decode_frame(&self.buf[self.pos..self.end]) {
                Ok(Decoded::Frame(f)) => {
                    let at = self.pos;
                    self.pos += f.header.frame_len() as usize;
                    return Ok(Step::Frame {
                        at,
                        header: f.header,
                    });
                }
                Ok(Decoded::Incomplete { available, needed }) => {
                    if self.eof {
                        return Ok(if available == 0 {
                            Step::End
                        } else {
                            Step::Damage {
                                offset,
                                kind: CorruptKind::Truncated { available, needed },
                            }
                        });
                    }
                    // `needed` is at most MAX_FRAME_LEN: lengths were checked.
                    self.fill(needed as usize)?;
                }
                Err(kind) => return Ok(Step::Damage { offset, kind }),
            }
        }
    }
}

/// A lending cursor over the records of a set of segments, in order.
///
/// Returned by [`crate::RecordLog::cursor`] and
/// [`crate::RecordLogReader::cursor`]. Memory is bounded by one read chunk
/// (1 MiB) or the largest record, whichever is larger.
pub struct RecordCursor {
    dir: PathBuf,
    ids: Vec<u32>,
    idx: usize,
    /// Where the first segment is read from (0 once it is open).
    start: u64,
    scanner: Option<SegmentScanner>,
    report: RecoveryReport,
    done: bool,
}

impl std::fmt::Debug for RecordCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordCursor")
            .field("dir", &self.dir)
            .field("segments", &self.ids)
            .field("idx", &self.idx)
            .finish_non_exhaustive()
    }
}

impl RecordCursor {
    pub(crate) fn new(dir: &Path, ids: Vec<u32>) -> Self {
        Self::new_at(dir, ids, 0)
    }

    /// A cursor over `ids` that reads the first of them from byte `start`
    /// on, which must be where a frame starts (or the end of the valid
    /// prefix): `cursor_from` and the follower start mid-segment.
    pub(crate) fn new_at(dir: &Path, ids: Vec<u32>, start: u64) -> Self {
        RecordCursor {
            dir: dir.to_path_buf(),
            ids,
            idx: 0,
            start,
            scanner: None,
            report: RecoveryReport::default(),
            done: false,
        }
    }

    /// The next record, or `None` at the end of the valid prefix.
    ///
    /// # Errors
    /// [`Error::Corrupt`] for damage that is not a torn tail, [`Error::Io`]
    /// when a segment cannot be read. After an error the cursor is finished.
    pub fn next_view(&mut self) -> Result<Option<RecordView<'_>>> {
        let fast = match self.scanner.as_mut() {
            Some(scanner) if !self.done => scanner.next_fast(),
            _ => None,
        };
        let (at, header) = match fast {
            Some(step) => step,
            None => match self.next_slow()? {
                Some(step) => step,
                None => return Ok(None),
            },
        };
        self.report.records_replayed += 1;
        self.report.last_txid_seen = self.report.last_txid_seen.max(header.txid);
        let (Some(scanner), Some(&id)) = (self.scanner.as_ref(), self.ids.get(self.idx)) else {
            return Ok(None);
        };
        Ok(Some(view_at(&scanner.buf, at, header, id, scanner.base)))
    }

    /// Call `f` with every remaining record, in order: the fastest way
    /// through a log. [`next_view`](Self::next_view) returns to the caller
    /// after each record; this loop keeps its state in locals and checks
    /// frames in batches.
    ///
    /// # Errors
    /// As [`next_view`](Self::next_view); `f` has seen every record before
    /// the damage.
    pub fn for_each_view(&mut self, mut f: impl FnMut(RecordView<'_>)) -> Result<()> {
        let done: ControlFlow<Infallible> = self.try_for_each_view(|view| {
            f(view);
            ControlFlow::Continue(())
        })?;
        let ControlFlow::Continue(()) = done;
        Ok(())
    }

    /// [`for_each_view`](Self::for_each_view) with an early exit: stops
    /// after the record for which `f` returns [`ControlFlow::Break`], and
    /// returns that. The cursor can go on from the next record.
    ///
    /// # Errors
    /// As [`next_view`](Self::next_view).
    pub fn try_for_each_view<B>(
        &mut self,
        mut f: impl FnMut(RecordView<'_>) -> ControlFlow<B>,
    ) -> Result<ControlFlow<B>> {
        loop {
            if let (Some(scanner), Some(&id), false) =
                (self.scanner.as_mut(), self.ids.get(self.idx), self.done)
            {
                if let ControlFlow::Break(b) = scanner.drain(id, &mut self.report, &mut f) {
                    return Ok(ControlFlow::Break(b));
                }
            }
            // A refill, the next segment, damage or the end.
            let Some(view) = self.next_view()? else {
                return Ok(ControlFlow::Continue(()));
            };
            if let ControlFlow::Break(b) = f(view) {
                return Ok(ControlFlow::Break(b));
            }
        }
    }

    /// Everything but the hot path: opening segments, refilling the buffer,
    /// the end of a segment, damage.
    #[cold]
    fn next_slow(&mut self) -> Result<Option<(usize, Header)>> {
        let step = loop {
            if self.done {
                return Ok(None);
            }
            let Some(&id) = self.ids.get(self.idx) else {
                self.done = true;
                return Ok(None);
            };
            if self.scanner.is_none() {
                let start = std::mem::take(&mut self.start);
                match SegmentScanner::open(segment_path(&self.dir, id), start) {
                    Ok(s) => self.scanner = Some(s),
                    Err(e) => {
                        self.done = true;
                        return Err(e);
                    }
                }
                self.report.files_scanned += 1;
            }
            let Some(scanner) = self.scanner.as_mut() else {
                continue;
            };
            match scanner.advance() {
                Ok(Step::Frame { at, header }) => break (at, header),
                Ok(Step::End) => {
                    self.scanner = None;
                    self.idx += 1;
                }
                Ok(Step::Damage { offset, kind }) => {
                    self.done = true;
                    let is_last = self.idx + 1 == self.ids.len();
                    return match self.tail_or_corrupt(id, offset, kind, is_last) {
                        Ok(()) => Ok(None),
                        Err(e) => Err(e),
                    };
                }
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        };
        Ok(Some(step))
    }

    fn tail_or_corrupt(
        &mut self,
        id: u32,
        offset: u64,
        kind: CorruptKind,
        is_last: bool,
    ) -> Result<()> {
        let path = segment_path(&self.dir, id);
        let tail_like = match &kind {
            CorruptKind::Truncated { .. } | CorruptKind::CrcMismatch { .. } => true,
            CorruptKind::BadMagic { found } if *found == [0; 4] => true,
            // The scanner still holds the damaged header (these kinds are
            // only found on a whole one).
            CorruptKind::BadMagic { .. } | CorruptKind::UnknownVersion { found: 0 } => self
                .scanner
                .as_ref()
                .and_then(|s| s.buf.get(s.pos..s.end))
                .is_some_and(zero_filled_from_inside_magic),
            _ => false,
        };
        if !(is_last && tail_like) {
            return Err(Error::Corrupt {
                segment: id,
                offset,
                path,
                kind,
            });
        }
        let file_len = std::fs::metadata(&path)
            .map_err(|e| Error::io("stat segment", &path, e))?
            .len();
        let bytes = file_len.saturating_sub(offset);
        self.report.tail_truncated = 1;
        self.report.tail_bytes_discarded = bytes;
        self.report.tail = Some(TailDamage {
            segment: id,
            offset,
            bytes,
            kind,
            saved_to: None,
            intact_frames_cut: None,
        });
        Ok(())
    }

    /// What the cursor has found so far; complete once `next_view` returned `None`.
    pub fn report(&self) -> &RecoveryReport {
        &self.report
    }

    /// The segment ids this cursor reads.
    pub fn segments(&self) -> &[u32] {
        &self.ids
    }

    /// The stored CRC-32C of the frame [`next_view`](Self::next_view)
    /// returned last (what a follower keeps to notice that the bytes it
    /// read were cut and replaced). `None` before the first record.
    pub(crate) fn last_crc(&self) -> Option<u32> {
        let s = self.scanner.as_ref()?;
        let crc = s.buf.get(s.pos.checked_sub(CRC_LEN)?..s.pos)?;
        Some(u32::from_le_bytes(crc.try_into().ok()?))
    }

    pub(crate) fn into_report(self) -> RecoveryReport {
        self.report
    }
}

/// The complete frames from `at` on in `buf` that pass every check, CRC
/// included, up to [`LANES`] of them, with their CRCs computed in one
/// interleaved pass: their positions and headers, and how many lead the
/// array. Stops before the first frame that is incomplete or damaged.
#[inline(always)]
fn checked_batch(buf: &[u8], mut at: usize) -> ([(usize, Header); LANES], usize) {
    let mut frames = [NO_FRAME; LANES];
    let mut bodies: [&[u8]; LANES] = [&[]; LANES];
    let mut stored = [0u32; LANES];
    let mut n = 0;
    while n < LANES {
        let Some((header, body, crc)) = buf.get(at..).and_then(frame_parts) else {
            break;
        };
        (frames[n], bodies[n], stored[n]) = ((at, header), body, crc);
        at += body.len() + CRC_LEN;
        n += 1;
    }
    if n == 0 {
        return (frames, 0);
    }
    let computed = crc32c_lanes(&bodies);
    let mut valid = 0;
    while valid < n && computed[valid] == stored[valid] {
        valid += 1;
    }
    (frames, valid)
}

/// The record whose validated frame starts at `at` in `buf`, which holds
/// the segment's bytes from offset `base` on.
#[inline]
fn view_at(buf: &[u8], at: usize, header: Header, segment: u32, base: u64) -> RecordView<'_> {
    let key_start = at + HEADER_LEN;
    let key_end = key_start + header.key_len as usize;
    let payload_end = key_end + header.payload_len as usize;
    RecordView {
        record_type: header.record_type,
        txid: header.txid,
        key: &buf[key_start..key_end],
        payload: &buf[key_end..payload_end],
        segment,
        offset: base + at as u64,
        len: header.frame_len() as u32,
    }
}

/// `true` when `header` (a frame's first bytes, at least a header's worth)
/// is the start of the magic followed by zeros (`D\0\0\0…`, `DWAL\0\0…`): a
/// crash zero-filled the blocks from inside the magic on. Only the magic and
/// the version can fail that way; zeros are valid for every later field
/// (type Raw, flags, lengths).
fn zero_filled_from_inside_magic(header: &[u8]) -> bool {
    let h = header.get(..HEADER_LEN).unwrap_or(header);
    let z = h.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    z <= MAGIC.len() && h[..z] == MAGIC[..z]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::encode_into;

    /// Frames of many sizes, some larger than a read chunk, crossing chunk
    /// boundaries everywhere: the scanner returns each one, in place.
    #[test]
    fn frames_across_chunk_boundaries_and_larger_than_a_chunk() {
        let td = tempfile::tempdir().unwrap();
        let mut bytes = Vec::new();
        let mut expected = Vec::new();
        let mut size = 1usize;
        for i in 0..60u64 {
            size = (size * 7 + 13_001) % (3 * CHUNK / 2);
            let payload: Vec<u8> = (0..size).map(|j| (j as u64 ^ i) as u8).collect();
            expected.push((bytes.len() as u64, payload.clone()));
            encode_into(&mut bytes, RecordType::Raw, i + 1, b"k", &payload);
        }
        assert!(bytes.len() > 10 * CHUNK);
        std::fs::write(segment_path(td.path(), 1), &bytes).unwrap();
        let mut cursor = RecordCursor::new(td.path(), vec![1]);
        let mut got = Vec::new();
        while let Some(v) = cursor.next_view().unwrap() {
            assert_eq!(v.key, b"k");
            got.push((v.offset, v.payload.to_vec()));
        }
        assert!(got == expected, "records differ");
        assert!(cursor.report().tail.is_none());
        assert_eq!(cursor.report().last_txid_seen, 60);
    }

    #[test]
    fn a_huge_declared_length_on_a_tiny_file_is_a_tail_not_an_allocation() {
        let td = tempfile::tempdir().unwrap();
        let mut header = Vec::new();
        encode_into(&mut header, RecordType::Raw, 1, b"", b"");
        header[20..24].copy_from_slice(&crate::format::MAX_PAYLOAD_LEN.to_le_bytes());
        std::fs::write(segment_path(td.path(), 1), &header).unwrap();
        let mut cursor = RecordCursor::new(td.path(), vec![1]);
        assert!(cursor.next_view().unwrap().is_none());
        let tail = cursor.report().tail.clone().unwrap();
        assert!(matches!(
            tail.kind,
            CorruptKind::Truncated { available: 28, .. }
        ));
        // The buffer grows only as far as the file's bytes justify.
        assert!(cursor.scanner.as_ref().is_some_and(|s| s.buf.len() <= 64));
    }

    /// Everything a cursor reports: `first` records read with `next_view`,
    /// five with `try_for_each_view` breaking after the fifth, the rest with
    /// `for_each_view` (`first = usize::MAX`: all with `next_view`).
    fn read_all(dir: &Path, ids: &[u32], first: usize) -> (Vec<Record>, String) {
        let mut cursor = RecordCursor::new(dir, ids.to_vec());
        let mut got = Vec::new();
        let mut outcome = Ok(());
        while got.len() < first {
            match cursor.next_view() {
                Ok(Some(v)) => got.push(v.to_record()),
                Ok(None) => break,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        if outcome.is_ok() && first != usize::MAX {
            // Five records through the early exit, then the rest.
            let mut budget = 5;
            outcome = cursor
                .try_for_each_view(|v| {
                    got.push(v.to_record());
                    budget -= 1;
                    if budget == 0 {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })
                .and_then(|_| cursor.for_each_view(|v| got.push(v.to_record())));
        }
        (got, format!("{outcome:?} {:?}", cursor.report()))
    }

    /// `for_each_view` checks frames in batches; it must return what
    /// `next_view` returns, record for record, with the same report or error,
    /// whatever frame of a batch is damaged and wherever the switch from
    /// `next_view` happens.
    #[test]
    fn the_batch_loop_agrees_with_next_view_on_clean_and_damaged_logs() {
        let td = tempfile::tempdir().unwrap();
        let mut segments = [Vec::new(), Vec::new()];
        let mut starts = Vec::new();
        for i in 0..40u64 {
            let seg = usize::from(i >= 25);
            let key = vec![b'k'; (i % 5) as usize];
            let payload: Vec<u8> = (0..(i * 37 % 150)).map(|j| (i + j) as u8).collect();
            starts.push((seg, segments[seg].len()));
            encode_into(&mut segments[seg], RecordType::Put, i + 1, &key, &payload);
        }
        // No damage, then one flipped byte in each frame in turn: in a closed
        // segment that is corruption, in the last a torn tail.
        for damaged in std::iter::once(None).chain(starts.iter().copied().enumerate().map(Some)) {
            let mut segs = segments.clone();
            if let Some((_, (seg, at))) = damaged {
                segs[seg][at + HEADER_LEN] ^= 0x40;
            }
            for (id, bytes) in (1..).zip(&segs) {
                std::fs::write(segment_path(td.path(), id), bytes).unwrap();
            }
            let want = read_all(td.path(), &[1, 2], usize::MAX);
            for first in [0, 1, 3, 6, 26] {
                let got = read_all(td.path(), &[1, 2], first);
                assert_eq!(got, want, "damage {damaged:?}, switch after {first}");
            }
            // Every record before the damaged one, and none after it.
            let (kept, outcome) = &want;
            match damaged {
                None => assert_eq!(kept.len(), 40),
                Some((k, (seg, _))) => {
                    assert_eq!(kept.len(), k, "damage in record {k}");
                    assert_eq!(outcome.starts_with("Err(Corrupt"), seg == 0, "{outcome}");
                    assert_eq!(outcome.contains("tail: Some"), seg == 1, "{outcome}");
                }
            }
        }
    }
}
