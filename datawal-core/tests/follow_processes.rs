//! A follower and its writer in two processes.
//!
//! - `a_follower_in_another_process_sees_1000_rotations`: a child writes,
//!   rotating every 100 to 300 records, 1,000 times; the parent follows,
//!   and its sequence equals the final log.
//! - `a_follower_survives_50_writer_kills_and_torn_tails`: the writer child
//!   is SIGKILLed and restarted 50 times while the parent follows; after
//!   most kills the end of the last segment is damaged (cut short,
//!   zero-filled in place, or garbage appended), as a power cut can leave
//!   it, before the next writer repairs it. Each `Error::Cut` the follower
//!   reports is checked to be real (what it yielded is not a prefix of the
//!   log any more); it then resumes from what the log still holds, and its
//!   output at the end equals the final log.
//! - `a_named_consumer_killed_200_times_resumes_after_its_commit`: a
//!   consumer child is SIGKILLed at random moments 200 times while the
//!   parent appends; after each kill the offset file holds the previous
//!   commit or the one in flight (never a torn one), and the next child
//!   starts exactly after it.
//!
//! The children are this test binary re-executed (see
//! `reliability_support`). Replay with `DATAWAL_SEED=<seed>`.

mod reliability_support;

use std::fs;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use datawal_core::segment::{list_segments, segment_path};
use datawal_core::{consumers, Error, Follower, Record, RecordLog, RecordLogReader};
use reliability_support::{child_dir, child_mode, env_u64, say, ChildProc, Rng};

/// How long a child lives at most if nobody kills it.
const CHILD_LIFETIME: Duration = Duration::from_secs(20);

/// The payload of record `txid` written by writer generation `generation`.
fn payload(txid: u64, generation: u64) -> Vec<u8> {
    let mut p = txid.to_le_bytes().to_vec();
    p.extend_from_slice(&generation.to_le_bytes());
    p.extend(std::iter::repeat_n(
        txid as u8 ^ generation as u8,
        (txid % 97) as usize,
    ));
    p
}

fn check_payload(r: &Record) {
    assert!(r.payload.len() >= 16, "txid {}: short payload", r.txid);
    let txid = u64::from_le_bytes(r.payload[..8].try_into().unwrap());
    let generation = u64::from_le_bytes(r.payload[8..16].try_into().unwrap());
    assert_eq!(txid, r.txid, "payload of another record");
    assert_eq!(
        r.payload,
        payload(txid, generation),
        "txid {txid}: damaged payload"
    );
}

/// A directory on tmpfs when there is one (rotations fsync; the follower's
/// behaviour does not depend on the disk), else the default.
fn fast_tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("datawal-follow")
        .tempdir_in("/dev/shm")
        .or_else(|_| tempfile::tempdir())
        .unwrap()
}

fn final_log(dir: &Path) -> Vec<(u64, Vec<u8>)> {
    let (records, report) = RecordLogReader::open(dir).unwrap().scan().unwrap();
    assert!(report.tail.is_none(), "{report:?}");
    records.into_iter().map(|r| (r.txid, r.payload)).collect()
}

#[test]
fn child_entry() {
    let Some(mode) = child_mode() else { return };
    say("");
    let dir = child_dir();
    let mut rng = Rng::new(env_u64("DATAWAL_CHILD_SEED"));
    match mode.as_str() {
        "rotations" => child_rotations(&dir, &mut rng),
        "writer" => child_writer(&dir, env_u64("DATAWAL_GENERATION"), &mut rng),
        "consumer" => child_consumer(&dir),
        other => panic!("unknown child mode {other}"),
    }
}

/// Write with 1,000 rotations, each after 100 to 300 records; print the
/// last txid.
fn child_rotations(dir: &Path, rng: &mut Rng) {
    let mut log = RecordLog::open(dir).unwrap();
    let mut txid = 0;
    for _ in 0..1_000 {
        for _ in 0..rng.range(100, 300) {
            txid = log.next_txid();
            log.append(&payload(txid, 0)).unwrap();
        }
        log.rotate().unwrap();
    }
    say(&format!("DONE {txid}"));
}

/// Append until killed (or CHILD_LIFETIME), rotating every 40 to 120
/// records, pausing now and then so that kills land anywhere.
fn child_writer(dir: &Path, generation: u64, rng: &mut Rng) {
    let mut log = RecordLog::open(dir).unwrap();
    say(&format!("READY {}", log.next_txid()));
    let start = std::time::Instant::now();
    let mut until_rotation = rng.range(40, 120);
    while start.elapsed() < CHILD_LIFETIME {
        let txid = log.next_txid();
        log.append(&payload(txid, generation)).unwrap();
        until_rotation -= 1;
        if until_rotation == 0 {
            log.rotate().unwrap();
            until_rotation = rng.range(40, 120);
        }
        if rng.one_in(16) {
            std::thread::sleep(Duration::from_micros(rng.range(50, 400)));
        }
    }
}

/// Follow as consumer "c": print every record and every commit around the
/// call; commit after about every other record.
fn child_consumer(dir: &Path) {
    let mut c = Follower::open_named(dir, "c").unwrap();
    say(&format!("START {}", c.last_txid().unwrap_or(0)));
    let start = std::time::Instant::now();
    while start.elapsed() < CHILD_LIFETIME {
        let Some(r) = c.next_timeout(Duration::from_millis(100)).unwrap() else {
            continue;
        };
        say(&format!("GOT {}", r.txid));
        if (r.txid.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % 3 != 0 {
            say(&format!("COMMITTING {}", r.txid));
            c.commit(r.txid).unwrap();
            say(&format!("COMMITTED {}", r.txid));
        }
    }
}

#[test]
fn a_follower_in_another_process_sees_1000_rotations() {
    if child_mode().is_some() {
        return;
    }
    let td = fast_tempdir();
    let dir = td.path().to_path_buf();
    fs::create_dir_all(&dir).unwrap();
    let seed = reliability_support::seed("rotations");
    let child = ChildProc::spawn(
        "child_entry",
        "rotations",
        &dir,
        &[("DATAWAL_CHILD_SEED", seed.to_string())],
    );
    let mut follower = Follower::open(&dir, 0).unwrap();
    let mut got: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut done = None;
    loop {
        if let Some(r) = follower.next_timeout(Duration::from_millis(200)).unwrap() {
            check_payload(&r);
            got.push((r.txid, r.payload));
        } else if done.is_none() {
            done = child
                .lines
                .try_iter()
                .find_map(|l| l.strip_prefix("DONE ").map(|t| t.parse::<u64>().unwrap()));
        }
        if done.is_some_and(|d| got.last().is_some_and(|l| l.0 == d)) {
            break;
        }
    }
    let (_, status) = child.wait();
    assert!(status.success());
    assert_eq!(follower.next_timeout(Duration::ZERO).unwrap(), None);
    let log = final_log(&dir);
    assert!(got == log, "the follower's sequence differs from the log");
    assert_eq!(list_segments(&dir).unwrap().len(), 1_001);
    eprintln!("followed {} records over 1,000 rotations", got.len());
}

/// Damage the end of the last segment in place, as a power cut can leave
/// it; returns what was done.
fn damage_tail(dir: &Path, rng: &mut Rng) -> &'static str {
    let Some(&last) = list_segments(dir).unwrap().last() else {
        return "none";
    };
    let path = segment_path(dir, last);
    let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
    let len = file.metadata().unwrap().len();
    let n = rng.range(1, 400).min(len);
    match rng.below(4) {
        0 => "none",
        1 => {
            file.set_len(len - n).unwrap();
            "cut short"
        }
        2 => {
            file.write_all_at(&vec![0; n as usize], len - n).unwrap();
            "zero-filled"
        }
        _ => {
            let mut frame = Vec::new();
            datawal_core::format::encode_into(
                &mut frame,
                datawal_core::RecordType::Raw,
                u64::MAX - 1,
                b"",
                &[0xAB; 100],
            );
            frame.truncate(rng.range(1, frame.len() as u64 - 1) as usize);
            file.write_all_at(&frame, len).unwrap();
            "garbage appended"
        }
    }
}

/// What a follower thread reports back.
struct Followed {
    records: Vec<(u64, Vec<u8>)>,
    cuts: u64,
}

/// Follow `dir` until txid `target` (0: not known yet) has been yielded;
/// on `Error::Cut`, check it is real and resume from what the log holds.
fn follow_until(dir: PathBuf, target: Arc<AtomicU64>) -> Followed {
    let mut follower = Follower::open(&dir, 0).unwrap();
    let mut records: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut cuts = 0;
    loop {
        let t = target.load(Ordering::SeqCst);
        if t != 0 && records.last().is_some_and(|r| r.0 == t) {
            return Followed { records, cuts };
        }
        match follower.next_timeout(Duration::from_millis(100)) {
            Ok(Some(r)) => {
                check_payload(&r);
                assert_eq!(r.txid, records.len() as u64 + 1, "out of order");
                records.push((r.txid, r.payload));
            }
            Ok(None) => {}
            Err(Error::Cut { txid, .. }) => {
                cuts += 1;
                assert_eq!(records.last().map(|r| r.0), Some(txid));
                let (log, _) = RecordLogReader::open(&dir).unwrap().scan().unwrap();
                let common = records
                    .iter()
                    .zip(&log)
                    .take_while(|(a, b)| a.0 == b.txid && a.1 == b.payload)
                    .count();
                assert!(
                    common < records.len(),
                    "Cut reported at txid {txid}, yet the log still holds all {} records yielded",
                    records.len()
                );
                records.truncate(common);
                follower = Follower::open(&dir, common as u64 + 1).unwrap();
            }
            Err(e) => panic!("follower: {e}"),
        }
    }
}

#[test]
fn a_follower_survives_50_writer_kills_and_torn_tails() {
    if child_mode().is_some() {
        return;
    }
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("store");
    RecordLog::open(&dir).unwrap();
    let seed = reliability_support::seed("writer kills");
    let mut rng = Rng::new(seed);
    let target = Arc::new(AtomicU64::new(0));
    let follower = {
        let (dir, target) = (dir.clone(), Arc::clone(&target));
        std::thread::spawn(move || follow_until(dir, target))
    };
    let mut damages = std::collections::BTreeMap::new();
    for generation in 1..=50u64 {
        let child = ChildProc::spawn(
            "child_entry",
            "writer",
            &dir,
            &[
                ("DATAWAL_CHILD_SEED", (seed ^ generation).to_string()),
                ("DATAWAL_GENERATION", generation.to_string()),
            ],
        );
        while !child
            .lines
            .recv_timeout(Duration::from_secs(20))
            .unwrap()
            .starts_with("READY")
        {}
        std::thread::sleep(Duration::from_micros(rng.range(1_000, 15_000)));
        child.kill();
        *damages.entry(damage_tail(&dir, &mut rng)).or_insert(0) += 1;
    }
    // A last writer repairs what the last kill left and ends the log.
    let mut log = RecordLog::open(&dir).unwrap();
    let end = log.next_txid();
    log.append(&payload(end, 51)).unwrap();
    log.fsync().unwrap();
    drop(log);
    target.store(end, Ordering::SeqCst);
    let followed = follower.join().unwrap();
    let log = final_log(&dir);
    assert!(
        followed.records == log,
        "the follower's output differs from the final log"
    );
    eprintln!(
        "{} records, {} segments, damage {damages:?}, {} cuts reported and resumed",
        log.len(),
        list_segments(&dir).unwrap().len(),
        followed.cuts
    );
    assert!(log.len() > 500, "{}", log.len());
}

#[test]
fn a_named_consumer_killed_200_times_resumes_after_its_commit() {
    if child_mode().is_some() {
        return;
    }
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("store");
    let mut log = RecordLog::open(&dir).unwrap();
    let seed = reliability_support::seed("consumer kills");
    let mut rng = Rng::new(seed);
    let mut committed = 0u64;
    let (mut in_flight_kept, mut in_flight_lost, mut idle_kills) = (0, 0, 0);
    for round in 0..200 {
        for _ in 0..rng.range(0, 12) {
            let txid = log.next_txid();
            log.append(&payload(txid, 0)).unwrap();
        }
        let child = ChildProc::spawn(
            "child_entry",
            "consumer",
            &dir,
            &[("DATAWAL_CHILD_SEED", "0".into())],
        );
        // Kill after a random number of lines (or when it went idle), then
        // a random moment more.
        let protocol = ["START ", "GOT ", "COMMITTING ", "COMMITTED "];
        let is_protocol = |l: &str| protocol.iter().any(|p| l.starts_with(p));
        let mut lines = Vec::new();
        let wanted = rng.range(0, 10) as usize;
        while lines.iter().filter(|l: &&String| is_protocol(l)).count() < wanted {
            match child.lines.recv_timeout(Duration::from_millis(100)) {
                Ok(l) => lines.push(l),
                Err(_) => {
                    idle_kills += 1;
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_micros(rng.below(3_000)));
        lines.extend(child.kill());
        let lines: Vec<&str> = lines
            .iter()
            .map(|l| l.as_str())
            .filter(|l| is_protocol(l))
            .collect();

        // The child started right after the last commit.
        if let Some(start) = lines.first() {
            assert_eq!(*start, format!("START {committed}"), "round {round}");
        }
        let got: Vec<u64> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("GOT "))
            .map(|t| t.parse().unwrap())
            .collect();
        let want: Vec<u64> = (committed + 1..committed + 1 + got.len() as u64).collect();
        assert_eq!(got, want, "round {round}: not the records after the commit");
        // The offset on disk: the last commit that returned, or the one in
        // flight when the child died; never anything else.
        let mut last_done = committed;
        let mut in_flight = None;
        for l in &lines {
            if let Some(t) = l.strip_prefix("COMMITTING ") {
                in_flight = Some(t.parse::<u64>().unwrap());
            } else if let Some(t) = l.strip_prefix("COMMITTED ") {
                last_done = t.parse().unwrap();
                in_flight = None;
            }
        }
        let on_disk = consumers(&dir).unwrap().first().map_or(0, |c| c.txid);
        if Some(on_disk) == in_flight {
            in_flight_kept += 1;
        } else {
            assert_eq!(
                on_disk, last_done,
                "round {round}: offset {on_disk}, lines {lines:?}"
            );
            if in_flight.is_some() {
                in_flight_lost += 1;
            }
        }
        committed = on_disk;
    }
    eprintln!(
        "200 kills: committed up to txid {committed} of {}; kills during a commit: {} kept \
         the new offset, {} the old; {idle_kills} kills of an idle consumer",
        log.next_txid() - 1,
        in_flight_kept,
        in_flight_lost
    );
    assert!(committed > 100, "{committed}");
    assert!(dir.join("consumers/c.offset").is_file());
}
