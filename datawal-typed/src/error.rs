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

/// Where a record is: its frame's segment and offset, its txid when known,
/// and its key bytes when the read was by key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Location {
    /// Segment id (the file `{segment:08}.dwal`).
    pub segment: u32,
    /// Byte offset of the record's frame within the segment.
    pub offset: u64,
    /// Transaction id, when the read saw the frame's header (log scans).
    pub txid: Option<u64>,
    /// The key bytes, for key/value reads.
    pub key: Option<Vec<u8>>,
}

impl Location {
    /// A location in a log scan.
    #[must_use]
    pub fn in_log(segment: u32, offset: u64, txid: u64) -> Location {
        Location {
            segment,
            offset,
            txid: Some(txid),
            key: None,
        }
    }

    /// A location of a key/value read.
    #[must_use]
    pub fn of_key(segment: u32, offset: u64, key: &[u8]) -> Location {
        Location {
            segment,
            offset,
            txid: None,
            key: Some(key.to_vec()),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "segment {} offset {}", self.segment, self.offset)?;
        if let Some(txid) = self.txid {
            write!(f, " txid {txid}")?;
        }
        if let Some(key) = &self.key {
            f.write_str(" key 0x")?;
            for b in key.iter().take(64) {
                write!(f, "{b:02x}")?;
            }
            if key.len() > 64 {
                write!(f, "… ({} bytes)", key.len())?;
            }
        }
        Ok(())
    }
}

/// Every error the typed layer returns.
///
/// Read errors name the Rust-side record family, the version found when the
/// envelope was readable, and the record's [`Location`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The core log or store failed (I/O, lock, corruption of frames, …).
    Core(datawal_core::Error),
    /// The payload is not a typed envelope this build reads.
    Envelope {
        /// The family the caller expected (`Record::NAME`).
        expected: &'static str,
        /// Where the record is.
        location: Location,
        /// What is wrong with the envelope.
        source: crate::envelope::EnvelopeError,
    },
    /// The record belongs to another record family (its fingerprint is not
    /// CRC-32C of the expected `Record::NAME`).
    WrongType {
        /// The family the caller expected.
        expected: &'static str,
        /// CRC-32C of `expected`.
        expected_fingerprint: u32,
        /// The fingerprint in the record.
        found_fingerprint: u32,
        /// The schema version in the record.
        version: u16,
        /// Where the record is.
        location: Location,
    },
    /// The envelope is fine but the body could not become the expected type
    /// (too new, not in the upgrade chain, undecodable, failed conversion).
    Decode {
        /// The family the caller expected.
        expected: &'static str,
        /// The schema version in the record.
        version: u16,
        /// The codec in the record.
        codec: Codec,
        /// Where the record is.
        location: Location,
        /// What went wrong (boxed to keep `Result`s small).
        source: Box<DecodeError>,
    },
    /// A stored key is not an encoding of the key type.
    Key {
        /// The key type.
        key_type: &'static str,
        /// Where the record is.
        location: Location,
        /// What is wrong with the bytes.
        source: KeyError,
    },
    /// A record of a type the typed handle does not read (a tombstone in a
    /// typed log).
    RecordType {
        /// The family the caller expected.
        expected: &'static str,
        /// The core record type found.
        found: datawal_core::RecordType,
        /// Where the record is.
        location: Location,
    },
    /// A value could not be encoded (nothing was written).
    Encode {
        /// The family of the value.
        name: &'static str,
        /// The codec that refused it.
        codec: Codec,
        /// The codec's message.
        message: String,
    },
    /// The value's codec could not read it back, so it was not written
    /// (nothing was): bincode and postcard cannot decode a type that needs a
    /// self-describing format, such as one holding a `serde_json::Value`,
    /// a `#[serde(flatten)]` field or an untagged enum anywhere inside it.
    /// Write such a type with [`Codec::Json`].
    Unreadable {
        /// The family of the value (`Record::NAME`).
        name: &'static str,
        /// The Rust type of the value.
        rust_type: &'static str,
        /// The codec that was asked to write it.
        codec: Codec,
        /// Why the codec cannot read it back.
        reason: String,
    },
    /// A file operation of the typed layer (such as `export_jsonl`) failed.
    Io {
        /// What datawal was doing.
        op: &'static str,
        /// The file involved.
        path: std::path::PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The store's description says it holds something other than what
    /// the handle was opened for (another kind, record type or key type):
    /// nothing was read or written. See [`crate::describe`].
    Refused {
        /// The store directory.
        dir: std::path::PathBuf,
        /// What the store holds, in words (kind, types, key type).
        holds: String,
        /// What was asked, in words.
        asked: String,
    },
    /// The store's description could not be read (see
    /// [`crate::describe`]).
    Description(crate::describe::DescribeError),
}

impl Error {
    /// Where the record is, for errors about one stored record.
    #[must_use]
    pub fn location(&self) -> Option<&Location> {
        match self {
            Error::Envelope { location, .. }
            | Error::WrongType { location, .. }
            | Error::Decode { location, .. }
            | Error::Key { location, .. }
            | Error::RecordType { location, .. } => Some(location),
            _ => None,
        }
    }

    /// [`location`](Self::location), mutably (to place an error found
    /// before the record moved).
    pub(crate) fn location_mut(&mut self) -> Option<&mut Location> {
        match self {
            Error::Envelope { location, .. }
            | Error::WrongType { location, .. }
            | Error::Decode { location, .. }
            | Error::Key { location, .. }
            | Error::RecordType { location, .. } => Some(location),
            _ => None,
        }
    }

    /// `true` for errors about one stored record's bytes, which
    /// [`ReadPolicy::Skip`](crate::ReadPolicy::Skip) skips; `false` for
    /// errors of the store itself (I/O, core corruption), which always stop.
    #[must_use]
    pub fn is_skippable(&self) -> bool {
        self.location().is_some()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Core(e) => write!(f, "{e}"),
            Error::Envelope {
                expected,
                location,
                source,
            } => {
                write!(f, "record at {location} (expected `{expected}`): {source}")
            }
            Error::WrongType {
                expected,
                expected_fingerprint,
                found_fingerprint,
                version,
                location,
            } => {
                write!(
                    f,
                    "record at {location} is not a `{expected}`: its type fingerprint is \
                     {found_fingerprint:#010x} (schema version {version}), `{expected}` has \
                     {expected_fingerprint:#010x}; it was written by another record type \
                     (open the store with that type, or skip it with ReadPolicy::Skip)"
                )
            }
            Error::Decode {
                expected,
                version,
                codec,
                location,
                source,
            } => write!(
                f,
                "record at {location} (`{expected}` version {version}, {codec}): {source}"
            ),
            Error::Key {
                key_type,
                location,
                source,
            } => {
                write!(f, "key of record at {location} (`{key_type}`): {source}")
            }
            Error::RecordType {
                expected,
                found,
                location,
            } => write!(
                f,
                "record at {location} is a {found:?} record, not a `{expected}` value \
                 (a typed log holds Raw records; was this directory written as a key/value store?)"
            ),
            Error::Encode {
                name,
                codec,
                message,
            } => {
                write!(f, "could not encode a `{name}` with {codec}: {message}")
            }
            Error::Unreadable {
                name,
                rust_type,
                codec,
                reason,
            } => write!(
                f,
                "refused to write a `{name}` (`{rust_type}`) with {codec}: {reason}. \
                 {codec} writes values by position, without field names or type tags, and \
                 could not read it back; write this type with Codec::Json (nothing was written)"
            ),
            Error::Io { op, path, source } => {
                write!(f, "{op} {}: {source}", path.display())
            }
            Error::Refused { dir, holds, asked } => write!(
                f,
                "refused to open {}: the store holds {holds}; asked for {asked}",
                dir.display()
            ),
            Error::Description(e) => write!(f, "{e}"),
        }
    }
}

/// `Display` already includes the message of every inner error, so
/// `source` returns nothing of its own (a core error is shown transparently,
/// with the core error's own source).
impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Core(e) => std::error::Error::source(e),
            _ => None,
        }
    }
}

impl From<crate::describe::DescribeError> for Error {
    fn from(e: crate::describe::DescribeError) -> Error {
        Error::Description(e)
    }
}

impl From<datawal_core::Error> for Error {
    fn from(e: datawal_core::Error) -> Error {
        Error::Core(e)
    }
}

/// Result alias for the typed layer.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A record a read skipped under [`ReadPolicy::Skip`](crate::ReadPolicy::Skip).
#[derive(Debug)]
#[non_exhaustive]
pub struct Skipped {
    /// Where the record is.
    pub location: Location,
    /// Why it was skipped: the error [`ReadPolicy::Stop`](crate::ReadPolicy::Stop)
    /// would have returned.
    pub reason: Error,
}

impl Skipped {
    pub(crate) fn new(reason: Error) -> Skipped {
        Skipped {
            location: reason.location().cloned().unwrap_or_default(),
            reason,
        }
    }
}

/// What the last bulk read of a handle skipped, kept behind a lock so that
/// reads take `&self` (a handle shared behind an `RwLock` reads on the read
/// side) and the handle stays `Sync`.
#[derive(Debug, Default)]
pub(crate) struct SkippedCell(std::sync::Mutex<Vec<Skipped>>);

impl SkippedCell {
    /// Replace the list (a new bulk read's).
    pub(crate) fn set(&self, skipped: Vec<Skipped>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = skipped;
    }

    /// The list, locked while the guard lives.
    pub(crate) fn get(&self) -> impl std::ops::Deref<Target = Vec<Skipped>> + '_ {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "skipped: {}", self.reason)
    }
}
