//! `datawal get`: the live value (last write wins), exit 1 when absent.

mod common;
use common::*;

fn get(dir: &std::path::Path, rest: &[&str]) -> Run {
    let mut args = vec!["get".as_ref(), dir.as_os_str()];
    args.extend(rest.iter().map(std::ffi::OsStr::new));
    datawal(args)
}

#[test]
fn text_key_gives_the_last_put() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    let r = get(td.path(), &["user:1"]);
    r.code(0);
    assert_eq!(r.stdout, "\"ada lovelace\"\n");
}

#[test]
fn raw_writes_the_bytes_as_they_are() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    let r = get(td.path(), &["--hex", "00ff", "--raw"]);
    r.code(0);
    assert_eq!(r.out, [0xde, 0xad, 0xbe, 0xef]);
    let r = get(td.path(), &["user:1", "--raw"]);
    assert_eq!(r.out, b"ada lovelace");
}

#[test]
fn hex_and_base64_keys() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    assert_eq!(
        get(td.path(), &["--hex", "00FF"]).code(0).stdout,
        "hex:deadbeef\n"
    );
    assert_eq!(
        get(td.path(), &["--base64", "AP8="]).code(0).stdout,
        "hex:deadbeef\n"
    );
    get(td.path(), &["--hex", "0g"])
        .code(6)
        .one_line_error(&["not a hex digit"]);
    get(td.path(), &["--base64", "!!"])
        .code(6)
        .one_line_error(&["not standard base64"]);
}

#[test]
fn typed_json_value_is_decoded() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    let r = get(td.path(), &["order:7"]);
    r.code(0);
    let fp = crc32c::crc32c(b"order");
    assert!(
        r.stdout.starts_with(&format!(
            "typed(fingerprint={fp:#010x}, version=2, codec=json) {{"
        )),
        "{}",
        r.stdout
    );
    let j = get(td.path(), &["order:7", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&j.code(0).stdout).unwrap();
    assert_eq!(v["typed"]["value"]["cents"], 250);
    assert_eq!(v["txid"], 5);
    assert_eq!(v["key"], "order:7");
}

#[test]
fn deleted_and_unknown_keys_exit_1() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    let deleted = get(td.path(), &["user:2"]);
    deleted.code(1);
    assert!(deleted.stdout.is_empty());
    assert!(
        deleted.stderr.contains("\"user:2\" is not live"),
        "{}",
        deleted.stderr
    );
    get(td.path(), &["nobody"]).code(1);
    // Raw records are not key/value puts.
    get(td.path(), &[""]).code(1);
}

#[test]
fn put_after_delete_is_live_again() {
    let td = tempfile::tempdir().unwrap();
    {
        let mut db = datawal_core::DataWal::open(td.path()).unwrap();
        db.put(b"k", b"1").unwrap();
        db.delete(b"k").unwrap();
        db.put(b"k", b"2").unwrap();
        db.fsync().unwrap();
    }
    assert_eq!(get(td.path(), &["k"]).code(0).stdout, "\"2\"\n");
}

#[test]
fn a_torn_tail_hides_the_torn_put_only() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    // The last record (put user:1 = "ada lovelace") is torn: the previous value shows.
    cut(&seg(td.path(), 1), 2);
    assert_eq!(get(td.path(), &["user:1"]).code(0).stdout, "\"ada\"\n");
}
