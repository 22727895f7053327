//! A typed store's description, and decoding typed records without their
//! Rust types.
//!
//! The typed handles keep, inside the store directory, a file named
//! [`FILE_NAME`] that says what the store holds: its kind (log or key/value
//! state), each record type's family name and Rust type, the versions and
//! codecs written, the key type, and a [`Schema`] of each (type, version)
//! from which a body decodes without the Rust type. The core never reads
//! it (its segment listing steps over every name that is not a segment's),
//! nor does the published `datawal` 0.1 crate. It is specified field by
//! field in `docs/canon-typed.md`.
//!
//! A tool that only reads (the CLI) loads it with [`Description::load`] (no
//! lock, no write) and decodes any typed payload to JSON with
//! [`Description::decode_payload`], whatever the codec, and keys to and
//! from text with [`KeyDescription::to_text`] and
//! [`KeyDescription::from_text`].
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use datawal_typed::describe::Description;
//! use datawal_typed::{Codec, TypedWal};
//! let dir = tempfile::tempdir()?;
//! let mut kv = TypedWal::<String, u64>::open_with(dir.path(), Codec::Postcard)?;
//! kv.put(&"apples".to_string(), &3)?;
//! kv.fsync()?;
//! let description = Description::load(dir.path())?.expect("described");
//! let key = description.key.as_ref().expect("a key/value store");
//! let bytes = key.from_text("apples")?;
//! let payload = kv.raw().get(&bytes)?.expect("live");
//! let record = description.decode_payload(&payload)?;
//! assert_eq!((record.name.as_deref(), record.value), (Some("u64"), serde_json::json!(3)));
//! assert_eq!(key.to_text(&bytes)?, "apples");
//! # Ok(())
//! # }
//! ```

mod decode;
mod key_text;
mod schema;

pub(crate) use schema::trace;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use key_text::KeyShape;
pub use schema::{Container, Field, Schema, Shape, Variant, VariantShape};

use crate::envelope::{EnvelopeError, Header};
use crate::Codec;

/// The description's file name inside the store directory.
pub const FILE_NAME: &str = "typed-description.json";

/// The version of the description's format this build writes and reads.
pub const FORMAT: u32 = 1;

/// Largest description file read, in bytes (a description is a few KiB).
pub const MAX_FILE_LEN: u64 = 16 << 20;

/// What a store is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StoreKind {
    /// A typed log ([`TypedLog`](crate::TypedLog)).
    Log,
    /// Typed key/value state ([`TypedWal`](crate::TypedWal)).
    KeyValue,
}

/// What a typed store holds (the file [`FILE_NAME`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Description {
    /// [`FORMAT`].
    pub format: u32,
    /// Log or key/value state.
    pub kind: StoreKind,
    /// Whether the store was opened to hold several record types.
    #[serde(default)]
    pub mixed: bool,
    /// The key type of a key/value store (`None` for a log: each record
    /// type's key is in its [`TypeDescription`]).
    #[serde(default)]
    pub key: Option<KeyDescription>,
    /// Every record type written, in the order first seen.
    pub types: Vec<TypeDescription>,
}

/// A key type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct KeyDescription {
    /// The Rust type name (`std::any::type_name`).
    pub rust_type: String,
    /// Its encoding ([`Key::key_shape`](crate::Key::key_shape)).
    pub shape: KeyShape,
}

/// A record type (a `Record` family: every version shares the name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TypeDescription {
    /// `Record::NAME`.
    pub name: String,
    /// CRC-32C of the name: the envelope's type fingerprint.
    pub fingerprint: u32,
    /// The key type (`Record::Key`).
    pub key: KeyDescription,
    /// Each version written, by ascending version.
    pub versions: Vec<VersionDescription>,
}

/// One version of a record type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct VersionDescription {
    /// `Record::VERSION`.
    pub version: u16,
    /// The Rust type of this version (empty when unknown: a version found
    /// in a store written before it had a description).
    pub rust_type: String,
    /// The codecs records of this version were written with (names, as
    /// [`Codec::name`]).
    pub codecs: Vec<String>,
    /// The body's schema, when the type could be traced.
    #[serde(default)]
    pub schema: Option<Schema>,
    /// Why there is no schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_schema: Option<String>,
}

/// A typed payload decoded to JSON.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DecodedRecord {
    /// The family name, when the description knows the fingerprint.
    pub name: Option<String>,
    /// The envelope's type fingerprint.
    pub fingerprint: u32,
    /// The version the record was written as.
    pub version: u16,
    /// The codec it was written with.
    pub codec: Codec,
    /// The body, as JSON (structs as objects, enums externally tagged,
    /// maps with string keys as objects and others as `[key, value]`
    /// pairs; see `docs/canon-typed.md`).
    pub value: Value,
}

/// Why a description could not be loaded, or a record or key decoded.
#[derive(Debug)]
#[non_exhaustive]
pub enum DescribeError {
    /// The description file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The description file is not a description this build reads.
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The payload is not a typed envelope this build reads.
    Envelope(EnvelopeError),
    /// The store has no description, and the record's body is not JSON
    /// (only JSON bodies decode without a schema).
    NoDescription {
        /// The envelope's fingerprint.
        fingerprint: u32,
        /// The envelope's version.
        version: u16,
        /// The envelope's codec.
        codec: Codec,
    },
    /// The description lists no type with the record's fingerprint.
    UnknownType {
        /// The envelope's fingerprint.
        fingerprint: u32,
        /// The envelope's version.
        version: u16,
        /// The envelope's codec.
        codec: Codec,
    },
    /// No schema is recorded for the record's (type, version), and its
    /// codec does not describe itself.
    NoSchema {
        /// The family name.
        name: String,
        /// The version.
        version: u16,
        /// The codec.
        codec: Codec,
        /// Why (not written with a description, or not traceable).
        reason: String,
    },
    /// The body does not decode by its schema.
    Body {
        /// The family name.
        name: String,
        /// The version.
        version: u16,
        /// The codec.
        codec: Codec,
        /// The codec's or the schema walk's message.
        message: String,
    },
    /// Key bytes have no text form, or a text is not a key's.
    Key {
        /// The key type.
        key_type: String,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for DescribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DescribeError::Io { path, source } => {
                write!(
                    f,
                    "cannot read the description {}: {source}",
                    path.display()
                )
            }
            DescribeError::Invalid { path, reason } => {
                write!(f, "the description {} is invalid: {reason}", path.display())
            }
            DescribeError::Envelope(e) => write!(f, "not a typed record: {e}"),
            DescribeError::NoDescription {
                fingerprint,
                version,
                codec,
            } => write!(
                f,
                "the store has no description, and only JSON bodies decode without one \
                 (type fingerprint {fingerprint:#010x}, version {version}, {})",
                codec.name()
            ),
            DescribeError::UnknownType {
                fingerprint,
                version,
                codec,
            } => write!(
                f,
                "the description lists no type with fingerprint {fingerprint:#010x} \
                 (version {version}, {})",
                codec.name()
            ),
            DescribeError::NoSchema {
                name,
                version,
                codec,
                reason,
            } => write!(
                f,
                "`{name}` version {version} ({}) cannot be decoded: {reason}",
                codec.name()
            ),
            DescribeError::Body {
                name,
                version,
                codec,
                message,
            } => write!(
                f,
                "`{name}` version {version} ({}) does not decode by its schema: {message}",
                codec.name()
            ),
            DescribeError::Key { key_type, message } => {
                write!(f, "key of type `{key_type}`: {message}")
            }
        }
    }
}

impl std::error::Error for DescribeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DescribeError::Io { source, .. } => Some(source),
            DescribeError::Envelope(e) => Some(e),
            _ => None,
        }
    }
}

impl Description {
    /// The description of the store in `dir`, read-only (no lock taken,
    /// nothing written): `None` when the store has none (an untyped store,
    /// or one written before descriptions existed).
    ///
    /// # Errors
    /// [`DescribeError::Io`] when the file exists but cannot be read;
    /// [`DescribeError::Invalid`] when it is a symbolic link (never
    /// followed) or not a regular file (a FIFO is not waited on), larger
    /// than [`MAX_FILE_LEN`], not JSON of this shape, or of another
    /// [`FORMAT`].
    pub fn load(dir: impl AsRef<Path>) -> Result<Option<Description>, DescribeError> {
        let path = dir.as_ref().join(FILE_NAME);
        let file = match datawal_core::open_store_file(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(DescribeError::Invalid {
                    path,
                    reason: e.to_string(),
                })
            }
            Err(source) => return Err(DescribeError::Io { path, source }),
        };
        let mut bytes = Vec::new();
        file.take(MAX_FILE_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| DescribeError::Io {
                path: path.clone(),
                source,
            })?;
        if bytes.len() as u64 > MAX_FILE_LEN {
            return Err(DescribeError::Invalid {
                path,
                reason: format!("larger than {MAX_FILE_LEN} bytes"),
            });
        }
        Self::from_json(&bytes)
            .map(Some)
            .map_err(|reason| DescribeError::Invalid { path, reason })
    }

    /// Parse a description from its JSON text.
    fn from_json(bytes: &[u8]) -> Result<Description, String> {
        #[derive(Deserialize)]
        struct Format {
            format: u32,
        }
        let format: Format = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if format.format != FORMAT {
            return Err(format!(
                "format {} (this build reads format {FORMAT})",
                format.format
            ));
        }
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }

    /// The record type whose envelope fingerprint is `fingerprint`.
    #[must_use]
    pub fn type_by_fingerprint(&self, fingerprint: u32) -> Option<&TypeDescription> {
        self.types.iter().find(|t| t.fingerprint == fingerprint)
    }

    /// The record type named `name`.
    #[must_use]
    pub fn type_by_name(&self, name: &str) -> Option<&TypeDescription> {
        self.types.iter().find(|t| t.name == name)
    }

    /// Decode a typed record's payload (envelope and body, any codec) to
    /// JSON with the schema of its (type, version). JSON bodies decode even
    /// without a schema, and even when the type is unknown
    /// ([`DecodedRecord::name`] is then `None`).
    ///
    /// # Errors
    /// [`DescribeError::Envelope`], [`DescribeError::UnknownType`]
    /// ([`DescribeError::NoDescription`] without a description),
    /// [`DescribeError::NoSchema`], [`DescribeError::Body`]: never a panic,
    /// whatever the bytes.
    pub fn decode_payload(&self, payload: &[u8]) -> Result<DecodedRecord, DescribeError> {
        decode_payload(Some(self), payload)
    }
}

/// Decode a typed payload to JSON with `description` (or without one: then
/// only JSON bodies decode). See [`Description::decode_payload`].
///
/// # Errors
/// As [`Description::decode_payload`].
pub fn decode_payload(
    description: Option<&Description>,
    payload: &[u8],
) -> Result<DecodedRecord, DescribeError> {
    let (header, body) = Header::parse(payload).map_err(DescribeError::Envelope)?;
    let ty = description.and_then(|d| d.type_by_fingerprint(header.fingerprint));
    let version = ty.and_then(|t| t.versions.iter().find(|v| v.version == header.version));
    let schema = version.and_then(|v| v.schema.as_ref());
    let name = ty.map(|t| t.name.clone());
    if schema.is_none() && header.codec != Codec::Json {
        return Err(match ty {
            None if description.is_none() => DescribeError::NoDescription {
                fingerprint: header.fingerprint,
                version: header.version,
                codec: header.codec,
            },
            None => DescribeError::UnknownType {
                fingerprint: header.fingerprint,
                version: header.version,
                codec: header.codec,
            },
            Some(t) => DescribeError::NoSchema {
                name: t.name.clone(),
                version: header.version,
                codec: header.codec,
                reason: match version {
                    None => "the description does not list this version".into(),
                    Some(v) => v
                        .no_schema
                        .clone()
                        .unwrap_or_else(|| "none recorded".into()),
                },
            },
        });
    }
    let value = decode::body_to_json(schema, header.codec, body).map_err(|message| {
        DescribeError::Body {
            name: name
                .clone()
                .unwrap_or_else(|| format!("{:#010x}", header.fingerprint)),
            version: header.version,
            codec: header.codec,
            message,
        }
    })?;
    Ok(DecodedRecord {
        name,
        fingerprint: header.fingerprint,
        version: header.version,
        codec: header.codec,
        value,
    })
}

impl KeyDescription {
    /// The description of the key type `K`: its Rust type name and
    /// [`Key::key_shape`](crate::Key::key_shape).
    #[must_use]
    pub fn of_key<K: crate::Key>() -> KeyDescription {
        KeyDescription {
            rust_type: std::any::type_name::<K>().to_string(),
            shape: K::key_shape(),
        }
    }

    /// Whether keys of `self` and `other` are the same type: the same
    /// shape when both are described, else the same Rust type name.
    pub(crate) fn same_as(&self, other: &KeyDescription) -> bool {
        if self.shape != KeyShape::Opaque && other.shape != KeyShape::Opaque {
            self.shape == other.shape
        } else {
            self.rust_type == other.rust_type
        }
    }

    /// The text form of the key whose bytes are `bytes` (see
    /// `docs/canon-typed.md`: a string key is its text, an integer its
    /// decimal digits, any other key its compact JSON form, such as
    /// `["apples",1]`).
    ///
    /// # Errors
    /// [`DescribeError::Key`] for bytes that are not one key of this type,
    /// or an opaque key type.
    pub fn to_text(&self, bytes: &[u8]) -> Result<String, DescribeError> {
        key_text::key_to_text(&self.shape, bytes).map_err(|message| self.error(message))
    }

    /// The bytes of the key whose text form is `text` (the inverse of
    /// [`to_text`](Self::to_text)).
    ///
    /// # Errors
    /// [`DescribeError::Key`] for a text that is no key of this type, or an
    /// opaque key type.
    pub fn from_text(&self, text: &str) -> Result<Vec<u8>, DescribeError> {
        key_text::text_to_key(&self.shape, text).map_err(|message| self.error(message))
    }

    fn error(&self, message: String) -> DescribeError {
        DescribeError::Key {
            key_type: self.rust_type.clone(),
            message,
        }
    }
}
