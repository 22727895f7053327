//! Missing directories, files instead of directories, bad usage, and `--help`:
//! one clear line and a distinct exit code, never a panic.

mod common;
use common::*;

/// Every subcommand with the store directory `dir` and an output under `tmp`.
fn every_command(dir: &std::path::Path, tmp: &std::path::Path) -> Vec<Vec<std::ffi::OsString>> {
    let d = dir.as_os_str().to_owned();
    let out = tmp.join("out").into_os_string();
    vec![
        vec!["stat".into(), d.clone()],
        vec!["verify".into(), d.clone()],
        vec!["scan".into(), d.clone()],
        vec!["get".into(), d.clone(), "k".into()],
        vec!["export".into(), d.clone(), out.clone()],
        vec!["compact".into(), d, out],
    ]
}

#[test]
fn missing_directory() {
    let td = tempfile::tempdir().unwrap();
    let missing = td.path().join("no-store");
    for args in every_command(&missing, td.path()) {
        datawal(&args)
            .code(6)
            .one_line_error(&["no such store directory", &missing.display().to_string()]);
        assert!(!missing.exists(), "{args:?} created the store");
    }
}

#[test]
fn file_instead_of_directory() {
    let td = tempfile::tempdir().unwrap();
    let file = td.path().join("00000001.dwal");
    std::fs::write(&file, b"DWAL").unwrap();
    for args in every_command(&file, td.path()) {
        datawal(&args)
            .code(6)
            .one_line_error(&["is not a directory", &file.display().to_string()]);
    }
    assert_eq!(std::fs::read(&file).unwrap(), b"DWAL");
}

#[test]
fn usage_errors_exit_2() {
    let r = datawal(["frobnicate"]);
    r.code(2);
    assert!(r.stderr.contains("unrecognized subcommand"), "{}", r.stderr);
    datawal(["scan"]).code(2);
    datawal(["scan", "/tmp", "--limit", "many"]).code(2);
    datawal(["get", "/tmp", "k", "--hex", "--base64"]).code(2);
    datawal(Vec::<&str>::new()).code(2);
}

#[test]
fn help_documents_the_exit_codes() {
    let r = datawal(["--help"]);
    r.code(0);
    for needle in [
        "Exit codes:",
        "  0 ",
        "  1 ",
        "  3 ",
        "  4 ",
        "  5 ",
        "  6 ",
        "  7 ",
    ] {
        assert!(
            r.stdout.contains(needle),
            "--help lacks {needle:?}:\n{}",
            r.stdout
        );
    }
    for sub in ["stat", "verify", "scan", "get", "export", "compact"] {
        assert!(r.stdout.contains(sub), "--help lacks {sub}");
        let h = datawal([sub, "--help"]);
        h.code(0);
        assert!(
            h.stdout.contains("Exit codes:"),
            "{sub} --help:\n{}",
            h.stdout
        );
    }
    let v = datawal(["verify", "--help"]);
    assert!(v.stdout.contains("torn tail"), "{}", v.stdout);
    datawal(["--version"]).code(0);
}

#[test]
fn unreadable_segment_is_an_error_not_a_panic() {
    let td = tempfile::tempdir().unwrap();
    // A directory named like a segment is not a segment: ignored.
    std::fs::create_dir(td.path().join("00000001.dwal")).unwrap();
    datawal(["verify".as_ref(), td.path().as_os_str()]).code(0);
    // Garbage that is not a frame at all, in the only segment.
    std::fs::write(
        td.path().join("00000002.dwal"),
        b"hello, this is not a store",
    )
    .unwrap();
    for sub in ["stat", "verify", "scan"] {
        datawal([sub.as_ref(), td.path().as_os_str()])
            .code(4)
            .one_line_error(&["00000002.dwal", "offset 0", "bad magic"]);
    }
}
