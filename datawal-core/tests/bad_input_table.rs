//! Every kind of malformed input, one test per row of the table in
//! `docs/reliability.md`: what the writer (`RecordLog::open`) and a reader
//! (`RecordLogReader::scan`) do with it.

use std::fs;
use std::path::Path;

use datawal_core::format::{
    encode_into, OFF_FLAGS, OFF_KEY_LEN, OFF_MAGIC, OFF_PAYLOAD_LEN, OFF_RECORD_TYPE, OFF_VERSION,
};
use datawal_core::segment::segment_path;
use datawal_core::{
    CorruptKind, DataWal, Error, RecordLog, RecordLogReader, RecordType, MAX_KEY_LEN,
    MAX_PAYLOAD_LEN,
};

/// Three records in segment 1; with `closed`, a fourth in segment 2 so that
/// segment 1 is closed. Returns the offset of the third record in segment 1.
fn store(dir: &Path, closed: bool) -> u64 {
    let mut log = RecordLog::open(dir).unwrap();
    log.append(b"one").unwrap();
    log.append(b"two").unwrap();
    let r = log.append(b"three").unwrap();
    if closed {
        log.rotate().unwrap();
        log.append(b"four").unwrap();
    }
    log.fsync().unwrap();
    r.offset
}

fn patch(dir: &Path, seg: u32, at: u64, bytes: &[u8]) {
    let p = segment_path(dir, seg);
    let mut b = fs::read(&p).unwrap();
    b[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
    fs::write(&p, b).unwrap();
}

fn append_raw(dir: &Path, seg: u32, bytes: &[u8]) {
    let p = segment_path(dir, seg);
    let mut b = fs::read(&p).unwrap();
    b.extend_from_slice(bytes);
    fs::write(&p, b).unwrap();
}

/// The writer and a reader both refuse with `Corrupt` at (seg, offset).
fn assert_corrupt(dir: &Path, seg: u32, offset: u64, check: impl Fn(&CorruptKind) -> bool) {
    for (who, err) in [
        ("writer", RecordLog::open(dir).err()),
        ("reader", RecordLogReader::open(dir).unwrap().scan().err()),
    ] {
        match err {
            Some(Error::Corrupt {
                segment,
                offset: o,
                path,
                kind,
            }) => {
                assert_eq!((segment, o), (seg, offset), "{who}");
                assert_eq!(path, segment_path(dir, seg));
                assert!(check(&kind), "{who}: {kind:?}");
            }
            other => panic!("{who}: expected Error::Corrupt, got {other:?}"),
        }
    }
}

/// The writer opens, reports a torn tail at `offset` of `bytes`, keeps the
/// payloads `keep`, and its repair leaves a clean store.
fn assert_torn(dir: &Path, seg: u32, offset: u64, bytes: u64, keep: &[&[u8]]) -> CorruptKind {
    let (_, report) = RecordLogReader::open(dir).unwrap().scan().unwrap();
    let reader_tail = report.tail.expect("reader reports the tail");
    assert_eq!((reader_tail.offset, reader_tail.bytes), (offset, bytes));
    assert!(reader_tail.saved_to.is_none(), "readers change nothing");
    let mut log = RecordLog::open(dir).unwrap();
    let tail = log.recovery_report().unwrap().tail.expect("torn tail");
    assert_eq!(
        (tail.segment, tail.offset, tail.bytes),
        (seg, offset, bytes)
    );
    assert!(tail.saved_to.unwrap().exists());
    let got: Vec<Vec<u8>> = log.scan().unwrap().into_iter().map(|r| r.payload).collect();
    assert_eq!(got, keep.iter().map(|p| p.to_vec()).collect::<Vec<_>>());
    log.append(b"next").unwrap();
    log.fsync().unwrap();
    drop(log);
    let (rs, report) = RecordLogReader::open(dir).unwrap().scan().unwrap();
    assert!(report.tail.is_none());
    assert_eq!(rs.last().unwrap().payload, b"next");
    tail.kind
}

/// Zeros from `offset` to the end of segment `seg` (`bytes` of them) are
/// free space, not damage: a reader reports no tail and counts them; the
/// writer's open reports no tail, keeps no side file, cuts the segment to
/// its data (durably: no preallocation asked) and keeps the payloads
/// `keep`; appending goes on after them.
fn assert_free(dir: &Path, seg: u32, offset: u64, bytes: u64, keep: &[&[u8]]) {
    let (_, report) = RecordLogReader::open(dir).unwrap().scan().unwrap();
    assert!(report.tail.is_none(), "reader: {report:?}");
    assert_eq!(report.free_bytes, bytes, "reader");
    let mut log = RecordLog::open(dir).unwrap();
    let report = log.recovery_report().unwrap();
    assert!(report.tail.is_none(), "writer: {report:?}");
    assert_eq!(
        (report.free_bytes, report.tail_bytes_discarded),
        (bytes, 0),
        "writer"
    );
    let side_files = fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension() == Some("torn".as_ref()))
        .count();
    assert_eq!(side_files, 0, "no side file for zeros");
    assert_eq!(fs::metadata(segment_path(dir, seg)).unwrap().len(), offset);
    let got: Vec<Vec<u8>> = log.scan().unwrap().into_iter().map(|r| r.payload).collect();
    assert_eq!(got, keep.iter().map(|p| p.to_vec()).collect::<Vec<_>>());
    log.append(b"next").unwrap();
    log.fsync().unwrap();
    drop(log);
    let (rs, report) = RecordLogReader::open(dir).unwrap().scan().unwrap();
    assert!(report.tail.is_none());
    assert_eq!(report.free_bytes, 0);
    assert_eq!(rs.last().unwrap().payload, b"next");
}

const ALL3: &[&[u8]] = &[b"one", b"two", b"three"];
const TWO: &[&[u8]] = &[b"one", b"two"];

#[test]
fn bad_magic_is_corrupt() {
    let td = tempfile::tempdir().unwrap();
    let at = store(td.path(), false);
    patch(td.path(), 1, at + OFF_MAGIC as u64, b"DWAX");
    assert_corrupt(
        td.path(),
        1,
        at,
        |k| matches!(k, CorruptKind::BadMagic { found } if found == b"DWAX"),
    );
}

/// Zeros from a frame's start to the end of the last segment (a crash
/// zero-filled unsynced appends, or preallocated space) hold no record:
/// free space, counted, cut by the writer without a side file.
#[test]
fn zeros_from_a_frame_start_to_the_end_are_free_space() {
    let td = tempfile::tempdir().unwrap();
    let at = store(td.path(), false);
    let len = fs::metadata(segment_path(td.path(), 1)).unwrap().len();
    patch(td.path(), 1, at, &vec![0; (len - at) as usize]);
    assert_free(td.path(), 1, at, len - at, TWO);
}

/// A zero header followed by a non-zero byte anywhere up to the end is
/// not free space: a torn tail, kept aside as before.
#[test]
fn zeros_then_any_non_zero_byte_are_a_torn_tail() {
    for (n, at) in [(24u64, 23u64), (5000, 4999), (5000, 24), (200_000, 150_000)] {
        let td = tempfile::tempdir().unwrap();
        let len = {
            store(td.path(), false);
            fs::metadata(segment_path(td.path(), 1)).unwrap().len()
        };
        let mut tail = vec![0u8; n as usize];
        tail[at as usize] = 1;
        append_raw(td.path(), 1, &tail);
        let kind = assert_torn(td.path(), 1, len, n, ALL3);
        assert_eq!(kind, CorruptKind::BadMagic { found: [0; 4] }, "{n} {at}");
    }
}

#[test]
fn unknown_version_is_corrupt() {
    let td = tempfile::tempdir().unwrap();
    let at = store(td.path(), false);
    patch(td.path(), 1, at + OFF_VERSION as u64, &2u16.to_le_bytes());
    assert_corrupt(td.path(), 1, at, |k| {
        *k == CorruptKind::UnknownVersion { found: 2 }
    });
}

#[test]
fn unknown_record_type_is_corrupt() {
    let td = tempfile::tempdir().unwrap();
    let at = store(td.path(), false);
    patch(td.path(), 1, at + OFF_RECORD_TYPE as u64, &[3]);
    assert_corrupt(td.path(), 1, at, |k| {
        *k == CorruptKind::UnknownRecordType { found: 3 }
    });
}

#[test]
fn nonzero_flags_are_corrupt() {
    let td = tempfile::tempdir().unwrap();
    let at = store(td.path(), false);
    patch(td.path(), 1, at + OFF_FLAGS as u64, &[0x80]);
    assert_corrupt(td.path(), 1, at, |k| {
        *k == CorruptKind::NonZeroFlags { found: 0x80 }
    });
}

#[test]
fn key_len_over_the_limit_is_corrupt() {
    let td = tempfile::tempdir().unwrap();
    let at = store(td.path(), false);
    patch(
        td.path(),
        1,
        at + OFF_KEY_LEN as u64,
        &(MAX_KEY_LEN + 1).to_le_bytes(),
    );
    assert_corrupt(td.path(), 1, at, |k| {
        *k == CorruptKind::KeyTooLarge {
            found: MAX_KEY_LEN + 1,
        }
    });
}

#[test]
fn payload_len_over_the_limit_is_corrupt() {
    let td = tempfile::tempdir().unwrap();
    let at = store(td.path(), false);
    patch(
        td.path(),
        1,
        at + OFF_PAYLOAD_LEN as u64,
        &u32::MAX.to_le_bytes(),
    );
    assert_corrupt(td.path(), 1, at, |k| {
        *k == CorruptKind::PayloadTooLarge { found: u32::MAX }
    });
}

#[test]
fn payload_len_at_the_limit_on_a_short_file_is_a_torn_tail() {
    let td = tempfile::tempdir().unwrap();
    let at = store(td.path(), false);
    patch(
        td.path(),
        1,
        at + OFF_PAYLOAD_LEN as u64,
        &MAX_PAYLOAD_LEN.to_le_bytes(),
    );
    let len = fs::metadata(segment_path(td.path(), 1)).unwrap().len();
    let kind = assert_torn(td.path(), 1, at, len - at, TWO);
    assert!(matches!(kind, CorruptKind::Truncated { .. }), "{kind:?}");
}

#[test]
fn crc_mismatch_at_the_end_is_a_torn_tail() {
    let td = tempfile::tempdir().unwrap();
    let at = store(td.path(), false);
    patch(td.path(), 1, at + 24, b"T");
    let len = fs::metadata(segment_path(td.path(), 1)).unwrap().len();
    let kind = assert_torn(td.path(), 1, at, len - at, TWO);
    assert!(matches!(kind, CorruptKind::CrcMismatch { .. }));
}

#[test]
fn crc_mismatch_in_a_closed_segment_is_corrupt() {
    let td = tempfile::tempdir().unwrap();
    let at = store(td.path(), true);
    patch(td.path(), 1, at + 24, b"T");
    assert_corrupt(td.path(), 1, at, |k| {
        matches!(k, CorruptKind::CrcMismatch { .. })
    });
}

#[test]
fn damage_followed_by_valid_records_in_the_last_segment_is_cut_and_kept_aside() {
    // Out-of-order write-back after a power cut can leave an intact frame
    // after a damaged one: the tail starts at the first damage, the intact
    // frames after it are counted and kept in the .torn file.
    let td = tempfile::tempdir().unwrap();
    store(td.path(), false);
    let second = 24 + 3 + 4;
    patch(td.path(), 1, second + 24, b"X");
    let len = fs::metadata(segment_path(td.path(), 1)).unwrap().len();
    let (rs, report) = RecordLogReader::open(td.path()).unwrap().scan().unwrap();
    assert_eq!(rs.len(), 1, "a reader stops at the damage");
    assert_eq!(report.tail.unwrap().offset, second);
    let log = RecordLog::open(td.path()).unwrap();
    let tail = log.recovery_report().unwrap().tail.unwrap();
    assert_eq!((tail.offset, tail.bytes), (second, len - second));
    assert!(matches!(tail.kind, CorruptKind::CrcMismatch { .. }));
    assert_eq!(tail.intact_frames_cut, Some(1));
    let saved = fs::read(tail.saved_to.unwrap()).unwrap();
    assert_eq!(saved.len() as u64, len - second);
}

#[test]
fn truncation_at_every_offset_of_the_last_frame_is_a_torn_tail() {
    let td = tempfile::tempdir().unwrap();
    let at = store(td.path(), false);
    let full = fs::read(segment_path(td.path(), 1)).unwrap();
    for cut in at..full.len() as u64 {
        fs::write(segment_path(td.path(), 1), &full[..cut as usize]).unwrap();
        if cut == at {
            let log = RecordLog::open(td.path()).unwrap();
            assert!(log.recovery_report().unwrap().tail.is_none());
            continue;
        }
        let kind = assert_torn(td.path(), 1, at, cut - at, TWO);
        assert!(
            matches!(kind, CorruptKind::Truncated { .. }),
            "cut {cut}: {kind:?}"
        );
        for e in fs::read_dir(td.path()).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "torn") {
                fs::remove_file(p).unwrap();
            }
        }
    }
}

#[test]
fn truncation_in_a_closed_segment_is_corrupt() {
    let td = tempfile::tempdir().unwrap();
    let at = store(td.path(), true);
    let p = segment_path(td.path(), 1);
    let full = fs::read(&p).unwrap();
    fs::write(&p, &full[..full.len() - 3]).unwrap();
    assert_corrupt(td.path(), 1, at, |k| {
        matches!(k, CorruptKind::Truncated { .. })
    });
}

#[test]
fn zero_tail_of_any_length_is_free_space() {
    // Past a read chunk (1 MiB) too: the zeros are read to the end.
    for n in [1u64, 3, 4, 23, 24, 25, 100, 5000, (1 << 20) + 17] {
        let td = tempfile::tempdir().unwrap();
        let len = {
            store(td.path(), false);
            fs::metadata(segment_path(td.path(), 1)).unwrap().len()
        };
        append_raw(td.path(), 1, &vec![0; n as usize]);
        assert_free(td.path(), 1, len, n, ALL3);
    }
}

/// In a closed segment, zeros at the end are corruption as before: a
/// writer cuts its preallocated space before the next segment exists.
#[test]
fn zeros_at_the_end_of_a_closed_segment_are_corrupt() {
    let td = tempfile::tempdir().unwrap();
    store(td.path(), true);
    let len = fs::metadata(segment_path(td.path(), 1)).unwrap().len();
    append_raw(td.path(), 1, &[0; 100]);
    assert_corrupt(td.path(), 1, len, |k| {
        *k == CorruptKind::BadMagic { found: [0; 4] }
    });
}

#[test]
fn zero_fill_from_inside_the_magic_or_version_is_a_torn_tail() {
    for k in 1..=4u64 {
        let td = tempfile::tempdir().unwrap();
        let at = store(td.path(), false);
        let len = fs::metadata(segment_path(td.path(), 1)).unwrap().len();
        patch(td.path(), 1, at + k, &vec![0; (len - at - k) as usize]);
        assert_torn(td.path(), 1, at, len - at, TWO);
    }
}

#[test]
fn zero_fill_from_five_or_more_bytes_into_a_header_is_a_torn_tail() {
    for k in 5..=30u64 {
        let td = tempfile::tempdir().unwrap();
        let at = store(td.path(), false);
        let len = fs::metadata(segment_path(td.path(), 1)).unwrap().len();
        patch(td.path(), 1, at + k, &vec![0; (len - at - k) as usize]);
        assert_torn(td.path(), 1, at, len - at, TWO);
    }
}

#[test]
fn stray_files_in_the_directory_are_ignored() {
    let td = tempfile::tempdir().unwrap();
    store(td.path(), false);
    for name in [
        "notes.txt",
        "1.dwal",
        "0000001.dwal",
        "000000001.dwal",
        "00000002.dwal.bak",
        "00000002.DWAL",
        "00000002-40.torn",
        ".00000002.dwal",
    ] {
        fs::write(td.path().join(name), b"garbage that is not a frame").unwrap();
    }
    fs::create_dir(td.path().join("00000003.dwal")).unwrap();
    {
        use std::os::unix::ffi::OsStrExt;
        let weird = std::ffi::OsStr::from_bytes(b"0000000\xff.dwal");
        fs::write(td.path().join(weird), b"x").unwrap();
    }
    let mut log = RecordLog::open(td.path()).unwrap();
    assert_eq!(log.active_segment(), 1);
    assert_eq!(log.scan().unwrap().len(), 3);
    assert!(log.recovery_report().unwrap().tail.is_none());
}

#[test]
fn a_symlinked_segment_is_ignored() {
    let td = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    store(other.path(), false);
    store(td.path(), false);
    std::os::unix::fs::symlink(segment_path(other.path(), 1), segment_path(td.path(), 2)).unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    assert_eq!(log.active_segment(), 1);
    assert_eq!(log.scan().unwrap().len(), 3);
}

#[test]
fn a_missing_middle_segment_is_not_detected() {
    // Current behaviour (a gap, documented in docs/reliability.md): segment
    // ids need not be contiguous, so a deleted middle segment's records are
    // simply absent; the txids show the hole.
    let td = tempfile::tempdir().unwrap();
    {
        let mut log = RecordLog::open(td.path()).unwrap();
        for (i, p) in [b"a", b"b", b"c"].iter().enumerate() {
            log.append(*p).unwrap();
            if i < 2 {
                log.rotate().unwrap();
            }
        }
        log.fsync().unwrap();
    }
    fs::remove_file(segment_path(td.path(), 2)).unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    let rs = log.scan().unwrap();
    let txids: Vec<u64> = rs.iter().map(|r| r.txid).collect();
    assert_eq!(txids, vec![1, 3]);
}

#[test]
fn empty_segments_are_valid_anywhere() {
    let td = tempfile::tempdir().unwrap();
    {
        let mut log = RecordLog::open(td.path()).unwrap();
        log.append(b"a").unwrap();
        log.rotate().unwrap();
        log.rotate().unwrap();
        log.append(b"b").unwrap();
        log.rotate().unwrap();
        log.fsync().unwrap();
    }
    assert_eq!(fs::metadata(segment_path(td.path(), 2)).unwrap().len(), 0);
    assert_eq!(fs::metadata(segment_path(td.path(), 4)).unwrap().len(), 0);
    let mut log = RecordLog::open(td.path()).unwrap();
    assert_eq!(log.active_segment(), 4);
    assert_eq!(log.scan().unwrap().len(), 2);
    // A store with only an empty segment 1, or no segment at all, opens empty.
    let empty = tempfile::tempdir().unwrap();
    fs::write(segment_path(empty.path(), 1), b"").unwrap();
    assert_eq!(
        RecordLog::open(empty.path()).unwrap().scan().unwrap().len(),
        0
    );
    let none = tempfile::tempdir().unwrap();
    assert_eq!(
        RecordLogReader::open(none.path())
            .unwrap()
            .scan()
            .unwrap()
            .0
            .len(),
        0
    );
}

#[test]
fn a_path_that_is_not_a_directory_is_refused() {
    let td = tempfile::tempdir().unwrap();
    let file = td.path().join("a-file");
    fs::write(&file, b"x").unwrap();
    assert!(matches!(
        RecordLog::open(&file),
        Err(Error::NotADirectory { .. })
    ));
    assert!(matches!(
        DataWal::open(&file),
        Err(Error::NotADirectory { .. })
    ));
    assert!(matches!(
        RecordLogReader::open(&file),
        Err(Error::NotADirectory { .. })
    ));
    // A path below a file cannot be created.
    assert!(matches!(
        RecordLog::open(file.join("sub")),
        Err(Error::Io { .. })
    ));
    // A missing directory: the writer creates it, a reader refuses.
    let missing = td.path().join("missing");
    assert!(matches!(
        RecordLogReader::open(&missing),
        Err(Error::Io { .. })
    ));
    RecordLog::open(&missing).unwrap();
    assert!(missing.is_dir());
}

#[test]
fn a_lock_file_that_is_a_directory_is_refused_naming_it() {
    let td = tempfile::tempdir().unwrap();
    let lock = td.path().join(datawal_core::LOCK_FILE);
    fs::create_dir(&lock).unwrap();
    match RecordLog::open(td.path()) {
        Err(Error::LockFile { path, reason }) => {
            assert_eq!(path, lock);
            assert_eq!(reason, "is not a regular file");
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn a_read_only_directory() {
    use std::os::unix::fs::PermissionsExt;
    let td = tempfile::tempdir().unwrap();
    store(td.path(), false);
    fs::set_permissions(td.path(), fs::Permissions::from_mode(0o555)).unwrap();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let res = RecordLog::open(td.path());
    if root {
        // root bypasses permission bits: nothing to refuse.
        assert!(res.is_ok());
    } else {
        // The lock file exists, so open gets as far as appending... or fails
        // to create it; either way a typed error, never a panic.
        if let Err(e) = res {
            assert!(matches!(e, Error::Io { .. }), "{e:?}");
        }
    }
    // Readers need no write access.
    assert_eq!(
        RecordLogReader::open(td.path())
            .unwrap()
            .scan()
            .unwrap()
            .0
            .len(),
        3
    );
    fs::set_permissions(td.path(), fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn txids_out_of_order_are_accepted_as_written() {
    // Recovery checks frames, not txid order; the next txid follows the
    // highest seen.
    let td = tempfile::tempdir().unwrap();
    let mut seg = Vec::new();
    for (txid, p) in [(5u64, b"a"), (2, b"b"), (9, b"c"), (9, b"d")] {
        encode_into(&mut seg, RecordType::Raw, txid, b"", p);
    }
    fs::write(segment_path(td.path(), 1), &seg).unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    assert_eq!(log.scan().unwrap().len(), 4);
    assert_eq!(log.next_txid(), 10);
}
