//! Error messages name the type, the version and the position; arbitrary
//! bytes never panic a reader.

use datawal::typed::key::decode_key_exact;
use datawal::{from_payload, to_payload, Codec, Error, Record, TypedLog, TypedWal};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "invoice", version = 1)]
struct InvoiceV1 {
    #[record(key)]
    number: u32,
    total: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "invoice", version = 2, try_from = InvoiceV1)]
struct Invoice {
    #[record(key)]
    number: u32,
    total: u64,
    lines: Vec<(String, u64)>,
}

impl TryFrom<InvoiceV1> for Invoice {
    type Error = String;
    fn try_from(v1: InvoiceV1) -> Result<Invoice, String> {
        if v1.total == 0 {
            return Err(format!("invoice {} has a zero total", v1.number));
        }
        Ok(Invoice {
            number: v1.number,
            total: v1.total,
            lines: vec![],
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "receipt", version = 1)]
struct Receipt {
    id: u64,
}

#[test]
fn messages_say_what_where_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<InvoiceV1>::open(dir.path()).unwrap();
    log.append(&InvoiceV1 {
        number: 1,
        total: 0,
    })
    .unwrap();
    log.close().unwrap();
    let log = TypedLog::<Invoice>::open(dir.path()).unwrap();
    let msg = log.scan().unwrap_err().to_string();
    assert_eq!(
        msg,
        "record at segment 1 offset 0 txid 1 (`invoice` version 1, bincode): \
         `invoice` version 1 could not be upgraded to version 2 \
         (`typed_errors::Invoice`): invoice 1 has a zero total"
    );

    let receipts = TypedLog::<Receipt>::from_raw(log.into_raw());
    let msg = receipts.scan().unwrap_err().to_string();
    assert!(
        msg.starts_with("record at segment 1 offset 0 txid 1 is not a `receipt`"),
        "{msg}"
    );
    assert!(
        msg.contains("schema version 1") && msg.contains("ReadPolicy::Skip"),
        "{msg}"
    );
}

#[test]
fn too_new_says_to_upgrade_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let mut kv = TypedWal::<u32, Invoice>::open(dir.path()).unwrap();
    kv.insert(&Invoice {
        number: 4,
        total: 1,
        lines: vec![("pen".into(), 1)],
    })
    .unwrap();
    let kv = TypedWal::<u32, InvoiceV1>::from_raw(kv.into_raw());
    let e = kv.get(&4).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("key 0x00000004"), "{msg}");
    assert!(
        msg.contains(
            "`invoice` version 2 is newer than this code knows (latest is 1): upgrade the program"
        ),
        "{msg}"
    );
    assert!(
        std::error::Error::source(&e).is_none(),
        "the message is already complete"
    );
}

#[test]
fn encode_errors_name_type_and_codec() {
    #[derive(Debug, Serialize, Deserialize, Record)]
    #[record(name = "bad-map", version = 1)]
    struct BadMap {
        m: std::collections::BTreeMap<(u8, u8), u8>,
    }
    let v = BadMap {
        m: [((1, 2), 3)].into(),
    };
    let e = to_payload(&v, Codec::Json).unwrap_err();
    assert!(matches!(
        e,
        Error::Encode {
            name: "bad-map",
            codec: Codec::Json,
            ..
        }
    ));
    assert!(
        e.to_string()
            .contains("could not encode a `bad-map` with json"),
        "{e}"
    );
    // Nothing is written when encoding fails.
    let dir = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<BadMap>::open_with(dir.path(), Codec::Json).unwrap();
    assert!(log.append(&v).is_err());
    assert!(log.append_batch([&v]).is_err());
    assert!(log.raw_mut().scan().unwrap().is_empty());
    log.set_codec(Codec::Postcard);
    log.append(&v).unwrap();
    assert_eq!(log.scan().unwrap()[0].m, v.m);
}

fn envelope_for(codec: u8, version: u16, name: &str) -> Vec<u8> {
    let mut p = vec![1, codec];
    p.extend_from_slice(&version.to_le_bytes());
    p.extend_from_slice(&datawal::typed::envelope::fingerprint(name).to_le_bytes());
    p
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any payload decodes or errors; it never panics.
    #[test]
    fn arbitrary_payloads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = from_payload::<Invoice>(&bytes);
        let _ = from_payload::<String>(&bytes);
    }

    /// A valid envelope of the right type with an arbitrary body: decodes
    /// or errors with a decode error naming the type.
    #[test]
    fn arbitrary_bodies_never_panic(
        codec in 1u8..=3,
        version in 0u16..4,
        body in proptest::collection::vec(any::<u8>(), 0..48),
    ) {
        let mut p = envelope_for(codec, version, "invoice");
        p.extend_from_slice(&body);
        match from_payload::<Invoice>(&p) {
            Ok(_) => prop_assert!(version == 1 || version == 2),
            Err(Error::Decode { expected, .. }) => prop_assert_eq!(expected, "invoice"),
            Err(e) => prop_assert!(false, "unexpected {e:?}"),
        }
    }

    /// Arbitrary key bytes decode or error, never panic.
    #[test]
    fn arbitrary_keys_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..24)) {
        let _ = decode_key_exact::<(String, u64)>(&bytes);
        let _ = decode_key_exact::<(Option<i32>, Vec<u8>, char, bool)>(&bytes);
        let _ = decode_key_exact::<u128>(&bytes);
    }
}
