//! The streaming frame scanner: frames out of one segment file with a
//! bounded buffer, the CRCs of up to [`LANES`] frames checked in one pass
//! (the hot path), and damage described exactly (the slow path) for the
//! recovery policy to judge.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::PathBuf;

use crate::crc::{crc32c_lanes, LANES};
use crate::error::{CorruptKind, Error, Result};
use crate::format::{decode_frame, frame_parts, Decoded, Header, RecordType, CRC_LEN, HEADER_LEN};
use crate::record::{RecordView, RecoveryReport};
use crate::segment::open_segment;
use crate::tail::for_each_chunk;

/// Bytes read from a segment per `read` call.
pub(crate) const CHUNK: usize = 1 << 20;

/// One step of a segment scanner.
pub(crate) enum Step {
    Frame { at: usize, header: Header },
    End,
    Damage { offset: u64, kind: CorruptKind },
}

/// Streams frames out of one segment file with a bounded buffer.
pub(crate) struct SegmentScanner {
    pub(crate) file: File,
    pub(crate) path: PathBuf,
    /// First buffer size: the file's length at open, within `HEADER_LEN..=CHUNK`.
    pub(crate) floor: usize,
    pub(crate) buf: Vec<u8>,
    pub(crate) pos: usize,
    pub(crate) end: usize,
    pub(crate) base: u64,
    pub(crate) eof: bool,
    /// Frames after `pos` already checked (CRC included), with their
    /// positions in `buf`: `ahead[next..len]` are still to be returned.
    pub(crate) ahead: Ahead,
}

/// Up to [`LANES`] frames whose CRCs were checked together.
pub(crate) struct Ahead {
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
    pub(crate) fn open(path: PathBuf, start: u64) -> Result<Self> {
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
    pub(crate) fn fill(&mut self, needed: usize) -> Result<()> {
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
    pub(crate) fn next_fast(&mut self) -> Option<(usize, Header)> {
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
    pub(crate) fn check_ahead(&mut self) {
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
    pub(crate) fn drain<B>(
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

    /// When every byte from `pos` to the end of the file is zero, how many
    /// there are; `None` when one is not. The bytes past the buffer are
    /// read in chunks, holes of a sparse file stepped over
    /// ([`for_each_chunk`]): the zeros of preallocated space cost a read of
    /// their few megabytes, a hole of any size nothing.
    pub(crate) fn zeros_to_end(&mut self) -> Result<Option<u64>> {
        let held = self.buf.get(self.pos..self.end).unwrap_or_default();
        if held.iter().any(|&b| b != 0) {
            return Ok(None);
        }
        let at = self.base + self.pos as u64;
        let from = self.base + self.end as u64;
        let len = self
            .file
            .metadata()
            .map_err(|e| Error::io("stat segment", &self.path, e))?
            .len();
        let mut zeros = true;
        if !self.eof && from < len {
            for_each_chunk(&self.file, &self.path, from, len, |_, bytes| {
                zeros = bytes.iter().all(|&b| b == 0);
                Ok(match zeros {
                    true => ControlFlow::Continue(()),
                    false => ControlFlow::Break(()),
                })
            })?;
        }
        Ok(zeros.then(|| len.max(from) - at))
    }

    pub(crate) fn advance(&mut self) -> Result<Step> {
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

/// The complete frames from `at` on in `buf` that pass every check, CRC
/// included, up to [`LANES`] of them, with their CRCs computed in one
/// interleaved pass: their positions and headers, and how many lead the
/// array. Stops before the first frame that is incomplete or damaged.
#[inline(always)]
pub(crate) fn checked_batch(buf: &[u8], mut at: usize) -> ([(usize, Header); LANES], usize) {
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
pub(crate) fn view_at(
    buf: &[u8],
    at: usize,
    header: Header,
    segment: u32,
    base: u64,
) -> RecordView<'_> {
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
