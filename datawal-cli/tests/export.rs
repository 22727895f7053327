//! `datawal export`: byte for byte what `DataWal::export_jsonl` writes,
//! without the writer lock and without changing the store.

mod common;
use common::*;

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
