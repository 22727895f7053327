//! `datawal compact`: the same store `DataWal::compact_to` writes; takes the
//! lock; refuses a store with raw log records unless told to drop them.

mod common;
use common::*;

fn compact(dir: &std::path::Path, out: &std::path::Path) -> Run {
    datawal(["compact".as_ref(), dir.as_os_str(), out.as_os_str()])
}

/// `compact --drop-raw-records`.
fn compact_dropping_raw(dir: &std::path::Path, out: &std::path::Path) -> Run {
    datawal([
        "compact".as_ref(),
        dir.as_os_str(),
        out.as_os_str(),
        "--drop-raw-records".as_ref(),
    ])
}

#[test]
fn same_segment_as_the_library() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    kv_store(&store);
    let out = td.path().join("c");
    let r = compact_dropping_raw(&store, &out);
    r.code(0);
    assert!(
        r.stdout.contains(": 3 live keys, 3 records, "),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.ends_with("; dropped 1 raw record\n"),
        "{}",
        r.stdout
    );
    let lib = td.path().join("lib");
    datawal_core::DataWal::open(&store)
        .unwrap()
        .compact_to(&lib)
        .unwrap();
    assert_eq!(
        std::fs::read(seg(&out, 1)).unwrap(),
        std::fs::read(seg(&lib, 1)).unwrap()
    );
    // The compacted store reads back.
    assert_eq!(
        datawal(["get".as_ref(), out.as_os_str(), "user:1".as_ref()])
            .code(0)
            .stdout,
        "\"ada lovelace\"\n"
    );
}

#[test]
fn locked_store_exits_5_and_writes_nothing() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    kv_store(&store);
    let _writer = datawal_core::DataWal::open(&store).unwrap();
    let out = td.path().join("c");
    compact(&store, &out).code(5).one_line_error(&[
        "is locked by a running writer",
        &store.display().to_string(),
    ]);
    assert!(!out.exists());
}

#[test]
fn store_locked_by_the_published_crate_exits_5() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    kv_store_015(&store);
    let _writer = datawal015::DataWal::open(&store).unwrap();
    compact(&store, &td.path().join("c"))
        .code(5)
        .one_line_error(&["locked"]);
}

#[test]
fn non_empty_target_is_refused() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    kv_store(&store);
    let out = td.path().join("c");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep"), b"x").unwrap();
    compact_dropping_raw(&store, &out)
        .code(6)
        .one_line_error(&["not empty"]);
    assert_eq!(std::fs::read(out.join("keep")).unwrap(), b"x");
}

#[test]
fn missing_or_non_store_directories_are_not_created() {
    let td = tempfile::tempdir().unwrap();
    let missing = td.path().join("nope");
    compact(&missing, &td.path().join("c"))
        .code(6)
        .one_line_error(&["no such store directory"]);
    assert!(!missing.exists(), "compact must not create the store");
    let plain = td.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    compact(&plain, &td.path().join("c"))
        .code(6)
        .one_line_error(&["no segment files"]);
    assert_eq!(std::fs::read_dir(&plain).unwrap().count(), 0);
}

#[test]
fn torn_tail_is_moved_aside_like_any_writer_open() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    kv_store(&store);
    cut(&seg(&store, 1), 2);
    let r = compact_dropping_raw(&store, &td.path().join("c"));
    r.code(0);
    assert!(
        r.stderr.starts_with("datawal: note: segment 00000001.dwal"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(".torn"), "{}", r.stderr);
    assert_eq!(
        datawal([
            "get".as_ref(),
            td.path().join("c").as_os_str(),
            "user:1".as_ref()
        ])
        .code(0)
        .stdout,
        "\"ada\"\n"
    );
}

#[test]
fn corrupt_store_exits_4() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    two_segments(&store);
    flip(&seg(&store, 1), 30 + 24 + 1);
    let out = td.path().join("c");
    compact(&store, &out)
        .code(4)
        .one_line_error(&["00000001.dwal", "offset 30"]);
    assert!(!out.exists());
}

#[test]
fn intact_records_cut_with_a_tail_are_counted() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    kv_store(&store);
    // A payload byte of the second record: five intact records follow.
    flip(&seg(&store, 1), 32 + 24 + 6);
    let r = compact_dropping_raw(&store, &td.path().join("c"));
    if r.code == 0 {
        // The core's recovery cuts everything after the first damage of the
        // last segment and keeps it aside: the note says what went with it.
        assert!(
            r.stderr
                .contains("(5 intact records after the damage went with it)"),
            "{}",
            r.stderr
        );
        let stat = datawal([
            "stat".as_ref(),
            td.path().join("c").as_os_str(),
            "--json".as_ref(),
        ]);
        assert!(
            stat.code(0).stdout.contains("\"live_keys\":0"),
            "{}",
            stat.stdout
        );
    } else {
        // A core that refuses to cut valid records reports corruption.
        r.code(4).one_line_error(&["00000001.dwal", "offset 32"]);
    }
}

/// A log of `n` raw records (`RecordLog::append`, no key).
fn raw_log(dir: &std::path::Path, n: usize) {
    let mut log = datawal_core::RecordLog::open(dir).unwrap();
    for i in 0..n {
        log.append(format!("event {i}").as_bytes()).unwrap();
    }
    log.fsync().unwrap();
}

#[test]
fn a_raw_log_is_refused_and_nothing_is_written() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    raw_log(&store, 3);
    // The segments (the writer's open rewrites only the pid in `.lock`).
    let segments = || {
        let mut s = snapshot(&store);
        s.retain(|(name, _)| name != ".lock");
        s
    };
    let before = segments();
    let out = td.path().join("c");
    compact(&store, &out).code(7).one_line_error(&[
        &store.display().to_string(),
        "3 raw log records",
        "--drop-raw-records",
        "no compacted store was written",
    ]);
    assert!(!out.exists(), "OUT_DIR created");
    // An existing empty OUT_DIR stays empty; the store is unchanged.
    std::fs::create_dir(&out).unwrap();
    compact(&store, &out).code(7);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    assert_eq!(segments(), before);
    assert_eq!(
        std::fs::read_dir(td.path()).unwrap().count(),
        2,
        "no temporary left beside OUT_DIR"
    );
}

#[test]
fn a_store_mixing_raw_records_and_keys_is_refused() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    kv_store(&store);
    raw_log(&store, 1);
    let out = td.path().join("c");
    compact(&store, &out)
        .code(7)
        .one_line_error(&["2 raw log records", "--drop-raw-records"]);
    assert!(!out.exists());
}

#[test]
fn drop_raw_records_compacts_and_says_how_many_were_dropped() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    raw_log(&store, 2);
    let mut db = datawal_core::DataWal::open(&store).unwrap();
    db.put(b"k", b"v").unwrap();
    db.fsync().unwrap();
    drop(db);
    raw_log(&store, 1);
    let out = td.path().join("c");
    let r = compact_dropping_raw(&store, &out);
    r.code(0);
    assert!(
        r.stdout.contains(": 1 live key, 1 record, ")
            && r.stdout.ends_with("; dropped 3 raw records\n"),
        "{}",
        r.stdout
    );
    let back = datawal_core::RecordLogReader::open(&out)
        .unwrap()
        .scan()
        .unwrap()
        .0;
    assert_eq!(back.len(), 1);
    assert_eq!(
        (&back[0].key[..], &back[0].payload[..]),
        (&b"k"[..], &b"v"[..])
    );
}

#[test]
fn a_key_value_store_compacts_as_before() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    two_segments(&store);
    let out = td.path().join("c");
    let r = compact(&store, &out);
    r.code(0);
    assert_eq!(
        r.stdout,
        format!(
            "compacted {} into {}: 3 live keys, 3 records, 90 bytes\n",
            store.display(),
            out.display()
        )
    );
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    let lib = td.path().join("lib");
    datawal_core::DataWal::open(&store)
        .unwrap()
        .compact_to(&lib)
        .unwrap();
    assert_eq!(
        std::fs::read(seg(&out, 1)).unwrap(),
        std::fs::read(seg(&lib, 1)).unwrap()
    );
}
