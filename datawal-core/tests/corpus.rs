//! The frozen corpus in `tests/corpus/`: one test per fixture, plus a test
//! that today's writer still produces the committed bytes.

#[allow(dead_code)]
#[path = "../examples/gen_corpus.rs"]
mod gen_corpus;

use std::fs;
use std::path::{Path, PathBuf};

use datawal_core::{CorruptKind, DataWal, Error, RecordLog, RecordLogReader, RecordType};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name)
}

/// Copy a fixture into a temporary directory (opening a writer may repair it).
fn copy_fixture(name: &str) -> tempfile::TempDir {
    let td = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(fixture(name)).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), td.path().join(entry.file_name())).unwrap();
    }
    td
}

fn payloads(dir: &Path) -> Vec<Vec<u8>> {
    let (records, _) = RecordLogReader::open(dir).unwrap().scan().unwrap();
    records.into_iter().map(|r| r.payload).collect()
}

#[test]
fn committed_corpus_matches_the_writer() {
    let td = tempfile::tempdir().unwrap();
    gen_corpus::generate(td.path()).unwrap();
    for (name, _) in gen_corpus::CASES {
        let mut committed: Vec<_> = fs::read_dir(fixture(name))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        committed.sort();
        let mut fresh: Vec<_> = fs::read_dir(td.path().join(name))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        fresh.sort();
        assert_eq!(committed, fresh, "{name}: file list differs");
        for f in committed {
            assert_eq!(
                fs::read(fixture(name).join(&f)).unwrap(),
                fs::read(td.path().join(name).join(&f)).unwrap(),
                "{name}/{f:?}: the writer no longer produces the committed bytes"
            );
        }
    }
}

#[test]
fn valid_log_reads_every_record_with_positions() {
    let (records, report) = RecordLogReader::open(fixture("valid_log"))
        .unwrap()
        .scan()
        .unwrap();
    let summary: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r.record_type,
                r.txid,
                r.key.clone(),
                r.segment,
                r.offset,
                r.len,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (RecordType::Raw, 1, vec![], 1, 0, 33),
            (RecordType::Put, 2, b"k1".to_vec(), 1, 33, 32),
            (RecordType::Delete, 3, b"k1".to_vec(), 2, 0, 30),
            (RecordType::Raw, 4, vec![], 2, 30, 28),
            (RecordType::Put, 5, vec![0, 255, 7], 3, 0, 35),
        ]
    );
    assert_eq!(report.files_scanned, 3);
    assert_eq!(report.last_txid_seen, 5);
    assert!(report.tail.is_none());
}

fn assert_torn_tail(name: &str, expect_bytes: u64, kind: fn(&CorruptKind) -> bool) {
    let td = copy_fixture(name);
    let before = fs::read(td.path().join("00000001.dwal")).unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    let report = log.recovery_report().unwrap();
    let tail = report.tail.clone().expect("a torn tail is reported");
    assert_eq!(report.tail_truncated, 1);
    assert_eq!(tail.bytes, expect_bytes);
    assert_eq!(report.tail_bytes_discarded, expect_bytes);
    assert!(kind(&tail.kind), "{name}: {:?}", tail.kind);
    let saved = fs::read(tail.saved_to.as_ref().unwrap()).unwrap();
    assert_eq!(
        saved,
        before[tail.offset as usize..],
        "cut bytes are kept aside"
    );
    log.append(b"after repair").unwrap();
    log.fsync().unwrap();
    drop(log);
    assert_eq!(
        payloads(td.path()),
        vec![b"one".to_vec(), b"two".to_vec(), b"after repair".to_vec()]
    );
}

#[test]
fn truncated_tail_is_cut_saved_and_appending_continues() {
    assert_torn_tail("truncated_tail", 49, |k| {
        matches!(
            k,
            CorruptKind::Truncated {
                available: 49,
                needed: 59
            }
        )
    });
}

#[test]
fn crc_tail_is_cut_saved_and_appending_continues() {
    assert_torn_tail("crc_tail", 59, |k| {
        matches!(k, CorruptKind::CrcMismatch { .. })
    });
}

#[test]
fn zero_filled_tail_is_free_space_cut_without_a_side_file() {
    // The third record is intact: only the zeros go, and they are free
    // space (what a preallocating writer leaves), not a torn tail.
    let td = copy_fixture("zero_filled_tail");
    let path = td.path().join("00000001.dwal");
    let len = std::fs::metadata(&path).unwrap().len();
    let log = RecordLog::open(td.path()).unwrap();
    let report = log.recovery_report().unwrap();
    assert!(report.tail.is_none(), "{report:?}");
    assert_eq!(report.free_bytes, 4096);
    drop(log);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), len - 4096);
    assert!(!std::fs::read_dir(td.path())
        .unwrap()
        .any(|e| e.unwrap().path().extension() == Some("torn".as_ref())));
    assert_eq!(payloads(td.path()).len(), 3);
}

#[test]
fn bad_crc_in_closed_segment_is_a_hard_error_naming_where() {
    let td = copy_fixture("bad_crc_closed_segment");
    let err = RecordLog::open(td.path()).unwrap_err();
    match &err {
        Error::Corrupt {
            segment: 1,
            offset: 0,
            kind: CorruptKind::CrcMismatch { .. },
            ..
        } => {}
        other => panic!("unexpected: {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("segment 1") && msg.contains("offset 0"),
        "{msg}"
    );
    // Nothing was changed on disk.
    assert_eq!(
        fs::read(td.path().join("00000001.dwal")).unwrap(),
        fs::read(fixture("bad_crc_closed_segment").join("00000001.dwal")).unwrap()
    );
}

#[test]
fn unknown_version_is_a_hard_error() {
    let err = RecordLogReader::open(fixture("unknown_version"))
        .unwrap()
        .scan()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Corrupt {
                kind: CorruptKind::UnknownVersion { found: 2 },
                segment: 1,
                offset: 0,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn tombstones_project_last_write_wins() {
    let td = copy_fixture("tombstones");
    let kv = DataWal::open(td.path()).unwrap();
    assert_eq!(kv.keys(), vec![b"b".to_vec(), b"c".to_vec()]);
    assert_eq!(kv.get(b"b").unwrap(), Some(b"22".to_vec()));
    assert_eq!(kv.get(b"a").unwrap(), None);
    let (records, _) = RecordLogReader::open(td.path()).unwrap().scan().unwrap();
    assert_eq!(
        records
            .iter()
            .filter(|r| r.record_type == RecordType::Delete)
            .count(),
        2
    );
}

#[test]
fn compaction_output_holds_live_keys_sorted_from_txid_1() {
    let (records, _) = RecordLogReader::open(fixture("compaction_output"))
        .unwrap()
        .scan()
        .unwrap();
    let got: Vec<_> = records
        .iter()
        .map(|r| (r.record_type, r.txid, r.key.clone(), r.payload.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            (RecordType::Put, 1, b"b".to_vec(), b"22".to_vec()),
            (RecordType::Put, 2, b"c".to_vec(), b"3".to_vec()),
        ]
    );
}
