//! `LogOptions::max_segment_bytes`: automatic rotation.

use datawal_core::{DataWal, LogOptions, RecordLog, RecordLogReader, RecordType};

#[test]
fn appends_rotate_when_the_segment_would_overflow() {
    let td = tempfile::tempdir().unwrap();
    let opts = LogOptions::default().max_segment_bytes(100);
    let mut log = RecordLog::open_with(td.path(), opts).unwrap();
    // Each frame is 28 + 22 = 50 bytes: two fit in 100.
    let refs: Vec<_> = (0..5)
        .map(|i| {
            log.append(format!("payload number {i:07}").as_bytes())
                .unwrap()
        })
        .collect();
    let placed: Vec<_> = refs.iter().map(|r| (r.segment, r.offset)).collect();
    assert_eq!(placed, vec![(1, 0), (1, 50), (2, 0), (2, 50), (3, 0)]);
    // A record larger than the limit still gets a segment of its own.
    let big = log.append(&[0u8; 500]).unwrap();
    assert_eq!((big.segment, big.offset), (4, 0));
    // A batch is one write: it moves whole to a fresh segment.
    let batch = log
        .append_batch([
            (RecordType::Raw, &b""[..], &b"x"[..]),
            (RecordType::Raw, &b""[..], &b"y"[..]),
        ])
        .unwrap();
    assert_eq!(
        batch
            .iter()
            .map(|r| (r.segment, r.offset))
            .collect::<Vec<_>>(),
        vec![(5, 0), (5, 29)]
    );
    log.fsync().unwrap();
    drop(log);
    let (records, _) = RecordLogReader::open(td.path()).unwrap().scan().unwrap();
    let got: Vec<_> = records
        .iter()
        .map(|r| (r.segment, r.offset, r.txid))
        .collect();
    let want: Vec<_> = refs
        .iter()
        .chain([&big])
        .chain(batch.iter())
        .enumerate()
        .map(|(i, r)| (r.segment, r.offset, i as u64 + 1))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn datawal_reads_values_across_automatically_rotated_segments() {
    let td = tempfile::tempdir().unwrap();
    let opts = LogOptions::default().max_segment_bytes(64);
    let mut kv = DataWal::open_with(td.path(), opts).unwrap();
    for i in 0..20u8 {
        kv.put(&[i % 5], &[i]).unwrap();
    }
    kv.fsync().unwrap();
    assert!(kv.log().active_segment() > 5);
    drop(kv);
    let kv = DataWal::open_with(td.path(), opts).unwrap();
    let items = kv.items().unwrap();
    assert_eq!(
        items,
        (15..20u8)
            .map(|i| (vec![i % 5], vec![i]))
            .collect::<Vec<_>>()
    );
}
