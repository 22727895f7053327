//! Body codecs: how a record's fields become bytes after the envelope.
//!
//! The codec id is stored in every record's envelope, so a store can mix
//! codecs and every reader decodes whatever codec wrote a record.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, DeserializeSeed};
use serde::Serialize;

use crate::copy_strings;
use crate::nesting::{self, Bounded};

/// Largest body the decoders accept, in bytes: the core's payload limit.
///
/// It bounds the lengths that a corrupt or hostile body can claim, so a
/// decoder never reserves more memory than a real record could need.
pub(crate) const MAX_BODY_LEN: usize = 64 << 20;

/// The codec that encodes a record's body.
///
/// Every record says in its envelope which codec wrote it (see
/// `docs/canon-typed.md`); writers pick one with
/// [`Options::codec`](crate::Options::codec), readers accept all of them.
///
/// | id | codec | notes |
/// |---|---|---|
/// | 1 | [`Codec::Bincode`] | the default: bincode 2.0.1, serde mode, `config::standard()` (varint integers, little-endian). bincode is no longer maintained (RUSTSEC-2025-0141); it is pinned to `=2.0.1`, whose format is frozen. |
/// | 2 | [`Codec::Postcard`] | postcard 1: a stable, documented wire format. Prefer it for new stores. |
/// | 3 | [`Codec::Json`] | `serde_json`: readable bodies, for audit logs. Larger and slower. |
///
/// bincode and postcard write values by position and cannot decode a type
/// that needs a self-describing format (a `serde_json::Value`,
/// `#[serde(flatten)]`, an untagged enum): the typed handles refuse to
/// write such a type with them ([`Error::Unreadable`](crate::Error::Unreadable)).
/// Every codec's bodies nest at most 128 levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[non_exhaustive]
#[repr(u8)]
pub enum Codec {
    /// bincode 2.0.1 in serde mode with `bincode::config::standard()`.
    ///
    /// The default, because it is what users of datawal 0.1 asked for. The
    /// bincode crate is unmaintained (RUSTSEC-2025-0141); datawal pins it
    /// exactly and freezes its bytes with golden fixtures. New stores may
    /// prefer [`Codec::Postcard`].
    #[default]
    Bincode = 1,
    /// postcard 1 (`postcard::to_extend` / `postcard::take_from_bytes`).
    Postcard = 2,
    /// JSON (`serde_json`), UTF-8, compact.
    Json = 3,
}

impl Codec {
    /// Every codec this build reads and writes, by ascending id.
    pub const ALL: [Codec; 3] = [Codec::Bincode, Codec::Postcard, Codec::Json];

    /// The byte that identifies this codec in the envelope.
    #[must_use]
    pub const fn id(self) -> u8 {
        self as u8
    }

    /// The codec with envelope id `id`, or `None` for an id this build does
    /// not know.
    #[must_use]
    pub const fn from_id(id: u8) -> Option<Codec> {
        match id {
            1 => Some(Codec::Bincode),
            2 => Some(Codec::Postcard),
            3 => Some(Codec::Json),
            _ => None,
        }
    }

    /// A short lowercase name: `"bincode"`, `"postcard"` or `"json"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Codec::Bincode => "bincode",
            Codec::Postcard => "postcard",
            Codec::Json => "json",
        }
    }

    /// Append the encoding of `value` to `out`.
    ///
    /// `out` is taken by `&mut Vec` so callers can reuse one buffer for
    /// every record. A value nested deeper than
    /// [`MAX_DEPTH`](nesting::MAX_DEPTH) is refused (see
    /// [`nesting`]): no reader would accept it.
    pub(crate) fn encode_into<T: Serialize + ?Sized>(
        self,
        value: &T,
        out: &mut Vec<u8>,
    ) -> Result<(), String> {
        let value = Bounded(value);
        match self {
            Codec::Bincode => {
                bincode::serde::encode_into_std_write(value, out, bincode::config::standard())
                    .map(|_| ())
                    .map_err(|e| message(&e))
            }
            Codec::Postcard => {
                let taken = std::mem::take(out);
                match postcard::to_extend(&value, taken) {
                    Ok(back) => {
                        *out = back;
                        Ok(())
                    }
                    Err(e) => Err(message(&e)),
                }
            }
            Codec::Json => serde_json::to_writer(out, &value).map_err(|e| message(&e)),
        }
    }

    /// Whether bodies in this codec name their fields and variants, so
    /// that a type whose decoding needs `deserialize_any` (such as
    /// `serde_json::Value`) can be read back. Only JSON does; bincode and
    /// postcard write values by position.
    #[must_use]
    pub(crate) const fn is_self_describing(self) -> bool {
        matches!(self, Codec::Json)
    }

    /// Decode exactly one value from `body`: trailing bytes are an error, and
    /// so is a value nested deeper than [`MAX_DEPTH`](nesting::MAX_DEPTH)
    /// (bincode and postcard through [`copy_strings`], JSON by `serde_json`'s
    /// own limit: see [`nesting`]).
    ///
    /// Failures are built in `#[cold]` functions, out of the way: the value
    /// (moved once per layer of `Result` it passes through) is what the hot
    /// path carries.
    // Inlined so the decoded value is not copied once more on its way to
    // the read loop: see `LogIter::for_each_decoded` in log.rs.
    #[inline(always)]
    pub(crate) fn decode<T: DeserializeOwned>(self, body: &[u8]) -> Result<T, String> {
        if body.len() > MAX_BODY_LEN {
            return Err(too_large(body.len()));
        }
        match self {
            Codec::Bincode => {
                let config = bincode::config::standard().with_limit::<MAX_BODY_LEN>();
                // Strings are read as borrowed text and copied out: see
                // `copy_strings` (bincode's own `String` zero-fills a buffer).
                let seed = copy_strings::Seed::<T>(PhantomData);
                match bincode::serde::seed_decode_from_slice(seed, body, config) {
                    Ok((value, used)) if used == body.len() => Ok(value),
                    Ok((_, used)) => Err(trailing(body.len(), used)),
                    Err(e) => Err(message(&e)),
                }
            }
            Codec::Postcard => {
                // As `postcard::take_from_bytes`, strings through
                // `copy_strings` as for bincode.
                let mut de = postcard::Deserializer::from_bytes(body);
                match copy_strings::Seed::<T>(PhantomData).deserialize(&mut de) {
                    Ok(value) => match de.finalize() {
                        Ok([]) => Ok(value),
                        Ok(rest) => Err(trailing(body.len(), body.len() - rest.len())),
                        Err(e) => Err(message(&e)),
                    },
                    Err(e) => Err(message(&e)),
                }
            }
            Codec::Json => {
                // JSON text is UTF-8 (RFC 8259). One check of the whole body
                // lets `from_str` skip the check that serde_json's slice
                // reader makes on every string and field name, one call each
                // (a sixth of the decode's instructions for a small struct).
                let text = match std::str::from_utf8(body) {
                    Ok(text) => text,
                    Err(e) => return Err(not_utf8(&e)),
                };
                serde_json::from_str(text).map_err(|e| message(&e))
            }
        }
    }
}

#[cold]
fn too_large(len: usize) -> String {
    format!("body of {len} bytes is larger than the {MAX_BODY_LEN}-byte limit")
}

#[cold]
fn trailing(len: usize, used: usize) -> String {
    format!(
        "{} trailing bytes after the value (body is {len} bytes, the value used {used})",
        len - used
    )
}

#[cold]
fn not_utf8(e: &std::str::Utf8Error) -> String {
    format!("body is not UTF-8 JSON text: {e}")
}

/// A codec's error message, or the nesting limit's when the limit is what
/// failed (postcard drops the message of a serde error).
#[cold]
fn message(e: &dyn fmt::Display) -> String {
    if nesting::take_exceeded() {
        return nesting::TOO_DEEP.to_owned();
    }
    e.to_string()
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Sample {
        id: u64,
        name: String,
        tags: Vec<u8>,
    }

    fn sample() -> Sample {
        Sample {
            id: 300,
            name: "é".into(),
            tags: vec![1, 2],
        }
    }

    #[test]
    fn ids_round_trip_and_unknown_ids_are_none() {
        for c in Codec::ALL {
            assert_eq!(Codec::from_id(c.id()), Some(c));
        }
        assert_eq!(Codec::from_id(0), None);
        assert_eq!(Codec::from_id(4), None);
        assert_eq!(Codec::default(), Codec::Bincode);
    }

    #[test]
    fn every_codec_round_trips() {
        for c in Codec::ALL {
            let mut buf = vec![0xAA];
            c.encode_into(&sample(), &mut buf).unwrap();
            assert_eq!(buf[0], 0xAA, "{c} must append, not overwrite");
            let back: Sample = c.decode(&buf[1..]).unwrap();
            assert_eq!(back, sample(), "{c}");
        }
    }

    #[test]
    fn known_bytes_per_codec() {
        let mut b = Vec::new();
        Codec::Bincode.encode_into(&sample(), &mut b).unwrap();
        // 300 as a bincode varint is 0xFB then u16 LE.
        assert_eq!(b, [0xFB, 0x2C, 0x01, 2, 0xC3, 0xA9, 2, 1, 2]);
        let mut p = Vec::new();
        Codec::Postcard.encode_into(&sample(), &mut p).unwrap();
        // 300 as a postcard LEB128 varint is 0xAC 0x02.
        assert_eq!(p, [0xAC, 0x02, 2, 0xC3, 0xA9, 2, 1, 2]);
        let mut j = Vec::new();
        Codec::Json.encode_into(&sample(), &mut j).unwrap();
        assert_eq!(j, r#"{"id":300,"name":"é","tags":[1,2]}"#.as_bytes());
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        for c in Codec::ALL {
            let mut buf = Vec::new();
            c.encode_into(&sample(), &mut buf).unwrap();
            buf.push(b'x');
            let err = c.decode::<Sample>(&buf).unwrap_err();
            assert!(err.contains("trailing"), "{c}: {err}");
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let inputs: [&[u8]; 5] = [
            b"",
            b"\xff",
            b"\xfd\xff\xff\xff\xff\xff\xff\xff\xff",
            b"{",
            b"\x05ab",
        ];
        for c in Codec::ALL {
            for input in inputs {
                assert!(c.decode::<Sample>(input).is_err(), "{c} {input:?}");
            }
        }
    }

    #[test]
    fn json_that_is_not_utf8_is_an_error() {
        // Valid JSON apart from one byte that is not UTF-8, inside a string.
        let body = b"{\"id\":1,\"name\":\"\xff\",\"tags\":[]}";
        let err = Codec::Json.decode::<Sample>(body).unwrap_err();
        assert!(err.contains("not UTF-8"), "{err}");
    }

    #[test]
    fn a_huge_claimed_length_does_not_allocate_it() {
        // id 1, then a string claiming u64::MAX bytes.
        let mut body = vec![1u8, 0xFD];
        body.extend_from_slice(&u64::MAX.to_le_bytes());
        assert!(Codec::Bincode.decode::<Sample>(&body).is_err());
    }
}
