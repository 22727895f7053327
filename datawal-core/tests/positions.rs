//! Positions: `read_at`, `cursor_from` and `last` on the writer
//! (`RecordLog`) and on the lock-free reader (`RecordLogReader`), which
//! share one implementation (`src/position.rs`).

use std::fs;
use std::path::Path;

use datawal_core::segment::{list_segments, segment_path};
use datawal_core::{Error, Record, RecordLog, RecordLogReader, RecordRef, RecordType};

/// A log of `n` records over several segments (a rotation every 7
/// records, and two empty segments in the middle); the refs `append`
/// returned.
fn build(dir: &Path, n: u64) -> (RecordLog, Vec<RecordRef>) {
    let mut log = RecordLog::open(dir).unwrap();
    let mut refs = Vec::new();
    for i in 1..=n {
        let payload = vec![i as u8; (i * 13 % 90) as usize];
        refs.push(
            log.append_record(RecordType::Put, format!("k{i}").as_bytes(), &payload)
                .unwrap(),
        );
        if i % 7 == 0 {
            log.rotate().unwrap();
        }
        if i == 20 {
            log.rotate().unwrap();
            log.rotate().unwrap();
        }
    }
    log.fsync().unwrap();
    (log, refs)
}

fn txids(records: &[Record]) -> Vec<u64> {
    records.iter().map(|r| r.txid).collect()
}

fn drain(mut cursor: datawal_core::RecordCursor) -> Vec<Record> {
    let mut out = Vec::new();
    cursor.for_each_view(|v| out.push(v.to_record())).unwrap();
    out
}

#[test]
fn read_at_returns_each_record_from_writer_and_reader() {
    let td = tempfile::tempdir().unwrap();
    let (mut log, refs) = build(td.path(), 40);
    let all = log.scan().unwrap();
    let reader = RecordLogReader::open(td.path()).unwrap();
    for (r, want) in refs.iter().zip(&all) {
        assert_eq!(&log.read_at(*r).unwrap(), want);
        assert_eq!(&reader.read_at(*r).unwrap(), want);
    }
}

/// Every offset of a segment that is not a record's start, every wrong
/// length, and positions past the end are typed errors: never a record.
#[test]
fn read_at_refuses_every_position_that_is_not_a_record() {
    let td = tempfile::tempdir().unwrap();
    let (log, refs) = build(td.path(), 6);
    let seg = refs[0].segment;
    let size = fs::metadata(segment_path(td.path(), seg)).unwrap().len();
    let starts: Vec<u64> = refs.iter().map(|r| r.offset).collect();
    let mut refused = 0;
    for offset in 0..size + 30 {
        for len in [28u32, 40, 60, 100, refs[1].len] {
            let at = RecordRef {
                segment: seg,
                offset,
                len,
            };
            match log.read_at(at) {
                Ok(rec) => {
                    let i = starts.iter().position(|&s| s == offset).unwrap();
                    assert_eq!(
                        refs[i], at,
                        "a record read at a position that is not its own"
                    );
                    assert_eq!(rec.txid, i as u64 + 1);
                }
                Err(Error::NoRecordAt { at: got, .. }) => {
                    assert_eq!(got, at);
                    refused += 1;
                }
                Err(e) => panic!("{at:?}: {e}"),
            }
        }
    }
    assert!(refused > 5 * size as usize - 10, "{refused}");
    // A segment that does not exist.
    let missing = RecordRef {
        segment: 99,
        offset: 0,
        len: 28,
    };
    assert!(matches!(log.read_at(missing), Err(Error::Io { .. })));
}

#[test]
fn read_at_refuses_a_torn_frame() {
    let td = tempfile::tempdir().unwrap();
    let (log, refs) = build(td.path(), 3);
    drop(log);
    let last = refs[2];
    let path = segment_path(td.path(), last.segment);
    let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(last.offset + u64::from(last.len) - 1).unwrap();
    let reader = RecordLogReader::open(td.path()).unwrap();
    let err = reader.read_at(last).unwrap_err();
    assert!(
        matches!(&err, Error::NoRecordAt { kind, .. } if kind.to_string().contains("truncated")),
        "{err}"
    );
    // A flipped payload byte: the CRC refuses it.
    let mut bytes = fs::read(&path).unwrap();
    bytes[refs[1].offset as usize + 30] ^= 1;
    fs::write(&path, bytes).unwrap();
    let err = reader.read_at(refs[1]).unwrap_err();
    assert!(err.to_string().contains("CRC"), "{err}");
}

/// `cursor_from(t)` yields exactly the records a full scan yields from
/// txid `t` on, for every `t`, on both handles.
#[test]
fn cursor_from_agrees_with_a_filtered_scan_for_every_txid() {
    let td = tempfile::tempdir().unwrap();
    let (mut log, _) = build(td.path(), 45);
    let all = log.scan().unwrap();
    let reader = RecordLogReader::open(td.path()).unwrap();
    for t in 0..=48 {
        let want: Vec<u64> = txids(&all).into_iter().filter(|&x| x >= t).collect();
        assert_eq!(txids(&drain(log.cursor_from(t).unwrap())), want, "from {t}");
        assert_eq!(
            txids(&drain(reader.cursor_from(t).unwrap())),
            want,
            "reader from {t}"
        );
    }
}

/// The segments before the one holding the txid are not read: damage in
/// the middle of the first (closed) segment stops a full scan, not a
/// cursor from a later txid, nor `last`.
#[test]
fn cursor_from_and_last_do_not_read_the_segments_before() {
    let td = tempfile::tempdir().unwrap();
    let (log, refs) = build(td.path(), 45);
    let path = segment_path(td.path(), 1);
    let mut bytes = fs::read(&path).unwrap();
    bytes[refs[3].offset as usize + 26] ^= 0x55;
    fs::write(&path, bytes).unwrap();
    let reader = RecordLogReader::open(td.path()).unwrap();
    assert!(reader.scan().unwrap_err().is_corrupt());
    // A cursor that has to read through the damage finds it.
    let mut through = log.cursor_from(2).unwrap();
    assert!(through.for_each_view(|_| {}).unwrap_err().is_corrupt());
    let from_30 = drain(reader.cursor_from(30).unwrap());
    assert_eq!(txids(&from_30), (30..=45).collect::<Vec<_>>());
    assert_eq!(txids(&drain(log.cursor_from(9).unwrap()))[0], 9);
    assert_eq!(log.last().unwrap().unwrap().txid, 45);
    assert_eq!(reader.last().unwrap().unwrap().txid, 45);
}

#[test]
fn last_on_empty_logs_empty_active_segments_and_torn_tails() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    assert_eq!(log.last().unwrap(), None);
    assert_eq!(
        RecordLogReader::open(td.path()).unwrap().last().unwrap(),
        None
    );
    log.append(b"one").unwrap();
    log.append(b"two").unwrap();
    log.rotate().unwrap();
    log.rotate().unwrap();
    let last = log.last().unwrap().unwrap();
    assert_eq!((last.txid, last.payload.as_slice()), (2, &b"two"[..]));
    let reader = RecordLogReader::open(td.path()).unwrap();
    assert_eq!(reader.last().unwrap().unwrap(), last);
    // A batch: the last of it.
    log.append_batch([
        (RecordType::Raw, &b""[..], &b"a"[..]),
        (RecordType::Raw, b"", b"b"),
    ])
    .unwrap();
    assert_eq!(log.last().unwrap().unwrap().txid, 4);
    drop(log);
    // A half-written frame at the end: the reader's last is the one before.
    let active = *list_segments(td.path()).unwrap().last().unwrap();
    let mut frame = Vec::new();
    datawal_core::format::encode_into(&mut frame, RecordType::Raw, 5, b"", b"partial");
    let path = segment_path(td.path(), active);
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(&frame[..frame.len() - 3]);
    fs::write(&path, bytes).unwrap();
    let reader = RecordLogReader::open(td.path()).unwrap();
    assert_eq!(reader.last().unwrap().unwrap().payload, b"b");
    // The writer repairs the tail on open and knows its last record.
    let log = RecordLog::open(td.path()).unwrap();
    assert_eq!(log.last().unwrap().unwrap().payload, b"b");
}

/// Records removed with their segments: asking for one of them is
/// `Error::Truncated`, never a silent skip; txid 0 means "the oldest left".
#[test]
fn removed_records_are_reported_as_truncated() {
    let td = tempfile::tempdir().unwrap();
    let (log, refs) = build(td.path(), 30);
    drop(log);
    fs::remove_file(segment_path(td.path(), refs[0].segment)).unwrap();
    let log = RecordLog::open(td.path()).unwrap();
    let reader = RecordLogReader::open(td.path()).unwrap();
    for t in [1, 5, 7] {
        for err in [
            log.cursor_from(t).unwrap_err(),
            reader.cursor_from(t).unwrap_err(),
        ] {
            assert!(
                matches!(
                    err,
                    Error::Truncated {
                        requested,
                        first_available: 8
                    } if requested == t
                ),
                "{err}"
            );
        }
    }
    assert_eq!(drain(reader.cursor_from(0).unwrap())[0].txid, 8);
    assert_eq!(drain(log.cursor_from(8).unwrap())[0].txid, 8);
    assert_eq!(drain(log.cursor_from(9).unwrap())[0].txid, 9);
}

/// `truncate_before` (retention) removes whole closed segments: what it
/// removed is `Error::Truncated` to a reader that asks for it.
#[test]
fn records_removed_by_truncate_before_are_reported() {
    let td = tempfile::tempdir().unwrap();
    let (mut log, _) = build(td.path(), 30);
    log.truncate_before(15).unwrap();
    let reader = RecordLogReader::open(td.path()).unwrap();
    let first = drain(reader.cursor_from(0).unwrap())[0].txid;
    assert!(first > 1 && first <= 15, "{first}");
    let err = log.cursor_from(1).unwrap_err();
    assert!(
        matches!(err, Error::Truncated { requested: 1, first_available } if first_available == first),
        "{err}"
    );
    assert_eq!(drain(log.cursor_from(15).unwrap())[0].txid, 15);
}

/// The writer's newest record after its segment was removed: an in-place
/// compaction with nothing live, and `truncate_before` past everything.
#[test]
fn last_after_the_newest_records_segment_was_removed() {
    let td = tempfile::tempdir().unwrap();
    let mut db = datawal_core::DataWal::open(td.path()).unwrap();
    db.put(b"k", b"v").unwrap();
    db.delete(b"k").unwrap();
    db.compact().unwrap();
    assert_eq!(db.log().last().unwrap(), None);
    db.put(b"k", b"w").unwrap();
    assert_eq!(db.log().last().unwrap().unwrap().payload, b"w");

    let td = tempfile::tempdir().unwrap();
    let (mut log, _) = build(td.path(), 14);
    log.rotate().unwrap();
    log.truncate_before(100).unwrap();
    assert_eq!(log.last().unwrap(), None);
}
