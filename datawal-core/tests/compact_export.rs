//! `compact_to` and `export_jsonl`: outputs complete before they are in place.

use std::fs;

use datawal_core::{DataWal, Error};
#[path = "reliability_support/dir.rs"]
mod dir;
use dir::names;

fn store(dir: &std::path::Path) -> DataWal {
    let mut kv = DataWal::open(dir).unwrap();
    kv.put(b"b", b"2").unwrap();
    kv.put(b"a", b"1").unwrap();
    kv.delete(b"zzz").unwrap();
    kv.fsync().unwrap();
    kv
}

#[test]
fn compact_refuses_a_non_empty_target_and_a_file() {
    let td = tempfile::tempdir().unwrap();
    let kv = store(&td.path().join("src"));
    fs::create_dir(td.path().join("full")).unwrap();
    fs::write(td.path().join("full/keep.txt"), b"mine").unwrap();
    assert!(matches!(
        kv.compact_to(td.path().join("full")),
        Err(Error::TargetNotEmpty { .. })
    ));
    assert_eq!(fs::read(td.path().join("full/keep.txt")).unwrap(), b"mine");
    fs::write(td.path().join("file"), b"").unwrap();
    assert!(matches!(
        kv.compact_to(td.path().join("file")),
        Err(Error::NotADirectory { .. })
    ));
    // The source store is refused as a target too.
    assert!(matches!(
        kv.compact_to(td.path().join("src")),
        Err(Error::TargetNotEmpty { .. })
    ));
}

#[test]
fn compact_into_an_existing_empty_directory_and_reopen() {
    let td = tempfile::tempdir().unwrap();
    let kv = store(&td.path().join("src"));
    fs::create_dir(td.path().join("out")).unwrap();
    let stats = kv.compact_to(td.path().join("out")).unwrap();
    assert_eq!((stats.live_keys, stats.records_written), (2, 2));
    let out = DataWal::open(td.path().join("out")).unwrap();
    assert_eq!(out.items().unwrap(), kv.items().unwrap());
    let leftovers: Vec<_> = fs::read_dir(td.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("compacting"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_failing_transform_leaves_no_target_behind() {
    let td = tempfile::tempdir().unwrap();
    let kv = store(&td.path().join("src"));
    let err = kv
        .compact_to_with(td.path().join("out"), |k, v| {
            if k == b"b" {
                Err("cannot upgrade".into())
            } else {
                Ok(v)
            }
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("cannot upgrade") && err.to_string().contains("\"b\""),
        "{err}"
    );
    assert!(!td.path().join("out").exists());
    let stats = kv
        .compact_to_with(td.path().join("out"), |_, mut v| {
            v.push(b'!');
            Ok(v)
        })
        .unwrap();
    assert_eq!(stats.live_keys, 2);
    let out = DataWal::open(td.path().join("out")).unwrap();
    assert_eq!(out.get(b"a").unwrap(), Some(b"1!".to_vec()));
}

#[test]
fn export_replaces_the_old_file_whole() {
    let td = tempfile::tempdir().unwrap();
    let kv = store(&td.path().join("src"));
    let out = td.path().join("nested/dir/export.jsonl");
    kv.export_jsonl(&out).unwrap();
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        "{\"key_b64\":\"YQ==\",\"value_b64\":\"MQ==\"}\n{\"key_b64\":\"Yg==\",\"value_b64\":\"Mg==\"}\n"
    );
    let names: Vec<_> = fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "no temporary left: {names:?}");
}

/// The name every export used to write through: `.{name}.tmp-{pid}`.
fn old_export_temporary(out: &std::path::Path) -> std::path::PathBuf {
    let name = out.file_name().unwrap().to_string_lossy();
    out.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

#[test]
fn export_does_not_write_through_a_symlink_planted_at_a_predictable_name() {
    let td = tempfile::tempdir().unwrap();
    let kv = store(&td.path().join("src"));
    let victim = td.path().join("victim");
    fs::write(&victim, b"someone else's file\n").unwrap();
    let out_dir = td.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("export.jsonl");
    let planted = old_export_temporary(&out);
    std::os::unix::fs::symlink(&victim, &planted).unwrap();

    kv.export_jsonl(&out).unwrap();

    assert_eq!(
        fs::read_to_string(&victim).unwrap(),
        "someone else's file\n"
    );
    assert!(
        fs::symlink_metadata(&out).unwrap().is_file(),
        "out is a file"
    );
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        "{\"key_b64\":\"YQ==\",\"value_b64\":\"MQ==\"}\n{\"key_b64\":\"Yg==\",\"value_b64\":\"Mg==\"}\n"
    );
    // The planted link is not ours to remove; nothing else is left.
    assert_eq!(
        names(&out_dir),
        [
            planted.file_name().unwrap().to_string_lossy().into_owned(),
            "export.jsonl".into()
        ]
    );
}

#[test]
fn a_failed_export_leaves_no_temporary_and_the_target_untouched() {
    let td = tempfile::tempdir().unwrap();
    let kv = store(&td.path().join("src"));
    let out_dir = td.path().join("out");
    fs::create_dir(&out_dir).unwrap();

    // The rename fails: the target is a directory that holds a file.
    let blocked = out_dir.join("blocked.jsonl");
    fs::create_dir(&blocked).unwrap();
    fs::write(blocked.join("keep"), b"x").unwrap();
    let err = kv.export_jsonl(&blocked).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert_eq!(names(&out_dir), ["blocked.jsonl"], "files left: {err}");
    assert_eq!(fs::read(blocked.join("keep")).unwrap(), b"x");

    // A value that cannot be read back fails the export part-way.
    let out = out_dir.join("export.jsonl");
    fs::write(&out, b"old\n").unwrap();
    let segment = td.path().join("src/00000001.dwal");
    let mut bytes = fs::read(&segment).unwrap();
    // The payload of the second record, `a` = `1` (after a 30-byte frame,
    // a 24-byte header and a 1-byte key).
    bytes[30 + 24 + 1] ^= 0xff;
    fs::write(&segment, &bytes).unwrap();
    let err = kv.export_jsonl(&out).unwrap_err();
    assert!(err.is_corrupt(), "{err}");
    assert_eq!(names(&out_dir), ["blocked.jsonl", "export.jsonl"]);
    assert_eq!(fs::read(&out).unwrap(), b"old\n");
}

#[test]
fn compaction_leaves_a_directory_at_its_old_temporary_name_alone() {
    let td = tempfile::tempdir().unwrap();
    let kv = store(&td.path().join("src"));
    let out = td.path().join("out");
    // Someone else's directory where compaction used to build.
    let planted = td
        .path()
        .join(format!(".out.compacting-{}", std::process::id()));
    fs::create_dir(&planted).unwrap();
    fs::write(planted.join("theirs"), b"keep me").unwrap();
    let victim = td.path().join("victim");
    fs::create_dir(&victim).unwrap();
    let linked = td
        .path()
        .join(format!(".linked.compacting-{}", std::process::id()));
    std::os::unix::fs::symlink(&victim, &linked).unwrap();

    assert_eq!(kv.compact_to(&out).unwrap().live_keys, 2);
    assert_eq!(
        kv.compact_to(td.path().join("linked")).unwrap().live_keys,
        2
    );

    assert_eq!(fs::read(planted.join("theirs")).unwrap(), b"keep me");
    assert!(fs::symlink_metadata(&linked).unwrap().is_symlink());
    assert!(names(&victim).is_empty(), "{:?}", names(&victim));
    for dir in [out, td.path().join("linked")] {
        assert_eq!(
            DataWal::open(&dir).unwrap().items().unwrap(),
            kv.items().unwrap()
        );
    }
    let mut expected = vec![
        planted.file_name().unwrap().to_string_lossy().into_owned(),
        linked.file_name().unwrap().to_string_lossy().into_owned(),
        "linked".into(),
        "out".into(),
        "src".into(),
        "victim".into(),
    ];
    expected.sort();
    assert_eq!(names(td.path()), expected);
}
