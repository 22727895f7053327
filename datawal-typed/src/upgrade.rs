//! The upgrade chain: how a record written by an older version of a type
//! is read as the current one. `#[derive(Record)]` generates
//! `Record::decode_version` as a call to one of [`decode_current`],
//! [`decode_from`] or [`decode_try_from`], which walk down the chain of
//! `from`/`try_from` types to the version that wrote the body, decode it
//! there, and convert it back up one link at a time (normative text in
//! `docs/canon-typed.md`, model in `formal/TypedUpgrade.tla`).

use crate::{Codec, DecodeError, Record};

// Inlined so the decoded value is not copied once more on its way to
// the read loop: see `LogIter::for_each_decoded` in log.rs.
#[inline(always)]
fn decode_body<T: Record>(version: u16, codec: Codec, body: &[u8]) -> Result<T, DecodeError> {
    codec
        .decode::<T>(body)
        .map_err(|message| DecodeError::Body {
            name: T::NAME,
            version,
            rust_type: core::any::type_name::<T>(),
            codec,
            message,
        })
}

fn too_new<T: Record>(version: u16) -> DecodeError {
    DecodeError::TooNew {
        name: T::NAME,
        version,
        latest: T::VERSION,
    }
}

/// Decode a body for a type that upgrades from nothing.
///
/// `version == T::VERSION` decodes the body as `T`; a newer version is
/// [`DecodeError::TooNew`]; an older one is [`DecodeError::NotInChain`].
///
/// # Errors
/// As above, and [`DecodeError::Body`] when the body does not decode.
// Inlined so the decoded value is not copied once more on its way to
// the read loop: see `LogIter::for_each_decoded` in log.rs.
#[inline(always)]
pub fn decode_current<T: Record>(
    version: u16,
    codec: Codec,
    body: &[u8],
) -> Result<T, DecodeError> {
    if version == T::VERSION {
        decode_body(version, codec, body)
    } else if version > T::VERSION {
        Err(too_new::<T>(version))
    } else {
        Err(DecodeError::NotInChain {
            name: T::NAME,
            version,
            rust_type: core::any::type_name::<T>(),
            type_version: T::VERSION,
            upgrades_from: None,
        })
    }
}

/// Decode for `T` when the body is `T`'s or older.
fn older<T: Record, Old: Record>(
    version: u16,
    codec: Codec,
    body: &[u8],
) -> Result<Old, DecodeError> {
    if version > Old::VERSION {
        // Between Old and T: a version the chain skips.
        return Err(DecodeError::NotInChain {
            name: T::NAME,
            version,
            rust_type: core::any::type_name::<T>(),
            type_version: T::VERSION,
            upgrades_from: Some(Old::VERSION),
        });
    }
    Old::decode_version(version, codec, body)
}

/// Decode a body for a type declared with `from = Old`.
///
/// `version == T::VERSION` decodes the body as `T`; a newer version is
/// [`DecodeError::TooNew`]; an older one is decoded by `Old` (recursively
/// down its own chain) and converted with `T::from`.
///
/// # Errors
/// As above, and whatever `Old::decode_version` returns.
pub fn decode_from<T, Old>(version: u16, codec: Codec, body: &[u8]) -> Result<T, DecodeError>
where
    T: Record + From<Old>,
    Old: Record,
{
    if version == T::VERSION {
        decode_body(version, codec, body)
    } else if version > T::VERSION {
        Err(too_new::<T>(version))
    } else {
        older::<T, Old>(version, codec, body).map(T::from)
    }
}

/// Decode a body for a type declared with `try_from = Old`: like
/// [`decode_from`], with a conversion that may fail.
///
/// # Errors
/// As [`decode_from`], and [`DecodeError::Conversion`] with the
/// conversion error's `Display` text when `T::try_from` fails.
pub fn decode_try_from<T, Old>(version: u16, codec: Codec, body: &[u8]) -> Result<T, DecodeError>
where
    T: Record + TryFrom<Old>,
    Old: Record,
    <T as TryFrom<Old>>::Error: core::fmt::Display,
{
    if version == T::VERSION {
        decode_body(version, codec, body)
    } else if version > T::VERSION {
        Err(too_new::<T>(version))
    } else {
        let old = older::<T, Old>(version, codec, body)?;
        T::try_from(old).map_err(|e| DecodeError::Conversion {
            name: T::NAME,
            from_version: Old::VERSION,
            to_version: T::VERSION,
            rust_type: core::any::type_name::<T>(),
            message: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct V1 {
        id: u32,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct V2 {
        id: u64,
        note: String,
    }
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct V4 {
        id: u64,
        note: String,
        odd: bool,
    }

    impl From<V1> for V2 {
        fn from(v: V1) -> V2 {
            V2 {
                id: v.id.into(),
                note: "from v1".into(),
            }
        }
    }
    impl TryFrom<V2> for V4 {
        type Error = String;
        fn try_from(v: V2) -> Result<V4, String> {
            if v.id == 0 {
                return Err("id 0 is not allowed".into());
            }
            Ok(V4 {
                odd: v.id % 2 == 1,
                id: v.id,
                note: v.note,
            })
        }
    }

    macro_rules! rec {
        ($t:ty, $v:expr, $decode:expr) => {
            impl Record for $t {
                const NAME: &'static str = "thing";
                const VERSION: u16 = $v;
                const SCHEMA: &'static str = "";
                type Key = u64;
                fn key(&self) -> u64 {
                    self.id.into()
                }
                fn decode_version(
                    version: u16,
                    codec: Codec,
                    body: &[u8],
                ) -> Result<Self, DecodeError> {
                    $decode(version, codec, body)
                }
            }
        };
    }
    rec!(V1, 1, decode_current::<V1>);
    rec!(V2, 2, decode_from::<V2, V1>);
    rec!(V4, 4, decode_try_from::<V4, V2>);

    fn body<T: Serialize>(codec: Codec, v: &T) -> Vec<u8> {
        let mut out = Vec::new();
        codec.encode_into(v, &mut out).unwrap();
        out
    }

    #[test]
    fn chain_upgrades_every_older_version() {
        for codec in Codec::ALL {
            let b1 = body(codec, &V1 { id: 7 });
            let b2 = body(
                codec,
                &V2 {
                    id: 8,
                    note: "n".into(),
                },
            );
            let b4 = body(
                codec,
                &V4 {
                    id: 9,
                    note: "m".into(),
                    odd: true,
                },
            );
            assert_eq!(
                V4::decode_version(1, codec, &b1).unwrap(),
                V4 {
                    id: 7,
                    note: "from v1".into(),
                    odd: true
                }
            );
            assert_eq!(
                V4::decode_version(2, codec, &b2).unwrap(),
                V4 {
                    id: 8,
                    note: "n".into(),
                    odd: false
                }
            );
            assert_eq!(
                V4::decode_version(4, codec, &b4).unwrap(),
                V4 {
                    id: 9,
                    note: "m".into(),
                    odd: true
                }
            );
            assert_eq!(V2::decode_version(1, codec, &b1).unwrap().id, 7);
        }
    }

    #[test]
    fn versions_outside_the_chain_are_errors() {
        let b = body(Codec::Bincode, &V1 { id: 7 });
        assert_eq!(
            V2::decode_version(3, Codec::Bincode, &b),
            Err(DecodeError::TooNew {
                name: "thing",
                version: 3,
                latest: 2
            })
        );
        assert!(matches!(
            V4::decode_version(3, Codec::Bincode, &b),
            Err(DecodeError::NotInChain {
                version: 3,
                type_version: 4,
                upgrades_from: Some(2),
                ..
            })
        ));
        assert!(matches!(
            V4::decode_version(0, Codec::Bincode, &b),
            Err(DecodeError::NotInChain {
                version: 0,
                type_version: 1,
                upgrades_from: None,
                ..
            })
        ));
        let e = V4::decode_version(5, Codec::Json, &b)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`thing` version 5") && e.contains("latest is 4"),
            "{e}"
        );
    }

    #[test]
    fn failed_conversion_keeps_the_message() {
        let b = body(Codec::Postcard, &V1 { id: 0 });
        let e = V4::decode_version(1, Codec::Postcard, &b).unwrap_err();
        assert!(
            matches!(
                &e,
                DecodeError::Conversion {
                    from_version: 2,
                    to_version: 4,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("id 0 is not allowed"), "{e}");
    }

    #[test]
    fn bad_body_names_type_version_and_codec() {
        let e = V4::decode_version(2, Codec::Json, b"{").unwrap_err();
        let DecodeError::Body {
            name,
            version,
            codec,
            rust_type,
            ..
        } = &e
        else {
            panic!("{e:?}")
        };
        assert_eq!((*name, *version, *codec), ("thing", 2, Codec::Json));
        assert!(rust_type.ends_with("V2"));
    }
}
