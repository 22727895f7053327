//! Disk space reserved past the active segment's end (Linux `fallocate`
//! with `FALLOC_FL_KEEP_SIZE`): invisible to every reader, given back by
//! `rotate` and `close`, and no obstacle to the published crate.
#![cfg(target_os = "linux")]

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use datawal015 as published;
use datawal_core::segment::segment_path;
use datawal_core::{LogOptions, RecordLog};

/// Bytes of disk a file holds (`st_blocks` is in 512-byte units).
fn allocated(dir: &Path, id: u32) -> u64 {
    std::fs::metadata(segment_path(dir, id)).unwrap().blocks() * 512
}

fn len(dir: &Path, id: u32) -> u64 {
    std::fs::metadata(segment_path(dir, id)).unwrap().len()
}

const FRAME: u64 = 24 + 64 + 4;

#[test]
fn reserved_space_is_past_the_end_and_rotate_and_close_give_it_back() {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path();
    let mut log = RecordLog::open(dir).unwrap();
    for _ in 0..10 {
        log.append(&[7; 64]).unwrap();
    }
    // The file's length is what was written; the space behind it is held.
    assert_eq!(len(dir, 1), 10 * FRAME);
    assert!(allocated(dir, 1) >= 1 << 20, "{}", allocated(dir, 1));

    log.rotate().unwrap();
    log.append(&[8; 64]).unwrap();
    assert_eq!(len(dir, 1), 10 * FRAME);
    assert!(allocated(dir, 1) <= 64 << 10, "{}", allocated(dir, 1));
    assert!(allocated(dir, 2) >= 1 << 20);

    log.close().unwrap();
    assert_eq!(len(dir, 2), FRAME);
    assert!(allocated(dir, 2) <= 64 << 10, "{}", allocated(dir, 2));
    let log = RecordLog::open(dir).unwrap();
    assert_eq!(log.recovery_report().unwrap().records_replayed, 11);
}

#[test]
fn reservation_stops_at_the_segment_size_limit() {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path();
    let mut log =
        RecordLog::open_with(dir, LogOptions::default().max_segment_bytes(16 << 10)).unwrap();
    log.append(&[1; 64]).unwrap();
    let held = allocated(dir, 1);
    assert!((16 << 10..64 << 10).contains(&held), "{held}");
}

#[test]
fn the_published_crate_appends_after_a_reservation_and_both_read_everything() {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path();
    {
        let mut log = RecordLog::open(dir).unwrap();
        for i in 0..5u8 {
            log.append(&[i; 64]).unwrap();
        }
        log.fsync().unwrap();
        // Dropped without `close`: the reservation stays.
    }
    assert!(allocated(dir, 1) >= 1 << 20);
    {
        let mut theirs = published::RecordLog::open(dir).unwrap();
        assert_eq!(theirs.scan().unwrap().len(), 5);
        theirs.append(&[9; 64]).unwrap();
        theirs.fsync().unwrap();
    }
    assert_eq!(len(dir, 1), 6 * FRAME);
    let mut ours = RecordLog::open(dir).unwrap();
    let records = ours.scan().unwrap();
    let firsts: Vec<u8> = records.iter().map(|r| r.payload[0]).collect();
    assert_eq!(firsts, [0, 1, 2, 3, 4, 9]);
    assert!(ours.recovery_report().unwrap().tail.is_none());
}
