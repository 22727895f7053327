//! Wire format v1: pure functions over bytes (no I/O).
//!
//! ```text
//! offset  size  field
//!      0     4  magic        b"DWAL"
//!      4     2  version      u16 LE = 1
//!      6     1  record_type  0 Raw, 1 Put, 2 Delete
//!      7     1  flags        reserved, must be 0
//!      8     8  txid         u64 LE
//!     16     4  key_len      u32 LE, <= MAX_KEY_LEN
//!     20     4  payload_len  u32 LE, <= MAX_PAYLOAD_LEN
//!     24     K  key
//!   24+K     P  payload
//! 24+K+P     4  crc32c       u32 LE, CRC-32C (Castagnoli) of bytes 0 .. 24+K+P
//! ```
//!
//! `docs/canon.md` is the normative description.

use std::ops::Range;

use std::fmt;

/// Magic bytes at the start of every frame.
pub const MAGIC: [u8; 4] = *b"DWAL";
/// The wire format version this crate writes and reads.
pub const WIRE_VERSION: u16 = 1;
/// Length of the fixed header.
pub const HEADER_LEN: usize = 24;
/// Length of the CRC trailer.
pub const CRC_LEN: usize = 4;
/// Largest key accepted (64 KiB).
pub const MAX_KEY_LEN: u32 = 64 * 1024;
/// Largest payload accepted (64 MiB).
pub const MAX_PAYLOAD_LEN: u32 = 64 * 1024 * 1024;
/// Largest possible frame.
pub const MAX_FRAME_LEN: u64 =
    HEADER_LEN as u64 + MAX_KEY_LEN as u64 + MAX_PAYLOAD_LEN as u64 + CRC_LEN as u64;

/// Offset of the magic.
pub const OFF_MAGIC: usize = 0;
/// Offset of the version.
pub const OFF_VERSION: usize = 4;
/// Offset of the record type.
pub const OFF_RECORD_TYPE: usize = 6;
/// Offset of the flags byte.
pub const OFF_FLAGS: usize = 7;
/// Offset of the txid.
pub const OFF_TXID: usize = 8;
/// Offset of the key length.
pub const OFF_KEY_LEN: usize = 16;
/// Offset of the payload length.
pub const OFF_PAYLOAD_LEN: usize = 20;

/// The kind of a record, one byte on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordType {
    /// An opaque record, written by [`crate::RecordLog::append`].
    Raw = 0,
    /// A key/value put, written by [`crate::DataWal::put`].
    Put = 1,
    /// A tombstone, written by [`crate::DataWal::delete`].
    Delete = 2,
}

impl RecordType {
    /// The type for an on-disk byte, or `None` for an unknown byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            0 => Some(RecordType::Raw),
            1 => Some(RecordType::Put),
            2 => Some(RecordType::Delete),
            _ => None,
        }
    }

    /// The on-disk byte.
    pub fn as_byte(self) -> u8 {
        self as u8
    }

    /// `"raw"`, `"put"` or `"delete"`.
    pub fn name(self) -> &'static str {
        match self {
            RecordType::Raw => "raw",
            RecordType::Put => "put",
            RecordType::Delete => "delete",
        }
    }
}

/// A validated frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Record type.
    pub record_type: RecordType,
    /// Transaction id.
    pub txid: u64,
    /// Key length.
    pub key_len: u32,
    /// Payload length.
    pub payload_len: u32,
}

impl Header {
    /// Total frame length: header, key, payload and CRC.
    pub fn frame_len(&self) -> u64 {
        frame_len(self.key_len as usize, self.payload_len as usize)
    }
}

/// Total frame length for a key and payload of the given lengths.
pub fn frame_len(key_len: usize, payload_len: usize) -> u64 {
    (HEADER_LEN + CRC_LEN) as u64 + key_len as u64 + payload_len as u64
}

fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn le_u64(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// Decode and validate a header. Checks, in order: magic, version, record
/// type, flags, key length, payload length.
///
/// # Errors
/// The first check that fails, as a [`CorruptKind`].
pub fn decode_header(h: &[u8; HEADER_LEN]) -> Result<Header, CorruptKind> {
    let mut magic = [0u8; 4];
    magic.copy_from_slice(&h[OFF_MAGIC..OFF_MAGIC + 4]);
    if magic != MAGIC {
        return Err(CorruptKind::BadMagic { found: magic });
    }
    let version = le_u16(h, OFF_VERSION);
    if version != WIRE_VERSION {
        return Err(CorruptKind::UnknownVersion { found: version });
    }
    let rt = h[OFF_RECORD_TYPE];
    let record_type =
        RecordType::from_byte(rt).ok_or(CorruptKind::UnknownRecordType { found: rt })?;
    let flags = h[OFF_FLAGS];
    if flags != 0 {
        return Err(CorruptKind::NonZeroFlags { found: flags });
    }
    let key_len = le_u32(h, OFF_KEY_LEN);
    if key_len > MAX_KEY_LEN {
        return Err(CorruptKind::KeyTooLarge { found: key_len });
    }
    let payload_len = le_u32(h, OFF_PAYLOAD_LEN);
    if payload_len > MAX_PAYLOAD_LEN {
        return Err(CorruptKind::PayloadTooLarge { found: payload_len });
    }
    Ok(Header {
        record_type,
        txid: le_u64(h, OFF_TXID),
        key_len,
        payload_len,
    })
}

/// Append one encoded frame to `out`. Lengths must already be within
/// [`MAX_KEY_LEN`] and [`MAX_PAYLOAD_LEN`] (the log checks them before
/// encoding); this function only writes.
pub fn encode_into(
    out: &mut Vec<u8>,
    record_type: RecordType,
    txid: u64,
    key: &[u8],
    payload: &[u8],
) {
    let start = out.len();
    out.reserve(frame_len(key.len(), payload.len()) as usize);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&WIRE_VERSION.to_le_bytes());
    out.push(record_type.as_byte());
    out.push(0); // flags
    out.extend_from_slice(&txid.to_le_bytes());
    out.extend_from_slice(&(key.len() as u32).to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(key);
    out.extend_from_slice(payload);
    let crc = crate::crc::crc32c(&out[start..]);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// What is wrong with the bytes of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorruptKind {
    /// The first four bytes are not `b"DWAL"`.
    BadMagic {
        /// The bytes found instead.
        found: [u8; 4],
    },
    /// A wire version this build does not read.
    UnknownVersion {
        /// The version found.
        found: u16,
    },
    /// A record type byte other than 0, 1 or 2.
    UnknownRecordType {
        /// The byte found.
        found: u8,
    },
    /// The reserved flags byte is not zero.
    NonZeroFlags {
        /// The byte found.
        found: u8,
    },
    /// `key_len` is above [`crate::MAX_KEY_LEN`].
    KeyTooLarge {
        /// The length found.
        found: u32,
    },
    /// `payload_len` is above [`crate::MAX_PAYLOAD_LEN`].
    PayloadTooLarge {
        /// The length found.
        found: u32,
    },
    /// The stored CRC-32C does not match the bytes.
    CrcMismatch {
        /// CRC stored in the frame.
        stored: u32,
        /// CRC computed over the frame's bytes.
        computed: u32,
    },
    /// The file ends inside the frame.
    Truncated {
        /// Bytes present from the frame's start to the end of the file.
        available: u64,
        /// Bytes the frame needs.
        needed: u64,
    },
    /// The frame is valid but is not the Put of the key a key directory
    /// entry points at.
    WrongRecord {
        /// The key whose Put was expected.
        key: Vec<u8>,
        /// The type of the record found.
        found: RecordType,
    },
    /// The frame at a position is not as long as the position says
    /// (`read_at` with a `RecordRef` that does not name this frame).
    FrameLength {
        /// The length the frame's header announces.
        found: u64,
        /// The length the position gives.
        expected: u64,
    },
    /// A valid frame whose txid is lower than the one a follower needs
    /// next: txids go back.
    TxidOrder {
        /// The txid found.
        found: u64,
        /// The txid that had to come next.
        expected: u64,
    },
}

impl fmt::Display for CorruptKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorruptKind::BadMagic { found } => {
                write!(f, "bad magic {found:02x?} (expected \"DWAL\")")
            }
            CorruptKind::UnknownVersion { found } => write!(
                f,
                "unknown wire version {found} (this build reads version {})",
                WIRE_VERSION
            ),
            CorruptKind::UnknownRecordType { found } => {
                write!(
                    f,
                    "unknown record type {found} (expected 0 Raw, 1 Put or 2 Delete)"
                )
            }
            CorruptKind::NonZeroFlags { found } => {
                write!(f, "reserved flags byte is {found:#04x} (must be 0)")
            }
            CorruptKind::KeyTooLarge { found } => write!(
                f,
                "key_len {found} exceeds the limit of {} bytes",
                MAX_KEY_LEN
            ),
            CorruptKind::PayloadTooLarge { found } => write!(
                f,
                "payload_len {found} exceeds the limit of {} bytes",
                MAX_PAYLOAD_LEN
            ),
            CorruptKind::CrcMismatch { stored, computed } => write!(
                f,
                "CRC-32C mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            CorruptKind::Truncated { available, needed } => write!(
                f,
                "record truncated ({available} of {needed} bytes present)"
            ),
            CorruptKind::WrongRecord { key, found } => write!(
                f,
                "the record read back is not the put of its key {}: found a {} record",
                display_key(key),
                found.name()
            ),
            CorruptKind::FrameLength { found, expected } => write!(
                f,
                "the frame there is {found} bytes long, the position says {expected}"
            ),
            CorruptKind::TxidOrder { found, expected } => write!(
                f,
                "txid {found} where txid {expected} comes next: txids go back"
            ),
        }
    }
}

/// A frame decoded from a byte slice, borrowing its key and payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The validated header.
    pub header: Header,
    /// The key bytes.
    pub key: &'a [u8],
    /// The payload bytes.
    pub payload: &'a [u8],
}

impl Frame<'_> {
    /// The frame's bytes, encoded again from its parts: exactly the bytes
    /// it was decoded from.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.header.frame_len() as usize);
        encode_into(
            &mut out,
            self.header.record_type,
            self.header.txid,
            self.key,
            self.payload,
        );
        out
    }
}

/// Outcome of decoding the frame at the start of a byte slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A complete frame whose CRC matches.
    Frame(Frame<'a>),
    /// The slice ends inside the frame. `needed` is the header length while
    /// the header itself is incomplete, then the whole frame's length.
    Incomplete {
        /// Bytes present.
        available: u64,
        /// Bytes needed.
        needed: u64,
    },
}

/// Decode the frame at the start of `buf`.
///
/// # Errors
/// A structural error in the header or a CRC mismatch.
pub fn decode_frame(buf: &[u8]) -> Result<Decoded<'_>, CorruptKind> {
    let Some(h) = buf.first_chunk::<HEADER_LEN>() else {
        return Ok(Decoded::Incomplete {
            available: buf.len() as u64,
            needed: HEADER_LEN as u64,
        });
    };
    let header = decode_header(h)?;
    let total = header.frame_len();
    if (buf.len() as u64) < total {
        return Ok(Decoded::Incomplete {
            available: buf.len() as u64,
            needed: total,
        });
    }
    let total = total as usize;
    let key_end = HEADER_LEN + header.key_len as usize;
    let body_end = total - CRC_LEN;
    let stored = le_u32(buf, body_end);
    let computed = crate::crc::crc32c(&buf[..body_end]);
    if stored != computed {
        return Err(CorruptKind::CrcMismatch { stored, computed });
    }
    Ok(Decoded::Frame(Frame {
        header,
        key: &buf[HEADER_LEN..key_end],
        payload: &buf[key_end..body_end],
    }))
}

/// The first eight header bytes of a valid frame with record type 0: magic,
/// version 1, type, flags 0 (the type byte is masked out by [`WORD0_MASK`]).
const WORD0: u64 = u64::from_le_bytes([
    MAGIC[0],
    MAGIC[1],
    MAGIC[2],
    MAGIC[3],
    WIRE_VERSION.to_le_bytes()[0],
    WIRE_VERSION.to_le_bytes()[1],
    0,
    0,
]);
/// Every bit of the first header word but the record type's.
const WORD0_MASK: u64 = !(0xFF << (8 * OFF_RECORD_TYPE));

/// The hot path of a scan: the header of a complete frame at the start of
/// `buf` whose every check passes (the same checks as [`decode_frame`], CRC
/// included), or `None` when [`decode_frame`] must decide what is there
/// (an incomplete frame, or damage, which it names precisely).
#[inline]
pub fn valid_frame_header(buf: &[u8]) -> Option<Header> {
    let (header, body, stored) = frame_parts(buf)?;
    (crate::crc::crc32c(body) == stored).then_some(header)
}

/// [`valid_frame_header`] but for the CRC: the header of a complete frame
/// at the start of `buf` that passes every structural check, the bytes its
/// CRC covers, and the CRC stored after them. The caller compares the CRC
/// (the scanner checks several frames' CRCs at once).
#[inline]
pub(crate) fn frame_parts(buf: &[u8]) -> Option<(Header, &[u8], u32)> {
    let (word0, h) = buf.split_first_chunk::<8>()?;
    let word0 = u64::from_le_bytes(*word0);
    if word0 & WORD0_MASK != WORD0 {
        return None;
    }
    let record_type = RecordType::from_byte(word0.to_le_bytes()[OFF_RECORD_TYPE])?;
    // Whole-word loads of the fields after the first word.
    const _: () = assert!(OFF_TXID == 8 && OFF_KEY_LEN == 16 && OFF_PAYLOAD_LEN == 20);
    let (txid, h) = h.split_first_chunk::<8>()?;
    let (key_len, h) = h.split_first_chunk::<4>()?;
    let (payload_len, _) = h.split_first_chunk::<4>()?;
    let (key_len, payload_len) = (
        u32::from_le_bytes(*key_len),
        u32::from_le_bytes(*payload_len),
    );
    if key_len > MAX_KEY_LEN || payload_len > MAX_PAYLOAD_LEN {
        return None;
    }
    let body_end = HEADER_LEN + key_len as usize + payload_len as usize;
    let (body, rest) = buf.split_at_checked(body_end)?;
    let stored = u32::from_le_bytes(*rest.first_chunk::<CRC_LEN>()?);
    let header = Header {
        record_type,
        txid: u64::from_le_bytes(*txid),
        key_len,
        payload_len,
    };
    Some((header, body, stored))
}

/// Where the value is in `frame`, the bytes a key directory entry points at:
/// they must be one valid Put record of `key` (what `DataWal::get` and the
/// CLI's readers check before they return a value).
///
/// # Errors
/// The frame's damage as [`decode_frame`] names it, or
/// [`CorruptKind::WrongRecord`] when it is another record.
pub fn put_value(key: &[u8], frame: &[u8]) -> Result<Range<usize>, CorruptKind> {
    // The hot path first; anything it does not accept gets decode_frame's
    // precise verdict.
    let header = match valid_frame_header(frame) {
        Some(header) => header,
        None => match decode_frame(frame)? {
            Decoded::Frame(f) => f.header,
            Decoded::Incomplete { available, needed } => {
                return Err(CorruptKind::Truncated { available, needed })
            }
        },
    };
    let key_end = HEADER_LEN + header.key_len as usize;
    if header.record_type != RecordType::Put || frame.get(HEADER_LEN..key_end) != Some(key) {
        return Err(CorruptKind::WrongRecord {
            key: key.to_vec(),
            found: header.record_type,
        });
    }
    Ok(key_end..key_end + header.payload_len as usize)
}

/// Render a key for a message: UTF-8 text when it is printable, hex otherwise.
pub fn display_key(key: &[u8]) -> String {
    match std::str::from_utf8(key) {
        Ok(s) if !s.chars().any(char::is_control) => format!("{s:?}"),
        _ => {
            let mut s = String::with_capacity(2 + key.len() * 2);
            s.push_str("0x");
            for b in key {
                s.push_str(&format!("{b:02x}"));
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(rt: RecordType, txid: u64, key: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        encode_into(&mut v, rt, txid, key, payload);
        v
    }

    #[test]
    fn crc32c_is_castagnoli() {
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn layout_is_byte_exact() {
        let f = frame(RecordType::Put, 0x0102_0304_0506_0708, b"k", b"vv");
        assert_eq!(f.len(), 24 + 1 + 2 + 4);
        assert_eq!(&f[0..4], b"DWAL");
        assert_eq!(&f[4..6], &[1, 0]);
        assert_eq!(f[6], 1);
        assert_eq!(f[7], 0);
        assert_eq!(&f[8..16], &[8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(&f[16..20], &[1, 0, 0, 0]);
        assert_eq!(&f[20..24], &[2, 0, 0, 0]);
        assert_eq!(&f[24..27], b"kvv");
        assert_eq!(&f[27..31], &crc32c::crc32c(&f[..27]).to_le_bytes());
    }

    #[test]
    fn round_trip() {
        let f = frame(RecordType::Delete, 9, b"key", b"");
        let Decoded::Frame(fr) = decode_frame(&f).unwrap() else {
            panic!("expected a frame")
        };
        assert_eq!(fr.header.record_type, RecordType::Delete);
        assert_eq!(fr.header.txid, 9);
        assert_eq!(fr.key, b"key");
        assert_eq!(fr.payload, b"");
    }

    #[test]
    fn every_truncation_is_incomplete() {
        let f = frame(RecordType::Raw, 1, b"", b"hello world");
        for cut in 0..f.len() {
            match decode_frame(&f[..cut]).unwrap() {
                Decoded::Incomplete { available, needed } => {
                    assert_eq!(available, cut as u64);
                    let want = if cut < HEADER_LEN {
                        HEADER_LEN
                    } else {
                        f.len()
                    };
                    assert_eq!(needed, want as u64);
                }
                Decoded::Frame(_) => panic!("cut {cut} decoded as a frame"),
            }
        }
    }

    #[test]
    fn each_header_field_is_checked() {
        let good = frame(RecordType::Raw, 1, b"", b"x");
        type Check = fn(&CorruptKind) -> bool;
        let cases: Vec<(usize, u8, Check)> = vec![
            (0, b'X', |k| matches!(k, CorruptKind::BadMagic { .. })),
            (4, 2, |k| {
                matches!(k, CorruptKind::UnknownVersion { found: 2 })
            }),
            (6, 3, |k| {
                matches!(k, CorruptKind::UnknownRecordType { found: 3 })
            }),
            (7, 1, |k| {
                matches!(k, CorruptKind::NonZeroFlags { found: 1 })
            }),
            (18, 2, |k| matches!(k, CorruptKind::KeyTooLarge { .. })),
            (23, 5, |k| matches!(k, CorruptKind::PayloadTooLarge { .. })),
            (24, b'y', |k| matches!(k, CorruptKind::CrcMismatch { .. })),
        ];
        for (at, byte, check) in cases {
            let mut bad = good.clone();
            bad[at] = byte;
            let err = decode_frame(&bad).unwrap_err();
            assert!(check(&err), "byte {at}: {err:?}");
        }
    }

    #[test]
    fn put_value_is_the_value_of_that_put_only() {
        let mut f = Vec::new();
        encode_into(&mut f, RecordType::Put, 7, b"k1", b"value");
        assert_eq!(&f[put_value(b"k1", &f).unwrap()], b"value");
        for (key, frame) in [
            (&b"k2"[..], f.clone()),
            (b"k1", {
                let mut raw = Vec::new();
                encode_into(&mut raw, RecordType::Raw, 7, b"k1", b"value");
                raw
            }),
        ] {
            let err = put_value(key, &frame).unwrap_err();
            assert!(matches!(err, CorruptKind::WrongRecord { .. }), "{err:?}");
        }
        assert!(matches!(
            put_value(b"k1", &f[..f.len() - 1]),
            Err(CorruptKind::Truncated { .. })
        ));
    }

    #[test]
    fn fast_path_agrees_with_decode_frame() {
        let good = frame(RecordType::Put, 7, b"key", b"value");
        let Decoded::Frame(f) = decode_frame(&good).unwrap() else {
            panic!("expected a frame")
        };
        assert_eq!(valid_frame_header(&good), Some(f.header));
        for rt in [RecordType::Raw, RecordType::Delete] {
            let g = frame(rt, 1, b"", b"");
            assert_eq!(valid_frame_header(&g).unwrap().record_type, rt);
        }
        // Every single-byte change and every truncation: the fast path
        // accepts exactly what decode_frame accepts as a frame.
        for at in 0..good.len() {
            for delta in [1u8, 0x80, 0xFF] {
                let mut bad = good.clone();
                bad[at] = bad[at].wrapping_add(delta);
                let slow = matches!(decode_frame(&bad), Ok(Decoded::Frame(_)));
                assert_eq!(
                    valid_frame_header(&bad).is_some(),
                    slow,
                    "byte {at} + {delta}"
                );
            }
        }
        for cut in 0..good.len() {
            assert_eq!(valid_frame_header(&good[..cut]), None, "cut {cut}");
        }
    }

    #[test]
    fn keys_display_readably() {
        assert_eq!(display_key(b"user:1"), "\"user:1\"");
        assert_eq!(display_key(&[0, 255]), "0x00ff");
    }
}
