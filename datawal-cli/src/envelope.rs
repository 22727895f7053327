//! The typed envelope: the 8-byte header `datawal-typed` puts in front of a
//! typed record's body (normative text in `docs/canon-typed.md`).
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | envelope format version, `1` |
//! | 1 | 1 | codec id: `1` bincode, `2` postcard, `3` JSON |
//! | 2 | 2 | schema version, `u16` little-endian |
//! | 4 | 4 | type fingerprint, CRC-32C of the type's name, `u32` little-endian |
//! | 8 | … | body, encoded by the codec |
//!
//! The core never marks a payload as typed, so the CLI recognises one by its
//! shape alone: a payload that happens to start with these bytes is shown as
//! typed too. The raw bytes are always available (`scan --json`, `get --raw`).
//! Decoded here by hand so that the CLI does not depend on `datawal-typed`.

/// Length of the envelope header.
pub const HEADER_LEN: usize = 8;
/// The only envelope format version written so far.
pub const FORMAT_V1: u8 = 1;
/// Offset of the envelope format version byte.
const OFF_FORMAT: usize = 0;
/// Offset of the codec id byte.
const OFF_CODEC: usize = 1;
/// Offset of the 2-byte little-endian schema version.
const OFF_SCHEMA_VERSION: usize = 2;
/// Offset of the 4-byte little-endian type fingerprint.
const OFF_FINGERPRINT: usize = 4;

/// The codec that encoded a typed body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// bincode 2, standard configuration (id 1).
    Bincode,
    /// postcard 1 (id 2).
    Postcard,
    /// serde_json, compact UTF-8 (id 3).
    Json,
}

impl Codec {
    /// The codec for an envelope codec id, or `None` for an unknown id.
    pub fn from_id(id: u8) -> Option<Codec> {
        match id {
            1 => Some(Codec::Bincode),
            2 => Some(Codec::Postcard),
            3 => Some(Codec::Json),
            _ => None,
        }
    }

    /// The codec id byte.
    pub fn id(self) -> u8 {
        match self {
            Codec::Bincode => 1,
            Codec::Postcard => 2,
            Codec::Json => 3,
        }
    }

    /// `"bincode"`, `"postcard"` or `"json"`.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Bincode => "bincode",
            Codec::Postcard => "postcard",
            Codec::Json => "json",
        }
    }
}

/// A payload recognised as a typed envelope, borrowing its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Typed<'a> {
    /// The codec of the body.
    pub codec: Codec,
    /// Schema version of the type that wrote the record.
    pub schema_version: u16,
    /// CRC-32C of the record type's name.
    pub fingerprint: u32,
    /// The encoded body (everything after the header).
    pub body: &'a [u8],
}

/// Recognise `payload` as a typed envelope: at least [`HEADER_LEN`] bytes,
/// format version 1 and a known codec id. Anything else is `None` (the
/// payload is then shown as plain bytes).
pub fn detect(payload: &[u8]) -> Option<Typed<'_>> {
    let header = payload.get(..HEADER_LEN)?;
    if header[OFF_FORMAT] != FORMAT_V1 {
        return None;
    }
    let codec = Codec::from_id(header[OFF_CODEC])?;
    let schema_version =
        u16::from_le_bytes([header[OFF_SCHEMA_VERSION], header[OFF_SCHEMA_VERSION + 1]]);
    let mut fp = [0u8; 4];
    fp.copy_from_slice(&header[OFF_FINGERPRINT..OFF_FINGERPRINT + 4]);
    Some(Typed {
        codec,
        schema_version,
        fingerprint: u32::from_le_bytes(fp),
        body: &payload[HEADER_LEN..],
    })
}

impl Typed<'_> {
    /// The body parsed as JSON when the codec is JSON and the body is valid
    /// JSON (exactly one value); `None` otherwise.
    pub fn json(&self) -> Option<serde_json::Value> {
        if self.codec != Codec::Json {
            return None;
        }
        serde_json::from_slice(self.body).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(format: u8, codec: u8, version: u16, fp: u32, body: &[u8]) -> Vec<u8> {
        let mut v = vec![format, codec];
        v.extend_from_slice(&version.to_le_bytes());
        v.extend_from_slice(&fp.to_le_bytes());
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn decodes_every_field_little_endian() {
        let p = envelope(1, 2, 0x0102, 0xA1B2_C3D4, b"\x07\x08");
        let t = detect(&p).expect("typed");
        assert_eq!(t.codec, Codec::Postcard);
        assert_eq!(t.schema_version, 0x0102);
        assert_eq!(t.fingerprint, 0xA1B2_C3D4);
        assert_eq!(t.body, b"\x07\x08");
        assert_eq!(&p[2..4], &[0x02, 0x01]);
    }

    #[test]
    fn header_only_has_an_empty_body() {
        let p = envelope(1, 1, 1, 0, b"");
        assert_eq!(detect(&p).expect("typed").body, b"");
    }

    #[test]
    fn refuses_what_is_not_an_envelope() {
        assert_eq!(detect(b""), None);
        assert_eq!(detect(&[1, 3, 1, 0, 0, 0, 0]), None, "7 bytes is too short");
        assert_eq!(detect(&envelope(2, 3, 1, 0, b"{}")), None, "format 2");
        assert_eq!(detect(&envelope(0, 3, 1, 0, b"{}")), None, "format 0");
        assert_eq!(detect(&envelope(1, 0, 1, 0, b"{}")), None, "codec 0");
        assert_eq!(detect(&envelope(1, 4, 1, 0, b"{}")), None, "codec 4");
        assert_eq!(detect(b"hello, world"), None, "text");
    }

    #[test]
    fn codec_ids_round_trip() {
        for id in 0..=u8::MAX {
            match Codec::from_id(id) {
                Some(c) => assert_eq!(c.id(), id),
                None => assert!(!(1..=3).contains(&id)),
            }
        }
        assert_eq!(Codec::Json.name(), "json");
        assert_eq!(Codec::Bincode.name(), "bincode");
    }

    #[test]
    fn json_only_for_the_json_codec_and_valid_bodies() {
        let p = envelope(1, 3, 2, 9, br#"{"id":7,"cents":100}"#);
        let t = detect(&p).expect("typed");
        assert_eq!(t.json(), Some(serde_json::json!({"id": 7, "cents": 100})));
        let bad = envelope(1, 3, 2, 9, b"{not json");
        assert_eq!(detect(&bad).expect("typed").json(), None);
        let trailing = envelope(1, 3, 2, 9, b"{} {}");
        assert_eq!(detect(&trailing).expect("typed").json(), None);
        let bin = envelope(1, 1, 2, 9, b"{}");
        assert_eq!(detect(&bin).expect("typed").json(), None);
    }
}
