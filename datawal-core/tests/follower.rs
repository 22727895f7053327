//! `Follower` in one process: order across rotations, the start txid, torn
//! tails (waited on, never yielded), cuts and truncations (typed errors,
//! never silence), closed-segment damage, and named consumers. The
//! two-process scenarios are in `follow_processes.rs`.

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use datawal_core::format::encode_into;
use datawal_core::segment::{list_segments, segment_path};
use datawal_core::{
    consumers, Error, FollowOptions, Follower, LogOptions, Record, RecordLog, RecordLogReader,
    RecordType,
};

fn payload(txid: u64, generation: u64) -> Vec<u8> {
    let mut p = txid.to_le_bytes().to_vec();
    p.extend_from_slice(&generation.to_le_bytes());
    p.extend(std::iter::repeat_n(txid as u8, (txid % 50) as usize));
    p
}

/// Everything the follower has now, without waiting.
fn ready(f: &mut Follower) -> Vec<Record> {
    let mut out = Vec::new();
    while let Some(r) = f.try_next().unwrap() {
        out.push(r);
    }
    out
}

fn txids(records: &[Record]) -> Vec<u64> {
    records.iter().map(|r| r.txid).collect()
}

fn both_modes() -> [FollowOptions; 2] {
    [
        FollowOptions::default(),
        FollowOptions::default().poll_only(),
    ]
}

/// A writer thread appends (rotating every 5 records) while the follower
/// blocks in `next`: it gets every record once, in order, in both wake-up
/// modes (inotify and polling).
#[test]
fn follows_a_writer_thread_across_rotations() {
    for options in both_modes() {
        let td = tempfile::tempdir().unwrap();
        let mut log = RecordLog::open_with(td.path(), LogOptions::default()).unwrap();
        let mut follower = Follower::open_with(td.path(), 0, options.clone()).unwrap();
        let writer = std::thread::spawn(move || {
            for t in 1..=200u64 {
                log.append(&payload(t, 0)).unwrap();
                if t % 5 == 0 {
                    log.rotate().unwrap();
                }
                if t % 50 == 0 {
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
            log
        });
        let got: Vec<Record> = follower.by_ref().take(200).map(Result::unwrap).collect();
        let log = writer.join().unwrap();
        assert_eq!(txids(&got), (1..=200).collect::<Vec<_>>(), "{options:?}");
        for r in &got {
            assert_eq!(r.payload, payload(r.txid, 0));
        }
        assert_eq!(follower.next_timeout(Duration::ZERO).unwrap(), None);
        assert!(list_segments(td.path()).unwrap().len() > 40);
        drop(log);
    }
}

#[test]
fn starts_at_the_txid_asked_for_and_waits_for_a_future_one() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    for t in 1..=30 {
        log.append(&payload(t, 0)).unwrap();
        if t % 4 == 0 {
            log.rotate().unwrap();
        }
    }
    for from in [0, 1, 2, 13, 29, 30] {
        let mut f = Follower::open(td.path(), from).unwrap();
        assert_eq!(
            txids(&ready(&mut f)),
            (from.max(1)..=30).collect::<Vec<_>>(),
            "from {from}"
        );
    }
    let mut future = Follower::open(td.path(), 33).unwrap();
    assert!(ready(&mut future).is_empty());
    for t in 31..=35 {
        log.append(&payload(t, 0)).unwrap();
    }
    assert_eq!(txids(&ready(&mut future)), [33, 34, 35]);
}

#[test]
fn follows_a_store_that_does_not_have_a_segment_yet() {
    let td = tempfile::tempdir().unwrap();
    let mut f = Follower::open(td.path(), 0).unwrap();
    assert!(ready(&mut f).is_empty());
    let mut log = RecordLog::open(td.path()).unwrap();
    log.append(b"a").unwrap();
    assert_eq!(txids(&ready(&mut f)), [1]);
}

/// A frame written in two halves: the first half is never yielded, the
/// whole frame is, once.
#[test]
fn an_incomplete_frame_is_waited_on_never_yielded() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    log.append(b"one").unwrap();
    log.fsync().unwrap();
    drop(log);
    let mut f = Follower::open(td.path(), 0).unwrap();
    assert_eq!(txids(&ready(&mut f)), [1]);
    let mut frame = Vec::new();
    encode_into(
        &mut frame,
        RecordType::Raw,
        2,
        b"",
        b"two, written in halves",
    );
    let path = segment_path(td.path(), 1);
    let mut file = fs::OpenOptions::new().append(true).open(&path).unwrap();
    let before = fs::metadata(&path).unwrap().len();
    for cut in [5, 24, frame.len() - 1] {
        file.write_all(&frame[..cut]).unwrap();
        assert_eq!(f.next_timeout(Duration::ZERO).unwrap(), None, "cut {cut}");
        // Take the partial bytes back off, as if they had not been written.
        file.set_len(before).unwrap();
    }
    file.write_all(&frame).unwrap();
    let got = ready(&mut f);
    assert_eq!(txids(&got), [2]);
    assert_eq!(got[0].payload, b"two, written in halves");
}

/// A writer killed mid-record leaves a torn tail; the follower waits at it,
/// the next writer repairs it and appends, and the follower goes on with
/// no record lost or repeated.
#[test]
fn a_repaired_torn_tail_is_passed_seamlessly() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    for t in 1..=3 {
        log.append(&payload(t, 0)).unwrap();
    }
    drop(log);
    let mut frame = Vec::new();
    encode_into(&mut frame, RecordType::Raw, 4, b"", &payload(4, 0));
    let path = segment_path(td.path(), 1);
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(&frame[..frame.len() / 2]);
    fs::write(&path, bytes).unwrap();
    let mut f = Follower::open(td.path(), 0).unwrap();
    assert_eq!(txids(&ready(&mut f)), [1, 2, 3]);
    let mut log = RecordLog::open(td.path()).unwrap();
    assert_eq!(log.recovery_report().unwrap().tail_truncated, 1);
    log.append(&payload(4, 1)).unwrap();
    log.append(&payload(5, 1)).unwrap();
    let got = ready(&mut f);
    assert_eq!(txids(&got), [4, 5]);
    assert_eq!(got[0].payload, payload(4, 1));
}

/// Records the follower yielded are cut by a repair and replaced by other
/// records with the same txids: `Error::Cut`, naming the last record
/// yielded, whether the segment is shorter or holds other bytes.
#[test]
fn a_cut_below_what_was_yielded_is_a_typed_error() {
    for rewrite in [false, true] {
        let td = tempfile::tempdir().unwrap();
        let mut log = RecordLog::open(td.path()).unwrap();
        let mut refs = Vec::new();
        for t in 1..=6 {
            refs.push(log.append(&payload(t, 0)).unwrap());
        }
        drop(log);
        let mut f = Follower::open(td.path(), 0).unwrap();
        assert_eq!(ready(&mut f).len(), 6);
        // The bytes of records 4..6 became zeros (a power cut), and the next
        // writer cut them.
        let path = segment_path(td.path(), 1);
        let mut bytes = fs::read(&path).unwrap();
        bytes[refs[3].offset as usize..].fill(0);
        let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
        use std::os::unix::fs::FileExt as _;
        file.write_all_at(&bytes, 0).unwrap();
        let mut log = RecordLog::open(td.path()).unwrap();
        if rewrite {
            for t in 4..=9 {
                log.append(&payload(t, 1)).unwrap();
            }
        }
        let err = f.try_next().unwrap_err();
        assert!(
            matches!(err, Error::Cut { txid: 6, segment: 1, offset, .. } if offset == refs[5].offset),
            "rewrite {rewrite}: {err}"
        );
        // And again: the follower stays where it was.
        assert!(matches!(f.try_next(), Err(Error::Cut { .. })));
        drop(log);
    }
}

/// The same bytes read back (a writer restarted without damage, or one
/// that rewrote identical records) are no cut.
#[test]
fn a_restart_without_damage_is_no_cut() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    log.append(b"a").unwrap();
    drop(log);
    let mut f = Follower::open(td.path(), 0).unwrap();
    assert_eq!(ready(&mut f).len(), 1);
    let mut log = RecordLog::open(td.path()).unwrap();
    log.append(b"b").unwrap();
    assert_eq!(txids(&ready(&mut f)), [2]);
}

/// A follower that lags behind retention: the records it needs next were
/// removed with their segments. `Error::Truncated`, at open and while
/// following.
#[test]
fn records_removed_under_a_follower_are_reported_as_truncated() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    for t in 1..=12 {
        log.append(&payload(t, 0)).unwrap();
        if t % 4 == 0 {
            log.rotate().unwrap();
        }
    }
    let mut f = Follower::open(td.path(), 0).unwrap();
    assert_eq!(f.try_next().unwrap().unwrap().txid, 1);
    fs::remove_file(segment_path(td.path(), 1)).unwrap();
    fs::remove_file(segment_path(td.path(), 2)).unwrap();
    // Segment 1 was still open in the cursor: its records are read on.
    let mut got = Vec::new();
    let err = loop {
        match f.try_next() {
            Ok(Some(r)) => got.push(r.txid),
            Ok(None) => panic!("no error after {got:?}"),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(
            err,
            Error::Truncated {
                requested: 5,
                first_available: 9
            }
        ),
        "{err} after {got:?}"
    );
    assert!(matches!(
        Follower::open(td.path(), 3),
        Err(Error::Truncated {
            requested: 3,
            first_available: 9
        })
    ));
    let mut from_oldest = Follower::open(td.path(), 0).unwrap();
    assert_eq!(txids(&ready(&mut from_oldest)), [9, 10, 11, 12]);
}

#[test]
fn damage_in_a_closed_segment_is_corruption() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    let mut refs = Vec::new();
    for t in 1..=6 {
        refs.push(log.append(&payload(t, 0)).unwrap());
    }
    log.rotate().unwrap();
    log.append(&payload(7, 0)).unwrap();
    drop(log);
    let path = segment_path(td.path(), 1);
    let mut bytes = fs::read(&path).unwrap();
    bytes[refs[4].offset as usize + 30] ^= 1;
    fs::write(&path, bytes).unwrap();
    let mut f = Follower::open(td.path(), 0).unwrap();
    assert_eq!(txids(&[f.try_next().unwrap().unwrap()]), [1]);
    let mut n = 1;
    let err = loop {
        match f.try_next() {
            Ok(Some(_)) => n += 1,
            Ok(None) => panic!("no error"),
            Err(e) => break e,
        }
    };
    assert_eq!(n, 4);
    assert!(
        matches!(err, Error::Corrupt { segment: 1, offset, .. } if offset == refs[4].offset),
        "{err}"
    );
}

#[test]
fn a_named_consumer_resumes_after_its_last_commit() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    for t in 1..=10 {
        log.append(&payload(t, 0)).unwrap();
        if t == 5 {
            log.rotate().unwrap();
        }
    }
    assert!(consumers(td.path()).unwrap().is_empty());
    let mut c = Follower::open_named(td.path(), "projection").unwrap();
    assert_eq!(c.name(), Some("projection"));
    assert!(matches!(
        Follower::open_named(td.path(), "projection"),
        Err(Error::ConsumerLocked { .. })
    ));
    let first: Vec<u64> = (0..7)
        .map(|_| c.try_next().unwrap().unwrap().txid)
        .collect();
    assert_eq!(first, [1, 2, 3, 4, 5, 6, 7]);
    assert!(matches!(
        c.commit(8),
        Err(Error::NotYielded {
            txid: 8,
            last_yielded: 7
        })
    ));
    c.commit(3).unwrap();
    c.commit(6).unwrap();
    drop(c);
    let listed = consumers(td.path()).unwrap();
    assert_eq!((listed[0].name.as_str(), listed[0].txid), ("projection", 6));
    let mut c = Follower::open_named(td.path(), "projection").unwrap();
    assert_eq!(c.last_txid(), Some(6));
    assert_eq!(txids(&ready(&mut c)), [7, 8, 9, 10]);
    c.commit(10).unwrap();
    drop(c);
    log.append(&payload(11, 0)).unwrap();
    let mut c = Follower::open_named(td.path(), "projection").unwrap();
    assert_eq!(txids(&ready(&mut c)), [11]);
    // An unnamed follower has nothing to commit to; bad names are refused.
    assert!(matches!(
        Follower::open(td.path(), 0).unwrap().commit(0),
        Err(Error::NoConsumer)
    ));
    for bad in ["", "a/b", "..", &"x".repeat(65)] {
        assert!(matches!(
            Follower::open_named(td.path(), bad),
            Err(Error::ConsumerName { .. })
        ));
    }
}

/// The committed record was cut by a repair (a power cut after the
/// commit): resuming says so.
#[test]
fn a_consumer_whose_committed_record_was_cut_is_told() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    let mut refs = Vec::new();
    for t in 1..=4 {
        refs.push(log.append(&payload(t, 0)).unwrap());
    }
    drop(log);
    let mut c = Follower::open_named(td.path(), "c").unwrap();
    assert_eq!(ready(&mut c).len(), 4);
    c.commit(4).unwrap();
    drop(c);
    let path = segment_path(td.path(), 1);
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(refs[2].offset + 3)
        .unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    for t in 3..=6 {
        log.append(&payload(t, 1)).unwrap();
    }
    let err = Follower::open_named(td.path(), "c").unwrap_err();
    assert!(matches!(err, Error::Cut { txid: 4, .. }), "{err}");
}

/// The published crate opens, appends to and scans a store that has
/// consumers (the `consumers/` subdirectory is not a segment to it).
#[test]
fn the_published_crate_ignores_the_consumers_directory() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    log.append(b"x").unwrap();
    log.fsync().unwrap();
    drop(log);
    let mut c = Follower::open_named(td.path(), "c").unwrap();
    assert_eq!(ready(&mut c).len(), 1);
    c.commit(1).unwrap();
    assert!(td.path().join("consumers/c.offset").is_file());
    drop(c);
    let mut old = datawal015::RecordLog::open(td.path()).unwrap();
    old.append(b"y").unwrap();
    old.fsync().unwrap();
    assert_eq!(old.scan().unwrap().len(), 2);
    drop(old);
    let (records, _) = RecordLogReader::open(td.path()).unwrap().scan().unwrap();
    assert_eq!(records.len(), 2);
    assert!(Path::new(&td.path().join("consumers")).is_dir());
}
