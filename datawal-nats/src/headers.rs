//! What a shipped record looks like in the stream: its message id and
//! `Datawal-*` headers (built when shipping, read back when pulling). The
//! payload is the record's payload, unchanged.

use async_nats::header::HeaderMap;
#[cfg(test)]
use async_nats::header::NATS_MESSAGE_ID;
use async_nats::jetstream::message::PublishMessage;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use datawal_core::{Record, RecordType};
use datawal_typed::describe::Description;
use datawal_typed::envelope::Header;

use crate::error::{Error, Result};
use crate::identity::StoreId;

/// The record's txid, in decimal.
pub const TXID: &str = "Datawal-Txid";
/// The record type: `raw`, `put` or `delete`.
pub const RECORD_TYPE: &str = "Datawal-Type";
/// The key of a put or delete, standard base64 with padding (keys are
/// bytes; header values are text). Absent for raw records.
pub const KEY_B64: &str = "Datawal-Key-B64";
/// The shipping store's identity (32 hex digits).
pub const STORE: &str = "Datawal-Store";
/// Typed stores: the envelope's type fingerprint (CRC-32C of the type
/// name), 8 hex digits.
pub const TYPED_FINGERPRINT: &str = "Datawal-Typed-Fingerprint";
/// Typed stores: the envelope's schema version, decimal.
pub const TYPED_VERSION: &str = "Datawal-Typed-Version";
/// Typed stores: the envelope's codec (`bincode`, `postcard`, `json`).
pub const TYPED_CODEC: &str = "Datawal-Typed-Codec";
/// Typed stores: the type's name (`#[record(name = "…")]`), from the
/// store's description (`datawal_typed::describe`); absent when the store
/// has no description or it does not list the fingerprint.
pub const TYPED_NAME: &str = "Datawal-Typed-Name";

/// The message id of record `txid` of store `store`: `{store}:{txid}`.
pub fn msg_id(store: StoreId, txid: u64) -> String {
    format!("{store}:{txid}")
}

/// What the stream's last message must be for a publish to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expect {
    /// The message with this id (the record before).
    MsgId(String),
    /// The stream's last sequence (the first record this store ships).
    Sequence(u64),
}

fn type_name(t: RecordType) -> &'static str {
    match t {
        RecordType::Raw => "raw",
        RecordType::Put => "put",
        RecordType::Delete => "delete",
    }
}

fn parse_type(s: &str) -> Option<RecordType> {
    match s {
        "raw" => Some(RecordType::Raw),
        "put" => Some(RecordType::Put),
        "delete" => Some(RecordType::Delete),
        _ => None,
    }
}

/// The message for `record`, expecting `expect` as the stream's last.
pub(crate) fn message(
    store: StoreId,
    record: &Record,
    typed: Option<&mut TypeNames>,
    expect: &Expect,
) -> Result<PublishMessage> {
    let mut m = PublishMessage::build()
        .payload(record.payload.clone().into())
        .message_id(msg_id(store, record.txid));
    m = match expect {
        Expect::MsgId(id) => m.expected_last_message_id(id),
        Expect::Sequence(seq) => m.expected_last_sequence(*seq),
    };
    m = m
        .header(STORE, store.to_string().as_str())
        .header(TXID, record.txid.to_string().as_str())
        .header(RECORD_TYPE, type_name(record.record_type));
    if record.record_type != RecordType::Raw {
        m = m.header(KEY_B64, STANDARD.encode(&record.key).as_str());
    }
    if let Some(names) = typed.filter(|_| record.record_type != RecordType::Delete) {
        let header = match Header::parse(&record.payload) {
            Ok((header, _)) => header,
            // A raw record in a store that describes itself: shipped as
            // it is, without the typed headers.
            Err(_) if !names.strict => return Ok(m),
            Err(e) => {
                return Err(Error::NotTyped {
                    txid: record.txid,
                    reason: e.to_string(),
                })
            }
        };
        m = m
            .header(
                TYPED_FINGERPRINT,
                format!("{:08x}", header.fingerprint).as_str(),
            )
            .header(TYPED_VERSION, header.version.to_string().as_str())
            .header(TYPED_CODEC, header.codec.name());
        if let Some(name) = names.name(header.fingerprint) {
            m = m.header(TYPED_NAME, name);
        }
    }
    Ok(m)
}

/// Type names by fingerprint, from the store's description, read again
/// when a record names a fingerprint it does not list (a type a running
/// writer added since).
#[derive(Debug)]
pub(crate) struct TypeNames {
    dir: std::path::PathBuf,
    description: Option<Description>,
    /// Asked for (`ShipOptions::typed`): a record that is not an envelope
    /// is an error. Otherwise (a store that describes itself) it is
    /// shipped without the typed headers.
    strict: bool,
}

impl TypeNames {
    /// The names of the store in `dir`, for typed headers: `None` when
    /// they are neither asked for (`strict`) nor the store describes
    /// itself.
    pub(crate) fn new(dir: &std::path::Path, strict: bool) -> Option<TypeNames> {
        let description = Description::load(dir).ok().flatten();
        (strict || description.is_some()).then(|| TypeNames {
            dir: dir.to_path_buf(),
            description,
            strict,
        })
    }

    fn name(&mut self, fingerprint: u32) -> Option<&str> {
        let known = |d: &Option<Description>| {
            d.as_ref()
                .is_some_and(|d| d.type_by_fingerprint(fingerprint).is_some())
        };
        if !known(&self.description) {
            self.description = Description::load(&self.dir).ok().flatten();
        }
        self.description
            .as_ref()?
            .type_by_fingerprint(fingerprint)
            .map(|t| t.name.as_str())
    }
}

/// A record read back from a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shipped {
    pub store: Option<StoreId>,
    pub txid: u64,
    pub record_type: RecordType,
    pub key: Vec<u8>,
}

/// Read the `Datawal-*` headers of the message at `sequence`.
pub(crate) fn read(stream: &str, sequence: u64, headers: Option<&HeaderMap>) -> Result<Shipped> {
    let bad = |reason: String| Error::BadMessage {
        stream: stream.to_string(),
        sequence,
        reason,
    };
    let get = |name: &str| {
        headers
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_string())
    };
    let txid = get(TXID)
        .ok_or_else(|| bad(format!("no {TXID} header")))?
        .parse::<u64>()
        .map_err(|e| bad(format!("{TXID}: {e}")))?;
    let type_text = get(RECORD_TYPE).ok_or_else(|| bad(format!("no {RECORD_TYPE} header")))?;
    let record_type =
        parse_type(&type_text).ok_or_else(|| bad(format!("{RECORD_TYPE} {type_text:?}")))?;
    let key = match (record_type, get(KEY_B64)) {
        (RecordType::Raw, None) => Vec::new(),
        (_, Some(b64)) => STANDARD
            .decode(b64.as_bytes())
            .map_err(|e| bad(format!("{KEY_B64}: {e}")))?,
        (_, None) => return Err(bad(format!("a {type_text} without {KEY_B64}"))),
    };
    let store = get(STORE).and_then(|s| StoreId::parse(s.as_bytes()));
    Ok(Shipped {
        store,
        txid,
        record_type,
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_keys_round_trip_through_headers() {
        let store = StoreId::parse(b"0123456789abcdef0123456789abcdef").expect("id");
        let record = Record {
            record_type: RecordType::Put,
            txid: 7,
            key: vec![0, 10, 13, 255, b':'],
            payload: b"v".to_vec(),
            segment: 1,
            offset: 0,
            len: 0,
        };
        let message = message(store, &record, None, &Expect::Sequence(0)).expect("message");
        let outbound = message.outbound_message("s");
        let back = read("S", 1, outbound.headers.as_ref()).expect("read");
        assert_eq!(back.txid, 7);
        assert_eq!(back.record_type, RecordType::Put);
        assert_eq!(back.key, record.key);
        assert_eq!(back.store, Some(store));
        let headers = outbound.headers.expect("headers");
        assert_eq!(
            headers.get(NATS_MESSAGE_ID).map(|v| v.as_str()),
            Some("0123456789abcdef0123456789abcdef:7")
        );
    }
}
