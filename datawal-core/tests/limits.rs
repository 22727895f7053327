//! Oversize keys and payloads are refused before anything is written.

use datawal_core::{DataWal, Error, RecordLog, RecordType, MAX_KEY_LEN};

#[test]
fn oversize_key_is_refused_and_the_handle_stays_usable() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    let key = vec![7u8; MAX_KEY_LEN as usize + 1];
    let err = log.append_record(RecordType::Put, &key, b"").unwrap_err();
    assert!(matches!(err, Error::KeyTooLarge { len } if len == key.len()));
    assert!(err.to_string().contains("65536"), "{err}");
    // A batch with one bad record writes nothing.
    let err = log
        .append_batch([
            (RecordType::Raw, &b""[..], &b"fine"[..]),
            (RecordType::Put, &key[..], &b""[..]),
        ])
        .unwrap_err();
    assert!(matches!(err, Error::KeyTooLarge { .. }));
    assert!(!log.is_poisoned());
    let r = log.append(b"still fine").unwrap();
    assert_eq!((r.offset, log.scan().unwrap().len()), (0, 1));
    assert_eq!(log.scan().unwrap()[0].txid, 1);
}

#[test]
fn largest_key_is_accepted() {
    let td = tempfile::tempdir().unwrap();
    let mut kv = DataWal::open(td.path()).unwrap();
    let key = vec![1u8; MAX_KEY_LEN as usize];
    kv.put(&key, b"v").unwrap();
    drop(kv);
    assert_eq!(
        DataWal::open(td.path()).unwrap().get(&key).unwrap(),
        Some(b"v".to_vec())
    );
}
