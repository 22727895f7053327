//! `datawal compact`: the same store `DataWal::compact_to` writes; takes the lock.

mod common;
use common::*;

fn compact(dir: &std::path::Path, out: &std::path::Path) -> Run {
    datawal(["compact".as_ref(), dir.as_os_str(), out.as_os_str()])
}

#[test]
fn same_segment_as_the_library() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    kv_store(&store);
    let out = td.path().join("c");
    let r = compact(&store, &out);
    r.code(0);
    assert!(
        r.stdout.contains(": 3 live keys, 3 records, "),
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
    compact(&store, &out).code(6).one_line_error(&["not empty"]);
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
    let r = compact(&store, &td.path().join("c"));
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
    let r = compact(&store, &td.path().join("c"));
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
