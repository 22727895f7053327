//! Turning values into envelope payloads and back (no I/O).

use datawal_core::RecordType;

use crate::envelope::{fingerprint, EnvelopeError, Header, HEADER_LEN};
use crate::error::{Error, Location, Result};
use crate::probe::{shape_of, Shape};
use crate::{Codec, DecodeError, Record};

/// The fingerprint of `T`'s family, computed at compile time.
pub(crate) const fn fingerprint_of<T: Record>() -> u32 {
    const { fingerprint(T::NAME) }
}

/// Whether a writer's codec can read its type back, as far as it has found
/// out: the [`Shape`] of the type, found by the probe at the first write
/// with bincode or postcard and kept (it is a property of the type, not of
/// a value). A typed handle keeps one; [`to_payload`] makes one per call.
#[derive(Debug, Default)]
pub(crate) struct WriteCheck(Option<Shape>);

impl WriteCheck {
    /// Before a `T` is encoded with `codec`: refuse a type that `codec`
    /// cannot read back, and say whether each value must be decoded back
    /// after encoding (when the probe could not tell, why).
    fn before<T: Record>(&mut self, codec: Codec) -> Result<Option<&str>> {
        if codec.is_self_describing() {
            return Ok(None);
        }
        match self.0.get_or_insert_with(shape_of::<T>) {
            Shape::Positional => Ok(None),
            Shape::SelfDescribing(method) => Err(unreadable::<T>(codec, needs(method))),
            Shape::Unknown(why) => Ok(Some(why)),
        }
    }
}

/// What a method the positional codecs lack says about a type.
fn needs(method: &str) -> String {
    let why = match method {
        "deserialize_identifier" => "it reads fields by name, as a `#[serde(flatten)]` field does",
        "deserialize_ignored_any" => "it skips input it does not know, which needs the input to say where each value ends",
        _ => "as a `serde_json::Value`, a `#[serde(flatten)]` field or an untagged or internally tagged enum does, somewhere in the type",
    };
    format!("decoding it calls `{method}` ({why})")
}

#[cold]
fn unreadable<T: Record>(codec: Codec, reason: String) -> Error {
    Error::Unreadable {
        name: T::NAME,
        rust_type: std::any::type_name::<T>(),
        codec,
        reason,
    }
}

/// Append the envelope and body of `value` to `out`, after `check` (see
/// [`WriteCheck`]). On error `out` may hold a partial payload; callers
/// discard it.
pub(crate) fn append_payload<T: Record>(
    value: &T,
    codec: Codec,
    out: &mut Vec<u8>,
    check: &mut WriteCheck,
) -> Result<()> {
    let decode_back = check.before::<T>(codec)?;
    let start = out.len();
    out.extend_from_slice(&Header::new(codec, T::VERSION, fingerprint_of::<T>()).to_bytes());
    codec
        .encode_into(value, out)
        .map_err(|message| Error::Encode {
            name: T::NAME,
            codec,
            message,
        })?;
    if let Some(why) = decode_back {
        if let Err(message) = codec.decode::<T>(&out[start + HEADER_LEN..]) {
            return Err(unreadable::<T>(
                codec,
                format!(
                    "this value does not decode back ({message}; the check of its type could \
                     not tell: {why})"
                ),
            ));
        }
    }
    Ok(())
}

/// Replace `out` with the envelope and body of `value`, after `check`.
pub(crate) fn encode_payload<T: Record>(
    value: &T,
    codec: Codec,
    out: &mut Vec<u8>,
    check: &mut WriteCheck,
) -> Result<()> {
    out.clear();
    append_payload(value, codec, out, check)
}

/// Why a payload is not a `T`, without the record's position: what the read
/// loops carry from a record to the decision to skip or stop.
///
/// Kept small (24 bytes against [`Error`]'s 112, most of it the
/// [`Location`]) so that a decode's `Result` is hardly larger than the value;
/// the [`Error`] is built by [`into_error`](Self::into_error), only for a
/// record that fails.
#[derive(Debug)]
pub(crate) enum Rejected {
    /// As [`Error::Envelope`].
    Envelope(EnvelopeError),
    /// As [`Error::WrongType`].
    WrongType {
        found_fingerprint: u32,
        version: u16,
    },
    /// As [`Error::Decode`].
    Decode {
        version: u16,
        codec: Codec,
        source: Box<DecodeError>,
    },
    /// As [`Error::RecordType`].
    RecordType(RecordType),
}

impl Rejected {
    /// The error the typed handles report, for a `T` expected at `location`.
    #[cold]
    pub(crate) fn into_error<T: Record>(self, location: Location) -> Error {
        let expected = T::NAME;
        match self {
            Rejected::Envelope(source) => Error::Envelope {
                expected,
                location,
                source,
            },
            Rejected::WrongType {
                found_fingerprint,
                version,
            } => Error::WrongType {
                expected,
                expected_fingerprint: fingerprint_of::<T>(),
                found_fingerprint,
                version,
                location,
            },
            Rejected::Decode {
                version,
                codec,
                source,
            } => Error::Decode {
                expected,
                version,
                codec,
                location,
                source,
            },
            Rejected::RecordType(found) => Error::RecordType {
                expected,
                found,
                location,
            },
        }
    }
}

/// Decode a payload as `T`, upgrading older versions: the envelope, the
/// family's fingerprint, then the body.
// Inlined so the decoded value is not copied once more on its way to
// the read loop: see `LogIter::for_each_decoded` in log.rs.
#[inline(always)]
pub(crate) fn decode_value<T: Record>(payload: &[u8]) -> Result<(T, Header), Rejected> {
    let (header, body) = Header::parse(payload).map_err(Rejected::Envelope)?;
    if header.fingerprint != fingerprint_of::<T>() {
        return Err(Rejected::WrongType {
            found_fingerprint: header.fingerprint,
            version: header.version,
        });
    }
    match T::decode_version(header.version, header.codec, body) {
        Ok(value) => Ok((value, header)),
        Err(source) => Err(Rejected::Decode {
            version: header.version,
            codec: header.codec,
            source: Box::new(source),
        }),
    }
}

/// [`decode_value`], with the error placed at `location` (only called on
/// failure, so the happy path allocates nothing but the value).
pub(crate) fn decode_payload<T: Record>(
    payload: &[u8],
    location: impl FnOnce() -> Location,
) -> Result<(T, Header)> {
    decode_value(payload).map_err(|rejected| rejected.into_error::<T>(location()))
}

/// The envelope and body of `value`, as a new vector.
///
/// Checks, as the typed handles do before their first write, that `codec`
/// can read `T` back; the handles check once, this function at every call
/// (a few hundred instructions for a small struct).
///
/// # Errors
/// [`Error::Encode`] when the codec refuses the value (for example a map
/// with non-string keys under [`Codec::Json`], or a value nested deeper
/// than the decoders' limit of 128 levels); [`Error::Unreadable`] when
/// `codec` is bincode or postcard and `T` needs a self-describing codec.
pub fn to_payload<T: Record>(value: &T, codec: Codec) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_payload(value, codec, &mut out, &mut WriteCheck::default())?;
    Ok(out)
}

/// Decode a payload written by [`to_payload`] (or any typed handle) as `T`,
/// upgrading older versions, and return it with its header.
///
/// # Errors
/// [`Error::Envelope`], [`Error::WrongType`], [`Error::Decode`], with a
/// default (zero) [`Location`]: the bytes came from the caller, not a store.
pub fn from_payload<T: Record>(payload: &[u8]) -> Result<(T, Header)> {
    decode_payload(payload, Location::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips_for_every_codec() {
        for codec in Codec::ALL {
            let p = to_payload(&"hello".to_string(), codec).unwrap();
            assert_eq!(&p[..2], &[1, codec.id()]);
            assert_eq!(&p[2..4], &1u16.to_le_bytes());
            assert_eq!(&p[4..8], &crc32c::crc32c(b"String").to_le_bytes());
            let (v, h) = from_payload::<String>(&p).unwrap();
            assert_eq!(v, "hello");
            assert_eq!((h.codec, h.version), (codec, 1));
        }
    }

    #[test]
    fn each_failure_is_its_own_error() {
        let p = to_payload(&7u64, Codec::Bincode).unwrap();
        let e = from_payload::<String>(&p).unwrap_err();
        assert!(
            matches!(
                e,
                Error::WrongType {
                    expected: "String",
                    version: 1,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("not a `String`"), "{e}");

        let e = from_payload::<u64>(b"raw").unwrap_err();
        assert!(matches!(
            e,
            Error::Envelope {
                source: EnvelopeError::TooShort { len: 3 },
                ..
            }
        ));

        let mut newer = p.clone();
        newer[2] = 2;
        let e = from_payload::<u64>(&newer).unwrap_err();
        assert!(
            matches!(&e, Error::Decode { source, .. } if matches!(**source, DecodeError::TooNew { version: 2, .. })),
            "{e:?}"
        );

        let mut cut = p.clone();
        cut.truncate(8);
        let e = from_payload::<u64>(&cut).unwrap_err();
        assert!(
            matches!(&e, Error::Decode { source, .. } if matches!(**source, DecodeError::Body { .. })),
            "{e:?}"
        );
        assert!(e.is_skippable());
    }
}
