//! `compact_to` and `export_jsonl`: outputs complete before they are in place.

use std::fs;

use datawal_core::{DataWal, Error};

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
