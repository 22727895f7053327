//! Segment names and ids against a hostile or unlucky directory: the last
//! eight-digit segment id, entries that are not regular files where the
//! next segment goes, and a record carrying the last txid.

use std::fs;
use std::path::Path;

use datawal_core::format::encode_into;
use datawal_core::segment::{segment_path, MAX_SEGMENT_ID};
use datawal_core::{Error, LogOptions, RecordLog, RecordLogReader, RecordType};

fn payloads(dir: &Path) -> Vec<Vec<u8>> {
    let (records, report) = RecordLogReader::open(dir).unwrap().scan().unwrap();
    assert!(report.tail.is_none(), "{report:?}");
    records.into_iter().map(|r| r.payload).collect()
}

/// After segment 99999999 a rotation is refused before anything is written
/// (a ninth digit would make a name no reader lists); appends go on in the
/// active segment and survive a reopen.
#[test]
fn rotation_past_the_last_eight_digit_id_is_refused_and_nothing_is_lost() {
    let td = tempfile::tempdir().unwrap();
    let mut frame = Vec::new();
    encode_into(&mut frame, RecordType::Raw, 1, b"", b"first");
    fs::write(segment_path(td.path(), MAX_SEGMENT_ID), &frame).unwrap();

    let mut log = RecordLog::open(td.path()).unwrap();
    assert!(matches!(
        log.rotate(),
        Err(Error::Exhausted { what: "segment id" })
    ));
    assert!(!log.is_poisoned());
    log.append(b"second").unwrap();
    log.fsync().unwrap();
    drop(log);
    // Automatic rotation is refused the same way, before the write.
    let mut log =
        RecordLog::open_with(td.path(), LogOptions::default().max_segment_bytes(40)).unwrap();
    assert!(matches!(
        log.append(b"third"),
        Err(Error::Exhausted { what: "segment id" })
    ));
    drop(log);
    assert_eq!(
        payloads(td.path()),
        vec![b"first".to_vec(), b"second".to_vec()]
    );
    assert_eq!(
        fs::read_dir(td.path()).unwrap().count(),
        2,
        "the segment and .lock only"
    );
}

/// What can sit where the next segment goes, made in `path`.
fn plant(kind: &str, path: &Path) {
    match kind {
        "fifo" => {
            let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        }
        "directory" => fs::create_dir(path).unwrap(),
        "dangling symlink" => {
            std::os::unix::fs::symlink(path.with_extension("nowhere"), path).unwrap()
        }
        other => unreachable!("{other}"),
    }
}

/// A FIFO, a directory or a dangling symbolic link named like the next
/// segment: rotation steps over it, the handle is not poisoned, and every
/// record survives a reopen (and further rotations).
#[test]
fn an_entry_in_the_next_segments_place_does_not_stop_rotation() {
    for kind in ["fifo", "directory", "dangling symlink"] {
        let td = tempfile::tempdir().unwrap();
        let mut log = RecordLog::open(td.path()).unwrap();
        log.append(b"a").unwrap();
        plant(kind, &segment_path(td.path(), 2));
        log.rotate().unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(log.active_segment(), 3, "{kind}");
        log.append(b"b").unwrap();
        log.fsync().unwrap();
        drop(log);
        let mut log = RecordLog::open(td.path()).unwrap();
        plant(kind, &segment_path(td.path(), 4));
        log.rotate().unwrap();
        assert_eq!(log.active_segment(), 5, "{kind}");
        log.append(b"c").unwrap();
        log.fsync().unwrap();
        drop(log);
        assert_eq!(
            payloads(td.path()),
            vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()],
            "{kind}"
        );
    }
}

/// The same entry in the first segment's place of an empty store.
#[test]
fn an_entry_in_the_first_segments_place_does_not_stop_a_new_store() {
    for kind in ["fifo", "directory", "dangling symlink"] {
        let td = tempfile::tempdir().unwrap();
        plant(kind, &segment_path(td.path(), 1));
        let mut log = RecordLog::open(td.path()).unwrap_or_else(|e| panic!("{kind}: {e}"));
        log.append(b"a").unwrap();
        log.fsync().unwrap();
        drop(log);
        assert_eq!(payloads(td.path()), vec![b"a".to_vec()], "{kind}");
    }
}

/// A CRC-valid frame with txid `u64::MAX` is refused by the writer at open,
/// naming the frame, with the store left as it was; readers still read it.
#[test]
fn a_record_with_the_last_txid_is_refused_at_open_naming_it() {
    let td = tempfile::tempdir().unwrap();
    let mut bytes = Vec::new();
    encode_into(&mut bytes, RecordType::Raw, 1, b"", b"first");
    let at = bytes.len() as u64;
    encode_into(&mut bytes, RecordType::Raw, u64::MAX, b"", b"last");
    bytes.extend_from_slice(b"DWAL torn"); // a torn tail the refusal leaves alone
    let seg = segment_path(td.path(), 1);
    fs::write(&seg, &bytes).unwrap();
    for err in [
        RecordLog::open(td.path()).map(|_| ()).unwrap_err(),
        datawal_core::DataWal::open(td.path())
            .map(|_| ())
            .unwrap_err(),
    ] {
        match &err {
            Error::TxidsExhausted {
                segment,
                offset,
                path,
            } => {
                assert_eq!((*segment, *offset, path), (1, at, &seg));
            }
            other => panic!("{other:?}"),
        }
        assert!(err.to_string().contains(&format!("offset {at}")), "{err}");
    }
    assert_eq!(fs::read(&seg).unwrap(), bytes, "nothing changed on disk");
    let (records, _) = RecordLogReader::open(td.path()).unwrap().scan().unwrap();
    assert_eq!(records.len(), 2);
}
