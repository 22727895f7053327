//! `datawal export`: byte for byte what `DataWal::export_jsonl` writes,
//! without the writer lock and without changing the store.

mod common;
use common::*;
#[path = "../../datawal-core/tests/reliability_support/dir.rs"]
mod dir;
use dir::names;

fn export(dir: &std::path::Path, out: &std::path::Path) -> Run {
    datawal(["export".as_ref(), dir.as_os_str(), out.as_os_str()])
}

#[test]
fn same_bytes_as_the_library() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    kv_store(&store);
    let cli = td.path().join("cli.jsonl");
    let r = export(&store, &cli);
    r.code(0);
    assert!(r.stdout.is_empty() && r.stderr.is_empty());
    let lib = td.path().join("lib.jsonl");
    datawal_core::DataWal::open(&store)
        .unwrap()
        .export_jsonl(&lib)
        .unwrap();
    let cli = std::fs::read(&cli).unwrap();
    assert_eq!(cli, std::fs::read(&lib).unwrap());
    let text = String::from_utf8(cli).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.starts_with("{\"key_b64\":\"AP8=\",\"value_b64\":\"3q2+7w==\"}\n"),
        "{text}"
    );
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(td.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
}

#[test]
fn stdout_and_empty_store() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    let r = datawal(["export".as_ref(), td.path().as_os_str(), "-".as_ref()]);
    r.code(0);
    assert_eq!(r.stdout.lines().count(), 3);
    let empty = tempfile::tempdir().unwrap();
    let out = td.path().join("nested/dir/e.jsonl");
    export(empty.path(), &out).code(0);
    assert_eq!(std::fs::read(&out).unwrap(), b"");
}

#[test]
fn torn_tail_exports_the_valid_prefix_untouched() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    kv_store(&store);
    cut(&seg(&store, 1), 2);
    let before = snapshot(&store);
    let cli = td.path().join("cli.jsonl");
    export(&store, &cli).code(0);
    assert_eq!(snapshot(&store), before, "export must not repair");
    // The library's open repairs the tail, then exports the same pairs.
    let lib = td.path().join("lib.jsonl");
    datawal_core::DataWal::open(&store)
        .unwrap()
        .export_jsonl(&lib)
        .unwrap();
    assert_eq!(std::fs::read(&cli).unwrap(), std::fs::read(&lib).unwrap());
}

#[test]
fn overwrites_an_existing_file_atomically() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    kv_store(&store);
    let out = td.path().join("out.jsonl");
    std::fs::write(&out, b"old contents\n").unwrap();
    export(&store, &out).code(0);
    assert_eq!(
        String::from_utf8(std::fs::read(&out).unwrap())
            .unwrap()
            .lines()
            .count(),
        3
    );
}

#[test]
fn corruption_fails_and_leaves_no_output() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    two_segments(&store);
    flip(&seg(&store, 1), 30 + 24 + 1);
    let out = td.path().join("out.jsonl");
    export(&store, &out)
        .code(4)
        .one_line_error(&["00000001.dwal", "offset 30"]);
    assert!(!out.exists());
}

/// The pids the next processes are likely to get: the 2,000 after the last
/// one given out (Linux), or after this process's own.
fn next_pids() -> std::ops::RangeInclusive<u32> {
    let last = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(std::process::id);
    last + 1..=last + 2_000
}

#[test]
fn export_does_not_write_through_links_planted_at_predictable_names() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    kv_store(&store);
    let lib = td.path().join("lib.jsonl");
    datawal_core::DataWal::open(&store)
        .unwrap()
        .export_jsonl(&lib)
        .unwrap();
    let victim = td.path().join("victim");
    std::fs::write(&victim, "someone else's file\n").unwrap();
    let out_dir = td.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    // A link at the name the export used to write through,
    // `.{name}.tmp-{pid}`, for every pid the `datawal` process may get.
    let pids = next_pids();
    let planted = pids.clone().count();
    for pid in pids {
        let name = out_dir.join(format!(".out.jsonl.tmp-{pid}"));
        std::os::unix::fs::symlink(&victim, name).unwrap();
    }

    export(&store, &out_dir.join("out.jsonl")).code(0);

    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "someone else's file\n"
    );
    let out = out_dir.join("out.jsonl");
    assert!(std::fs::symlink_metadata(&out).unwrap().is_file());
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&lib).unwrap());
    assert_eq!(
        names(&out_dir).len(),
        planted + 1,
        "the links and out.jsonl"
    );
}

#[test]
fn a_failed_export_leaves_no_temporary() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    kv_store(&store);
    let out_dir = td.path().join("out");
    // The rename fails: the target is a directory that holds a file.
    let blocked = out_dir.join("out.jsonl");
    std::fs::create_dir_all(&blocked).unwrap();
    std::fs::write(blocked.join("keep"), "x").unwrap();
    export(&store, &blocked)
        .code(6)
        .one_line_error(&["out.jsonl"]);
    assert_eq!(names(&out_dir), ["out.jsonl"]);
    assert_eq!(names(&blocked), ["keep"]);
    // The output's directory cannot be created: a file is in the way.
    std::fs::write(out_dir.join("file"), "x").unwrap();
    export(&store, &out_dir.join("file/out.jsonl"))
        .code(6)
        .one_line_error(&["file"]);
    assert_eq!(names(&out_dir), ["file", "out.jsonl"]);
}
