//! Hint files (`{id:08}.hint`): an open that uses them builds exactly the
//! key directory, the report and the next txid that a full replay does;
//! a hint that is missing, torn, damaged, stale or another segment's is
//! not used; damage a hint hides from the open is found by `verify` and
//! `get`.

use std::fs;
use std::path::Path;

use datawal_core::segment::{list_segments, segment_path};
use datawal_core::{hint_path, DataWal, Error, RecordLog, RecordLogReader, RecordRef};

mod reliability_support;
use reliability_support::{append_bytes, frame, truncate_to};

/// Bytes in a hint's header; its `covered` field is at 16.
const HINT_HEADER: usize = 96;

fn key(i: u32) -> Vec<u8> {
    format!("key:{i:05}").into_bytes()
}

fn value(i: u32, round: u32) -> Vec<u8> {
    let len = 200 + (i * 37 + round * 11) % 400;
    (0..len).map(|j| (i ^ j ^ round) as u8).collect()
}

/// A store of three segments of about 130-170 KiB each: puts, overwrites
/// and deletes, some deleting keys of an earlier segment, then synced and
/// dropped (so the active segment gets a hint too).
fn fill(dir: &Path) {
    let mut db = DataWal::open(dir).unwrap();
    for i in 0..400 {
        db.put(&key(i), &value(i, 0)).unwrap();
    }
    db.rotate().unwrap();
    for i in 0..400 {
        match i % 4 {
            0 => db.delete(&key(i)).unwrap(),
            1 => db.put(&key(i), &value(i, 1)).unwrap(),
            _ => db.put(&key(1000 + i), &value(i, 1)).unwrap(),
        }
    }
    db.rotate().unwrap();
    for i in 0..300 {
        match i % 5 {
            0 => db.delete(&key(1000 + i)).unwrap(),
            1 => db.put(&key(i), &value(i, 2)).unwrap(),
            2 => {
                // Deleted and put again within the segment.
                db.delete(&key(i)).unwrap();
                db.put(&key(i), &value(i, 3)).unwrap();
            }
            _ => db.put(&key(2000 + i), &value(i, 2)).unwrap(),
        }
    }
    db.fsync().unwrap();
}

/// Copy the store in `from` into a new directory, hints included or not.
fn copy_store(from: &Path, hints: bool) -> tempfile::TempDir {
    let td = tempfile::tempdir().unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if !e.file_type().unwrap().is_file() || (name.ends_with(".hint") && !hints) {
            continue;
        }
        fs::copy(e.path(), td.path().join(&name)).unwrap();
    }
    td
}

/// Everything an open gives: each live key with its position and value,
/// the next txid, and the recovery report's counts.
#[derive(Debug, PartialEq, Eq)]
struct State {
    entries: Vec<(Vec<u8>, RecordRef, Vec<u8>)>,
    next_txid: u64,
    records_replayed: u64,
    last_txid_seen: u64,
    files_scanned: u32,
    first_txid: Option<u64>,
    last: Option<(u64, RecordRef)>,
}

/// Open `dir` and read its state, with the bytes the open took from hints.
fn open_state(dir: &Path) -> Result<(State, u64), String> {
    let db = DataWal::open(dir)
        .map_err(|e| e.to_string().replace(&*dir.to_string_lossy(), "<store>"))?;
    let report = db.log().recovery_report().unwrap();
    let entries = db
        .keys()
        .into_iter()
        .map(|k| {
            let r = db.ref_of(&k).unwrap();
            let v = db.get(&k).unwrap().unwrap();
            (k, r, v)
        })
        .collect();
    let state = State {
        entries,
        next_txid: db.log().next_txid(),
        records_replayed: report.records_replayed,
        last_txid_seen: report.last_txid_seen,
        files_scanned: report.files_scanned,
        first_txid: db.log().first_txid(),
        last: db.log().last().unwrap().map(|r| {
            let at = RecordRef {
                segment: r.segment,
                offset: r.offset,
                len: r.len,
            };
            (r.txid, at)
        }),
    };
    Ok((state, report.bytes_from_hints))
}

/// What the open of `dir` without its hints gives.
fn replayed(dir: &Path) -> Result<State, String> {
    let bare = copy_store(dir, false);
    let (state, from_hints) = open_state(bare.path())?;
    assert_eq!(from_hints, 0);
    Ok(state)
}

fn segment_len(dir: &Path, id: u32) -> u64 {
    fs::metadata(segment_path(dir, id)).unwrap().len()
}

/// The `covered` field of segment `id`'s hint.
fn covered(dir: &Path, id: u32) -> Option<u64> {
    let b = fs::read(hint_path(dir, id)).ok()?;
    Some(u64::from_le_bytes(b[16..24].try_into().unwrap()))
}

/// Where the frames of segment `id` start.
fn frame_offsets(dir: &Path, id: u32) -> Vec<u64> {
    let (records, _) = RecordLogReader::open(dir).unwrap().scan().unwrap();
    records
        .iter()
        .filter(|r| r.segment == id)
        .map(|r| r.offset)
        .collect()
}

fn flip(path: &Path, at: u64) {
    let mut b = fs::read(path).unwrap();
    b[at as usize] ^= 0x20;
    fs::write(path, b).unwrap();
}

#[test]
fn rotations_and_a_clean_drop_write_hints_that_cover_every_segment() {
    let td = tempfile::tempdir().unwrap();
    fill(td.path());
    assert_eq!(list_segments(td.path()).unwrap(), [1, 2, 3]);
    for id in 1..=3 {
        assert_eq!(
            covered(td.path(), id),
            Some(segment_len(td.path(), id)),
            "segment {id}"
        );
    }
    let (with, from_hints) = open_state(td.path()).unwrap();
    let total: u64 = (1..=3).map(|id| segment_len(td.path(), id)).sum();
    assert_eq!(from_hints, total, "every record taken from hints");
    assert_eq!(with, replayed(td.path()).unwrap());
    assert!(with.entries.len() > 500, "{}", with.entries.len());
}

#[test]
fn nothing_unsynced_is_ever_hinted() {
    let td = tempfile::tempdir().unwrap();
    fill(td.path());
    let before = covered(td.path(), 3).unwrap();
    {
        let mut db = DataWal::open(td.path()).unwrap();
        for i in 0..400 {
            db.put(&key(5000 + i), &value(i, 9)).unwrap();
        }
        // Dropped without a sync: the hint stays as it was.
    }
    assert_eq!(covered(td.path(), 3), Some(before));
    {
        // What an open found counts as unsynced until it is synced.
        let _db = DataWal::open(td.path()).unwrap();
    }
    assert_eq!(covered(td.path(), 3), Some(before));
    {
        let mut db = DataWal::open(td.path()).unwrap();
        db.fsync().unwrap();
    }
    assert_eq!(covered(td.path(), 3), Some(segment_len(td.path(), 3)));
    let (with, _) = open_state(td.path()).unwrap();
    assert_eq!(with, replayed(td.path()).unwrap());
}

#[test]
fn a_small_segment_gets_no_hint() {
    let td = tempfile::tempdir().unwrap();
    let mut db = DataWal::open(td.path()).unwrap();
    db.put(b"a", b"1").unwrap();
    db.rotate().unwrap();
    db.put(b"b", b"2").unwrap();
    db.fsync().unwrap();
    drop(db);
    let names: Vec<String> = fs::read_dir(td.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("hint"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

/// One way to spoil segment 2's hint, or segment 2 itself, and which
/// segments' hints the open may still use.
struct Case {
    name: &'static str,
    spoil: fn(&Path),
    used: &'static [u32],
}

#[test]
fn spoiled_hints_and_changed_segments_open_as_a_full_replay_does() {
    let td = tempfile::tempdir().unwrap();
    fill(td.path());
    let other = tempfile::tempdir().unwrap();
    {
        // Another store whose segment 2 is hinted too.
        let mut db = DataWal::open(other.path()).unwrap();
        for round in 0..2 {
            for i in 0..400 {
                db.put(&key(i), &value(i, 7 + round)).unwrap();
            }
            db.rotate().unwrap();
        }
    }
    fs::copy(hint_path(other.path(), 2), td.path().join("other-2.hint")).unwrap();

    let truncations: [fn(&Path); 6] = [
        |d| truncate_to(&hint_path(d, 2), 0),
        |d| truncate_to(&hint_path(d, 2), 1),
        |d| truncate_to(&hint_path(d, 2), HINT_HEADER as u64 - 1),
        |d| truncate_to(&hint_path(d, 2), HINT_HEADER as u64),
        |d| truncate_to(&hint_path(d, 2), HINT_HEADER as u64 + 10),
        |d| {
            let len = fs::metadata(hint_path(d, 2)).unwrap().len();
            truncate_to(&hint_path(d, 2), len - 1);
        },
    ];
    let mut cases: Vec<Case> = truncations
        .into_iter()
        .map(|spoil| Case {
            name: "hint torn",
            spoil,
            used: &[1, 3],
        })
        .collect();
    cases.extend([
        Case {
            name: "hint missing",
            spoil: |d| fs::remove_file(hint_path(d, 2)).unwrap(),
            used: &[1, 3],
        },
        Case {
            name: "a byte of the hint's header changed",
            spoil: |d| flip(&hint_path(d, 2), 20),
            used: &[1, 3],
        },
        Case {
            name: "hint grown by a byte",
            spoil: |d| append_bytes(&hint_path(d, 2), &[0]),
            used: &[1, 3],
        },
        Case {
            // Found only as the entries are applied: replayed again without it.
            name: "a byte of the hint's entries changed",
            spoil: |d| {
                let len = fs::metadata(hint_path(d, 2)).unwrap().len();
                flip(&hint_path(d, 2), len - 3);
            },
            used: &[1, 3],
        },
        Case {
            name: "a byte of the first entry changed",
            spoil: |d| flip(&hint_path(d, 2), HINT_HEADER as u64),
            used: &[1, 3],
        },
        Case {
            name: "segment 1's hint under segment 2's name",
            spoil: |d| {
                fs::copy(hint_path(d, 1), hint_path(d, 2)).unwrap();
            },
            used: &[1, 3],
        },
        Case {
            name: "another store's hint of its segment 2",
            spoil: |d| {
                fs::copy(d.join("other-2.hint"), hint_path(d, 2)).unwrap();
            },
            used: &[1, 3],
        },
        Case {
            name: "the hint a symbolic link to a valid hint",
            spoil: |d| {
                fs::rename(hint_path(d, 2), d.join("moved.hint")).unwrap();
                std::os::unix::fs::symlink(d.join("moved.hint"), hint_path(d, 2)).unwrap();
            },
            used: &[1, 3],
        },
        Case {
            name: "the hint a directory",
            spoil: |d| {
                fs::remove_file(hint_path(d, 2)).unwrap();
                fs::create_dir(hint_path(d, 2)).unwrap();
            },
            used: &[1, 3],
        },
        Case {
            name: "the hint a FIFO (the open must not wait on it)",
            spoil: |d| {
                fs::remove_file(hint_path(d, 2)).unwrap();
                let path =
                    std::ffi::CString::new(hint_path(d, 2).into_os_string().into_encoded_bytes())
                        .unwrap();
                // SAFETY: a valid NUL-terminated path.
                assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
            },
            used: &[1, 3],
        },
        Case {
            name: "segment 2 cut by its last frame",
            spoil: |d| {
                let last = *frame_offsets(d, 2).last().unwrap();
                truncate_to(&segment_path(d, 2), last);
            },
            used: &[1, 3],
        },
        Case {
            name: "segment 2 cut inside its last frame (an error either way)",
            spoil: |d| {
                let len = segment_len(d, 2);
                truncate_to(&segment_path(d, 2), len - 5);
            },
            used: &[],
        },
        Case {
            name: "a byte of segment 2's first frame changed (an error either way)",
            spoil: |d| flip(&segment_path(d, 2), 30),
            used: &[],
        },
        Case {
            name: "a byte of segment 2's last frame changed (an error either way)",
            spoil: |d| {
                let len = segment_len(d, 2);
                flip(&segment_path(d, 2), len - 10);
            },
            used: &[],
        },
        Case {
            name: "segment 2's last frame replaced by one of the same length",
            spoil: |d| {
                let last = *frame_offsets(d, 2).last().unwrap();
                let (records, _) = RecordLogReader::open(d).unwrap().scan().unwrap();
                let r = records.iter().find(|r| r.offset == last && r.segment == 2);
                let r = r.unwrap();
                let mut payload = r.payload.clone();
                payload[0] ^= 1;
                let bytes = frame(r.record_type, r.txid, &r.key, &payload);
                truncate_to(&segment_path(d, 2), last);
                append_bytes(&segment_path(d, 2), &bytes);
            },
            used: &[1, 3],
        },
        Case {
            // The hint still describes the prefix; the rest is read.
            name: "segment 2 grown after its hint was written",
            spoil: |d| {
                let bytes = frame(
                    datawal_core::RecordType::Put,
                    1_000_000,
                    b"appended",
                    b"later",
                );
                append_bytes(&segment_path(d, 2), &bytes);
            },
            used: &[1, 2, 3],
        },
        Case {
            name: "segment 2's hint removed and segment 3's torn",
            spoil: |d| {
                fs::remove_file(hint_path(d, 2)).unwrap();
                let len = fs::metadata(hint_path(d, 3)).unwrap().len();
                truncate_to(&hint_path(d, 3), len / 2);
            },
            used: &[1],
        },
    ]);

    for case in cases {
        let store = copy_store(td.path(), true);
        fs::copy(
            td.path().join("other-2.hint"),
            store.path().join("other-2.hint"),
        )
        .unwrap();
        (case.spoil)(store.path());
        let want = replayed(store.path());
        let got = open_state(store.path());
        match (&want, &got) {
            (Ok(want), Ok((got, from_hints))) => {
                assert_eq!(got, want, "{}", case.name);
                let hinted: u64 = case
                    .used
                    .iter()
                    .map(|&id| covered(store.path(), id).unwrap())
                    .sum();
                assert_eq!(*from_hints, hinted, "{}", case.name);
            }
            (Err(want), Err(got)) => assert_eq!(got, want, "{}", case.name),
            _ => panic!("{}: {want:?} against {got:?}", case.name),
        }
    }
}

#[test]
fn damage_inside_a_hinted_prefix_is_left_to_verify_and_get() {
    let td = tempfile::tempdir().unwrap();
    fill(td.path());
    let offsets = frame_offsets(td.path(), 2);
    let victim_at = offsets[offsets.len() / 2];
    let (records, _) = RecordLogReader::open(td.path()).unwrap().scan().unwrap();
    let victim = records
        .iter()
        .find(|r| r.segment == 2 && r.offset == victim_at)
        .unwrap()
        .clone();
    flip(
        &segment_path(td.path(), 2),
        victim_at + victim.len as u64 - 6,
    );

    // Without hints the open reads the damaged frame and refuses.
    let bare = copy_store(td.path(), false);
    assert!(matches!(
        DataWal::open(bare.path()),
        Err(Error::Corrupt { segment: 2, offset, .. }) if offset == victim_at
    ));
    // With them it does not read it: the trade of docs/technical-decisions.md.
    let db = DataWal::open(td.path()).unwrap();
    let report = RecordLogReader::open(td.path()).unwrap().verify().unwrap();
    assert_eq!(report.damage.len(), 1);
    assert_eq!(
        (report.damage[0].segment, report.damage[0].offset),
        (2, victim_at)
    );
    if db.ref_of(&victim.key)
        == Some(RecordRef {
            segment: 2,
            offset: victim_at,
            len: victim.len,
        })
    {
        assert!(matches!(
            db.get(&victim.key),
            Err(Error::Corrupt { segment: 2, offset, .. }) if offset == victim_at
        ));
    }
}

#[test]
fn a_log_opens_with_the_same_counts_from_hints() {
    let td = tempfile::tempdir().unwrap();
    {
        let mut log = RecordLog::open(td.path()).unwrap();
        for round in 0..3 {
            for i in 0..2000u32 {
                log.append(&value(i, round)).unwrap();
            }
            log.rotate().unwrap();
        }
        for i in 0..1000u32 {
            log.append(&value(i, 9)).unwrap();
        }
        log.fsync().unwrap();
        log.close().unwrap();
    }
    let bare = copy_store(td.path(), false);
    let with = copy_store(td.path(), true);
    let (a, b) = (
        RecordLog::open(with.path()).unwrap(),
        RecordLog::open(bare.path()).unwrap(),
    );
    let (ra, rb) = (a.recovery_report().unwrap(), b.recovery_report().unwrap());
    assert_eq!(
        ra.bytes_from_hints,
        (1..=4).map(|id| segment_len(td.path(), id)).sum::<u64>()
    );
    assert_eq!(rb.bytes_from_hints, 0);
    assert_eq!(
        (ra.records_replayed, ra.last_txid_seen, ra.files_scanned),
        (rb.records_replayed, rb.last_txid_seen, rb.files_scanned)
    );
    assert_eq!(ra.records_replayed, 7000);
    assert_eq!(a.next_txid(), b.next_txid());
    assert_eq!(a.first_txid(), b.first_txid());
    // The newest record's position comes from the last hint.
    assert_eq!(a.last().unwrap(), b.last().unwrap());
    assert_eq!(a.last().unwrap().map(|r| r.txid), Some(7000));
    let from = |log: &RecordLog| {
        let mut c = log.cursor_from(4500).unwrap();
        c.next_view().unwrap().map(|v| v.to_record())
    };
    assert_eq!(from(&a), from(&b));
    drop((a, b));
    // Truncation by txid reads the segments' ranges from the hints.
    let mut a = RecordLog::open(with.path()).unwrap();
    let stats = a.truncate_before(4001).unwrap();
    assert_eq!(stats.segments_removed, 2);
    assert_eq!(stats.records_removed, 4000);
    assert_eq!(stats.first_available, Some(4001));
    drop(a);
    assert!(!hint_path(with.path(), 1).exists());
    assert!(!hint_path(with.path(), 2).exists());
}

#[test]
fn strays_are_removed_by_a_writers_open() {
    let td = tempfile::tempdir().unwrap();
    fill(td.path());
    fs::copy(hint_path(td.path(), 1), hint_path(td.path(), 9)).unwrap();
    let temp = td.path().join(".00000002.hint.tmp-Ab12Cd");
    fs::write(&temp, b"partial").unwrap();
    let keep = td.path().join("notes.hint");
    fs::write(&keep, b"not ours").unwrap();
    drop(DataWal::open(td.path()).unwrap());
    assert!(!hint_path(td.path(), 9).exists());
    assert!(!temp.exists());
    assert!(keep.exists());
    assert!(hint_path(td.path(), 2).exists());
}

#[test]
fn a_new_segment_never_inherits_an_old_hint() {
    let td = tempfile::tempdir().unwrap();
    fill(td.path());
    let mut db = DataWal::open(td.path()).unwrap();
    // A hint under the name the next rotation takes (an open would have
    // removed it as a stray).
    fs::copy(hint_path(td.path(), 3), hint_path(td.path(), 4)).unwrap();
    db.rotate().unwrap();
    assert!(!hint_path(td.path(), 4).exists());
    drop(db);
    // Every segment emptied by hand: the first segment's hint goes too.
    let td = tempfile::tempdir().unwrap();
    fill(td.path());
    for id in 1..=3 {
        fs::remove_file(segment_path(td.path(), id)).unwrap();
    }
    fs::copy(hint_path(td.path(), 3), hint_path(td.path(), 1)).unwrap();
    drop(DataWal::open(td.path()).unwrap());
    assert!(!hint_path(td.path(), 1).exists());
}

#[test]
fn a_hint_whose_entries_fail_is_removed_by_the_writers_open() {
    let td = tempfile::tempdir().unwrap();
    fill(td.path());
    let len = fs::metadata(hint_path(td.path(), 1)).unwrap().len();
    flip(&hint_path(td.path(), 1), len / 2);
    let want = replayed(td.path()).unwrap();
    // A reader does not change the store.
    let snap = datawal_core::DataWalReader::open(td.path()).unwrap();
    assert_eq!(
        snap.keys(),
        want.entries.iter().map(|e| e.0.clone()).collect::<Vec<_>>()
    );
    assert!(hint_path(td.path(), 1).exists());
    let (got, from_hints) = open_state(td.path()).unwrap();
    assert_eq!(got, want);
    let others = covered(td.path(), 2).unwrap() + covered(td.path(), 3).unwrap();
    assert_eq!(from_hints, others);
    assert!(!hint_path(td.path(), 1).exists());
    let (again, from_hints) = open_state(td.path()).unwrap();
    assert_eq!(again, want);
    assert_eq!(from_hints, others);
}

#[test]
fn a_reader_takes_the_same_state_and_counts_from_hints() {
    let td = tempfile::tempdir().unwrap();
    fill(td.path());
    let hinted = datawal_core::DataWalReader::open(td.path()).unwrap();
    let visited = datawal_core::DataWalReader::open_visit(td.path(), |_| {}).unwrap();
    assert!(hinted.recovery_report().bytes_from_hints > 0);
    assert_eq!(visited.recovery_report().bytes_from_hints, 0);
    assert_eq!(hinted.stats(), visited.stats());
    let (a, b) = (hinted.recovery_report(), visited.recovery_report());
    assert_eq!(
        (a.records_replayed, a.last_txid_seen, a.files_scanned),
        (b.records_replayed, b.last_txid_seen, b.files_scanned)
    );
    assert_eq!(hinted.keys(), visited.keys());
    for k in hinted.keys() {
        assert_eq!(hinted.ref_of(&k), visited.ref_of(&k));
        assert_eq!(hinted.get(&k).unwrap(), visited.get(&k).unwrap());
    }
}

#[test]
fn an_extended_hint_is_the_hint_written_from_scratch() {
    let td = tempfile::tempdir().unwrap();
    fill(td.path());
    for round in 0..3 {
        let mut db = DataWal::open(td.path()).unwrap();
        for i in 0..300 {
            if i % 7 == 0 {
                db.delete(&key(i)).unwrap();
            } else {
                db.put(&key(i + 100 * round), &value(i, 20 + round))
                    .unwrap();
            }
        }
        db.log().recovery_report().unwrap();
        db.fsync().unwrap();
    }
    assert_eq!(covered(td.path(), 3), Some(segment_len(td.path(), 3)));
    let extended = fs::read(hint_path(td.path(), 3)).unwrap();
    fs::remove_file(hint_path(td.path(), 3)).unwrap();
    {
        let mut db = DataWal::open(td.path()).unwrap();
        db.fsync().unwrap();
    }
    assert_eq!(fs::read(hint_path(td.path(), 3)).unwrap(), extended);
    let (with, _) = open_state(td.path()).unwrap();
    assert_eq!(with, replayed(td.path()).unwrap());
}

#[test]
fn keys_of_every_length_up_to_the_limit_round_trip_through_a_hint() {
    let td = tempfile::tempdir().unwrap();
    let max = datawal_core::MAX_KEY_LEN as usize;
    {
        let mut db = DataWal::open(td.path()).unwrap();
        // Entries longer than the read buffer, short ones between them.
        for (i, len) in [max, 1, max - 1, 0, 40_000, 22, 23, max].iter().enumerate() {
            let k: Vec<u8> = (0..*len).map(|j| (i + j) as u8).collect();
            db.put(&k, &value(i as u32, 0)).unwrap();
            db.put(format!("short-{i}").as_bytes(), b"v").unwrap();
        }
        let first: Vec<u8> = (0..max).map(|j| j as u8).collect();
        db.delete(&first).unwrap();
        db.fsync().unwrap();
    }
    assert!(segment_len(td.path(), 1) >= 64 << 10);
    let (with, from_hints) = open_state(td.path()).unwrap();
    assert_eq!(from_hints, segment_len(td.path(), 1));
    assert_eq!(with, replayed(td.path()).unwrap());
    assert_eq!(with.entries.len(), 15);
}

/// What sits under a hint's name and is no regular file never stops an
/// open, also of a new store (whose first segment's name it takes).
#[test]
fn a_directory_or_fifo_under_a_hint_name_never_stops_an_open() {
    for kind in ["dir", "fifo"] {
        let td = tempfile::tempdir().unwrap();
        let path = hint_path(td.path(), 1);
        if kind == "dir" {
            fs::create_dir(&path).unwrap();
        } else {
            let c =
                std::ffi::CString::new(path.clone().into_os_string().into_encoded_bytes()).unwrap();
            // SAFETY: a valid NUL-terminated path.
            assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        }
        fill(td.path());
        assert_eq!(list_segments(td.path()).unwrap(), [1, 2, 3], "{kind}");
        let (with, _) = open_state(td.path()).unwrap();
        assert_eq!(with, replayed(td.path()).unwrap(), "{kind}");
    }
}
