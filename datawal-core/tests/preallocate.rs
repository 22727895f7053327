//! `LogOptions::preallocate`: segments written into zero-filled space,
//! which readers, followers and recovery take for free space, trimmed on
//! rotate, close and drop, reused or trimmed by the next writer after a
//! crash.

use std::fs;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::time::Duration;

use datawal_core::format::encode_into;
use datawal_core::segment::segment_path;
use datawal_core::{
    DataWal, Follower, LogOptions, RecordLog, RecordLogReader, RecordType, SharedLog, SharedWal,
};

const STEP: u64 = 4096;

fn options() -> LogOptions {
    LogOptions::default().preallocate(STEP)
}

fn len(dir: &Path, id: u32) -> u64 {
    fs::metadata(segment_path(dir, id)).unwrap().len()
}

fn payloads(dir: &Path) -> Vec<Vec<u8>> {
    let (records, report) = RecordLogReader::open(dir).unwrap().scan().unwrap();
    assert!(report.tail.is_none(), "{report:?}");
    records.into_iter().map(|r| r.payload).collect()
}

/// The file's length moves only when an append passes the zero-filled
/// space, by the step: 200 appends of 88 bytes (17.6 KB) change it 5 times
/// (4 KiB steps), where appending to the end changes it 200 times.
#[test]
fn appends_change_the_file_length_once_per_step() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open_with(td.path(), options()).unwrap();
    let mut lengths = vec![len(td.path(), 1)];
    let mut end = 0;
    for i in 0..200u64 {
        let r = log.append(&[i as u8; 60]).unwrap();
        log.fsync().unwrap();
        end = r.offset + u64::from(r.len);
        let now = len(td.path(), 1);
        assert!(
            now >= end && now - end < STEP + 88,
            "{now} for data to {end}"
        );
        if lengths.last() != Some(&now) {
            lengths.push(now);
        }
    }
    assert_eq!(end, 200 * 88);
    // 0, then 4096 + 88 * k steps: ceil(17600 / 4096) = 5 changes.
    assert_eq!(lengths.len() - 1, 5, "{lengths:?}");
    // What lies after the data reads as zeros, and as no damage.
    let bytes = fs::read(segment_path(td.path(), 1)).unwrap();
    assert!(bytes[end as usize..].iter().all(|&b| b == 0));
    let (records, report) = RecordLogReader::open(td.path()).unwrap().scan().unwrap();
    assert_eq!(records.len(), 200);
    assert!(report.tail.is_none());
    assert_eq!(report.free_bytes, bytes.len() as u64 - end);
    let v = RecordLogReader::open(td.path()).unwrap().verify().unwrap();
    assert!(v.damage.is_empty() && v.tail.is_none(), "{v:?}");
    assert_eq!(v.stats.records, 200);
    drop(log);
    assert_eq!(len(td.path(), 1), end, "drop trims");
}

/// Rotation trims the closed segment to its data before the next exists;
/// close trims the active one; `max_segment_bytes` caps the space.
#[test]
fn rotate_and_close_trim_to_the_data() {
    let td = tempfile::tempdir().unwrap();
    let opts = options().max_segment_bytes(1000);
    let mut log = RecordLog::open_with(td.path(), opts).unwrap();
    let mut ends = std::collections::BTreeMap::new();
    for i in 0..40u64 {
        let r = log.append(&[i as u8; 60]).unwrap();
        ends.insert(r.segment, r.offset + u64::from(r.len));
        // Never more than the cap (one frame over it at most).
        assert!(len(td.path(), r.segment) <= 1000, "segment {}", r.segment);
    }
    let active = log.active_segment();
    assert!(active >= 4);
    for (&id, &end) in &ends {
        if id != active {
            assert_eq!(len(td.path(), id), end, "closed segment {id}");
        }
    }
    assert!(len(td.path(), active) > ends[&active]);
    log.close().unwrap();
    assert_eq!(len(td.path(), active), ends[&active], "close trims");
    assert_eq!(payloads(td.path()).len(), 40);
}

/// A crash leaves the zeros: the next writer with `preallocate` reuses
/// them (appends land right after the data, the length stays), one
/// without cuts them at open, durably; neither reports a tail or keeps a
/// side file.
#[test]
fn a_crash_leaves_zeros_that_the_next_writer_reuses_or_trims() {
    for reuse in [true, false] {
        let td = tempfile::tempdir().unwrap();
        let crashed = td.path().join("crashed");
        {
            let mut log = RecordLog::open_with(td.path().join("live"), options()).unwrap();
            for i in 0..10u8 {
                log.append(&[i; 60]).unwrap();
            }
            log.fsync().unwrap();
            // The files as a kill leaves them (the handle still open).
            fs::create_dir(&crashed).unwrap();
            for e in fs::read_dir(td.path().join("live")).unwrap() {
                let e = e.unwrap();
                if e.file_name().to_string_lossy().ends_with(".dwal") {
                    fs::copy(e.path(), crashed.join(e.file_name())).unwrap();
                }
            }
        }
        let before = len(&crashed, 1);
        assert_eq!(before, STEP);
        let opts = if reuse {
            options()
        } else {
            LogOptions::default()
        };
        let mut log = RecordLog::open_with(&crashed, opts).unwrap();
        let report = log.recovery_report().unwrap();
        assert!(report.tail.is_none(), "{report:?}");
        assert_eq!(report.free_bytes, STEP - 880);
        assert_eq!(len(&crashed, 1), if reuse { STEP } else { 880 });
        let r = log.append(b"after").unwrap();
        assert_eq!(r.offset, 880);
        assert_eq!(len(&crashed, 1), if reuse { STEP } else { 880 + 33 });
        log.fsync().unwrap();
        drop(log);
        assert_eq!(len(&crashed, 1), 880 + 33);
        assert_eq!(payloads(&crashed).len(), 11);
        let torn = fs::read_dir(&crashed)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension() == Some("torn".as_ref()))
            .count();
        assert_eq!(torn, 0);
    }
}

/// A record partly written into the zeros (a crash mid-append) is a torn
/// tail as before: cut back, its bytes kept aside; the next append lands
/// at the cut, and what follows it is zeros again, so the next open finds
/// no damage.
#[test]
fn a_torn_record_before_zeros_is_cut_and_zeros_follow_the_next_write() {
    let td = tempfile::tempdir().unwrap();
    let path = segment_path(td.path(), 1);
    let end = {
        let mut log = RecordLog::open_with(td.path(), options()).unwrap();
        for i in 0..5u8 {
            log.append(&[i; 60]).unwrap();
        }
        log.fsync().unwrap();
        log.close().unwrap();
        len(td.path(), 1)
    };
    // The state a kill mid-append leaves: data, half a frame, zeros.
    let mut frame = Vec::new();
    encode_into(&mut frame, RecordType::Raw, 6, b"", &[0xAB; 300]);
    let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len(end + STEP).unwrap();
    file.write_all_at(&frame[..150], end).unwrap();
    drop(file);

    let mut log = RecordLog::open_with(td.path(), options()).unwrap();
    let tail = log.recovery_report().unwrap().tail.expect("a torn tail");
    assert_eq!((tail.offset, tail.bytes), (end, STEP));
    let saved = fs::read(tail.saved_to.unwrap()).unwrap();
    assert_eq!(&saved[..150], &frame[..150]);
    assert_eq!(log.recovery_report().unwrap().free_bytes, 0);
    let r = log.append(b"next").unwrap();
    assert_eq!(r.offset, end);
    let bytes = fs::read(&path).unwrap();
    let after = (r.offset + u64::from(r.len)) as usize;
    assert!(bytes.len() > after, "space reserved again");
    assert!(
        bytes[after..].iter().all(|&b| b == 0),
        "zeros after the write"
    );
    log.fsync().unwrap();
    // Reopen as after another crash (the copy keeps the zeros).
    let copy = td.path().join("copy");
    fs::create_dir(&copy).unwrap();
    fs::copy(&path, segment_path(&copy, 1)).unwrap();
    let (records, report) = RecordLogReader::open(&copy).unwrap().scan().unwrap();
    assert!(report.tail.is_none(), "{report:?}");
    assert_eq!(records.last().unwrap().payload, b"next");
    assert_eq!(records.len(), 6);
}

/// A follower reads the zeros after the data as "nothing yet", across
/// extensions and rotations, and yields every record once.
#[test]
fn a_follower_waits_at_the_zeros_and_never_reports_damage() {
    let td = tempfile::tempdir().unwrap();
    let opts = options().max_segment_bytes(1000);
    let mut log = RecordLog::open_with(td.path(), opts).unwrap();
    let mut f = Follower::open(td.path(), 0).unwrap();
    let mut seen = 0u64;
    for round in 0..30u64 {
        for i in 0..4u64 {
            log.append(&(round * 4 + i).to_le_bytes()).unwrap();
        }
        while let Some(r) = f.next_timeout(Duration::ZERO).unwrap() {
            assert_eq!(r.payload, seen.to_le_bytes());
            seen += 1;
        }
        assert_eq!(seen, (round + 1) * 4);
        assert!(f.next_timeout(Duration::ZERO).unwrap().is_none());
    }
    assert!(log.active_segment() > 2);
}

/// Hints of segments written with preallocation are used at the next
/// open: the hinted prefix still matches its trimmed segment.
#[test]
fn hints_of_preallocated_segments_are_used() {
    let td = tempfile::tempdir().unwrap();
    let opts = LogOptions::default()
        .preallocate(1 << 20)
        .max_segment_bytes(200_000);
    {
        let mut db = DataWal::open_with(td.path(), opts).unwrap();
        for i in 0..3000u32 {
            db.put(format!("key:{i:06}").as_bytes(), &[7; 100]).unwrap();
        }
        db.fsync().unwrap();
    }
    let db = DataWal::open_with(td.path(), opts).unwrap();
    let report = db.log().recovery_report().unwrap();
    assert!(report.bytes_from_hints > 200_000, "{report:?}");
    assert!(report.tail.is_none());
    assert_eq!(db.len(), 3000);
}

/// `SharedLog` and `SharedWal` take the option through `open_with`: the
/// segment holds zero-filled space while open and is trimmed on drop.
#[test]
fn shared_handles_preallocate_and_trim() {
    let td = tempfile::tempdir().unwrap();
    let (a, b) = (td.path().join("log"), td.path().join("kv"));
    let log = SharedLog::open_with(&a, options()).unwrap();
    let kv = SharedWal::open_with(&b, options()).unwrap();
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let (log, kv) = (log.clone(), kv.clone());
            s.spawn(move || {
                for i in 0..25u8 {
                    log.append_durable(&[t, i]).unwrap();
                    kv.put_durable(&[t, i], &[i]).unwrap();
                }
            });
        }
    });
    assert_eq!(len(&a, 1), STEP);
    assert_eq!(len(&b, 1), STEP);
    drop((log, kv));
    assert_eq!(len(&a, 1), 100 * 30);
    assert_eq!(payloads(&a).len(), 100);
    assert_eq!(DataWal::open(&b).unwrap().len(), 100);
}

/// A store whose writer is copying its fourth frame into preallocated
/// space, seen by a lock-free reader half copied: zeros where the copy has
/// not reached yet (`\0\0\0L…`, the shape a reader that races the copy
/// sees). Returns the frame's offset and its real bytes; the store is
/// closed, the torn frame in place with zeros after it.
fn store_with_a_frame_half_copied(dir: &Path) -> (u64, Vec<u8>) {
    let mut log = RecordLog::open_with(dir, options()).unwrap();
    for i in 0..3u8 {
        log.append(&[i; 40]).unwrap();
    }
    let last = log.append(&[9; 40]).unwrap();
    log.close().unwrap();
    // Give back the zero-filled room a running writer keeps (close
    // trimmed it).
    let path = segment_path(dir, 1);
    let mut frame = vec![0u8; last.len as usize];
    let file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    file.set_len(last.offset + u64::from(last.len) + STEP)
        .unwrap();
    file.read_exact_at(&mut frame, last.offset).unwrap();
    file.write_all_at(&[0; 3], last.offset).unwrap();
    assert!(len(dir, 1) > last.offset + u64::from(last.len), "no room");
    (last.offset, frame)
}

/// A reader racing a preallocating writer's copy reads up to the frame
/// being written, not `Corrupt`: the header it found damaged changes while
/// it looks again. (It reported `Corrupt { BadMagic [0, 0, 0, 76] }` at
/// such a frame in a child of `crash_shared` at a CI run.)
#[test]
fn a_reader_racing_a_frame_copy_stops_before_it() {
    let td = tempfile::tempdir().unwrap();
    let (at, frame) = store_with_a_frame_half_copied(td.path());
    let path = segment_path(td.path(), 1);
    // The "writer" finishes its copy a moment after the reader started.
    let finisher = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(5));
        let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(&frame, at).unwrap();
    });
    let scanned = RecordLogReader::open(td.path()).unwrap().scan();
    finisher.join().unwrap();
    let (records, _) = scanned.expect("a frame being copied is not corruption");
    // Three records, or four when the copy finished before the first read.
    assert!((3..=4).contains(&records.len()), "{}", records.len());
    assert_eq!(payloads(td.path()).len(), 4);
}

/// The same bytes with nobody finishing the copy (what a power cut leaves
/// when the magic straddles two sectors and only the second was written
/// back) are a torn tail, which the next writer cuts; zeros followed by
/// anything but the magic's rest stay corruption, named with the segment
/// and offset.
#[test]
fn a_half_copied_frame_is_a_torn_tail_and_other_bytes_stay_corrupt() {
    let td = tempfile::tempdir().unwrap();
    let (at, _) = store_with_a_frame_half_copied(td.path());
    let (records, report) = RecordLogReader::open(td.path()).unwrap().scan().unwrap();
    assert_eq!(records.len(), 3);
    assert_eq!(report.tail.map(|t| (t.segment, t.offset)), Some((1, at)));
    RecordLog::open_with(td.path(), options())
        .unwrap()
        .close()
        .unwrap();
    assert_eq!(payloads(td.path()).len(), 3);

    let td = tempfile::tempdir().unwrap();
    let (at, _) = store_with_a_frame_half_copied(td.path());
    let file = fs::OpenOptions::new()
        .write(true)
        .open(segment_path(td.path(), 1))
        .unwrap();
    file.write_all_at(b"X", at + 3).unwrap();
    match RecordLogReader::open(td.path()).unwrap().scan() {
        Err(datawal_core::Error::Corrupt {
            segment: 1, offset, ..
        }) => assert_eq!(offset, at),
        other => panic!("expected Corrupt at segment 1 offset {at}, got {other:?}"),
    }
}
