//! `datawal scan`: one line per record, readable; `--json`, `--from-txid`, `--limit`.

mod common;
use common::*;

#[test]
fn text_lines_show_position_txid_type_key_and_payload() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    let r = datawal(["scan".as_ref(), td.path().as_os_str()]);
    r.code(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 7, "{}", r.stdout);
    assert_eq!(lines[0], "00000001.dwal@0 txid=1 raw payload=\"boot\"");
    assert_eq!(
        lines[1],
        "00000001.dwal@32 txid=2 put key=\"user:1\" payload=\"ada\""
    );
    assert!(
        lines[3].ends_with("txid=4 put key=hex:00ff payload=hex:deadbeef"),
        "{}",
        lines[3]
    );
    let fp = crc32c::crc32c(b"order");
    assert!(
        lines[4].ends_with(&format!(
            "txid=5 put key=\"order:7\" payload=typed(fingerprint={fp:#010x}, version=2, codec=json) {{\"cents\":250,\"id\":7}}"
        )) || lines[4].ends_with(&format!(
            "txid=5 put key=\"order:7\" payload=typed(fingerprint={fp:#010x}, version=2, codec=json) {{\"id\":7,\"cents\":250}}"
        )),
        "{}",
        lines[4]
    );
    assert!(
        lines[5].ends_with("txid=6 delete key=\"user:2\""),
        "{}",
        lines[5]
    );
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn json_lines_are_exact() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    let r = datawal(["scan".as_ref(), td.path().as_os_str(), "--json".as_ref()]);
    r.code(0);
    let rows: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 7);
    assert_eq!(rows[0]["type"], "raw");
    assert_eq!(rows[0]["payload"], "boot");
    assert_eq!(rows[1]["offset"], 32);
    assert_eq!(rows[1]["len"], 37);
    assert_eq!(rows[1]["file"], "00000001.dwal");
    assert_eq!(rows[1]["segment"], 1);
    assert_eq!(rows[3]["key_b64"], "AP8=");
    assert_eq!(rows[3]["payload_b64"], "3q2+7w==");
    assert!(rows[3].get("payload").is_none());
    let t = &rows[4]["typed"];
    assert_eq!(t["codec"], "json");
    assert_eq!(t["codec_id"], 3);
    assert_eq!(t["schema_version"], 2);
    assert_eq!(
        t["fingerprint"],
        format!("{:#010x}", crc32c::crc32c(b"order"))
    );
    assert_eq!(t["value"], serde_json::json!({"id": 7, "cents": 250}));
    assert_eq!(rows[5]["type"], "delete");
    assert_eq!(rows[6]["txid"], 7);
}

#[test]
fn typed_binary_codecs_show_header_and_bytes() {
    let td = tempfile::tempdir().unwrap();
    append(
        td.path(),
        datawal_core::RecordType::Raw,
        b"",
        &typed(2, 1, "ev", &[5, 0xff]),
    );
    append(
        td.path(),
        datawal_core::RecordType::Raw,
        b"",
        &typed(3, 1, "ev", b"not json"),
    );
    let r = datawal(["scan".as_ref(), td.path().as_os_str()]);
    r.code(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].ends_with("version=1, codec=postcard) hex:05ff"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].ends_with("version=1, codec=json) \"not json\""),
        "{}",
        lines[1]
    );
}

#[test]
fn from_txid_and_limit_select_records() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    let r = datawal([
        "scan".as_ref(),
        td.path().as_os_str(),
        "--from-txid".as_ref(),
        "3".as_ref(),
        "--limit".as_ref(),
        "2".as_ref(),
    ]);
    r.code(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert!(lines[0].contains(" txid=3 "));
    assert!(lines[1].contains(" txid=4 "));
    let none = datawal([
        "scan".as_ref(),
        td.path().as_os_str(),
        "--from-txid".as_ref(),
        "99".as_ref(),
    ]);
    none.code(0);
    assert!(none.stdout.is_empty());
    let zero = datawal([
        "scan".as_ref(),
        td.path().as_os_str(),
        "--limit".as_ref(),
        "0".as_ref(),
    ]);
    zero.code(0);
    assert!(zero.stdout.is_empty());
}

#[test]
fn long_payloads_are_cut_unless_full() {
    let td = tempfile::tempdir().unwrap();
    append(td.path(), datawal_core::RecordType::Raw, b"", &[b'x'; 500]);
    let cut = datawal(["scan".as_ref(), td.path().as_os_str()]);
    assert!(
        cut.stdout.trim_end().ends_with("… (500 bytes)"),
        "{}",
        cut.stdout
    );
    let full = datawal(["scan".as_ref(), td.path().as_os_str(), "--full".as_ref()]);
    assert!(full.stdout.contains(&"x".repeat(500)));
}

#[test]
fn torn_tail_ends_the_scan_with_a_note_and_changes_nothing() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    cut(&seg(td.path(), 1), 5);
    let before = snapshot(td.path());
    let r = datawal(["scan".as_ref(), td.path().as_os_str()]);
    r.code(0);
    assert_eq!(r.stdout.lines().count(), 6);
    assert!(r.stderr.contains("torn tail"), "{}", r.stderr);
    assert!(r.stderr.contains("00000001.dwal"), "{}", r.stderr);
    assert_eq!(snapshot(td.path()), before, "scan must not repair");
}

#[test]
fn corruption_prints_records_before_it_then_fails() {
    let td = tempfile::tempdir().unwrap();
    two_segments(td.path());
    // Second record of the closed segment 1: flip a payload byte.
    let second = 24 + 1 + 1 + 4;
    flip(&seg(td.path(), 1), second + 24 + 1);
    let r = datawal(["scan".as_ref(), td.path().as_os_str()]);
    r.code(4)
        .one_line_error(&["00000001.dwal", &format!("offset {second}"), "CRC"]);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let td = tempfile::tempdir().unwrap();
    let mut log = datawal_core::RecordLog::open(td.path()).unwrap();
    for i in 0..5000u32 {
        log.append(
            format!("event number {i} with some padding to make lines long enough").as_bytes(),
        )
        .unwrap();
    }
    log.fsync().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_datawal"))
        .arg("scan")
        .arg(td.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("event number 0"));
    // stdout is dropped here: the rest of the output meets a closed pipe.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn type_names_label_fingerprints() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    let r = datawal([
        "scan".as_ref(),
        td.path().as_os_str(),
        "--type-name".as_ref(),
        "order".as_ref(),
        "--type-name".as_ref(),
        "user".as_ref(),
    ]);
    r.code(0);
    assert!(
        r.stdout
            .contains("payload=typed(type=order, version=2, codec=json) {"),
        "{}",
        r.stdout
    );
    let j = datawal([
        "get".as_ref(),
        td.path().as_os_str(),
        "order:7".as_ref(),
        "--json".as_ref(),
        "--type-name".as_ref(),
        "order".as_ref(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&j.code(0).stdout).unwrap();
    assert_eq!(v["typed"]["type_name"], "order");
    // A name that does not match leaves the fingerprint.
    let other = datawal([
        "get".as_ref(),
        td.path().as_os_str(),
        "order:7".as_ref(),
        "--type-name".as_ref(),
        "invoice".as_ref(),
    ]);
    assert!(
        other.code(0).stdout.starts_with("typed(fingerprint=0x"),
        "{}",
        other.stdout
    );
}
