//! Positioned reads, shared by [`crate::RecordLog`] and
//! [`crate::RecordLogReader`] (one implementation, both handles call it):
//!
//! - [`read_at`]: one record by its [`RecordRef`], one positioned read of
//!   the header and one of the rest, CRC-checked.
//! - [`cursor_from`]: a cursor from the first record whose txid is at least
//!   a given one. The segment is picked by a binary search over the
//!   segments' first txids (one 24-byte read per probe); only that segment
//!   is read up to the txid. The segments before it are not read.
//! - [`last_record`]: the newest record, reading only the last segment that
//!   holds one (the writer knows its last position and skips even that).
//! - [`first_available`]: the oldest txid left, and the rule of
//!   [`Error::Truncated`].

use std::fs::{File, OpenOptions};
use std::ops::ControlFlow;
use std::os::unix::fs::FileExt as _;
use std::path::Path;

use crate::error::{CorruptKind, Error, Result};
use crate::format::{decode_frame, decode_header, Decoded, HEADER_LEN, MAX_FRAME_LEN};
use crate::recovery::{Record, RecordCursor, RecordRef};
use crate::segment::{open_segment, segment_path};

/// The record at `at`: its frame must start at `at.offset` of segment
/// `at.segment`, be exactly `at.len` bytes long, complete and CRC-valid.
///
/// The header is read and checked first, so a position taken from anywhere
/// (a stale index, user input) costs no allocation beyond what its header
/// announces, and a length that disagrees with the header is refused
/// before the body is read.
///
/// Only the bytes at that position are read: a payload that itself holds
/// a complete, CRC-valid frame of exactly `at.len` bytes (a log whose
/// payloads are datawal frames) makes a position inside that payload look
/// like a record. Positions handed out by `append`, a scan, a cursor or a
/// follower always point at records.
///
/// # Errors
/// [`Error::NoRecordAt`] when there is no such record there (past the end,
/// inside a frame, a torn frame, another length); [`Error::Io`] when the
/// segment cannot be opened (for example removed) or read.
pub(crate) fn read_at(dir: &Path, at: RecordRef) -> Result<Record> {
    let path = segment_path(dir, at.segment);
    let no_record = |kind| Error::NoRecordAt {
        at,
        path: path.clone(),
        kind,
    };
    let file = open_segment(OpenOptions::new().read(true), &path)
        .map_err(|e| Error::io("open segment", &path, e))?;
    let mut header = [0u8; HEADER_LEN];
    let got = read_full_at(&file, &mut header, at.offset)
        .map_err(|e| Error::io("read segment", &path, e))?;
    if got < HEADER_LEN {
        return Err(no_record(CorruptKind::Truncated {
            available: got as u64,
            needed: HEADER_LEN as u64,
        }));
    }
    let frame_len = decode_header(&header).map_err(no_record)?.frame_len();
    if frame_len != u64::from(at.len) || frame_len > MAX_FRAME_LEN {
        return Err(no_record(CorruptKind::FrameLength {
            found: frame_len,
            expected: u64::from(at.len),
        }));
    }
    let mut frame = vec![0u8; frame_len as usize];
    frame[..HEADER_LEN].copy_from_slice(&header);
    let rest = read_full_at(
        &file,
        &mut frame[HEADER_LEN..],
        at.offset + HEADER_LEN as u64,
    )
    .map_err(|e| Error::io("read segment", &path, e))?;
    frame.truncate(HEADER_LEN + rest);
    match decode_frame(&frame).map_err(no_record)? {
        Decoded::Frame(f) => Ok(Record {
            record_type: f.header.record_type,
            txid: f.header.txid,
            key: f.key.to_vec(),
            payload: f.payload.to_vec(),
            segment: at.segment,
            offset: at.offset,
            len: at.len,
        }),
        Decoded::Incomplete { available, needed } => {
            Err(no_record(CorruptKind::Truncated { available, needed }))
        }
    }
}

/// Read into `buf` from `offset` until it is full or the file ends;
/// returns how many bytes were read.
pub(crate) fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// The txid of the first record of segment `id`: one read of its header.
/// `None` when the segment is empty, missing (removed meanwhile), or does
/// not start with a valid header (the cursor that reads it reports why).
pub(crate) fn first_txid(dir: &Path, id: u32) -> Result<Option<u64>> {
    let path = segment_path(dir, id);
    let file = match open_segment(OpenOptions::new().read(true), &path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("open segment", &path, e)),
    };
    let mut header = [0u8; HEADER_LEN];
    let got =
        read_full_at(&file, &mut header, 0).map_err(|e| Error::io("read segment", &path, e))?;
    if got < HEADER_LEN {
        return Ok(None);
    }
    Ok(decode_header(&header).ok().map(|h| h.txid))
}

/// The first txids of a list of segments, read on demand and kept.
struct FirstTxids<'a> {
    dir: &'a Path,
    ids: &'a [u32],
    known: Vec<Option<Option<u64>>>,
}

impl<'a> FirstTxids<'a> {
    fn new(dir: &'a Path, ids: &'a [u32]) -> Self {
        FirstTxids {
            dir,
            ids,
            known: vec![None; ids.len()],
        }
    }

    fn of(&mut self, i: usize) -> Result<Option<u64>> {
        if let Some(known) = self.known[i] {
            return Ok(known);
        }
        let txid = first_txid(self.dir, self.ids[i])?;
        self.known[i] = Some(txid);
        Ok(txid)
    }

    /// The first txid of the first segment from `i` on that has one, and
    /// that segment's index.
    fn from(&mut self, i: usize) -> Result<Option<(usize, u64)>> {
        for j in i..self.ids.len() {
            if let Some(txid) = self.of(j)? {
                return Ok(Some((j, txid)));
            }
        }
        Ok(None)
    }
}

/// The oldest txid the segments `ids` hold (the first record of the first
/// segment that has one); for a log whose records were all removed, the
/// txid floor retention left (the next record's txid); `None` when
/// neither says anything.
///
/// # Errors
/// [`Error::MetaFile`] for a damaged floor file; [`Error::Io`].
pub(crate) fn first_available(dir: &Path, ids: &[u32]) -> Result<Option<u64>> {
    match FirstTxids::new(dir, ids).from(0)? {
        Some((_, txid)) => Ok(Some(txid)),
        None => crate::floor::read_floor(dir),
    }
}

/// [`Error::Truncated`] when the record with txid `requested` was removed:
/// `requested` is at least 1 and below the oldest txid left.
pub(crate) fn check_available(requested: u64, first: Option<u64>) -> Result<()> {
    match first {
        Some(first_available) if requested >= 1 && first_available > requested => {
            Err(Error::Truncated {
                requested,
                first_available,
            })
        }
        _ => Ok(()),
    }
}

/// Where the first record with a txid of at least `txid` is, or would be:
/// the index in `ids` of the segment to read from, and the offset in it.
/// Binary search over the segments' first txids (an empty segment takes
/// the first txid of the next one that has records), then a CRC-checked
/// read of that one segment up to the record.
///
/// # Errors
/// [`Error::Truncated`] (see [`check_available`]), [`Error::Corrupt`] in
/// the segment read, [`Error::Io`].
pub(crate) fn locate(dir: &Path, ids: &[u32], txid: u64) -> Result<(usize, u64)> {
    let mut firsts = FirstTxids::new(dir, ids);
    match firsts.from(0)? {
        Some((_, first)) => check_available(txid, Some(first))?,
        None => check_available(txid, crate::floor::read_floor(dir)?)?,
    }
    // The last segment whose first txid (or the next one's, when empty) is
    // at most `txid`: `at_most(i)` is true, then false, as `i` grows.
    let (mut lo, mut hi) = (0, ids.len());
    let mut found = None;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match firsts.from(mid)? {
            Some((j, first)) if first <= txid => {
                found = Some(j);
                lo = j + 1;
            }
            _ => hi = mid,
        }
    }
    let Some(j) = found else {
        return Ok((0, 0));
    };
    // Within segment `j`: the first record at or past `txid`, or the end of
    // its valid prefix (the next segment then starts the answer; damage
    // there is found again, and named, by the cursor that reads on).
    let mut cursor = RecordCursor::new(dir, vec![ids[j]]);
    let mut end = 0;
    let flow = cursor.try_for_each_view(|v| {
        if v.txid >= txid {
            return ControlFlow::Break(v.offset);
        }
        end = v.offset + u64::from(v.len);
        ControlFlow::Continue(())
    })?;
    Ok(match flow {
        ControlFlow::Break(offset) => (j, offset),
        ControlFlow::Continue(()) => (j, end),
    })
}

/// A cursor over `ids` from the first record whose txid is at least
/// `txid` (all of them for 0).
///
/// # Errors
/// As [`locate`].
pub(crate) fn cursor_from(dir: &Path, ids: Vec<u32>, txid: u64) -> Result<RecordCursor> {
    if txid <= 1 && !ids.is_empty() {
        // From the start: only the truncation check is needed.
        check_available(txid, first_available(dir, &ids)?)?;
        return Ok(RecordCursor::new(dir, ids));
    }
    let (idx, offset) = locate(dir, &ids, txid)?;
    Ok(RecordCursor::new_at(
        dir,
        ids.get(idx..).unwrap_or_default().to_vec(),
        offset,
    ))
}

/// The newest record of `ids`: the last record of the last segment that
/// holds one, reading that segment only (and, going back, the empty ones
/// after it).
///
/// # Errors
/// [`Error::Corrupt`] for damage in the segment read that is not a torn
/// tail of the last segment; [`Error::Io`].
pub(crate) fn last_record(dir: &Path, ids: &[u32]) -> Result<Option<Record>> {
    for (i, &id) in ids.iter().enumerate().rev() {
        let mut cursor = RecordCursor::new(dir, vec![id]);
        let mut last = None;
        cursor.for_each_view(|v| last = Some(v.position()))?;
        if let Some(tail) = cursor.report().tail.as_ref() {
            if i + 1 < ids.len() {
                // A closed segment: what the cursor over all of them says.
                return Err(Error::Corrupt {
                    segment: id,
                    offset: tail.offset,
                    path: segment_path(dir, id),
                    kind: tail.kind.clone(),
                });
            }
        }
        if let Some(at) = last {
            return read_at(dir, at).map(Some);
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{encode_into, RecordType};

    #[test]
    fn full_reads_stop_at_the_end_of_the_file() {
        let td = tempfile::tempdir().unwrap();
        let path = td.path().join("f");
        std::fs::write(&path, b"abcdef").unwrap();
        let f = File::open(&path).unwrap();
        let mut buf = [0u8; 10];
        assert_eq!(read_full_at(&f, &mut buf, 2).unwrap(), 4);
        assert_eq!(&buf[..4], b"cdef");
        assert_eq!(read_full_at(&f, &mut buf, 9).unwrap(), 0);
    }

    #[test]
    fn first_txids_of_empty_missing_and_damaged_segments_are_none() {
        let td = tempfile::tempdir().unwrap();
        let mut frame = Vec::new();
        encode_into(&mut frame, RecordType::Raw, 42, b"", b"x");
        std::fs::write(segment_path(td.path(), 1), &frame).unwrap();
        std::fs::write(segment_path(td.path(), 2), b"").unwrap();
        std::fs::write(segment_path(td.path(), 3), b"DWAL").unwrap();
        std::fs::write(segment_path(td.path(), 4), [7u8; 40]).unwrap();
        assert_eq!(first_txid(td.path(), 1).unwrap(), Some(42));
        for id in [2, 3, 4, 5] {
            assert_eq!(first_txid(td.path(), id).unwrap(), None, "segment {id}");
        }
    }

    #[test]
    fn truncation_is_only_a_missing_txid_of_at_least_one() {
        assert!(check_available(0, Some(10)).is_ok());
        assert!(check_available(10, Some(10)).is_ok());
        assert!(check_available(11, Some(10)).is_ok());
        assert!(check_available(5, None).is_ok());
        assert!(matches!(
            check_available(9, Some(10)),
            Err(Error::Truncated {
                requested: 9,
                first_available: 10
            })
        ));
    }
}
