//! How keys and payloads are shown: readable where the bytes allow it,
//! exact always (`--json` carries the bytes as base64 next to the readable
//! form).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use datawal_core::segment::segment_path;
use datawal_core::RecordView;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::path::Path;

use crate::envelope::{self, Typed};
use crate::lens::Lens;
#[cfg(test)]
use crate::lens::TypeNames;

/// Binary values up to this many bytes are shown as hex, longer ones as base64.
const HEX_MAX: usize = 64;

/// The file name of segment `id` (`00000001.dwal`).
pub fn segment_name(id: u32) -> String {
    segment_path(Path::new(""), id).display().to_string()
}

/// Lower-case hex of `bytes`, no prefix.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// `bytes` as text, when they are UTF-8 without control characters other
/// than tab, line feed and carriage return.
pub fn as_text(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let readable = text
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'));
    readable.then_some(text)
}

/// Bytes as one readable token: a quoted, escaped string when they are
/// text (see [`as_text`]), else `hex:…` (up to 64 bytes) or `base64:…`.
/// With `limit`, at most that many bytes are shown, followed by
/// `… (N bytes)`.
pub fn bytes_text(bytes: &[u8], limit: Option<usize>) -> String {
    binary_or_text(bytes, limit, true)
}

/// As [`bytes_text`], never as text when `text_ok` is false.
fn binary_or_text(bytes: &[u8], limit: Option<usize>, text_ok: bool) -> String {
    let cut = limit.filter(|&n| bytes.len() > n);
    let text = if text_ok { as_text(bytes) } else { None };
    let mut s = match text {
        Some(text) => {
            let shown = match cut {
                Some(n) => &text[..floor_char_boundary(text, n)],
                None => text,
            };
            format!("{shown:?}")
        }
        None => {
            let shown = &bytes[..cut.unwrap_or(bytes.len())];
            if bytes.len() <= HEX_MAX {
                format!("hex:{}", hex(shown))
            } else {
                format!("base64:{}", base64(shown))
            }
        }
    };
    if cut.is_some() {
        let _ = write!(s, "… ({} bytes)", bytes.len());
    }
    s
}

/// The largest char boundary of `s` at or below `n`.
fn floor_char_boundary(s: &str, n: usize) -> usize {
    let mut i = n.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The header of a typed payload: `typed(fingerprint=0x…, version=N,
/// codec=…)`, or `typed(type=NAME, …)` when the store's description or
/// `--type-name` knows the fingerprint.
pub fn typed_header(t: &Typed<'_>, lens: &Lens) -> String {
    let ty = match lens.type_name(t.fingerprint) {
        Some(name) => format!("type={name}"),
        None => format!("fingerprint={:#010x}", t.fingerprint),
    };
    format!(
        "typed({ty}, version={}, codec={})",
        t.schema_version,
        t.codec.name()
    )
}

/// A payload as one readable token: typed envelopes with their header and
/// their decoded JSON (any codec, with the store's description; JSON bodies
/// without one too); other bytes as [`bytes_text`].
pub fn payload_text(payload: &[u8], limit: Option<usize>, lens: &Lens) -> String {
    let Some(t) = envelope::detect(payload) else {
        return bytes_text(payload, limit);
    };
    match lens.decode(payload) {
        Some(Ok(record)) => {
            let body = record.value.to_string();
            let body = match limit.filter(|&n| body.len() > n) {
                Some(n) => format!(
                    "{}… ({} bytes)",
                    &body[..floor_char_boundary(&body, n)],
                    t.body.len()
                ),
                None => body,
            };
            format!("{} {body}", typed_header(&t, lens))
        }
        // A body that does not decode is bytes, even when they happen to be
        // UTF-8 (bincode, postcard).
        _ => format!(
            "{} {}",
            typed_header(&t, lens),
            binary_or_text(t.body, limit, t.codec == envelope::Codec::Json)
        ),
    }
}

/// One record as a line of text (no newline).
pub fn record_line(v: &RecordView<'_>, limit: Option<usize>, lens: &Lens) -> String {
    let mut s = format!(
        "{}@{} txid={} {}",
        segment_name(v.segment),
        v.offset,
        v.txid,
        v.record_type.name()
    );
    // Raw records usually have no key; puts and deletes always show theirs.
    if !v.key.is_empty() || v.record_type != datawal_core::RecordType::Raw {
        let key = lens
            .key_token(v.key, v.payload)
            .unwrap_or_else(|| bytes_text(v.key, limit));
        let _ = write!(s, " key={key}");
    }
    if !v.payload.is_empty() {
        let _ = write!(s, " payload={}", payload_text(v.payload, limit, lens));
    }
    s
}

/// A typed envelope as a JSON object: its header, the decoded `value` when
/// it decodes (`decode_error` saying why not, in a store that describes
/// itself), and the body as base64.
pub fn typed_json(t: &Typed<'_>, payload: &[u8], lens: &Lens) -> Value {
    let mut m = Map::new();
    if let Some(name) = lens.type_name(t.fingerprint) {
        m.insert("type_name".into(), json!(name));
    }
    m.insert("codec".into(), json!(t.codec.name()));
    m.insert("codec_id".into(), json!(t.codec.id()));
    m.insert("schema_version".into(), json!(t.schema_version));
    m.insert(
        "fingerprint".into(),
        json!(format!("{:#010x}", t.fingerprint)),
    );
    match lens.decode(payload) {
        Some(Ok(record)) => {
            m.insert("value".into(), record.value);
        }
        Some(Err(e)) if lens.kind().is_some() => {
            m.insert("decode_error".into(), json!(e.to_string()));
        }
        _ => {}
    }
    m.insert("body_b64".into(), json!(base64(t.body)));
    Value::Object(m)
}

/// One record as a JSON object: position, txid, type, the key and payload
/// as base64 (exact), as text when they are UTF-8, and the typed envelope
/// when the payload has one.
pub fn record_json(v: &RecordView<'_>, lens: &Lens) -> Value {
    let mut m = Map::new();
    m.insert("segment".into(), json!(v.segment));
    m.insert("file".into(), json!(segment_name(v.segment)));
    m.insert("offset".into(), json!(v.offset));
    m.insert("len".into(), json!(v.len));
    m.insert("txid".into(), json!(v.txid));
    m.insert("type".into(), json!(v.record_type.name()));
    if let Ok(k) = std::str::from_utf8(v.key) {
        m.insert("key".into(), json!(k));
    }
    if let Some(text) = lens.key_text(v.key, v.payload) {
        m.insert("key_text".into(), json!(text));
    }
    m.insert("key_b64".into(), json!(base64(v.key)));
    match envelope::detect(v.payload) {
        Some(t) => {
            m.insert("typed".into(), typed_json(&t, v.payload, lens));
        }
        None => {
            if let Ok(p) = std::str::from_utf8(v.payload) {
                m.insert("payload".into(), json!(p));
            }
        }
    }
    m.insert("payload_b64".into(), json!(base64(v.payload)));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datawal_core::RecordType;

    fn view<'a>(rt: RecordType, key: &'a [u8], payload: &'a [u8]) -> RecordView<'a> {
        RecordView {
            record_type: rt,
            txid: 7,
            key,
            payload,
            segment: 2,
            offset: 48,
            len: 99,
        }
    }

    fn none() -> Lens {
        Lens::default()
    }

    #[test]
    fn type_names_replace_known_fingerprints() {
        let names = Lens::with_names(TypeNames::new(&["order", "user"]));
        let mut p = vec![1, 3, 2, 0];
        p.extend_from_slice(&crc32c::crc32c(b"order").to_le_bytes());
        p.extend_from_slice(b"{}");
        assert_eq!(
            payload_text(&p, None, &names),
            "typed(type=order, version=2, codec=json) {}"
        );
        let t = envelope::detect(&p).unwrap();
        assert_eq!(typed_json(&t, &p, &names)["type_name"], "order");
        assert!(typed_json(&t, &p, &none()).get("type_name").is_none());
        assert!(payload_text(&p, None, &none()).starts_with("typed(fingerprint=0x"));
    }

    fn typed(codec: u8, body: &[u8]) -> Vec<u8> {
        let mut p = vec![1, codec, 3, 0, 0xd4, 0xc3, 0xb2, 0xa1];
        p.extend_from_slice(body);
        p
    }

    #[test]
    fn text_is_quoted_and_escaped() {
        assert_eq!(bytes_text(b"ada", None), "\"ada\"");
        assert_eq!(bytes_text(b"a\nb\"", None), "\"a\\nb\\\"\"");
        assert_eq!(bytes_text("héllo".as_bytes(), None), "\"héllo\"");
        assert_eq!(bytes_text(b"", None), "\"\"");
    }

    #[test]
    fn control_characters_make_bytes_binary() {
        assert_eq!(bytes_text(b"a\tb\r\n", None), "\"a\\tb\\r\\n\"");
        assert_eq!(bytes_text(b"\0ada", None), "hex:00616461");
        assert_eq!(bytes_text(b"\x1b[31m", None), "hex:1b5b33316d");
    }

    #[test]
    fn binary_codec_bodies_are_never_text() {
        let p = typed(2, b"ada");
        assert!(payload_text(&p, None, &none()).ends_with("codec=postcard) hex:616461"));
        let j = typed(3, b"ada");
        assert!(payload_text(&j, None, &none()).ends_with("codec=json) \"ada\""));
    }

    #[test]
    fn binary_is_hex_then_base64() {
        assert_eq!(bytes_text(&[0xff, 0x00], None), "hex:ff00");
        let long = [0xffu8; 65];
        assert!(bytes_text(&long, None).starts_with("base64://///"));
        assert_eq!(
            bytes_text(&[0xffu8; 64], None),
            format!("hex:{}", "ff".repeat(64))
        );
    }

    #[test]
    fn limit_cuts_on_char_boundaries() {
        assert_eq!(bytes_text("héllo".as_bytes(), Some(2)), "\"h\"… (6 bytes)");
        assert_eq!(bytes_text(b"hello", Some(5)), "\"hello\"");
        assert_eq!(bytes_text(&[0xff; 4], Some(2)), "hex:ffff… (4 bytes)");
    }

    #[test]
    fn typed_json_payloads_show_their_json() {
        let p = typed(3, br#"{"id": 7}"#);
        assert_eq!(
            payload_text(&p, None, &none()),
            "typed(fingerprint=0xa1b2c3d4, version=3, codec=json) {\"id\":7}"
        );
        let b = typed(1, &[0x07, 0xff]);
        assert_eq!(
            payload_text(&b, None, &none()),
            "typed(fingerprint=0xa1b2c3d4, version=3, codec=bincode) hex:07ff"
        );
        let bad = typed(3, b"{oops");
        assert!(payload_text(&bad, None, &none()).ends_with("codec=json) \"{oops\""));
    }

    #[test]
    fn record_line_names_segment_offset_txid_type() {
        let v = view(RecordType::Put, b"user:1", b"ada");
        assert_eq!(
            record_line(&v, None, &none()),
            "00000002.dwal@48 txid=7 put key=\"user:1\" payload=\"ada\""
        );
        let d = view(RecordType::Delete, b"user:1", b"");
        assert_eq!(
            record_line(&d, None, &none()),
            "00000002.dwal@48 txid=7 delete key=\"user:1\""
        );
        let empty = view(RecordType::Put, b"", b"v");
        assert_eq!(
            record_line(&empty, None, &none()),
            "00000002.dwal@48 txid=7 put key=\"\" payload=\"v\""
        );
        let raw = view(RecordType::Raw, b"", b"v");
        assert_eq!(
            record_line(&raw, None, &none()),
            "00000002.dwal@48 txid=7 raw payload=\"v\""
        );
    }

    #[test]
    fn record_json_is_exact_and_readable() {
        let p = typed(3, br#"{"id":7}"#);
        let v = view(RecordType::Raw, &[0xff], &p);
        let j = record_json(&v, &none());
        assert_eq!(j["file"], "00000002.dwal");
        assert_eq!(j["type"], "raw");
        assert!(j.get("key").is_none(), "non-UTF-8 key has no text form");
        assert_eq!(j["key_b64"], "/w==");
        assert_eq!(j["typed"]["value"]["id"], 7);
        assert_eq!(j["typed"]["fingerprint"], "0xa1b2c3d4");
        assert_eq!(j["typed"]["schema_version"], 3);
        assert_eq!(j["payload_b64"], base64(&p));
        let t = view(RecordType::Put, b"k", b"v");
        assert_eq!(record_json(&t, &none())["payload"], "v");
    }
}
