//! `TypedWal::export_jsonl` writes readable keys and values, one object per
//! line, sorted by key bytes, values upgraded to the latest version.

use datawal::{ReadPolicy, Record, TypedWal};
use serde::{Deserialize, Serialize};
#[path = "../datawal-core/tests/reliability_support/dir.rs"]
mod dir;
use dir::names;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "item", version = 1)]
struct ItemV1 {
    #[record(key)]
    sku: (String, i16),
    count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "item", version = 2, from = ItemV1)]
struct Item {
    #[record(key)]
    sku: (String, i16),
    count: u64,
    unit: String,
}

impl From<ItemV1> for Item {
    fn from(v1: ItemV1) -> Item {
        Item {
            sku: v1.sku,
            count: v1.count.into(),
            unit: "pcs".into(),
        }
    }
}

#[test]
fn export_is_readable_sorted_and_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let mut v1 = TypedWal::<(String, i16), ItemV1>::open(dir.path()).unwrap();
    v1.insert(&ItemV1 {
        sku: ("b".into(), -1),
        count: 2,
    })
    .unwrap();
    v1.insert(&ItemV1 {
        sku: ("a".into(), 5),
        count: 1,
    })
    .unwrap();
    let mut kv = TypedWal::<(String, i16), Item>::from_raw(v1.into_raw());
    kv.insert(&Item {
        sku: ("b".into(), -7),
        count: 9,
        unit: "kg".into(),
    })
    .unwrap();
    kv.delete(&("zzz".into(), 0)).unwrap();

    let out = dir.path().join("export").join("items.jsonl");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    kv.export_jsonl(&out).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        text,
        concat!(
            r#"{"key":["a",5],"value":{"sku":["a",5],"count":1,"unit":"pcs"}}"#,
            "\n",
            r#"{"key":["b",-7],"value":{"sku":["b",-7],"count":9,"unit":"kg"}}"#,
            "\n",
            r#"{"key":["b",-1],"value":{"sku":["b",-1],"count":2,"unit":"pcs"}}"#,
            "\n",
        )
    );
    for line in text.lines() {
        let _: serde_json::Value = serde_json::from_str(line).unwrap();
    }
    // No temporary file is left beside the export.
    let names: Vec<_> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["items.jsonl"]);
}

#[test]
fn a_failed_export_leaves_the_old_file_and_skip_reports() {
    let dir = tempfile::tempdir().unwrap();
    let mut kv = TypedWal::<u8, Item>::open(dir.path().join("db")).unwrap();
    let item = |s: &str, n: i16| Item {
        sku: (s.into(), n),
        count: 1,
        unit: "u".into(),
    };
    kv.put(&3, &item("x", 1)).unwrap();
    kv.put(&2, &item("y", 2)).unwrap();
    kv.raw_mut().put(&[1], b"garbage!garbage!").unwrap();
    let out = dir.path().join("out.jsonl");
    std::fs::write(&out, "old\n").unwrap();
    assert!(kv.export_jsonl(&out).is_err());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old\n");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "no temporary left"
    );

    kv.set_read_policy(ReadPolicy::Skip);
    kv.export_jsonl(&out).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(text.starts_with(r#"{"key":2,"#), "{text}");
    assert_eq!(kv.skipped().len(), 1);
    assert_eq!(kv.skipped()[0].location.key.as_deref(), Some(&[1u8][..]));
}

fn one_item_store(dir: &std::path::Path) -> TypedWal<u8, Item> {
    let mut kv = TypedWal::<u8, Item>::open(dir).unwrap();
    kv.put(
        &1,
        &Item {
            sku: ("x".into(), 1),
            count: 3,
            unit: "u".into(),
        },
    )
    .unwrap();
    kv
}

const ONE_ITEM: &str = "{\"key\":1,\"value\":{\"sku\":[\"x\",1],\"count\":3,\"unit\":\"u\"}}\n";

#[test]
fn export_does_not_write_through_a_symlink_planted_at_a_predictable_name() {
    let dir = tempfile::tempdir().unwrap();
    let kv = one_item_store(&dir.path().join("db"));
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "someone else's file\n").unwrap();
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("items.jsonl");
    // The name the typed export used to write through: `{name}.tmp-{pid}`.
    let planted = out_dir.join(format!("items.jsonl.tmp-{}", std::process::id()));
    std::os::unix::fs::symlink(&victim, &planted).unwrap();

    kv.export_jsonl(&out).unwrap();

    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "someone else's file\n"
    );
    assert!(std::fs::symlink_metadata(&out).unwrap().is_file());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), ONE_ITEM);
    let planted_name = planted.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(names(&out_dir), ["items.jsonl".to_owned(), planted_name]);
}

#[test]
fn an_export_that_cannot_be_renamed_into_place_leaves_no_temporary() {
    let dir = tempfile::tempdir().unwrap();
    let kv = one_item_store(&dir.path().join("db"));
    let out_dir = dir.path().join("out");
    let blocked = out_dir.join("items.jsonl");
    std::fs::create_dir_all(&blocked).unwrap();
    std::fs::write(blocked.join("keep"), "x").unwrap();
    let err = kv.export_jsonl(&blocked).unwrap_err();
    assert!(err.to_string().contains("items.jsonl"), "{err}");
    assert_eq!(names(&out_dir), ["items.jsonl"], "files left after: {err}");
    assert_eq!(names(&blocked), ["keep"]);
}
