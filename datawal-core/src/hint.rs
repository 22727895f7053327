//! Hint files: a segment's records without their payloads, so that an open
//! reads a small file instead of the segment.
//!
//! `{id:08}.hint` describes a prefix `[0, covered)` of segment `id`: how
//! many records it holds of each type, their lowest and highest txid, and
//! one entry per Put (key, offset, frame length) and per Delete (key), in
//! log order. Applied in order, the entries do to a key directory exactly
//! what replaying the prefix does; a Raw record has no entry. The byte
//! layout is in `docs/canon.md`; the published crate reads only
//! `{id:08}.dwal` and ignores these files.
//!
//! **Written** by the writer over a prefix it knows is durable: when
//! [`crate::RecordLog::rotate`] closes a segment (after syncing it; on a
//! thread of its own, so that the append that rotated does not wait), and
//! when a handle is closed or dropped with nothing left unsynced (the
//! active segment's prefix). [`seal`] builds a hint by reading the prefix
//! back with the record cursor, so every frame's CRC is checked once, when
//! the hint is made (a hint of a shorter prefix is extended: its entries
//! copied, the rest read). It is written under a temporary name and
//! renamed into place, without an fsync: a hint lost or torn by a crash is
//! only missing or rejected, and it never covers bytes that a crash can
//! take away. Measured here (2 cores, loaded): 24-50 ms for a 10 MB
//! segment of 100k records, 200-400 ms for 64 MiB of 640k records, about
//! what an open without hints spends reading them.
//!
//! **Used** at open ([`plan`], then [`replay`]) when it is whole and fits
//! its segment: its header's CRC, the segment id, the file's length; the
//! segment at least `covered` bytes long; the frame at offset 0 and the
//! last frame of the prefix read back with their CRCs checked, and equal
//! to the ones the hint recorded (stored CRC, offset, the prefix ending
//! where the last frame does). Then the prefix's records are taken from
//! the hint and the segment is read from `covered` on. Anything else — a
//! missing, torn, foreign or stale hint, a segment cut, grown back or
//! rewritten at either end — and the segment is read whole, as without
//! hints. The entries are checked as they are applied (their CRC too); a
//! hint that fails there makes the caller start its replay again without
//! it ([`Replayed::BadHint`], [`drop_bad`]).
//!
//! **The trade** (`docs/technical-decisions.md`): a hinted prefix's middle
//! frames are not read at open, so damage there (bit rot, a byte changed
//! by hand) is not found by the open, as it would be without hints; it is
//! found by [`crate::RecordLogReader::verify`], which reads everything, and
//! by a `get` of a damaged record, which checks its CRC. Prefixes shorter
//! than [`MIN_HINTED_BYTES`] get no hint: reading them costs about what
//! checking a hint does.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::ops::ControlFlow;
use std::os::unix::fs::{FileExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};

use crate::atomic::temp_file_beside;
use crate::error::{Error, Result};
use crate::format::{
    decode_frame, decode_header, Decoded, RecordType, CRC_LEN, HEADER_LEN, MAX_FRAME_LEN,
    MAX_KEY_LEN,
};
use crate::recovery::{RecordCursor, RecordRef, RecordView, RecoveryReport};
use crate::segment::{open_segment, segment_path, SEGMENT_ID_WIDTH};

/// Extension of hint files: `{id:08}.hint` beside `{id:08}.dwal`.
pub const HINT_EXT: &str = "hint";

/// Magic at the start of a hint file.
const MAGIC: [u8; 4] = *b"DWHT";
/// The hint format version.
const VERSION: u16 = 1;

/// Offsets of the header's fields (all integers little-endian).
const OFF_MAGIC: usize = 0;
const OFF_VERSION: usize = 4;
const OFF_SEGMENT: usize = 8;
const OFF_COVERED: usize = 16;
const OFF_RECORDS: usize = 24;
const OFF_PUTS: usize = 32;
const OFF_DELETES: usize = 40;
const OFF_FIRST_TXID: usize = 48;
const OFF_LAST_TXID: usize = 56;
const OFF_LAST_AT: usize = 64;
const OFF_FIRST_CRC: usize = 72;
const OFF_LAST_CRC: usize = 76;
const OFF_ENTRIES_LEN: usize = 80;
const OFF_ENTRIES_CRC: usize = 88;
const OFF_HEADER_CRC: usize = 92;
/// Length of the header; the entries follow it.
pub(crate) const HEADER: usize = 96;

/// An entry: record type (1 byte), key length (`u32`), then for a Put the
/// frame's offset (`u64`) and length (`u32`), then the key.
const ENTRY_HEAD: usize = 5;
/// A Put entry's fixed part.
const PUT_FIXED: usize = ENTRY_HEAD + 12;

/// Shortest prefix worth a hint: below it, reading the records costs about
/// what opening and checking a hint does (a few system calls).
pub(crate) const MIN_HINTED_BYTES: u64 = 64 << 10;

/// Bytes of entries read from a hint file at a time (longer entries grow
/// the buffer). Measured, 1M keys: 64 KiB 98-108 ms per open, 256 KiB
/// 102-108, 1 MiB 116-125: a bigger buffer pushes the key directory's
/// index out of the cache.
const CHUNK: usize = 64 << 10;

/// Path of the hint of segment `id` in `dir`: `dir/{id:08}.hint`.
pub fn hint_path(dir: &Path, id: u32) -> PathBuf {
    dir.join(format!("{id:0width$}.{HINT_EXT}", width = SEGMENT_ID_WIDTH))
}

/// What a hint says about the prefix `[0, covered)` of its segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Hint {
    /// The segment id.
    pub(crate) segment: u32,
    /// Bytes of the segment described: whole frames from offset 0.
    pub(crate) covered: u64,
    /// Records in the prefix, of every type.
    pub(crate) records: u64,
    /// Put records (each has an entry).
    pub(crate) puts: u64,
    /// Delete records (each has an entry).
    pub(crate) deletes: u64,
    /// Lowest txid in the prefix.
    pub(crate) first_txid: u64,
    /// Highest txid in the prefix.
    pub(crate) last_txid: u64,
    /// Offset of the prefix's last frame.
    pub(crate) last_at: u64,
    /// The CRC stored in the frame at offset 0.
    pub(crate) first_crc: u32,
    /// The CRC stored in the last frame.
    pub(crate) last_crc: u32,
    /// Bytes of entries after the header.
    pub(crate) entries_len: u64,
    /// CRC-32C of the entries.
    pub(crate) entries_crc: u32,
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(x)
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

impl Hint {
    /// The header's bytes.
    pub(crate) fn encode(&self) -> [u8; HEADER] {
        let mut b = [0u8; HEADER];
        b[OFF_MAGIC..OFF_MAGIC + 4].copy_from_slice(&MAGIC);
        b[OFF_VERSION..OFF_VERSION + 2].copy_from_slice(&VERSION.to_le_bytes());
        b[OFF_SEGMENT..OFF_SEGMENT + 4].copy_from_slice(&self.segment.to_le_bytes());
        for (at, v) in [
            (OFF_COVERED, self.covered),
            (OFF_RECORDS, self.records),
            (OFF_PUTS, self.puts),
            (OFF_DELETES, self.deletes),
            (OFF_FIRST_TXID, self.first_txid),
            (OFF_LAST_TXID, self.last_txid),
            (OFF_LAST_AT, self.last_at),
            (OFF_ENTRIES_LEN, self.entries_len),
        ] {
            b[at..at + 8].copy_from_slice(&v.to_le_bytes());
        }
        for (at, v) in [
            (OFF_FIRST_CRC, self.first_crc),
            (OFF_LAST_CRC, self.last_crc),
            (OFF_ENTRIES_CRC, self.entries_crc),
        ] {
            b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        }
        let crc = crc32c::crc32c(&b[..OFF_HEADER_CRC]);
        b[OFF_HEADER_CRC..].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decode a header, or `None` when it is not one this version wrote
    /// whole: magic, version, reserved bytes, CRC, and fields that agree
    /// with each other.
    pub(crate) fn decode(b: &[u8; HEADER]) -> Option<Hint> {
        if b[OFF_MAGIC..OFF_MAGIC + 4] != MAGIC
            || b[OFF_VERSION..OFF_VERSION + 2] != VERSION.to_le_bytes()
            || b[6..8] != [0, 0]
            || b[12..16] != [0; 4]
            || le_u32(b, OFF_HEADER_CRC) != crc32c::crc32c(&b[..OFF_HEADER_CRC])
        {
            return None;
        }
        let h = Hint {
            segment: le_u32(b, OFF_SEGMENT),
            covered: le_u64(b, OFF_COVERED),
            records: le_u64(b, OFF_RECORDS),
            puts: le_u64(b, OFF_PUTS),
            deletes: le_u64(b, OFF_DELETES),
            first_txid: le_u64(b, OFF_FIRST_TXID),
            last_txid: le_u64(b, OFF_LAST_TXID),
            last_at: le_u64(b, OFF_LAST_AT),
            first_crc: le_u32(b, OFF_FIRST_CRC),
            last_crc: le_u32(b, OFF_LAST_CRC),
            entries_len: le_u64(b, OFF_ENTRIES_LEN),
            entries_crc: le_u32(b, OFF_ENTRIES_CRC),
        };
        let least_entries = h
            .puts
            .checked_mul(PUT_FIXED as u64)
            .zip(h.deletes.checked_mul(ENTRY_HEAD as u64))
            .and_then(|(p, d)| p.checked_add(d));
        let consistent = h.records > 0
            && h.puts
                .checked_add(h.deletes)
                .is_some_and(|n| n <= h.records)
            && h.first_txid <= h.last_txid
            && h.last_at < h.covered
            && (h.records == 1) == (h.last_at == 0)
            && least_entries.is_some_and(|least| least <= h.entries_len);
        consistent.then_some(h)
    }

    /// Length of the whole hint file.
    fn file_len(&self) -> u64 {
        HEADER as u64 + self.entries_len
    }
}

/// What a hint entry does to a key directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyOp<'a> {
    /// A Put of `key`, whose frame is at `at`.
    Put { key: &'a [u8], at: RecordRef },
    /// A Delete of `key`.
    Delete { key: &'a [u8] },
}

/// Append the entry of `view` (a Put or a Delete) to `out`.
fn encode_entry(out: &mut Vec<u8>, view: &RecordView<'_>) {
    out.push(view.record_type.as_byte());
    out.extend_from_slice(&(view.key.len() as u32).to_le_bytes());
    if view.record_type == RecordType::Put {
        out.extend_from_slice(&view.offset.to_le_bytes());
        out.extend_from_slice(&view.len.to_le_bytes());
    }
    out.extend_from_slice(view.key);
}

/// Entries read back, checked against the hint's header as they go.
struct EntryCheck<'h> {
    hint: &'h Hint,
    puts: u64,
    deletes: u64,
    /// Where the previous Put's frame ends: Puts come in log order.
    put_end: u64,
}

impl EntryCheck<'_> {
    /// The entry at the start of `buf` and its length, `Ok(None)` when
    /// `buf` holds only part of it, `Err` when it is not a valid entry of
    /// this hint.
    #[inline]
    fn next<'b>(&mut self, buf: &'b [u8]) -> std::result::Result<Option<(KeyOp<'b>, usize)>, ()> {
        let Some(head) = buf.first_chunk::<ENTRY_HEAD>() else {
            return Ok(None);
        };
        let key_len = le_u32(head, 1);
        if key_len > MAX_KEY_LEN {
            return Err(());
        }
        let key_len = key_len as usize;
        match RecordType::from_byte(head[0]) {
            Some(RecordType::Put) => {
                let Some(key) = buf.get(PUT_FIXED..PUT_FIXED + key_len) else {
                    return Ok(None);
                };
                let offset = le_u64(buf, ENTRY_HEAD);
                let len = le_u32(buf, ENTRY_HEAD + 8);
                let end = offset.checked_add(u64::from(len)).ok_or(())?;
                let least = (HEADER_LEN + CRC_LEN + key_len) as u64;
                if offset < self.put_end
                    || u64::from(len) < least
                    || u64::from(len) > MAX_FRAME_LEN
                    || end > self.hint.covered
                    || self.puts == self.hint.puts
                {
                    return Err(());
                }
                self.put_end = end;
                self.puts += 1;
                let at = RecordRef {
                    segment: self.hint.segment,
                    offset,
                    len,
                };
                Ok(Some((KeyOp::Put { key, at }, PUT_FIXED + key_len)))
            }
            Some(RecordType::Delete) => {
                let Some(key) = buf.get(ENTRY_HEAD..ENTRY_HEAD + key_len) else {
                    return Ok(None);
                };
                if self.deletes == self.hint.deletes {
                    return Err(());
                }
                self.deletes += 1;
                Ok(Some((KeyOp::Delete { key }, ENTRY_HEAD + key_len)))
            }
            _ => Err(()),
        }
    }

    fn complete(&self) -> bool {
        self.puts == self.hint.puts && self.deletes == self.hint.deletes
    }
}

/// Open a hint file for reading: never through a symbolic link, never
/// waiting on a FIFO, and only when it is a regular file.
fn open_hint(path: &Path) -> Option<(File, u64)> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32)
        .open(path)
        .ok()?;
    let meta = file.metadata().ok()?;
    meta.is_file().then_some((file, meta.len()))
}

/// The header of `file`, if it is a whole hint of `segment`.
fn read_header(file: &File, file_len: u64, segment: u32) -> Option<Hint> {
    let mut b = [0u8; HEADER];
    file.read_exact_at(&mut b, 0).ok()?;
    Hint::decode(&b).filter(|h| h.segment == segment && h.file_len() == file_len)
}

/// The length and stored CRC of the frame at `at` in `file`, its CRC
/// checked.
fn frame_at(file: &File, at: u64) -> Option<(u64, u32)> {
    let mut h = [0u8; HEADER_LEN];
    file.read_exact_at(&mut h, at).ok()?;
    let len = decode_header(&h).ok()?.frame_len();
    let mut frame = vec![0u8; usize::try_from(len).ok()?];
    file.read_exact_at(&mut frame, at).ok()?;
    match decode_frame(&frame) {
        Ok(Decoded::Frame(_)) => Some((len, le_u32(&frame, frame.len() - CRC_LEN))),
        _ => None,
    }
}

/// The hint of segment `id` when it is whole and fits the segment as it is
/// now (see the module's documentation), else `None`.
pub(crate) fn load(dir: &Path, id: u32) -> Option<Hint> {
    let (file, file_len) = open_hint(&hint_path(dir, id))?;
    let hint = read_header(&file, file_len, id)?;
    // Txid `u64::MAX` ends a writable log: the scan must find and name it.
    if hint.last_txid == u64::MAX {
        return None;
    }
    let segment = open_segment(OpenOptions::new().read(true), &segment_path(dir, id)).ok()?;
    let meta = segment.metadata().ok()?;
    if !meta.is_file() || meta.len() < hint.covered {
        return None;
    }
    let (first_len, first_crc) = frame_at(&segment, 0)?;
    if first_crc != hint.first_crc || (hint.last_at == 0 && first_len != hint.covered) {
        return None;
    }
    if hint.last_at > 0 {
        let (last_len, last_crc) = frame_at(&segment, hint.last_at)?;
        if last_crc != hint.last_crc || hint.last_at + last_len != hint.covered {
            return None;
        }
    }
    Some(hint)
}

/// The usable hint of each of segments `ids`, in the same order.
pub(crate) fn plan(dir: &Path, ids: &[u32]) -> Vec<Option<Hint>> {
    ids.iter().map(|&id| load(dir, id)).collect()
}

/// Call `f` with each entry of `hint`, in order. `false` when the file is
/// no longer that hint, or its entries are damaged (some may have been
/// passed to `f` already: the caller starts again without hints).
pub(crate) fn for_each_op(dir: &Path, hint: &Hint, mut f: impl FnMut(KeyOp<'_>)) -> bool {
    let Some((file, file_len)) = open_hint(&hint_path(dir, hint.segment)) else {
        return false;
    };
    if read_header(&file, file_len, hint.segment).as_ref() != Some(hint) {
        return false;
    }
    let mut check = EntryCheck {
        hint,
        puts: 0,
        deletes: 0,
        put_end: 0,
    };
    let mut buf = vec![0u8; CHUNK.min(hint.entries_len as usize).max(PUT_FIXED)];
    let (mut filled, mut left, mut crc) = (0usize, hint.entries_len, 0u32);
    let mut at = HEADER as u64;
    loop {
        // Refill after what is left of a partial entry.
        while filled < buf.len() && left > 0 {
            let want = (buf.len() - filled).min(usize::try_from(left).unwrap_or(usize::MAX));
            match file.read_at(&mut buf[filled..filled + want], at) {
                Ok(0) => return false,
                Ok(n) => {
                    crc = crc32c::crc32c_append(crc, &buf[filled..filled + n]);
                    filled += n;
                    at += n as u64;
                    left -= n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        let mut pos = 0;
        loop {
            match check.next(&buf[pos..filled]) {
                Ok(Some((op, n))) => {
                    f(op);
                    pos += n;
                }
                Ok(None) => break,
                Err(()) => return false,
            }
        }
        if left == 0 {
            return pos == filled && check.complete() && crc == hint.entries_crc;
        }
        if pos == 0 {
            // An entry longer than the buffer.
            let need = buf.len() * 2;
            if need > PUT_FIXED + MAX_KEY_LEN as usize + CHUNK {
                return false;
            }
            buf.resize(need, 0);
            continue;
        }
        buf.copy_within(pos..filled, 0);
        filled -= pos;
    }
}

/// A replay of a store's records that can take a hinted prefix's records
/// from its hint.
pub(crate) trait Fold {
    /// `false`: the hints' entries are not read, only their counts (a
    /// [`crate::RecordLog`] open needs no more).
    const KEYS: bool;
    /// A hinted prefix, before its entries.
    fn hinted(&mut self, hint: &Hint);
    /// An entry of the prefix's hint, in log order.
    fn key_op(&mut self, op: KeyOp<'_>);
    /// A record read from a segment.
    fn record(&mut self, view: &RecordView<'_>);
}

/// How a [`replay`] ended.
#[derive(Debug)]
pub(crate) enum Replayed {
    /// Every record replayed: the recovery report, hinted records counted.
    Done(RecoveryReport),
    /// The entries of segment `.0`'s hint turned out damaged as they were
    /// applied: the fold is partial; replay again without that hint.
    BadHint(u32),
}

/// Replay segments `ids` of `dir` into `fold`, in log order: the prefix
/// each of `hints` covers from the hint, the rest of every segment record
/// by record (the last segment's torn tail reported, as by the cursor).
///
/// # Errors
/// As [`RecordCursor::for_each_view`].
pub(crate) fn replay<F: Fold>(
    dir: &Path,
    ids: &[u32],
    hints: &[Option<Hint>],
    fold: &mut F,
) -> Result<Replayed> {
    let starts = hints.iter().map(|h| h.map_or(0, |h| h.covered)).collect();
    let mut cursor = RecordCursor::new(dir, ids.to_vec()).starting_at(starts);
    let mut pending = hints.iter().flatten().peekable();
    // Apply the hints of segments up to `segment`, in order; the segment of
    // one whose entries fail.
    let mut apply_through = |segment: u32, fold: &mut F| -> Option<u32> {
        while let Some(h) = pending.next_if(|h| h.segment <= segment) {
            fold.hinted(h);
            if F::KEYS && !for_each_op(dir, h, |op| fold.key_op(op)) {
                return Some(h.segment);
            }
        }
        None
    };
    let flow = cursor.try_for_each_view(|v| {
        if let Some(bad) = apply_through(v.segment, fold) {
            return ControlFlow::Break(bad);
        }
        fold.record(&v);
        ControlFlow::Continue(())
    })?;
    let bad = match flow {
        ControlFlow::Break(bad) => Some(bad),
        ControlFlow::Continue(()) => apply_through(u32::MAX, fold),
    };
    if let Some(segment) = bad {
        return Ok(Replayed::BadHint(segment));
    }
    let mut report = cursor.into_report();
    for h in hints.iter().flatten() {
        report.records_replayed += h.records;
        report.last_txid_seen = report.last_txid_seen.max(h.last_txid);
        report.bytes_from_hints += h.covered;
    }
    Ok(Replayed::Done(report))
}

/// After `failures` replays ended by [`Replayed::BadHint`] of `segment`:
/// drop that hint, or every hint from the second failure on (so a store
/// full of damaged hints costs at most three replays).
pub(crate) fn drop_bad(hints: &mut [Option<Hint>], segment: u32, failures: u32) {
    for h in hints.iter_mut() {
        if failures > 1 || h.is_some_and(|h| h.segment == segment) {
            *h = None;
        }
    }
}

/// Write the hint of the prefix `[0, covered)` of segment `id`, reading the
/// prefix back (every frame's CRC checked). A valid hint of a shorter
/// prefix is extended: its entries are copied (their CRC checked) and only
/// the bytes after it are read. The prefix must be durable. `Ok(None)` when
/// the segment does not hold exactly `covered` bytes of valid frames from 0
/// on, or the old hint's entries are damaged (nothing is written then).
///
/// # Errors
/// [`Error::Io`] when the segment cannot be read or the hint cannot be
/// written; [`Error::Corrupt`] for damage in the segment.
pub(crate) fn seal(dir: &Path, id: u32, covered: u64) -> Result<Option<Hint>> {
    let target = hint_path(dir, id);
    let base = load(dir, id).filter(|h| h.covered <= covered);
    if base.is_some_and(|h| h.covered == covered) {
        return Ok(base);
    }
    let temp = temp_file_beside(&target, "tmp")?;
    let write_err = |e| Error::io("write hint", temp.path(), e);
    let mut out = BufWriter::with_capacity(CHUNK, temp.as_file());
    out.write_all(&[0u8; HEADER]).map_err(write_err)?;
    let mut hint = Hint {
        segment: id,
        ..Hint::default()
    };
    if let Some(base) = base {
        if !copy_entries(dir, &base, &mut out).map_err(write_err)? {
            return Ok(None);
        }
        hint = base;
    }
    let mut entry = Vec::new();
    let mut failed = None;
    let mut cursor = RecordCursor::new(dir, vec![id]).starting_at(vec![hint.covered]);
    let flow = cursor.try_for_each_view(|v| {
        if v.offset + u64::from(v.len) > covered {
            return ControlFlow::Break(());
        }
        hint.first_txid = if hint.records == 0 {
            v.txid
        } else {
            hint.first_txid.min(v.txid)
        };
        hint.records += 1;
        hint.last_txid = hint.last_txid.max(v.txid);
        hint.last_at = v.offset;
        hint.covered = v.offset + u64::from(v.len);
        match v.record_type {
            RecordType::Put => hint.puts += 1,
            RecordType::Delete => hint.deletes += 1,
            RecordType::Raw => return ControlFlow::Continue(()),
        }
        entry.clear();
        encode_entry(&mut entry, &v);
        hint.entries_crc = crc32c::crc32c_append(hint.entries_crc, &entry);
        hint.entries_len += entry.len() as u64;
        if let Err(e) = out.write_all(&entry) {
            failed = Some(e);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })?;
    if let Some(e) = failed {
        return Err(write_err(e));
    }
    if flow.is_break() || hint.covered != covered || hint.records == 0 {
        return Ok(None);
    }
    out.flush().map_err(write_err)?;
    drop(out);
    let segment = open_segment(OpenOptions::new().read(true), &segment_path(dir, id))
        .map_err(|e| Error::io("open segment", segment_path(dir, id), e))?;
    let (Some((_, first_crc)), Some((_, last_crc))) =
        (frame_at(&segment, 0), frame_at(&segment, hint.last_at))
    else {
        return Ok(None);
    };
    hint.first_crc = first_crc;
    hint.last_crc = last_crc;
    temp.as_file()
        .write_all_at(&hint.encode(), 0)
        .map_err(write_err)?;
    // No fsync: see the module's documentation.
    temp.persist(&target)
        .map_err(|e| Error::io("rename hint into place", &target, e.error))?;
    Ok(Some(hint))
}

/// Copy the entries of `hint` (a valid header of segment `hint.segment`'s
/// hint file) to `out`; `false` when the file is no longer that hint or its
/// entries fail their CRC.
fn copy_entries(dir: &Path, hint: &Hint, out: &mut impl Write) -> io::Result<bool> {
    let Some((file, file_len)) = open_hint(&hint_path(dir, hint.segment)) else {
        return Ok(false);
    };
    if read_header(&file, file_len, hint.segment).as_ref() != Some(hint) {
        return Ok(false);
    }
    let mut buf = vec![0u8; CHUNK.min(hint.entries_len as usize)];
    let (mut at, mut crc) = (HEADER as u64, 0u32);
    while at < file_len {
        let n = buf.len().min((file_len - at) as usize);
        file.read_exact_at(&mut buf[..n], at)?;
        crc = crc32c::crc32c_append(crc, &buf[..n]);
        out.write_all(&buf[..n])?;
        at += n as u64;
    }
    Ok(crc == hint.entries_crc)
}

/// Remove the hint of segment `id`, if there is one.
///
/// # Errors
/// [`Error::Io`] when it is there and cannot be removed.
pub(crate) fn remove(dir: &Path, id: u32) -> Result<()> {
    let path = hint_path(dir, id);
    match fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove hint", path, e)),
    }
}

/// The id of a hint file name (`{id:08}.hint`), or of a temporary one a
/// crashed writer left (`.{id:08}.hint.tmp-…`).
fn hint_name_id(name: &str) -> Option<u32> {
    let digits = name.strip_suffix(".hint").or_else(|| {
        name.strip_prefix('.')?
            .split_once(".hint.tmp-")
            .map(|(d, _)| d)
    })?;
    if digits.len() != SEGMENT_ID_WIDTH || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Remove hints no segment of `ids` has, and temporary hint files a crashed
/// writer left (the writer's open, once it succeeded). Best effort.
pub(crate) fn remove_strays(dir: &Path, ids: &[u32]) {
    let Ok(rd) = fs::read_dir(dir) else {
        return;
    };
    for entry in rd.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let Some(id) = hint_name_id(name) else {
            continue;
        };
        let stray = name.starts_with('.') || ids.binary_search(&id).is_err();
        if stray && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Hint {
        Hint {
            segment: 7,
            covered: 1000,
            records: 10,
            puts: 6,
            deletes: 2,
            first_txid: 41,
            last_txid: 50,
            last_at: 900,
            first_crc: 0xDEAD_BEEF,
            last_crc: 0x0BAD_F00D,
            entries_len: 6 * 17 + 2 * 5 + 40,
            entries_crc: 0x1234_5678,
        }
    }

    #[test]
    fn the_header_round_trips_and_every_flipped_bit_is_refused() {
        let h = sample();
        let b = h.encode();
        assert_eq!(Hint::decode(&b), Some(h));
        for byte in 0..HEADER {
            for bit in 0..8 {
                let mut bad = b;
                bad[byte] ^= 1 << bit;
                assert_eq!(Hint::decode(&bad), None, "byte {byte} bit {bit}");
            }
        }
    }

    #[test]
    fn headers_whose_fields_disagree_are_refused() {
        let cases: [fn(&mut Hint); 6] = [
            |h| h.records = 0,
            |h| h.puts = h.records,
            |h| h.first_txid = h.last_txid + 1,
            |h| h.last_at = h.covered,
            |h| h.entries_len = 6 * 17 + 2 * 5 - 1,
            |h| {
                h.records = 1;
                h.puts = 1;
                h.deletes = 0;
            },
        ];
        for (i, spoil) in cases.iter().enumerate() {
            let mut h = sample();
            spoil(&mut h);
            assert_eq!(Hint::decode(&h.encode()), None, "case {i}");
        }
    }

    /// The key directory is reserved from the hints' Put counts: applying
    /// every entry never grows (and so never rehashes) it.
    #[test]
    fn applying_hints_never_grows_the_key_directory() {
        let td = tempfile::tempdir().unwrap();
        let dir = td.path();
        {
            let mut db = crate::DataWal::open(dir).unwrap();
            for i in 0..20_000u32 {
                if i == 9_000 {
                    db.rotate().unwrap();
                }
                db.put(format!("key:{i:08}").as_bytes(), &[7; 24]).unwrap();
            }
            db.fsync().unwrap();
        }
        let ids = [1, 2];
        let hints = plan(dir, &ids);
        assert!(hints.iter().all(Option::is_some), "{hints:?}");
        let mut replay = crate::projection::Replay::with_hints(dir, &ids, &hints);
        let reserved = replay.capacity();
        assert!(reserved >= 20_000, "{reserved}");
        for h in hints.iter().flatten() {
            assert!(for_each_op(dir, h, |op| replay.key_op(op)));
            assert_eq!(replay.capacity(), reserved);
        }
        assert_eq!(replay.finish(dir).unwrap().len(), 20_000);
    }

    #[test]
    fn hint_names() {
        assert_eq!(hint_path(Path::new("/s"), 7), Path::new("/s/00000007.hint"));
        assert_eq!(hint_name_id("00000007.hint"), Some(7));
        assert_eq!(hint_name_id(".00000007.hint.tmp-a1B2c3"), Some(7));
        assert_eq!(hint_name_id("00000007.dwal"), None);
        assert_eq!(hint_name_id("0000007.hint"), None);
        assert_eq!(hint_name_id(".0000000x.hint.tmp-a"), None);
        assert_eq!(hint_name_id("x00000007.hint"), None);
    }
}
