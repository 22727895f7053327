//! Records a typed handle cannot read — foreign bytes, another type, an
//! unknown codec or envelope, a bad body, a bad key — stop a read by
//! default, and are skipped and reported under `ReadPolicy::Skip`.

use datawal::typed::envelope::EnvelopeError;
use datawal::{
    to_payload, Codec, Error, KeyError, Options, ReadPolicy, Record, RecordType, TypedLog, TypedWal,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "note", version = 1)]
struct Note {
    #[record(key)]
    id: u64,
    text: String,
}

fn note(id: u64) -> Note {
    Note {
        id,
        text: format!("note {id}"),
    }
}

/// A log with one good record, then one bad record of every kind, each
/// followed by a good one. Returns the reasons' expected order.
fn bad_log(dir: &std::path::Path) {
    let mut log = TypedLog::<Note>::open(dir).unwrap();
    log.append(&note(1)).unwrap();
    let raw = log.raw_mut();
    raw.append(b"short").unwrap(); // txid 2: too short for an envelope
    let good = to_payload(&note(0), Codec::Bincode).unwrap();
    let mut p = good.clone();
    p[0] = 2; // txid 3: envelope format 2
    raw.append(&p).unwrap();
    let mut p = good.clone();
    p[1] = 9; // txid 4: codec 9
    raw.append(&p).unwrap();
    raw.append(&to_payload(&7u64, Codec::Bincode).unwrap())
        .unwrap(); // txid 5: a `u64`
    let mut p = good.clone();
    p.truncate(p.len() - 2); // txid 6: body cut short
    raw.append(&p).unwrap();
    let mut p = good.clone();
    p.push(0); // txid 7: a trailing byte
    raw.append(&p).unwrap();
    raw.append_record(RecordType::Delete, b"k", b"").unwrap(); // txid 8: a tombstone
    log.append(&note(9)).unwrap();
    log.fsync().unwrap();
}

#[test]
fn stop_returns_the_first_bad_record() {
    let dir = tempfile::tempdir().unwrap();
    bad_log(dir.path());
    let log = TypedLog::<Note>::open(dir.path()).unwrap();
    let e = log.scan().unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Envelope {
                source: EnvelopeError::TooShort { len: 5 },
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.location().unwrap().txid, Some(2));
    assert!(e.is_skippable());
}

#[test]
fn skip_reports_every_bad_record_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    bad_log(dir.path());
    let mut log = TypedLog::<Note>::open_with(dir.path(), ReadPolicy::Skip).unwrap();
    assert_eq!(log.scan().unwrap(), [note(1), note(9)]);
    let s = log.skipped();
    let txids: Vec<u64> = s.iter().map(|s| s.location.txid.unwrap()).collect();
    assert_eq!(txids, [2, 3, 4, 5, 6, 7, 8]);
    assert!(matches!(
        s[0].reason,
        Error::Envelope {
            source: EnvelopeError::TooShort { .. },
            ..
        }
    ));
    assert!(matches!(
        s[1].reason,
        Error::Envelope {
            source: EnvelopeError::UnknownFormat { found: 2 },
            ..
        }
    ));
    assert!(matches!(
        s[2].reason,
        Error::Envelope {
            source: EnvelopeError::UnknownCodec { found: 9 },
            ..
        }
    ));
    assert!(matches!(
        s[3].reason,
        Error::WrongType {
            expected: "note",
            version: 1,
            ..
        }
    ));
    assert!(matches!(
        s[4].reason,
        Error::Decode {
            version: 1,
            codec: Codec::Bincode,
            ..
        }
    ));
    let trailing = s[5].reason.to_string();
    assert!(trailing.contains("1 trailing bytes"), "{trailing}");
    assert!(matches!(
        s[6].reason,
        Error::RecordType {
            found: RecordType::Delete,
            ..
        }
    ));
    // Every reason says where and what.
    for skipped in s.iter() {
        let text = skipped.to_string();
        assert!(text.contains("segment 1 offset"), "{text}");
        assert!(text.contains("`note`"), "{text}");
    }
    drop(s);
    // A later scan with Stop forgets the report.
    log.set_read_policy(ReadPolicy::Stop);
    assert!(log.scan().is_err());
}

#[test]
fn kv_bulk_reads_follow_the_policy_and_get_always_reports() {
    let dir = tempfile::tempdir().unwrap();
    let mut kv = TypedWal::<u64, Note>::open(dir.path()).unwrap();
    kv.insert(&note(1)).unwrap();
    kv.insert(&note(3)).unwrap();
    // Foreign value under a good key; a key that is not a u64.
    kv.raw_mut().put(&2u64.to_be_bytes(), b"not typed").unwrap();
    let good = to_payload(&note(4), Codec::Bincode).unwrap();
    kv.raw_mut().put(b"abc", &good).unwrap();
    kv.fsync().unwrap();

    let e = kv.items().unwrap_err();
    assert_eq!(
        e.location().unwrap().key.as_deref(),
        Some(&2u64.to_be_bytes()[..])
    );
    assert!(kv.keys().is_err());
    let e = kv.get(&2).unwrap_err();
    assert!(matches!(e, Error::Envelope { .. }), "{e:?}");
    assert!(e.to_string().contains("key 0x0000000000000002"), "{e}");

    let kv = TypedWal::<u64, Note>::from_raw_with(kv.into_raw(), ReadPolicy::Skip);
    assert_eq!(kv.items().unwrap(), [(1, note(1)), (3, note(3))]);
    assert_eq!(kv.skipped().len(), 2);
    assert!(matches!(
        kv.skipped()[1].reason,
        Error::Key {
            source: KeyError::UnexpectedEnd {
                needed: 8,
                available: 3,
                ..
            },
            ..
        }
    ));
    assert_eq!(kv.keys().unwrap(), [1, 2, 3]);
    assert_eq!(kv.skipped().len(), 1, "only the key that does not decode");
    // get still reports, whatever the policy.
    assert!(kv.get(&2).is_err());
    assert_eq!(kv.get(&3).unwrap(), Some(note(3)));
    let mut iter = kv.iter();
    assert_eq!((&mut iter).count(), 2);
    assert_eq!(iter.skipped().len(), 2);
}

#[test]
fn core_errors_stop_even_under_skip() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<Note>::open(dir.path()).unwrap();
    log.append(&note(1)).unwrap();
    log.rotate().unwrap();
    log.append(&note(2)).unwrap();
    log.close().unwrap();
    // Damage the closed first segment: a CRC error there is corruption.
    let seg = dir.path().join("00000001.dwal");
    let mut bytes = std::fs::read(&seg).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xFF;
    std::fs::write(&seg, bytes).unwrap();
    let reader = datawal::TypedReader::<Note>::open(dir.path(), ReadPolicy::Skip).unwrap();
    let results: Vec<_> = reader.iter().collect();
    assert_eq!(results.len(), 1);
    let e = results[0].as_ref().unwrap_err();
    assert!(matches!(e, Error::Core(c) if c.is_corrupt()), "{e:?}");
    assert!(!e.is_skippable());
    let _ = Options::new().read_policy(ReadPolicy::Skip);
}
