//! Torn tails: cut, kept aside, reported, and never an obstacle to later appends.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use datawal_core::{CorruptKind, Error, RecordLog, RecordLogReader};

fn tear(dir: &Path, segment: u32, bytes: &[u8]) {
    OpenOptions::new()
        .append(true)
        .open(datawal_core::segment::segment_path(dir, segment))
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

fn payloads(dir: &Path) -> Vec<Vec<u8>> {
    let (rs, report) = RecordLogReader::open(dir).unwrap().scan().unwrap();
    assert!(
        report.tail.is_none(),
        "a repaired store has no tail: {report:?}"
    );
    rs.into_iter().map(|r| r.payload).collect()
}

#[test]
fn repeated_crashes_at_the_same_offset_keep_every_torn_tail() {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path();
    RecordLog::open(dir).unwrap().append(b"a").unwrap();
    let mut saved = Vec::new();
    for round in 0..3u8 {
        tear(dir, 1, &[b'D', b'W', b'A', b'L', 1, 0, 0, 0, round]);
        let log = RecordLog::open(dir).unwrap();
        let tail = log.recovery_report().unwrap().tail.unwrap();
        assert_eq!(tail.offset, 29);
        let path = tail.saved_to.unwrap();
        assert_eq!(fs::read(&path).unwrap().last(), Some(&round));
        saved.push(path);
    }
    saved.dedup();
    assert_eq!(saved.len(), 3, "each cut is kept in its own file");
    assert_eq!(payloads(dir), vec![b"a".to_vec()]);
}

#[test]
fn tail_in_the_last_of_several_segments_then_appends_survive_reopen() {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path();
    {
        let mut log = RecordLog::open(dir).unwrap();
        log.append(b"s1").unwrap();
        log.rotate().unwrap();
        log.append(b"s2").unwrap();
        log.fsync().unwrap();
    }
    // Zeros, then a non-zero byte: a torn tail (zeros alone are free space).
    let mut torn = [0u8; 100];
    torn[99] = 1;
    tear(dir, 2, &torn);
    {
        let mut log = RecordLog::open(dir).unwrap();
        let r = log.recovery_report().unwrap();
        assert_eq!((r.tail_truncated, r.tail_bytes_discarded), (1, 100));
        log.append(b"after").unwrap();
        log.rotate().unwrap();
        log.append(b"next segment").unwrap();
        log.fsync().unwrap();
    }
    for _ in 0..2 {
        assert_eq!(
            payloads(dir),
            vec![
                b"s1".to_vec(),
                b"s2".to_vec(),
                b"after".to_vec(),
                b"next segment".to_vec()
            ]
        );
    }
}

#[test]
fn a_torn_closed_segment_is_a_hard_error() {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path();
    {
        let mut log = RecordLog::open(dir).unwrap();
        log.append(b"s1").unwrap();
        log.rotate().unwrap();
        log.fsync().unwrap();
    }
    tear(dir, 1, b"DWAL");
    match RecordLog::open(dir).unwrap_err() {
        Error::Corrupt {
            segment: 1,
            offset: 30,
            kind: CorruptKind::Truncated { .. },
            ..
        } => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn readers_report_a_tail_but_change_nothing() {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path();
    RecordLog::open(dir).unwrap().append(b"x").unwrap();
    tear(dir, 1, b"DWAL\x01");
    let before = fs::read(dir.join("00000001.dwal")).unwrap();
    let (rs, report) = RecordLogReader::open(dir).unwrap().scan().unwrap();
    assert_eq!(rs.len(), 1);
    let tail = report.tail.unwrap();
    assert_eq!((tail.offset, tail.bytes, tail.saved_to), (29, 5, None));
    assert_eq!(fs::read(dir.join("00000001.dwal")).unwrap(), before);
}

#[test]
fn structural_damage_in_the_last_segment_is_not_a_tail() {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path();
    RecordLog::open(dir).unwrap().append(b"x").unwrap();
    // A complete header with a bad version: not what a torn write leaves.
    tear(
        dir,
        1,
        b"DWAL\x07\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    );
    let err = RecordLog::open(dir).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Corrupt {
                kind: CorruptKind::UnknownVersion { found: 7 },
                offset: 29,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("00000001.dwal"), "{err}");
}
