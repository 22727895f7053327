//! `datawal export DIR --parquet OUT` (cargo feature `parquet`), read back
//! by an independent reader: DuckDB's Python package (`pip install duckdb`;
//! .ci/run installs it). Without python3 and duckdb the test says so loudly
//! and returns, except in CI (`CI` or `DATAWAL_REQUIRE_DUCKDB=1`), where it
//! fails.

mod common;

use std::process::Command;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use common::{datawal, duckdb_or_skip, typed};
use datawal_core::{DataWal, RecordLog, RecordType};

const READ: &str = r#"
import base64, json, sys
import duckdb
rows = duckdb.sql(
    "select txid, type, key, payload, type_fingerprint, type_version, codec, value_json "
    "from read_parquet('" + sys.argv[1].replace("'", "''") + "') order by txid"
).fetchall()
for r in rows:
    print(json.dumps([r[0], r[1], base64.b64encode(r[2]).decode(), base64.b64encode(r[3]).decode(),
                      r[4], r[5], r[6], r[7]]))
"#;

/// Every record (puts and deletes with binary keys, a raw record, typed
/// records in JSON and postcard) comes back from DuckDB as the core's scan
/// has it: txid, type, key and payload bytes, and the envelope's columns.
#[test]
fn parquet_export_reads_back_in_duckdb_as_the_scan() {
    if !duckdb_or_skip("parquet_export_reads_back_in_duckdb_as_the_scan") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let mut db = DataWal::open(dir.path()).expect("open");
        for i in 0u32..70_000 {
            db.put(&[0, 255, (i % 200) as u8], &i.to_le_bytes())
                .expect("put");
        }
        db.delete(&[0, 255, 3]).expect("delete");
        db.fsync().expect("fsync");
    }
    {
        let mut log = RecordLog::open(dir.path()).expect("open");
        log.append(b"plain bytes").expect("append");
        log.append_record(
            RecordType::Put,
            b"order:1",
            &typed(3, 2, "order", br#"{"id":1,"cents":250}"#),
        )
        .expect("typed json");
        log.append(&typed(2, 1, "event", &[1, 2, 3]))
            .expect("typed postcard");
        log.fsync().expect("fsync");
    }
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path().join("records.parquet");
    let run = datawal([
        "export".as_ref(),
        dir.path().as_os_str(),
        "--parquet".as_ref(),
        out.as_os_str(),
    ]);
    run.code(0);
    assert!(
        run.stdout.starts_with("exported 70004 records to"),
        "{}",
        run.stdout
    );

    let read = Command::new("python3")
        .args(["-c", READ])
        .arg(&out)
        .output()
        .expect("run python3");
    assert!(
        read.status.success(),
        "duckdb: {}",
        String::from_utf8_lossy(&read.stderr)
    );
    let got: Vec<serde_json::Value> = String::from_utf8(read.stdout)
        .expect("utf-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();

    let records = RecordLog::open(dir.path())
        .expect("open")
        .scan()
        .expect("scan");
    assert_eq!(got.len(), records.len());
    for (row, r) in got.iter().zip(&records) {
        let t = match r.record_type {
            RecordType::Raw => "raw",
            RecordType::Put => "put",
            RecordType::Delete => "delete",
        };
        let envelope = datawal_typed::envelope::Header::parse(&r.payload).ok();
        let want = serde_json::json!([
            r.txid,
            t,
            STANDARD.encode(&r.key),
            STANDARD.encode(&r.payload),
            envelope.map(|(h, _)| h.fingerprint),
            envelope.map(|(h, _)| h.version),
            envelope.map(|(h, _)| h.codec.name()),
            envelope
                .filter(|(h, _)| h.codec == datawal_typed::Codec::Json)
                .map(|(_, body)| String::from_utf8_lossy(body).into_owned()),
        ]);
        assert_eq!(row, &want, "txid {}", r.txid);
    }
    assert_eq!(got.last().expect("rows")[6], "postcard");
    assert_eq!(got[got.len() - 2][7], r#"{"id":1,"cents":250}"#);
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, datawal_typed::Record)]
#[record(name = "order", version = 1)]
struct Order {
    #[record(key)]
    id: u64,
    cents: u64,
    note: String,
    paid: bool,
    tags: Vec<String>,
}

const READ_TYPED: &str = r#"
import json, sys
import duckdb
rel = duckdb.sql("select * from read_parquet('" + sys.argv[1].replace("'", "''") + "') order by txid")
print(json.dumps(rel.columns))
print(json.dumps([str(t) for t in rel.types]))
for r in rel.fetchall():
    print(json.dumps(list(r)))
"#;

/// A store that describes itself is exported with its records' fields as
/// columns (integers as INT64, booleans as BOOLEAN, strings as text, a list
/// as its JSON text), and every row agrees with `export --decoded`.
#[test]
fn a_described_store_exports_its_fields_as_columns() {
    if !duckdb_or_skip("a_described_store_exports_its_fields_as_columns") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for (codec, ids) in [
        (datawal_typed::Codec::Bincode, 1..=700u64),
        (datawal_typed::Codec::Postcard, 701..=710),
        (datawal_typed::Codec::Json, 711..=720),
    ] {
        let mut log = datawal_typed::TypedLog::<Order>::open_with(dir.path(), codec).expect("open");
        for id in ids {
            log.append(&Order {
                id,
                cents: id * 5,
                note: format!("order {id}"),
                paid: id % 3 == 0,
                tags: vec![format!("t{}", id % 4)],
            })
            .expect("append");
        }
        log.fsync().expect("fsync");
    }
    let out_dir = tempfile::tempdir().expect("tempdir");
    let out = out_dir.path().join("orders.parquet");
    datawal([
        "export".as_ref(),
        dir.path().as_os_str(),
        "--parquet".as_ref(),
        out.as_os_str(),
    ])
    .code(0);
    let read = Command::new("python3")
        .args(["-c", READ_TYPED])
        .arg(&out)
        .output()
        .expect("run python3");
    assert!(
        read.status.success(),
        "duckdb: {}",
        String::from_utf8_lossy(&read.stderr)
    );
    let text = String::from_utf8(read.stdout).expect("utf-8");
    let mut lines = text.lines();
    let columns: Vec<String> = serde_json::from_str(lines.next().expect("columns")).expect("json");
    let types: Vec<String> = serde_json::from_str(lines.next().expect("types")).expect("json");
    assert_eq!(
        columns,
        [
            "txid",
            "record_type",
            "key",
            "type",
            "version",
            "codec",
            "error",
            "cents",
            "id",
            "note",
            "paid",
            "tags"
        ]
    );
    assert_eq!(
        types,
        [
            "BIGINT", "VARCHAR", "VARCHAR", "VARCHAR", "INTEGER", "VARCHAR", "VARCHAR", "BIGINT",
            "BIGINT", "VARCHAR", "BOOLEAN", "VARCHAR"
        ]
    );
    let rows: Vec<serde_json::Value> = lines
        .map(|l| serde_json::from_str(l).expect("row"))
        .collect();

    let decoded = datawal([
        "export".as_ref(),
        "--decoded".as_ref(),
        dir.path().as_os_str(),
        "-".as_ref(),
    ]);
    decoded.code(0);
    let decoded: Vec<serde_json::Value> = decoded
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("decoded row"))
        .collect();
    assert_eq!(rows.len(), 720);
    assert_eq!(rows.len(), decoded.len());
    for (row, d) in rows.iter().zip(&decoded) {
        let v = &d["value"];
        let want = serde_json::json!([
            d["txid"],
            d["record_type"],
            d["key"],
            d["type"],
            d["version"],
            d["codec"],
            null,
            v["cents"],
            v["id"],
            v["note"],
            v["paid"],
            v["tags"].to_string(),
        ]);
        assert_eq!(row, &want, "txid {}", d["txid"]);
    }
}
