//! `datawal scan --follow` (records printed as a writer appends them) and
//! `datawal consumers` (named consumers and their offsets).

mod common;
use common::*;

use std::io::Read as _;
use std::process::{Command, Stdio};

use datawal_core::{Follower, RecordLog};

/// The command waits for records that do not exist yet: it exits only
/// once `--limit` records were printed, so the appends below must reach it.
#[test]
fn scan_follow_prints_records_as_they_are_appended() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    log.append(b"one").unwrap();
    log.append(b"two").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_datawal"))
        .args(["scan".as_ref(), td.path().as_os_str(), "--follow".as_ref()])
        .args(["--from-txid", "2", "--limit", "4"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    log.rotate().unwrap();
    log.append(b"three").unwrap();
    drop(log);
    let mut log = RecordLog::open(td.path()).unwrap();
    log.append(b"four").unwrap();
    log.append(b"five").unwrap();
    log.append(b"six").unwrap();
    let status = child.wait().unwrap();
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    assert!(status.success(), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    for (line, (txid, word)) in
        lines
            .iter()
            .zip([(2, "two"), (3, "three"), (4, "four"), (5, "five")])
    {
        assert!(
            line.ends_with(&format!("txid={txid} raw payload=\"{word}\"")),
            "{line}"
        );
    }
    assert!(lines[1].starts_with("00000002.dwal@0 "), "{}", lines[1]);
}

#[test]
fn consumers_lists_names_offsets_and_lag() {
    let td = tempfile::tempdir().unwrap();
    let r = datawal(["consumers".as_ref(), td.path().as_os_str()]);
    r.code(0);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("no named consumers"), "{}", r.stderr);
    let mut log = RecordLog::open(td.path()).unwrap();
    for p in [b"a", b"b", b"c", b"d"] {
        log.append(p).unwrap();
    }
    let mut c = Follower::open_named(td.path(), "projection").unwrap();
    c.try_next().unwrap();
    c.try_next().unwrap();
    c.commit(2).unwrap();
    drop(c);
    Follower::open_named(td.path(), "audit").unwrap();
    let r = datawal(["consumers".as_ref(), td.path().as_os_str()]);
    r.code(0);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    assert_eq!(
        r.stdout, "projection txid=2 behind=2 00000001.dwal@29\n",
        "{}",
        r.stdout
    );
    let r = datawal([
        "consumers".as_ref(),
        td.path().as_os_str(),
        "--json".as_ref(),
    ]);
    r.code(0);
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(v["name"], "projection");
    assert_eq!(v["txid"], 2);
    assert_eq!(v["behind"], 2);
    assert_eq!(v["segment"], 1);
    // A damaged offset file is named.
    std::fs::write(td.path().join("consumers/projection.offset"), b"garbage").unwrap();
    let r = datawal(["consumers".as_ref(), td.path().as_os_str()]);
    r.code(6)
        .one_line_error(&["projection.offset", "no check line"]);
}

/// Records the follower needs were removed: it says so and exits 6,
/// instead of starting silently at the oldest record left.
#[test]
fn scan_follow_from_a_removed_txid_is_an_error() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    for p in [b"a", b"b", b"c"] {
        log.append(p).unwrap();
        log.rotate().unwrap();
    }
    log.truncate_before(3).unwrap();
    drop(log);
    let r = datawal([
        "scan".as_ref(),
        td.path().as_os_str(),
        "--follow".as_ref(),
        "--from-txid".as_ref(),
        "1".as_ref(),
    ]);
    r.code(6).one_line_error(&[
        "txid 1 is no longer in the log",
        "oldest record left is txid 3",
    ]);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}
