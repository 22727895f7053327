//! Torn-tail repair: the writer keeps the bytes after the valid prefix of
//! the last segment in a `*.torn` side file, counts the intact frames among
//! them, and truncates the segment, durably, before anything is appended.
//!
//! Whatever the damaged bytes say, the repair stays bounded:
//!
//! - **Memory**: the bytes are copied in chunks of [`CHUNK`]; the count of
//!   intact frames keeps at most [`MAX_PENDING`] frame headers in flight.
//! - **Time**: one pass, linear in the bytes (see [`FrameCounter`]); holes of
//!   a sparse file are stepped over, not read.
//! - **Disk**: zero regions are not written, so the side file is sparse:
//!   an all-zero tail of any length takes no disk blocks.
//! - **Files**: the copy is built under a temporary name and linked to its
//!   final name only when complete. Side files are named
//!   `{segment:08}-{offset}.torn` (`-{n}` added when that name holds other
//!   bytes); a repair that finds its bytes already saved under one of those
//!   names (an earlier repair was interrupted after saving them) keeps that
//!   file, so one damaged tail yields one side file however often its
//!   repair is interrupted, and no number of side files stops a store from
//!   opening.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::ops::ControlFlow;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::{decode_header, HEADER_LEN, MAGIC};
use crate::record::TailDamage;
use crate::segment::{fsync_dir, segment_path};

/// Bytes copied and counted per read.
const CHUNK: usize = 1 << 20;

/// The most frame headers the count keeps in flight (16 bytes each: 16 MiB).
/// Only crafted bytes come near it (a crash leaves at most a few frames after
/// the damage); past it, further headers are not checked and the count is a
/// lower bound.
const MAX_PENDING: usize = 1 << 20;

/// Move the torn tail aside and truncate the segment to its valid prefix,
/// durably, so that records appended afterwards are found by every later open.
pub(crate) fn repair_tail(dir: &Path, tail: &mut TailDamage) -> Result<()> {
    let seg_path = segment_path(dir, tail.segment);
    let seg = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&seg_path)
        .map_err(|e| Error::io("open segment for repair", &seg_path, e))?;
    let end = seg
        .metadata()
        .map_err(|e| Error::io("stat segment", &seg_path, e))?
        .len();
    let base = format!("{:08}-{}", tail.segment, tail.offset);
    remove_stale_copies(dir, &base)?;
    let tmp = create_temp(dir, &base)?;
    let intact = copy_and_count(&seg, &seg_path, tail.offset, end, tmp.as_file(), tmp.path())?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("write torn-tail file", tmp.path(), e))?;
    let saved_to = keep_once(dir, &base, tmp.path())?;
    // Dropping the temporary removes its name; the side file keeps the bytes.
    drop(tmp);
    fsync_dir(dir)?;
    seg.set_len(tail.offset)
        .and_then(|()| seg.sync_all())
        .map_err(|e| Error::io("truncate torn tail", &seg_path, e))?;
    fsync_dir(dir)?;
    tail.saved_to = Some(saved_to);
    tail.intact_frames_cut = Some(intact);
    Ok(())
}

/// How many intact frames the bytes of `path` from `offset` on hold after
/// their first byte: the largest number of non-overlapping, CRC-valid
/// frames that start past `offset`. One linear pass with bounded memory
/// (a running CRC-32C, see `docs/canon.md`); used on a `*.torn` file with `offset` 0 to tell
/// how many records a repair cut.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read.
pub fn count_intact_frames(path: &Path, offset: u64) -> Result<u64> {
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let end = file
        .metadata()
        .map_err(|e| Error::io("stat", path, e))?
        .len();
    let mut counter = FrameCounter::new(end.saturating_sub(offset));
    for_each_chunk(&file, path, offset, end, |rel, bytes| {
        counter.feed(rel, bytes);
        Ok(ControlFlow::Continue(()))
    })?;
    Ok(counter.finish())
}

/// Copy `src[start..end]` to `dst` (zero chunks left as holes, the length
/// set to the tail's) and count its intact frames, in one pass.
fn copy_and_count(
    src: &File,
    src_path: &Path,
    start: u64,
    end: u64,
    dst: &File,
    dst_path: &Path,
) -> Result<u64> {
    let mut counter = FrameCounter::new(end - start);
    for_each_chunk(src, src_path, start, end, |rel, bytes| {
        counter.feed(rel, bytes);
        if bytes.iter().any(|&b| b != 0) {
            dst.write_all_at(bytes, rel)
                .map_err(|e| Error::io("write torn-tail file", dst_path, e))?;
        }
        Ok(ControlFlow::Continue(()))
    })?;
    dst.set_len(end - start)
        .map_err(|e| Error::io("write torn-tail file", dst_path, e))?;
    Ok(counter.finish())
}

/// Call `f(position relative to start, bytes)` for the data of
/// `file[start..end]` in chunks of at most [`CHUNK`], in order, stepping over
/// the holes of a sparse file (which read as zeros, and are passed as gaps
/// in the positions), until `f` breaks. Also what tells free space from a
/// torn tail (`SegmentScanner::zeros_to_end`): a hole of gigabytes costs
/// nothing.
pub(crate) fn for_each_chunk(
    file: &File,
    path: &Path,
    start: u64,
    end: u64,
    mut f: impl FnMut(u64, &[u8]) -> Result<ControlFlow<()>>,
) -> Result<()> {
    let mut buf = vec![0u8; CHUNK.min(usize::try_from(end - start).unwrap_or(CHUNK))];
    let mut at = start;
    while at < end {
        let (data, hole) = data_region(file, at, end);
        at = data;
        while at < hole {
            let want = usize::try_from(hole - at).map_or(buf.len(), |n| n.min(buf.len()));
            let n = match file.read_at(&mut buf[..want], at) {
                Ok(0) => return Ok(()), // the file shrank: nothing more to read
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("read segment", path, e)),
            };
            if f(at - start, &buf[..n])?.is_break() {
                return Ok(());
            }
            at += n as u64;
        }
    }
    Ok(())
}

/// The next data region of `file` at or after `at`, as `(data, hole)`
/// offsets within `..end` (`SEEK_DATA` / `SEEK_HOLE`; the whole rest of the
/// file where the file system cannot tell).
fn data_region(file: &File, at: u64, end: u64) -> (u64, u64) {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{seek, SeekFrom};
        let data = match seek(file, SeekFrom::Data(at)) {
            Ok(d) => d.min(end),
            // ENXIO: no data past `at`, only a hole to the end.
            Err(rustix::io::Errno::NXIO) => return (end, end),
            Err(_) => return (at, end),
        };
        let hole = seek(file, SeekFrom::Hole(data)).map_or(end, |h| h.min(end));
        (data, hole.max(data))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = file;
        (at, end)
    }
}

/// Create a temporary file in `dir` for the side file `base`, exclusively
/// (`O_EXCL`, which also refuses a symbolic link), under a random name;
/// removed when dropped.
fn create_temp(dir: &Path, base: &str) -> Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(&format!(".{base}.torn.tmp."))
        .tempfile_in(dir)
        .map_err(|e| Error::io("create torn-tail file in", dir, e))
}

/// Remove the temporary copies that interrupted repairs of side file
/// `base` left behind (the writer holds the lock: no repair is running).
fn remove_stale_copies(dir: &Path, base: &str) -> Result<()> {
    let prefix = format!(".{base}.torn.tmp.");
    let rd = fs::read_dir(dir).map_err(|e| Error::io("read directory", dir, e))?;
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("read directory", dir, e))?;
        if entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(&prefix))
        {
            let p = entry.path();
            fs::remove_file(&p).map_err(|e| Error::io("remove stale torn-tail copy", p, e))?;
        }
    }
    Ok(())
}

/// Give the complete copy `tmp` its final name, `{base}.torn` or the first
/// free `{base}-{n}.torn`, without replacing anything (a hard link fails on
/// an existing name); when one of those names already holds the same
/// bytes, that file is the copy. Returns the final path.
fn keep_once(dir: &Path, base: &str, tmp: &Path) -> Result<PathBuf> {
    for n in 0u64.. {
        let name = if n == 0 {
            format!("{base}.torn")
        } else {
            format!("{base}-{n}.torn")
        };
        let path = dir.join(name);
        match fs::hard_link(tmp, &path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if same_bytes(tmp, &path)? {
                    return Ok(path);
                }
            }
            Err(e) => return Err(Error::io("name torn-tail file", path, e)),
        }
    }
    unreachable!("u64 names run out")
}

/// `true` when the files hold the same bytes (a regular file each; compared
/// in chunks).
fn same_bytes(a: &Path, b: &Path) -> Result<bool> {
    // Never open what is not a regular file (a FIFO would block).
    if !fs::symlink_metadata(b).is_ok_and(|m| m.is_file()) {
        return Ok(false);
    }
    let open = |p: &Path| File::open(p).map_err(|e| Error::io("open torn-tail file", p, e));
    let (fa, fb) = (open(a)?, open(b)?);
    let len = |f: &File, p: &Path| {
        f.metadata()
            .map_err(|e| Error::io("stat torn-tail file", p, e))
            .map(|m| (m.is_file(), m.len()))
    };
    let ((file_a, len_a), (file_b, len_b)) = (len(&fa, a)?, len(&fb, b)?);
    if !(file_a && file_b) || len_a != len_b {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; 64 << 10], vec![0u8; 64 << 10]);
    let mut at = 0u64;
    while at < len_a {
        let n = usize::try_from(len_a - at).map_or(ba.len(), |n| n.min(ba.len()));
        fa.read_exact_at(&mut ba[..n], at)
            .map_err(|e| Error::io("read torn-tail file", a, e))?;
        fb.read_exact_at(&mut bb[..n], at)
            .map_err(|e| Error::io("read torn-tail file", b, e))?;
        if ba[..n] != bb[..n] {
            return Ok(false);
        }
        at += n as u64;
    }
    Ok(true)
}

/// A frame header whose CRC is still to be checked: where its CRC is
/// stored, its length, and the running CRC where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    crc_at: u64,
    len: u32,
    crc_before: u32,
}

/// Counts the intact frames in a stream of bytes, in one pass and linear
/// time, however the frames overlap.
///
/// Checking each candidate header's CRC over its own bytes costs its length
/// for every candidate, quadratic on crafted bytes (a header every few bytes,
/// each claiming megabytes). Instead the counter keeps one running CRC-32C
/// of the stream, `C(p)` for the bytes before `p`, and for a frame from `s`
/// to its CRC at `e` uses `crc(bytes[s..e]) = C(e) ^ shift(C(s), e - s)`,
/// where `shift` advances a CRC over `e - s` zero bytes (a multiplication in
/// GF(2)\[x\], logarithmic in the length). Headers wait in a heap ordered by
/// the position of their CRC; each is checked when the stream reaches it.
/// Frames are counted greedily by end (a frame that overlaps one already
/// counted is not), which gives the largest number of non-overlapping
/// valid frames.
struct FrameCounter {
    /// Length of the stream.
    total: u64,
    /// Bytes not yet examined, carried from the previous chunk: a header or
    /// stored CRC can straddle two chunks.
    carry: Vec<u8>,
    /// Stream position of `carry[0]`.
    carry_at: u64,
    /// The running CRC covers the stream from a base up to `crc_pos`
    /// (restarted whenever no header is waiting).
    crc: u32,
    crc_pos: u64,
    pending: BinaryHeap<Reverse<Pending>>,
    counted_to: u64,
    count: u64,
    /// `x^(8·2^k)` modulo the CRC-32C polynomial, for [`Self::shift`].
    powers: [u32; 40],
}

/// CRC-32C polynomial, reflected.
const POLY: u32 = 0x82F6_3B78;

/// `a·b` modulo the CRC polynomial, in the reflected bit order of CRC
/// registers (bit 31 is `x^0`).
fn gf2_mul(a: u32, mut b: u32) -> u32 {
    let mut product = 0;
    let mut bit = 1u32 << 31;
    while bit != 0 {
        if a & bit != 0 {
            product ^= b;
        }
        b = (b >> 1) ^ (POLY & 0u32.wrapping_sub(b & 1));
        bit >>= 1;
    }
    product
}

impl FrameCounter {
    fn new(total: u64) -> Self {
        let mut powers = [0u32; 40];
        // x^8 (one zero byte), then squares: x^16, x^32, ...
        let mut p = 1u32 << (31 - 8);
        for slot in &mut powers {
            *slot = p;
            p = gf2_mul(p, p);
        }
        FrameCounter {
            total,
            carry: Vec::new(),
            carry_at: 0,
            crc: 0,
            crc_pos: 0,
            pending: BinaryHeap::new(),
            counted_to: 0,
            count: 0,
            powers,
        }
    }

    /// `crc` advanced over `n` zero bytes, as if it were followed by them.
    fn shift(&self, mut crc: u32, n: u64) -> u32 {
        let mut k = 0;
        let mut n = n;
        while n != 0 {
            if n & 1 != 0 {
                crc = gf2_mul(self.powers[k], crc);
            }
            n >>= 1;
            k += 1;
        }
        crc
    }

    /// Take the bytes at stream position `at` (after a gap: the skipped
    /// bytes read as zeros).
    fn feed(&mut self, at: u64, bytes: &[u8]) {
        let carry_end = self.carry_at + self.carry.len() as u64;
        if at > carry_end {
            self.gap(carry_end, at);
        }
        self.carry.extend_from_slice(bytes);
        let end = self.carry_at + self.carry.len() as u64;
        // Keep back what a header or a stored CRC could still need.
        let limit = if end == self.total {
            end
        } else {
            end.saturating_sub(HEADER_LEN as u64)
        };
        self.process(limit);
    }

    /// Zeros from `from` to `to`: fed as bytes while a header waits for its
    /// CRC, stepped over otherwise (they hold no header).
    fn gap(&mut self, from: u64, to: u64) {
        static ZEROS: [u8; 64 << 10] = [0; 64 << 10];
        let mut at = from;
        // A header can start in the carried bytes and end in the zeros.
        let mut first = true;
        while at < to && (first || !self.pending.is_empty()) {
            first = false;
            let n = (to - at).min(ZEROS.len() as u64);
            self.feed_contiguous(&ZEROS[..n as usize]);
            at += n;
        }
        if at < to {
            self.process(self.carry_at + self.carry.len() as u64);
            self.carry.clear();
            self.carry_at = to;
            self.crc_pos = to;
            self.crc = 0;
        }
    }

    fn feed_contiguous(&mut self, bytes: &[u8]) {
        self.carry.extend_from_slice(bytes);
        let end = self.carry_at + self.carry.len() as u64;
        self.process(end.saturating_sub(HEADER_LEN as u64));
    }

    /// Handle every header start and CRC position before `limit`, then
    /// drop the bytes before it.
    fn process(&mut self, limit: u64) {
        let mut search = self.carry_at;
        loop {
            let next_magic = self.find_magic(search, limit);
            let next_crc = self
                .pending
                .peek()
                .map(|p| p.0.crc_at)
                .filter(|&at| at < limit);
            let Some(event) = [next_magic, next_crc].into_iter().flatten().min() else {
                break;
            };
            self.advance_crc(event);
            while let Some(&Reverse(p)) = self.pending.peek() {
                if p.crc_at != event {
                    break;
                }
                self.pending.pop();
                self.check(p);
            }
            if next_magic == Some(event) {
                self.candidate(event);
                search = event + 1;
            }
        }
        self.advance_crc(limit);
        let drop = usize::try_from(limit.saturating_sub(self.carry_at))
            .unwrap_or(usize::MAX)
            .min(self.carry.len());
        self.carry.drain(..drop);
        self.carry_at += drop as u64;
    }

    /// The first position in `from..limit` (past the damaged frame's first
    /// byte) where the magic starts.
    fn find_magic(&self, from: u64, limit: u64) -> Option<u64> {
        let from = from.max(1);
        if from >= limit {
            return None;
        }
        let lo = usize::try_from(from - self.carry_at).ok()?;
        let hi = usize::try_from(limit - self.carry_at).ok()?;
        let window = self
            .carry
            .get(lo..(hi + MAGIC.len() - 1).min(self.carry.len()))?;
        window
            .windows(MAGIC.len())
            .position(|w| w == MAGIC)
            .map(|i| from + i as u64)
    }

    /// Bring the running CRC to `to` (restarting it when nothing waits).
    fn advance_crc(&mut self, to: u64) {
        if to <= self.crc_pos {
            return;
        }
        if self.pending.is_empty() {
            self.crc = 0;
        } else {
            let lo = (self.crc_pos - self.carry_at) as usize;
            let hi = (to - self.carry_at) as usize;
            self.crc = crc32c::crc32c_append(self.crc, &self.carry[lo..hi]);
        }
        self.crc_pos = to;
    }

    /// A magic at `at`: keep its header for checking when it is a valid
    /// header of a frame that ends within the stream.
    fn candidate(&mut self, at: u64) {
        let lo = (at - self.carry_at) as usize;
        let Some(h) = self
            .carry
            .get(lo..lo + HEADER_LEN)
            .and_then(|h| <&[u8; HEADER_LEN]>::try_from(h).ok())
        else {
            return;
        };
        let Ok(header) = decode_header(h) else {
            return;
        };
        let len = header.frame_len();
        if at + len > self.total || self.pending.len() >= MAX_PENDING {
            return;
        }
        self.pending.push(Reverse(Pending {
            crc_at: at + len - crate::format::CRC_LEN as u64,
            len: len as u32,
            crc_before: self.crc,
        }));
    }

    /// Compare a waiting header's CRC, now that the stream is at its end.
    fn check(&mut self, p: Pending) {
        let start = p.crc_at + crate::format::CRC_LEN as u64 - u64::from(p.len);
        let body_len = p.crc_at - start;
        let computed = self.crc ^ self.shift(p.crc_before, body_len);
        let lo = (p.crc_at - self.carry_at) as usize;
        let stored = self
            .carry
            .get(lo..lo + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        if stored == Some(computed) && start >= self.counted_to {
            self.count += 1;
            self.counted_to = start + u64::from(p.len);
        }
    }

    fn finish(mut self) -> u64 {
        let end = self.carry_at + self.carry.len() as u64;
        if end < self.total {
            self.gap(end, self.total);
        }
        self.process(self.carry_at + self.carry.len() as u64);
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{encode_into, RecordType};

    /// The reference: every frame start past the first byte, checked with
    /// `decode_frame`, counted greedily by end.
    fn reference(bytes: &[u8]) -> u64 {
        let mut frames = Vec::new();
        for i in 1..bytes.len() {
            if let Ok(crate::format::Decoded::Frame(f)) = crate::format::decode_frame(&bytes[i..]) {
                frames.push((i + f.header.frame_len() as usize, i));
            }
        }
        frames.sort_unstable();
        let (mut to, mut n) = (0, 0);
        for (end, start) in frames {
            if start >= to {
                n += 1;
                to = end;
            }
        }
        n
    }

    fn count(bytes: &[u8], chunk: usize) -> u64 {
        let mut c = FrameCounter::new(bytes.len() as u64);
        for (i, part) in bytes.chunks(chunk.max(1)).enumerate() {
            c.feed((i * chunk) as u64, part);
        }
        c.finish()
    }

    #[test]
    fn shift_matches_the_crc_of_zeros() {
        let c = FrameCounter::new(0);
        for n in [0u64, 1, 2, 3, 7, 8, 100, 4096, 100_000] {
            let zeros = vec![0u8; n as usize];
            let a = crc32c::crc32c(b"some bytes");
            assert_eq!(
                c.shift(a, n) ^ crc32c::crc32c(&zeros),
                crc32c::crc32c_append(a, &zeros),
                "n = {n}"
            );
        }
    }

    #[test]
    fn counts_agree_with_the_reference_however_the_bytes_are_chunked() {
        let mut stream = vec![0xAAu8; 7];
        for i in 0..30u64 {
            let payload: Vec<u8> = (0..(i * 13 % 90)).map(|j| (i ^ j) as u8).collect();
            encode_into(&mut stream, RecordType::Put, i + 1, b"key", &payload);
            if i % 4 == 0 {
                // A frame with a bad CRC, and a frame nested in a payload.
                let mut bad = Vec::new();
                encode_into(&mut bad, RecordType::Raw, 99, b"", b"bad");
                let n = bad.len();
                bad[n - 1] ^= 1;
                stream.extend_from_slice(&bad);
                let mut inner = Vec::new();
                encode_into(&mut inner, RecordType::Raw, 7, b"", b"inner");
                let mut outer = Vec::new();
                encode_into(&mut outer, RecordType::Raw, 8, b"", &inner);
                stream.extend_from_slice(&outer);
            }
            if i % 7 == 0 {
                stream.extend_from_slice(&[0; 100]);
            }
        }
        stream.extend_from_slice(b"DWAL"); // a magic with no room for a header
        let want = reference(&stream);
        assert!(want > 30, "{want}");
        for chunk in [1, 3, 24, 25, 64, 1000, stream.len()] {
            assert_eq!(count(&stream, chunk), want, "chunk {chunk}");
        }
    }

    #[test]
    fn gaps_read_as_zeros() {
        // A frame whose payload is zeros, fed with the zeros left out.
        let mut frame = Vec::new();
        encode_into(&mut frame, RecordType::Raw, 5, b"", &[0u8; 5000]);
        let mut stream = vec![1u8];
        stream.extend_from_slice(&frame);
        stream.extend_from_slice(&[0u8; 10_000]);
        let mut c = FrameCounter::new(stream.len() as u64);
        c.feed(0, &stream[..40]);
        let tail_at = 1 + frame.len() - 4;
        c.feed(tail_at as u64, &stream[tail_at..tail_at + 4]);
        assert_eq!(c.finish(), 1);
    }
}
