//! Error types of the typed layer.

use std::fmt;

use crate::Codec;

/// A key's bytes are not a valid encoding of the key type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The bytes end before the key does.
    UnexpectedEnd {
        /// The key type being decoded.
        type_name: &'static str,
        /// Bytes the next component needs.
        needed: usize,
        /// Bytes left.
        available: usize,
    },
    /// The bytes are not an encoding of the type.
    Invalid {
        /// The key type being decoded.
        type_name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Bytes are left after a whole key.
    Trailing {
        /// The key type decoded.
        type_name: &'static str,
        /// How many bytes are left.
        extra: usize,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::UnexpectedEnd {
                type_name,
                needed,
                available,
            } => write!(
                f,
                "key bytes end early while decoding `{type_name}`: {needed} bytes needed, \
                 {available} left (was the store written with another key type?)"
            ),
            KeyError::Invalid { type_name, reason } => {
                write!(f, "invalid key bytes for `{type_name}`: {reason}")
            }
            KeyError::Trailing { type_name, extra } => write!(
                f,
                "{extra} bytes left after a whole `{type_name}` key (was the store written \
                 with another key type?)"
            ),
        }
    }
}

impl std::error::Error for KeyError {}

/// A record's body could not become a value of the requested type.
///
/// Returned by [`Record::decode_version`](crate::Record::decode_version);
/// the typed handles wrap it in [`Error::Decode`](crate::Error::Decode) with
/// the record's position.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The record was written by a newer version of the type than this code
    /// knows.
    TooNew {
        /// The family name (`Record::NAME`).
        name: &'static str,
        /// The version in the record.
        version: u16,
        /// The newest version this code knows.
        latest: u16,
    },
    /// The record's version is older than this type, and no `from` or
    /// `try_from` chain leads from it.
    NotInChain {
        /// The family name.
        name: &'static str,
        /// The version in the record.
        version: u16,
        /// The Rust type that was asked to decode it.
        rust_type: &'static str,
        /// That type's version.
        type_version: u16,
        /// The version the type upgrades from, if any.
        upgrades_from: Option<u16>,
    },
    /// The codec could not decode the body as the type of that version.
    Body {
        /// The family name.
        name: &'static str,
        /// The version in the record.
        version: u16,
        /// The Rust type of that version.
        rust_type: &'static str,
        /// The codec the envelope names.
        codec: Codec,
        /// The codec's message.
        message: String,
    },
    /// A `try_from` upgrade step refused the older value.
    Conversion {
        /// The family name.
        name: &'static str,
        /// The version converted from.
        from_version: u16,
        /// The version converted to.
        to_version: u16,
        /// The Rust type converted to.
        rust_type: &'static str,
        /// The conversion error's `Display` text.
        message: String,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::TooNew {
                name,
                version,
                latest,
            } => write!(
                f,
                "`{name}` version {version} is newer than this code knows (latest is \
                 {latest}): upgrade the program that reads it"
            ),
            DecodeError::NotInChain {
                name,
                version,
                rust_type,
                type_version,
                upgrades_from,
            } => {
                write!(
                    f,
                    "`{name}` version {version} is not in the upgrade chain: `{rust_type}` is \
                     version {type_version}"
                )?;
                match upgrades_from {
                    Some(v) => write!(f, " and upgrades from version {v}"),
                    None => write!(
                        f,
                        " and upgrades from nothing; add `from = ` or `try_from = ` with the \
                         older type"
                    ),
                }
            }
            DecodeError::Body {
                name,
                version,
                rust_type,
                codec,
                message,
            } => write!(
                f,
                "`{name}` version {version} body does not decode as `{rust_type}` with \
                 {codec}: {message}"
            ),
            DecodeError::Conversion {
                name,
                from_version,
                to_version,
                rust_type,
                message,
            } => {
                write!(
                    f,
                    "`{name}` version {from_version} could not be upgraded to version \
                     {to_version} (`{rust_type}`): {message}"
                )
            }
        }
    }
}

impl std::error::Error for DecodeError {}
