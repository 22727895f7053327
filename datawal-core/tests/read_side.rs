//! The read-only side: `DataWalReader` gives what `DataWal` gives without
//! the writer's lock, and `RecordLogReader::verify` finds every damage
//! without changing a byte.

use std::fs;

use datawal_core::format::encode_into;
use datawal_core::segment::segment_path;
use datawal_core::{CorruptKind, DataWal, DataWalReader, RecordLog, RecordLogReader, RecordType};

#[test]
fn the_key_value_snapshot_agrees_with_the_writer_while_it_runs() {
    let td = tempfile::tempdir().unwrap();
    // A raw record (not part of the key/value view) first.
    RecordLog::open(td.path()).unwrap().append(b"raw").unwrap();
    let mut db = DataWal::open(td.path()).unwrap();
    for i in 0..500u32 {
        if i % 150 == 149 {
            db.rotate().unwrap();
        }
        db.put(format!("k{}", i % 120).as_bytes(), &i.to_le_bytes())
            .unwrap();
        if i % 9 == 0 {
            db.delete(format!("k{}", i % 50).as_bytes()).unwrap();
        }
    }
    let snap = DataWalReader::open(td.path()).unwrap();
    assert_eq!(snap.len(), db.len());
    assert_eq!(snap.keys(), db.keys());
    assert_eq!(snap.items().unwrap(), db.items().unwrap());
    for k in db.keys() {
        assert_eq!(snap.get(&k).unwrap(), db.get(&k).unwrap());
        assert!(snap.contains_key(&k));
    }
    assert_eq!(snap.get(b"never").unwrap(), None);
    assert_eq!(snap.stats().raws, 1);
    assert_eq!(
        snap.stats().records,
        snap.stats().puts + snap.stats().deletes + 1
    );
    // The batched iterators give the same pairs, with the keys' positions.
    for (k, r, v) in db.iter().map(Result::unwrap) {
        assert_eq!(db.ref_of(k), Some(r));
        assert_eq!(db.get(k).unwrap().as_deref(), Some(&v[..]));
    }
    let pairs = |it: datawal_core::LiveIter<'_>| -> Vec<(Vec<u8>, Vec<u8>)> {
        it.map(|i| i.map(|(k, _, v)| (k.to_vec(), v)).unwrap())
            .collect()
    };
    assert_eq!(pairs(db.iter()), db.items().unwrap());
    assert_eq!(pairs(snap.iter()), db.items().unwrap());
    let (a, b) = (td.path().join("w.jsonl"), td.path().join("r.jsonl"));
    db.export_jsonl(&a).unwrap();
    snap.export_jsonl(&b).unwrap();
    assert_eq!(fs::read(a).unwrap(), fs::read(b).unwrap());
}

#[test]
fn verify_finds_every_damage_and_changes_nothing() {
    let td = tempfile::tempdir().unwrap();
    let mut segs: Vec<Vec<u8>> = vec![Vec::new(); 4];
    let mut txid = 0;
    for seg in &mut segs {
        for _ in 0..5 {
            txid += 1;
            encode_into(seg, RecordType::Put, txid, b"k", b"value");
        }
    }
    let frame_len = segs[0].len() / 5;
    // A flipped payload byte in the second frame of segments 1 and 3, and a
    // torn tail in the last segment with two intact frames after it.
    segs[0][frame_len + 30] ^= 1;
    segs[2][frame_len + 30] ^= 1;
    let tail_at = segs[3].len();
    encode_into(&mut segs[3], RecordType::Put, 99, b"k", b"torn");
    let n = segs[3].len();
    segs[3][n - 1] ^= 1; // its CRC no longer matches
    for i in 0..2 {
        encode_into(&mut segs[3], RecordType::Put, 100 + i, b"k", b"after");
    }
    for (id, bytes) in (1..).zip(&segs) {
        fs::write(segment_path(td.path(), id), bytes).unwrap();
    }
    let before: Vec<Vec<u8>> = (1..=4)
        .map(|id| fs::read(segment_path(td.path(), id)).unwrap())
        .collect();
    let v = RecordLogReader::open(td.path()).unwrap().verify().unwrap();
    let at: Vec<(u32, u64, u64)> = v
        .damage
        .iter()
        .map(|d| (d.segment, d.offset, d.records_before))
        .collect();
    assert_eq!(at, vec![(1, frame_len as u64, 1), (3, frame_len as u64, 7)]);
    assert!(v
        .damage
        .iter()
        .all(|d| matches!(d.kind, CorruptKind::CrcMismatch { .. })));
    assert_eq!(v.stats.records, 1 + 5 + 1 + 5);
    let tail = v.tail.unwrap();
    assert_eq!((tail.segment, tail.offset), (4, tail_at as u64));
    assert_eq!(tail.intact_frames_cut, Some(2));
    assert_eq!(tail.saved_to, None);
    let after: Vec<Vec<u8>> = (1..=4)
        .map(|id| fs::read(segment_path(td.path(), id)).unwrap())
        .collect();
    assert_eq!(before, after, "verify changed nothing");
    // The writer refuses at the first damage, as verify's first entry says.
    let err = DataWal::open(td.path()).map(|_| ()).unwrap_err();
    assert_eq!(err.to_string(), v.damage[0].to_error().to_string());
}
