//! Typed payloads as the CLI shows them. The envelope (the 8-byte header
//! `datawal-typed` puts in front of a typed record's body, normative text in
//! `docs/canon-typed.md`) is parsed by `datawal_typed::envelope`, its one
//! home; this module only adds what display needs.
//!
//! The core never marks a payload as typed, so the CLI recognises one by its
//! shape alone: a payload that happens to start with these bytes is shown as
//! typed too. The raw bytes are always available (`scan --json`, `get --raw`).

use datawal_typed::envelope::Header;
pub use datawal_typed::Codec;

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

/// Recognise `payload` as a typed envelope (`Header::parse` accepts it);
/// anything else is `None` and is shown as plain bytes.
pub fn detect(payload: &[u8]) -> Option<Typed<'_>> {
    let (header, body) = Header::parse(payload).ok()?;
    Some(Typed {
        codec: header.codec,
        schema_version: header.version,
        fingerprint: header.fingerprint,
        body,
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
