//! The typed envelope: the 8-byte header datawal writes before every typed
//! record's body. Pure functions over bytes, no I/O.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | envelope format version, [`ENVELOPE_VERSION`] = 1 |
//! | 1 | 1 | codec id ([`Codec::id`]) |
//! | 2 | 2 | schema version, `Record::VERSION` at write time, little-endian |
//! | 4 | 4 | type fingerprint, CRC-32C of `Record::NAME`, little-endian |
//! | 8 | … | body, encoded by the codec |
//!
//! The full specification is `docs/canon-typed.md`.

use std::fmt;

use crate::Codec;

/// The envelope format version this build writes and reads.
pub const ENVELOPE_VERSION: u8 = 1;
/// Length of the envelope header, in bytes.
pub const HEADER_LEN: usize = 8;
/// Offset of the envelope format version byte.
pub const OFFSET_FORMAT: usize = 0;
/// Offset of the codec id byte.
pub const OFFSET_CODEC: usize = 1;
/// Offset of the 2-byte little-endian schema version.
pub const OFFSET_VERSION: usize = 2;
/// Offset of the 4-byte little-endian type fingerprint.
pub const OFFSET_FINGERPRINT: usize = 4;

/// The type fingerprint of a record family name: CRC-32C (Castagnoli,
/// reflected polynomial `0x82F63B78`, initial value and final xor
/// `0xFFFFFFFF`) of the name's UTF-8 bytes.
///
/// A `const fn`, so the typed layer computes each type's fingerprint once,
/// at compile time.
#[must_use]
pub const fn fingerprint(name: &str) -> u32 {
    let bytes = name.as_bytes();
    let mut crc = !0u32;
    let mut i = 0;
    while i < bytes.len() {
        crc ^= bytes[i] as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
            bit += 1;
        }
        i += 1;
    }
    !crc
}

/// The decoded header of a typed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Header {
    /// The codec that encoded the body.
    pub codec: Codec,
    /// The schema version the writer's `Record::VERSION` had.
    pub version: u16,
    /// CRC-32C of the writer's `Record::NAME`.
    pub fingerprint: u32,
}

impl Header {
    /// A header for a body written by `codec` for schema `version` of the
    /// family with fingerprint `fingerprint`.
    #[must_use]
    pub const fn new(codec: Codec, version: u16, fingerprint: u32) -> Header {
        Header {
            codec,
            version,
            fingerprint,
        }
    }

    /// The 8 header bytes.
    #[must_use]
    pub fn to_bytes(self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[OFFSET_FORMAT] = ENVELOPE_VERSION;
        out[OFFSET_CODEC] = self.codec.id();
        out[OFFSET_VERSION..OFFSET_VERSION + 2].copy_from_slice(&self.version.to_le_bytes());
        out[OFFSET_FINGERPRINT..OFFSET_FINGERPRINT + 4]
            .copy_from_slice(&self.fingerprint.to_le_bytes());
        out
    }

    /// Parse the header at the front of `payload`, returning it and the body
    /// that follows.
    ///
    /// # Errors
    /// A payload shorter than [`HEADER_LEN`], an envelope format version
    /// other than [`ENVELOPE_VERSION`], or a codec id this build does not know.
    #[inline]
    pub fn parse(payload: &[u8]) -> Result<(Header, &[u8]), EnvelopeError> {
        if payload.len() < HEADER_LEN {
            return Err(EnvelopeError::TooShort { len: payload.len() });
        }
        let format = payload[OFFSET_FORMAT];
        if format != ENVELOPE_VERSION {
            return Err(EnvelopeError::UnknownFormat { found: format });
        }
        let codec_id = payload[OFFSET_CODEC];
        let codec =
            Codec::from_id(codec_id).ok_or(EnvelopeError::UnknownCodec { found: codec_id })?;
        let version = u16::from_le_bytes([payload[OFFSET_VERSION], payload[OFFSET_VERSION + 1]]);
        let fingerprint = u32::from_le_bytes([
            payload[OFFSET_FINGERPRINT],
            payload[OFFSET_FINGERPRINT + 1],
            payload[OFFSET_FINGERPRINT + 2],
            payload[OFFSET_FINGERPRINT + 3],
        ]);
        Ok((
            Header {
                codec,
                version,
                fingerprint,
            },
            &payload[HEADER_LEN..],
        ))
    }
}

/// Why a payload is not a typed envelope this build reads.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The payload is shorter than the 8-byte header (for example a raw
    /// record appended without the typed layer).
    TooShort {
        /// The payload's length.
        len: usize,
    },
    /// The first byte is not envelope format version 1.
    UnknownFormat {
        /// The byte found.
        found: u8,
    },
    /// The codec id is not one this build knows.
    UnknownCodec {
        /// The byte found.
        found: u8,
    },
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::TooShort { len } => write!(
                f,
                "payload of {len} bytes is shorter than the {HEADER_LEN}-byte typed envelope \
                 (was it written by the raw API?)"
            ),
            EnvelopeError::UnknownFormat { found } => write!(
                f,
                "unknown envelope format version {found} (this build reads version \
                 {ENVELOPE_VERSION}; a newer datawal wrote it, or it is not a typed record)"
            ),
            EnvelopeError::UnknownCodec { found } => write!(
                f,
                "unknown codec id {found} (this build reads 1 bincode, 2 postcard, 3 json; \
                 a newer datawal wrote it, or it is not a typed record)"
            ),
        }
    }
}

impl std::error::Error for EnvelopeError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_crc32c() {
        for name in ["", "order", "u64", "a much longer family name with ünïcode"] {
            assert_eq!(fingerprint(name), crc32c::crc32c(name.as_bytes()), "{name}");
        }
        // The standard CRC-32C check value.
        assert_eq!(fingerprint("123456789"), 0xE306_9283);
    }

    #[test]
    fn header_bytes_are_laid_out_as_documented() {
        let h = Header::new(Codec::Postcard, 0x0102, 0xA1B2_C3D4);
        assert_eq!(h.to_bytes(), [1, 2, 0x02, 0x01, 0xD4, 0xC3, 0xB2, 0xA1]);
        let mut payload = h.to_bytes().to_vec();
        payload.extend_from_slice(b"body");
        let (back, body) = Header::parse(&payload).unwrap();
        assert_eq!(back, h);
        assert_eq!(body, b"body");
    }

    #[test]
    fn bad_headers_are_errors() {
        assert_eq!(
            Header::parse(b"1234567"),
            Err(EnvelopeError::TooShort { len: 7 })
        );
        assert_eq!(
            Header::parse(&[2, 1, 1, 0, 0, 0, 0, 0]),
            Err(EnvelopeError::UnknownFormat { found: 2 })
        );
        assert_eq!(
            Header::parse(&[1, 9, 1, 0, 0, 0, 0, 0]),
            Err(EnvelopeError::UnknownCodec { found: 9 })
        );
        assert!(EnvelopeError::UnknownCodec { found: 9 }
            .to_string()
            .contains("codec id 9"));
    }
}
