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
