//! What the CLI knows of a store's typed records: the store's description
//! (`datawal_typed::describe`, when a typed handle wrote one) and the type
//! names given with `--type-name`. Decoding is the typed layer's
//! (`Description::decode_payload`, `KeyDescription::to_text` /
//! `from_text`): the CLI keeps no rule of the envelope, the codecs or the
//! key encoding.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context as _, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use datawal_typed::describe::{
    self, DecodedRecord, DescribeError, Description, KeyDescription, KeyShape, StoreKind,
};
use datawal_typed::envelope::fingerprint;
use serde_json::{json, Map, Value};

/// Record type names given on the command line (`--type-name`), by fingerprint.
#[derive(Debug, Clone, Default)]
pub struct TypeNames(HashMap<u32, String>);

impl TypeNames {
    /// The table for `names`: each keyed by its fingerprint, CRC-32C of its
    /// UTF-8 bytes (as the typed layer computes it).
    pub fn new<S: AsRef<str>>(names: &[S]) -> TypeNames {
        TypeNames(
            names
                .iter()
                .map(|n| (fingerprint(n.as_ref()), n.as_ref().to_owned()))
                .collect(),
        )
    }

    /// The name whose fingerprint is `fp`, if one was given.
    pub fn get(&self, fp: u32) -> Option<&str> {
        self.0.get(&fp).map(String::as_str)
    }
}

/// A store's description, if any, and the names given on the command line.
#[derive(Debug, Default)]
pub struct Lens {
    names: TypeNames,
    description: Option<Description>,
}

impl Lens {
    /// The lens of the store in `dir`: its description (a file that does
    /// not parse is reported as a note and left unused: the records are
    /// still shown, undecoded) and `type_names`.
    pub fn load(dir: &Path, type_names: &[String]) -> Lens {
        let description = match Description::load(dir) {
            Ok(d) => d,
            Err(e) => {
                crate::exit::note(&format!("{e}; typed records are shown undecoded"));
                None
            }
        };
        Lens {
            names: TypeNames::new(type_names),
            description,
        }
    }

    /// A lens with only command-line names (for tests).
    #[cfg(test)]
    pub fn with_names(names: TypeNames) -> Lens {
        Lens {
            names,
            description: None,
        }
    }

    /// The store's kind, when it describes itself.
    pub fn kind(&self) -> Option<StoreKind> {
        self.description.as_ref().map(|d| d.kind)
    }

    /// The name of the record type whose fingerprint is `fp`: from the
    /// description, else from `--type-name`.
    pub fn type_name(&self, fp: u32) -> Option<&str> {
        self.description
            .as_ref()
            .and_then(|d| d.type_by_fingerprint(fp))
            .map(|t| t.name.as_str())
            .or_else(|| self.names.get(fp))
    }

    /// `payload` decoded as a typed record: `None` when it is no typed
    /// envelope, else the record or why it does not decode.
    pub fn decode(&self, payload: &[u8]) -> Option<Result<DecodedRecord, DescribeError>> {
        datawal_typed::envelope::Header::parse(payload).ok()?;
        Some(describe::decode_payload(self.description.as_ref(), payload))
    }

    /// The key type of a described key/value store.
    fn key(&self) -> Option<&KeyDescription> {
        self.description.as_ref()?.key.as_ref()
    }

    /// The key type of the record whose payload is `payload`: the store's
    /// in key/value state, the record type's in a log.
    fn key_of(&self, payload: &[u8]) -> Option<&KeyDescription> {
        self.key().or_else(|| {
            let (header, _) = datawal_typed::envelope::Header::parse(payload).ok()?;
            let ty = self
                .description
                .as_ref()?
                .type_by_fingerprint(header.fingerprint)?;
            Some(&ty.key)
        })
    }

    /// The text form of `key` (see `docs/canon-typed.md`), the key of the
    /// record whose payload is `payload`, in a described store whose key
    /// type has one; `None` otherwise.
    pub fn key_text(&self, key: &[u8], payload: &[u8]) -> Option<String> {
        self.key_of(payload)?.to_text(key).ok()
    }

    /// [`key_text`](Self::key_text) as one token for a text line: strings
    /// and chars quoted.
    pub fn key_token(&self, key: &[u8], payload: &[u8]) -> Option<String> {
        let text = self.key_text(key, payload)?;
        Some(match self.key_of(payload).map(|k| &k.shape) {
            Some(KeyShape::Str | KeyShape::Char) => format!("{text:?}"),
            _ => text,
        })
    }

    /// The bytes of the key given as `text` on the command line: its text
    /// form in a described key/value store, else its bytes as given.
    ///
    /// # Errors
    /// A text that is no key of the store's key type.
    pub fn key_from_text(&self, text: &[u8]) -> Result<Vec<u8>> {
        let Some(key) = self.key() else {
            return Ok(text.to_vec());
        };
        let as_str = std::str::from_utf8(text).with_context(|| {
            format!(
                "the key is not UTF-8 text, and this store's keys are `{}` \
                 (give raw bytes with --hex or --base64)",
                key.rust_type
            )
        })?;
        key.from_text(as_str).with_context(|| {
            format!("{as_str:?} is not a key of this store (give raw bytes with --hex or --base64)")
        })
    }

    /// One record as an object of `export --decoded` (the same columns as
    /// the typed layer's decoded golden files): `txid`, `record_type`, the
    /// key's text form when it has one (else `key_b64`, when not empty), and for a typed payload `type`,
    /// `version`, `codec` and the decoded `value` (or `error`, saying why
    /// not); any other payload as `payload` (UTF-8 text) or `payload_b64`.
    pub fn decoded_row(&self, txid: u64, record_type: &str, key: &[u8], payload: &[u8]) -> Value {
        let mut m = Map::new();
        m.insert("txid".into(), json!(txid));
        m.insert("record_type".into(), json!(record_type));
        match self.key_text(key, payload) {
            Some(text) => {
                m.insert("key".into(), json!(text));
            }
            None if !key.is_empty() => {
                m.insert("key_b64".into(), json!(B64.encode(key)));
            }
            None => {}
        }
        match self.decode(payload) {
            Some(Ok(r)) => {
                let name = self.type_name(r.fingerprint).map(str::to_owned);
                m.insert("type".into(), json!(name));
                m.insert("version".into(), json!(r.version));
                m.insert("codec".into(), json!(r.codec.name()));
                m.insert("value".into(), r.value);
            }
            Some(Err(e)) => {
                m.insert("error".into(), json!(e.to_string()));
            }
            None if payload.is_empty() => {}
            None => match std::str::from_utf8(payload) {
                Ok(text) => {
                    m.insert("payload".into(), json!(text));
                }
                Err(_) => {
                    m.insert("payload_b64".into(), json!(B64.encode(payload)));
                }
            },
        }
        Value::Object(m)
    }
}
