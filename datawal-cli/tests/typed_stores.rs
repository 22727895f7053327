//! The CLI reads typed stores (issue #17): every golden store of
//! `datawal-typed/tests/fixtures/stores` (each codec, several versions,
//! with and without a description) scanned and exported decoded, compared
//! with committed expected output and with the typed layer's own decoding
//! (`datawal-typed/tests/fixtures/decoded`); typed keys given as text; and
//! `export --decoded` loaded by DuckDB.
//!
//! The expected files under `tests/fixtures/typed/` are never rewritten by
//! a normal run: `DATAWAL_BLESS=1 cargo test -p datawal-cli --test
//! typed_stores` writes them, to be reviewed as a diff.

mod common;
use common::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use datawal_typed::{Codec, Options, Record, TypedLog, TypedWal};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The golden stores of the typed layer.
const STORES: [&str; 7] = [
    "described-audit",
    "described-log",
    "described-mixed",
    "described-wal",
    "mixed-log",
    "order-log",
    "order-wal",
];

fn typed_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../datawal-typed/tests/fixtures")
}

fn expected_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/typed")
}

/// A copy of golden store `name` in `into` (the CLI reads without writing;
/// the copy makes sure of it).
fn copy_store(name: &str, into: &Path) -> PathBuf {
    let to = into.join(name);
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(typed_fixtures().join("stores").join(name)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
    to
}

/// Compare `got` with the expected file `name`, or write it under
/// `DATAWAL_BLESS=1`.
#[track_caller]
fn expect_file(name: &str, got: &str) {
    let path = expected_dir().join(name);
    if std::env::var_os("DATAWAL_BLESS").is_some() {
        std::fs::create_dir_all(expected_dir()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (DATAWAL_BLESS=1 writes it)", path.display()));
    assert_eq!(got, want, "{} differs", path.display());
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn scan_and_export_decode_every_golden_store() {
    let td = tempfile::tempdir().unwrap();
    for name in STORES {
        let dir = copy_store(name, td.path());
        let scan = datawal(["scan".as_ref(), dir.as_os_str()]);
        scan.code(0);
        expect_file(&format!("{name}.scan.txt"), &scan.stdout);
        let json = datawal(["scan".as_ref(), "--json".as_ref(), dir.as_os_str()]);
        json.code(0);
        expect_file(&format!("{name}.scan.jsonl"), &json.stdout);
        let export = datawal(["export", "--decoded", dir.to_str().unwrap(), "-"]);
        export.code(0);
        expect_file(&format!("{name}.export.jsonl"), &export.stdout);
    }
}

/// The fields both decoders fill, of a row that decoded.
fn decoded_fields(row: &Value) -> Option<Value> {
    row.get("value")?;
    let pick = [
        "txid",
        "record_type",
        "type",
        "version",
        "codec",
        "value",
        "key",
    ];
    Some(Value::Object(
        pick.iter()
            .filter_map(|k| Some((k.to_string(), row.get(*k)?.clone())))
            .collect(),
    ))
}

/// The typed layer's decoded rows (every record), folded to the live key
/// rows a key/value export holds: the last put per key, deleted keys gone.
fn live_rows(rows: Vec<Value>) -> Vec<Value> {
    let mut live = BTreeMap::new();
    for row in rows {
        let key = row["key"].as_str().unwrap().to_owned();
        if row["record_type"] == "delete" {
            live.remove(&key);
        } else {
            live.insert(key, row);
        }
    }
    live.into_values().collect()
}

#[test]
fn export_decoded_agrees_with_the_typed_layers_decoding() {
    let td = tempfile::tempdir().unwrap();
    let mut compared = 0;
    for name in STORES {
        let dir = copy_store(name, td.path());
        let ours = lines(&datawal(["export", "--decoded", dir.to_str().unwrap(), "-"]).stdout);
        let file = typed_fixtures()
            .join("decoded")
            .join(format!("{name}.jsonl"));
        let theirs = lines(&std::fs::read_to_string(file).unwrap());
        if name.ends_with("-wal") && theirs.iter().any(|r| r.get("key").is_none()) {
            // Keys without a description have no text form to fold by.
            continue;
        }
        let (ours, theirs) = if name.ends_with("-wal") {
            // Live keys in txid order, for both.
            let mut ours = ours;
            ours.sort_by_key(|r| r["txid"].as_u64());
            let mut live = live_rows(theirs);
            live.sort_by_key(|r| r["txid"].as_u64());
            (ours, live)
        } else {
            (ours, theirs)
        };
        assert_eq!(ours.len(), theirs.len(), "{name}: rows");
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a["txid"], b["txid"], "{name}");
            if let (Some(a), Some(b)) = (decoded_fields(a), decoded_fields(b)) {
                assert_eq!(a, b, "{name}");
                compared += 1;
            }
        }
    }
    // Every row that decodes in both, across the seven stores.
    assert_eq!(compared, 18, "decoded rows compared");
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "run", version = 1)]
struct Run1 {
    #[record(key)]
    id: String,
    steps: u32,
}

#[test]
fn typed_keys_are_given_as_text() {
    let td = tempfile::tempdir().unwrap();
    let strings = td.path().join("strings");
    let mut kv = TypedWal::<String, Run1>::open(&strings).unwrap();
    let run = Run1 {
        id: "run-1".into(),
        steps: 3,
    };
    kv.put(&run.id, &run).unwrap();
    kv.fsync().unwrap();
    drop(kv);
    let get = datawal(["get", strings.to_str().unwrap(), "run-1"]);
    get.code(0);
    assert_eq!(
        get.stdout,
        "typed(type=run, version=1, codec=bincode) {\"id\":\"run-1\",\"steps\":3}\n"
    );
    let missing = datawal(["get", strings.to_str().unwrap(), "run-2"]);
    missing.code(1);
    assert!(
        missing.stderr.contains("key \"run-2\" is not live"),
        "{}",
        missing.stderr
    );
    let scan = datawal(["scan", strings.to_str().unwrap()]);
    assert!(
        scan.stdout.contains(" put key=\"run-1\" "),
        "{}",
        scan.stdout
    );

    let ints = td.path().join("ints");
    let mut kv = TypedWal::<u64, String>::open_with(&ints, Codec::Postcard).unwrap();
    kv.put(&42, &"answer".to_string()).unwrap();
    kv.fsync().unwrap();
    drop(kv);
    let get = datawal(["get", ints.to_str().unwrap(), "42"]);
    assert_eq!(
        get.code(0).stdout,
        "typed(type=String, version=1, codec=postcard) \"answer\"\n"
    );
    datawal(["get", ints.to_str().unwrap(), "forty-two"])
        .code(6)
        .one_line_error(&["\"forty-two\" is not a key of this store", "u64"]);

    let tuples = td.path().join("tuples");
    let mut kv = TypedWal::<(String, u32), u64>::open(&tuples).unwrap();
    kv.put(&("apples".to_string(), 1), &3).unwrap();
    kv.fsync().unwrap();
    drop(kv);
    let get = datawal(["get", tuples.to_str().unwrap(), r#"["apples",1]"#]);
    assert_eq!(
        get.code(0).stdout,
        "typed(type=u64, version=1, codec=bincode) 3\n"
    );
    let scan = datawal(["scan", tuples.to_str().unwrap()]);
    assert!(
        scan.stdout.contains(r#" key=["apples",1] "#),
        "{}",
        scan.stdout
    );
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "order", version = 1)]
struct Order {
    #[record(key)]
    id: u64,
    cents: u64,
    note: String,
}

#[test]
fn duckdb_loads_export_decoded() {
    if !duckdb_or_skip("duckdb_loads_export_decoded") {
        return;
    }
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("orders");
    let options = Options::default().codec(Codec::Bincode);
    let mut log = TypedLog::<Order>::open_with(&dir, options).unwrap();
    let n = 1000u64;
    for id in 1..=n {
        log.append(&Order {
            id,
            cents: id * 3,
            note: format!("order {id}"),
        })
        .unwrap();
    }
    log.fsync().unwrap();
    drop(log);
    let out = td.path().join("orders.jsonl");
    datawal([
        "export",
        "--decoded",
        dir.to_str().unwrap(),
        out.to_str().unwrap(),
    ])
    .code(0);
    let query = format!(
        "import duckdb\n\
         r = duckdb.sql(\"SELECT count(*), sum(value.cents), min(txid), max(version), \
         count(DISTINCT type) FROM read_json_auto('{}')\").fetchall()[0]\n\
         print(*r)",
        out.display()
    );
    let py = std::process::Command::new("python3")
        .args(["-c", &query])
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    let sum: u64 = (1..=n).map(|id| id * 3).sum();
    assert_eq!(
        String::from_utf8_lossy(&py.stdout).trim(),
        format!("{n} {sum} 1 1 1")
    );
}
