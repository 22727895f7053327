//! `DataWal`: last-write-wins, positions in the key directory, verified reads.

use std::fs;

use datawal_core::{CorruptKind, DataWal, Error, RecordType};

#[test]
fn last_write_wins_across_segments_and_reopen() {
    let td = tempfile::tempdir().unwrap();
    {
        let mut kv = DataWal::open(td.path()).unwrap();
        kv.put(b"a", b"1").unwrap();
        kv.rotate().unwrap();
        kv.put(b"a", b"2").unwrap();
        kv.put(b"b", b"x").unwrap();
        kv.delete(b"b").unwrap();
        kv.put(b"c", b"").unwrap();
        kv.fsync().unwrap();
        assert_eq!(kv.get(b"a").unwrap(), Some(b"2".to_vec()));
    }
    let kv = DataWal::open(td.path()).unwrap();
    assert_eq!(kv.len(), 2);
    assert!(kv.contains_key(b"c") && !kv.contains_key(b"b"));
    assert_eq!(kv.keys(), vec![b"a".to_vec(), b"c".to_vec()]);
    assert_eq!(
        kv.items().unwrap(),
        vec![(b"a".to_vec(), b"2".to_vec()), (b"c".to_vec(), vec![])]
    );
    assert_eq!(kv.ref_of(b"a").unwrap().segment, 2);
    // Raw records in the same log are ignored by the projection.
    let mut log = kv.into_log();
    log.append_record(RecordType::Raw, b"a", b"not a put")
        .unwrap();
    drop(log);
    assert_eq!(
        DataWal::open(td.path()).unwrap().get(b"a").unwrap(),
        Some(b"2".to_vec())
    );
}

#[test]
fn get_verifies_the_crc_of_what_it_reads() {
    let td = tempfile::tempdir().unwrap();
    let mut kv = DataWal::open(td.path()).unwrap();
    kv.put(b"k", b"value").unwrap();
    kv.fsync().unwrap();
    let seg = td.path().join("00000001.dwal");
    let mut bytes = fs::read(&seg).unwrap();
    let n = bytes.len();
    bytes[n - 6] ^= 1; // a payload byte, behind the key directory's back
    fs::write(&seg, bytes).unwrap();
    match kv.get(b"k").unwrap_err() {
        Error::Corrupt {
            segment: 1,
            offset: 0,
            kind: CorruptKind::CrcMismatch { .. },
            ..
        } => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn empty_and_binary_keys_work() {
    let td = tempfile::tempdir().unwrap();
    let mut kv = DataWal::open(td.path()).unwrap();
    kv.put(b"", b"empty key").unwrap();
    kv.put(&[0, 0xff, 0], b"binary").unwrap();
    drop(kv);
    let kv = DataWal::open(td.path()).unwrap();
    assert_eq!(kv.get(b"").unwrap(), Some(b"empty key".to_vec()));
    assert_eq!(kv.get(&[0, 0xff, 0]).unwrap(), Some(b"binary".to_vec()));
}
