//! Real I/O faults: a child process runs under `RLIMIT_FSIZE` (with
//! `SIGXFSZ` ignored), so a write that would grow a file past the limit
//! writes what fits and then fails with `EFBIG`, exactly as a full disk or a
//! quota would. The child checks the handle's behaviour (a clear `Io` error,
//! then `Error::Poisoned` on every later write, reads still working); the
//! parent then checks the disk: nothing acknowledged is lost, reopening
//! recovers the valid prefix, and `compact_to` / `export_jsonl` never leave
//! a half-written output in place of a good one.
//!
//! fsync itself cannot be made to fail this way (it never grows a file), so
//! a failing fsync is not exercised here; see `docs/reliability.md`.

mod reliability_support;

use std::fs;
use std::path::{Path, PathBuf};

use datawal_core::segment::{list_segments, segment_path};
use datawal_core::{DataWal, Error, RecordLog, RecordLogReader, RecordType};
use reliability_support::{child_dir, child_mode, env_u64, say, ChildProc, Rng};

/// Limit this process's file size to `bytes` and make an over-limit write
/// return `EFBIG` instead of killing the process with `SIGXFSZ`.
fn limit_file_size(bytes: u64) {
    // SAFETY: plain libc calls with valid arguments; `rlimit` is a POD struct
    // fully initialised before use.
    unsafe {
        assert_ne!(libc::signal(libc::SIGXFSZ, libc::SIG_IGN), libc::SIG_ERR);
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut lim), 0);
        lim.rlim_cur = bytes as libc::rlim_t;
        assert_eq!(
            libc::setrlimit(libc::RLIMIT_FSIZE, &lim),
            0,
            "setrlimit(RLIMIT_FSIZE) failed: {}",
            std::io::Error::last_os_error()
        );
    }
}

fn assert_efbig(err: &Error) {
    match err {
        Error::Io { source, .. } => assert_eq!(
            source.raw_os_error(),
            Some(libc::EFBIG),
            "expected EFBIG, got {err}"
        ),
        other => panic!("expected Error::Io(EFBIG), got {other:?}"),
    }
}

fn assert_poisoned(res: datawal_core::Result<impl std::fmt::Debug>) {
    match res {
        Err(Error::Poisoned { reason }) => {
            assert!(reason.contains("write failed"), "reason: {reason}");
            let msg = Error::Poisoned { reason }.to_string();
            assert!(msg.contains("reopen"), "message says what to do: {msg}");
        }
        other => panic!("expected Error::Poisoned, got {other:?}"),
    }
}

fn payload(seq: u64) -> Vec<u8> {
    let mut p = seq.to_le_bytes().to_vec();
    p.resize(150 + (seq % 7) as usize * 13, seq as u8);
    p
}

// ---------------------------------------------------------------- child

#[test]
fn child_entry() {
    let Some(mode) = child_mode() else { return };
    say("");
    let dir = child_dir();
    let extra = env_u64("DATAWAL_LIMIT_EXTRA");
    match mode.as_str() {
        "log" => child_log(&dir, extra),
        "kv" => child_kv(&dir, extra),
        "repair" => child_repair(&dir, extra),
        "compact" => child_compact(&dir, extra),
        "export" => child_export(&dir, extra),
        other => panic!("unknown mode {other}"),
    }
    say("CHILD_OK");
}

fn active_len(dir: &Path) -> u64 {
    let last = *list_segments(dir).unwrap().last().unwrap();
    fs::metadata(segment_path(dir, last)).unwrap().len()
}

/// Append and fsync until the limit is hit; then every write is refused as
/// poisoned and reads keep working.
fn child_log(dir: &Path, extra: u64) {
    let mut log = RecordLog::open(dir).unwrap();
    let before = log.scan().unwrap().len() as u64;
    limit_file_size(active_len(dir) + extra);
    let mut seq = 1_000;
    let err = loop {
        let res = if seq % 3 == 0 {
            let (a, b) = (payload(seq), payload(seq + 1));
            log.append_batch([
                (RecordType::Raw, &b""[..], &a[..]),
                (RecordType::Raw, &b""[..], &b[..]),
            ])
            .map(|r| r.len() as u64)
        } else {
            log.append(&payload(seq)).map(|_| 1)
        };
        match res {
            Ok(n) => {
                seq += n;
                log.fsync().unwrap();
                say(&format!("ACK {}", seq - 1));
            }
            Err(e) => break e,
        }
    };
    assert_efbig(&err);
    assert!(err.to_string().contains("append to segment"), "{err}");
    assert!(log.is_poisoned());
    assert_poisoned(log.append(b"more"));
    assert_poisoned(log.append_record(RecordType::Put, b"k", b"v"));
    assert_poisoned(log.append_batch([(RecordType::Raw, &b""[..], &b"x"[..])]));
    assert_poisoned(log.fsync());
    assert_poisoned(log.rotate());
    // Reads still work and see every acknowledged record. A batch is one
    // write but not atomic: when the limit cuts it, the frames before the
    // cut are complete and valid (at most one here, batches hold two).
    let n = log.scan().unwrap().len() as u64;
    let acked = before + (seq - 1_000);
    assert!(
        (acked..=acked + 1).contains(&n),
        "{n} records, {acked} acknowledged"
    );
    say(&format!("SCAN {n}"));
}

fn child_kv(dir: &Path, extra: u64) {
    let mut db = DataWal::open(dir).unwrap();
    limit_file_size(active_len(dir) + extra);
    let mut i = 0u64;
    let err = loop {
        let key = format!("key-{}", i % 50);
        match db.put(key.as_bytes(), &payload(i)) {
            Ok(()) => {
                db.fsync().unwrap();
                say(&format!("ACK {i}"));
                i += 1;
            }
            Err(e) => break e,
        }
    };
    assert_efbig(&err);
    assert_poisoned(db.put(b"k", b"v"));
    assert_poisoned(db.delete(b"key-1"));
    assert_poisoned(db.fsync());
    // Reads of acknowledged values still work.
    for j in i.saturating_sub(50)..i {
        let key = format!("key-{}", j % 50);
        assert_eq!(db.get(key.as_bytes()).unwrap(), Some(payload(j)));
    }
    say("GETS_OK");
}

/// Open a store whose torn tail is bigger than the limit: saving the tail
/// aside fails, so the open must fail without having truncated anything.
fn child_repair(dir: &Path, extra: u64) {
    limit_file_size(extra);
    match RecordLog::open(dir) {
        Err(e) => {
            assert_efbig(&e);
            say(&format!("OPEN_ERR {e}"));
        }
        Ok(_) => panic!("open must fail when the torn tail cannot be saved"),
    }
}

fn child_compact(dir: &Path, extra: u64) {
    let db = DataWal::open(dir).unwrap();
    let target = PathBuf::from(std::env::var_os("DATAWAL_TARGET").unwrap());
    limit_file_size(extra);
    let err = db.compact_to(&target).unwrap_err();
    assert_efbig(&err);
    say(&format!("COMPACT_ERR {err}"));
    // The source is still readable.
    assert!(!db.items().unwrap().is_empty());
}

fn child_export(dir: &Path, extra: u64) {
    let db = DataWal::open(dir).unwrap();
    let out = PathBuf::from(std::env::var_os("DATAWAL_TARGET").unwrap());
    limit_file_size(extra);
    let err = db.export_jsonl(&out).unwrap_err();
    assert_efbig(&err);
    say(&format!("EXPORT_ERR {err}"));
}

// ---------------------------------------------------------------- parent

fn is_child() -> bool {
    child_mode().is_some()
}

fn run_child(mode: &str, dir: &Path, extra: u64, target: Option<&Path>) -> Vec<String> {
    let mut env = vec![("DATAWAL_LIMIT_EXTRA", extra.to_string())];
    if let Some(t) = target {
        env.push(("DATAWAL_TARGET", t.display().to_string()));
    }
    let (lines, status) = ChildProc::spawn("child_entry", mode, dir, &env).wait();
    assert!(
        status.success(),
        "child {mode} failed ({status}): {lines:?}"
    );
    assert!(lines.iter().any(|l| l == "CHILD_OK"), "{lines:?}");
    lines
}

fn acked(lines: &[String]) -> Option<u64> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("ACK "))
        .map(|s| s.parse().unwrap())
        .max()
}

fn payloads(dir: &Path) -> Vec<Vec<u8>> {
    RecordLogReader::open(dir)
        .unwrap()
        .scan()
        .unwrap()
        .0
        .into_iter()
        .map(|r| r.payload)
        .collect()
}

#[test]
fn write_past_the_file_size_limit_poisons_and_loses_nothing_acknowledged() {
    if is_child() {
        return;
    }
    let mut rng = Rng::new(reliability_support::seed("fault_log"));
    let mut torn = 0;
    let mut clean = 0;
    let mut batch_prefix = 0;
    for round in 0..8 {
        let td = tempfile::tempdir().unwrap();
        let dir = td.path().join("log");
        {
            let mut log = RecordLog::open(&dir).unwrap();
            log.append(b"before").unwrap();
            log.fsync().unwrap();
        }
        // Round 0: the limit falls exactly on a frame boundary (nothing of
        // the failing frame is written); otherwise anywhere.
        let extra = if round == 0 { 0 } else { rng.range(1, 3_000) };
        let lines = run_child("log", &dir, extra, None);
        let last_ack = acked(&lines);
        let mut log = RecordLog::open(&dir).unwrap();
        let report = log.recovery_report().unwrap();
        match &report.tail {
            Some(t) => {
                torn += 1;
                assert!(t.saved_to.as_ref().unwrap().exists());
            }
            None => clean += 1,
        }
        let got = log.scan().unwrap();
        assert_eq!(got[0].payload, b"before");
        let want: Vec<Vec<u8>> =
            last_ack.map_or(Vec::new(), |a| (1_000..=a).map(payload).collect());
        let got: Vec<Vec<u8>> = got[1..].iter().map(|r| r.payload.clone()).collect();
        assert_eq!(
            &got[..want.len()],
            &want[..],
            "acknowledged records differ (round {round})"
        );
        // Beyond them, at most the first frame of the batch the limit cut.
        let next = last_ack.map_or(1_000, |a| a + 1);
        assert!(
            got.len() <= want.len() + 1,
            "round {round}: {} extra",
            got.len() - want.len()
        );
        if got.len() > want.len() {
            assert_eq!(got[want.len()], payload(next));
            batch_prefix += 1;
        }
        // Appending continues after the fault.
        log.append(b"after").unwrap();
        log.fsync().unwrap();
        drop(log);
        assert_eq!(payloads(&dir).last().unwrap(), b"after");
    }
    eprintln!(
        "fsize log: 8 faults, {torn} left a partial frame (torn tail repaired), {clean} clean, \
         {batch_prefix} kept the first record of the batch the limit cut"
    );
    assert!(torn > 0, "no round produced a partial write");
}

#[test]
fn data_wal_put_past_the_limit_poisons_reads_still_work() {
    if is_child() {
        return;
    }
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("kv");
    DataWal::open(&dir).unwrap().put(b"first", b"1").unwrap();
    let lines = run_child("kv", &dir, 4_321, None);
    assert!(lines.iter().any(|l| l == "GETS_OK"));
    let last = acked(&lines).expect("some puts were acknowledged");
    let db = DataWal::open(&dir).unwrap();
    assert_eq!(db.get(b"first").unwrap().as_deref(), Some(&b"1"[..]));
    for j in last.saturating_sub(49)..=last {
        let key = format!("key-{}", j % 50);
        assert_eq!(db.get(key.as_bytes()).unwrap(), Some(payload(j)));
    }
}

#[test]
fn torn_tail_that_cannot_be_saved_aside_fails_the_open_and_changes_nothing() {
    if is_child() {
        return;
    }
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("log");
    {
        let mut log = RecordLog::open(&dir).unwrap();
        for i in 0..5u64 {
            log.append(&payload(i)).unwrap();
        }
        log.fsync().unwrap();
    }
    let seg = segment_path(&dir, 1);
    let mut bytes = fs::read(&seg).unwrap();
    let good_len = bytes.len();
    // A torn frame of 2,000 bytes: header and part of a large payload.
    let f = reliability_support::frame(RecordType::Raw, 6, b"", &[9u8; 4_000]);
    bytes.extend_from_slice(&f[..2_000]);
    fs::write(&seg, &bytes).unwrap();
    let lines = run_child("repair", &dir, 100, None);
    assert!(lines.iter().any(|l| l.starts_with("OPEN_ERR")), "{lines:?}");
    assert_eq!(
        fs::read(&seg).unwrap(),
        bytes,
        "segment changed by a failed repair"
    );
    // Without the limit the repair succeeds and keeps every record.
    let log = RecordLog::open(&dir).unwrap();
    let tail = log.recovery_report().unwrap().tail.unwrap();
    assert_eq!((tail.offset, tail.bytes), (good_len as u64, 2_000));
    assert_eq!(fs::read(tail.saved_to.unwrap()).unwrap(), &f[..2_000]);
    drop(log);
    assert_eq!(payloads(&dir), (0..5).map(payload).collect::<Vec<_>>());
}

fn big_store(dir: &Path, keys: u64) {
    let mut db = DataWal::open(dir).unwrap();
    for i in 0..keys {
        db.put(format!("key-{i:04}").as_bytes(), &vec![b'x'; 1_000])
            .unwrap();
    }
    db.fsync().unwrap();
}

#[test]
fn compact_to_past_the_limit_leaves_no_target_and_no_temporary() {
    if is_child() {
        return;
    }
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("kv");
    big_store(&dir, 300);
    // Absent target stays absent; an empty target stays empty.
    let absent = td.path().join("compacted");
    let empty = td.path().join("empty-target");
    fs::create_dir(&empty).unwrap();
    for (target, existed) in [(&absent, false), (&empty, true)] {
        let lines = run_child("compact", &dir, 50_000, Some(target));
        assert!(
            lines.iter().any(|l| l.starts_with("COMPACT_ERR")),
            "{lines:?}"
        );
        if existed {
            assert_eq!(fs::read_dir(target).unwrap().count(), 0, "target not empty");
        } else {
            assert!(!target.exists(), "a failed compaction left {target:?}");
        }
    }
    let leftovers: Vec<String> = fs::read_dir(td.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("compacting"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary directories left: {leftovers:?}"
    );
    // The source is intact and a compaction without the limit succeeds.
    let db = DataWal::open(&dir).unwrap();
    assert_eq!(db.len(), 300);
    db.compact_to(&absent).unwrap();
    assert_eq!(DataWal::open(&absent).unwrap().len(), 300);
}

#[test]
fn export_past_the_limit_keeps_the_previous_file_intact() {
    if is_child() {
        return;
    }
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("kv");
    big_store(&dir, 20);
    let out = td.path().join("export.jsonl");
    DataWal::open(&dir).unwrap().export_jsonl(&out).unwrap();
    let old = fs::read(&out).unwrap();
    big_store(&dir, 300);
    let lines = run_child("export", &dir, 50_000, Some(&out));
    assert!(
        lines.iter().any(|l| l.starts_with("EXPORT_ERR")),
        "{lines:?}"
    );
    assert_eq!(fs::read(&out).unwrap(), old, "previous export damaged");
    let leftovers: Vec<String> = fs::read_dir(td.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}
