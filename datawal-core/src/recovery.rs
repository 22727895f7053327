//! The record cursor and the recovery policy: reading the segments of a
//! log in order through the scanner (`scanner.rs`), and judging damage as a
//! torn tail or corruption. The repair of a torn tail is `tail.rs`.
//!
//! Rules (normative text in `docs/canon.md`):
//! - A closed segment (any but the last) must be clean to its end: any damage
//!   is [`Error::Corrupt`].
//! - In the last segment, a truncated frame, a CRC mismatch, or a zero-filled
//!   header, or a magic whose first bytes are zeros and the rest the
//!   magic's (what a crash can leave, and what a lock-free reader sees of
//!   a frame being copied) ends the valid prefix: a *torn tail*,
//!   reported in [`RecoveryReport::tail`]. Bad magic other than zeros, an
//!   unknown version or record type, non-zero flags and oversize lengths are
//!   hard errors anywhere.
//! - In the last segment, zeros from a frame boundary to the end of the file
//!   are free space, not damage: where [`crate::LogOptions::preallocate`]
//!   reserved room, or where a crash zero-filled unsynced appends. They end
//!   the valid prefix and are counted in [`RecoveryReport::free_bytes`];
//!   no tail is reported, nothing is kept aside. A non-zero byte anywhere
//!   after the boundary makes it all a torn tail, as before.
//! - Everything after the first damage in the last segment is the tail, even
//!   when intact frames follow it (a crash can write pages back out of
//!   order): the writer keeps those bytes aside and reports how many intact
//!   frames they hold.

use std::convert::Infallible;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use crate::error::{CorruptKind, Error, Result};
use crate::format::{Header, CRC_LEN, HEADER_LEN, MAGIC};
pub use crate::record::{Record, RecordRef, RecordView, RecoveryReport, TailDamage};
use crate::scanner::{view_at, SegmentScanner, Step};
use crate::segment::segment_path;

/// The recovery policy: `true` when damage of `kind` in a segment that is
/// (`is_last`) or is not the last one is a torn tail, what a crash can
/// leave, rather than corruption. `damaged` holds the bytes from the
/// damaged frame's start (at least its header when the scanner has it).
pub(crate) fn is_torn_tail(kind: &CorruptKind, is_last: bool, damaged: &[u8]) -> bool {
    let tail_like = match kind {
        CorruptKind::Truncated { .. } | CorruptKind::CrcMismatch { .. } => true,
        CorruptKind::BadMagic { found } if *found == [0; 4] => true,
        CorruptKind::BadMagic { found } if magic_after_zeros(found) => true,
        // These kinds are only found on a whole header.
        CorruptKind::BadMagic { .. } | CorruptKind::UnknownVersion { found: 0 } => {
            zero_filled_from_inside_magic(damaged)
        }
        _ => false,
    };
    is_last && tail_like
}

/// The recovery policy for zeros: `true` when damage found at a frame
/// boundary of a segment that is (`is_last`) or is not the last one may be
/// the start of free space, zeros to the end of the file. `damaged` holds
/// the bytes from the boundary on that the scanner has; the caller then
/// reads the rest of the file to confirm that it is zeros too.
pub(crate) fn may_be_free_space(is_last: bool, damaged: &[u8]) -> bool {
    is_last && !damaged.is_empty() && damaged.iter().all(|&b| b == 0)
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
    /// Where each segment is read from: `starts[i]` for `ids[i]`, 0 past
    /// its end (a mid-segment start, or a prefix read from a hint file).
    starts: Vec<u64>,
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
            starts: vec![start],
            scanner: None,
            report: RecoveryReport::default(),
            done: false,
        }
    }

    /// Read segment `ids[i]` from byte `starts[i]` on (where a frame
    /// starts), not from 0: the bytes before were taken from its hint file
    /// (`hint.rs`).
    pub(crate) fn starting_at(mut self, starts: Vec<u64>) -> Self {
        self.starts = starts;
        self
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
                let start = self.starts.get(self.idx).copied().unwrap_or(0);
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
        if let Some(scanner) = self.scanner.as_mut() {
            let held = scanner.buf.get(scanner.pos..scanner.end);
            if may_be_free_space(is_last, held.unwrap_or_default()) {
                if let Some(bytes) = scanner.zeros_to_end()? {
                    self.report.free_bytes = bytes;
                    return Ok(());
                }
            }
        }
        // The scanner still holds the damaged frame's bytes.
        let damaged = self
            .scanner
            .as_ref()
            .and_then(|s| s.buf.get(s.pos..s.end))
            .unwrap_or_default();
        if !is_torn_tail(&kind, is_last, damaged) {
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

/// `true` when `found` is zeros, then the rest of the magic (`\0\0\0L`,
/// `\0WAL`): a frame's first bytes not yet written, or not written back,
/// and the ones after them written. A lock-free reader sees this when it
/// reads a frame that a writer is copying into zero-filled space
/// (`LogOptions::preallocate`) while it reads: its copy took the first
/// bytes before the writer's reached them, the next ones after (both copy
/// forwards; a read in two chunks does the same). A power cut can leave
/// it too, when the magic straddles two sectors and only the second was
/// written back. The opposite order, the magic's start then zeros, is
/// [`zero_filled_from_inside_magic`].
fn magic_after_zeros(found: &[u8; 4]) -> bool {
    match found.iter().position(|&b| b != 0) {
        Some(k) if k > 0 => found[k..] == MAGIC[k..],
        _ => false,
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
    use crate::format::RecordType;
    use crate::scanner::CHUNK;

    /// Frames of many sizes, some larger than a read chunk, crossing chunk
    /// boundaries everywhere: the scanner returns each one, in place.
    /// The policy alone, without files.
    #[test]
    fn the_policy_tells_a_torn_tail_from_corruption() {
        let zeros = [0u8; HEADER_LEN];
        let mut inside_magic = [0u8; HEADER_LEN];
        inside_magic[..2].copy_from_slice(b"DW");
        let mut garbage = [0u8; HEADER_LEN];
        garbage[..4].copy_from_slice(b"XWAL");
        let truncated = CorruptKind::Truncated {
            available: 3,
            needed: 24,
        };
        let crc = CorruptKind::CrcMismatch {
            stored: 1,
            computed: 2,
        };
        let zero_magic = CorruptKind::BadMagic { found: [0; 4] };
        let dw = CorruptKind::BadMagic {
            found: [b'D', b'W', 0, 0],
        };
        let xwal = CorruptKind::BadMagic { found: *b"XWAL" };
        let flags = CorruptKind::NonZeroFlags { found: 1 };
        for kind in [&truncated, &crc, &zero_magic] {
            assert!(is_torn_tail(kind, true, &zeros), "{kind:?}");
            assert!(
                !is_torn_tail(kind, false, &zeros),
                "{kind:?} in a closed segment"
            );
        }
        assert!(is_torn_tail(&dw, true, &inside_magic));
        assert!(!is_torn_tail(&xwal, true, &garbage));
        // Zeros, then the magic's rest (a frame read while being copied).
        let header = |found: [u8; 4]| {
            let mut h = [7u8; HEADER_LEN];
            h[..4].copy_from_slice(&found);
            h
        };
        for found in [*b"\0\0\0L", *b"\0\0AL", *b"\0WAL"] {
            let kind = CorruptKind::BadMagic { found };
            assert!(is_torn_tail(&kind, true, &header(found)), "{found:?}");
            assert!(!is_torn_tail(&kind, false, &header(found)), "{found:?}");
        }
        // Zeros, then anything else: corruption.
        for found in [*b"\0\0\0X", *b"\0\0WL", *b"\0DWA"] {
            let kind = CorruptKind::BadMagic { found };
            assert!(!is_torn_tail(&kind, true, &header(found)), "{found:?}");
        }
        assert!(!is_torn_tail(&flags, true, &zeros));
        let v0 = CorruptKind::UnknownVersion { found: 0 };
        let mut dwal = [0u8; HEADER_LEN];
        dwal[..4].copy_from_slice(b"DWAL");
        assert!(is_torn_tail(&v0, true, &dwal));
        dwal[10] = 1; // a non-zero byte past the version: not a zero-fill
        assert!(!is_torn_tail(&v0, true, &dwal));
    }

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
