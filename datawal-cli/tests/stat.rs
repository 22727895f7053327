//! `datawal stat`: segments, records, bytes, live keys, tombstones, txid
//! range, tail damage.

mod common;
use common::*;

#[test]
fn text_summary() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    let r = datawal(["stat".as_ref(), td.path().as_os_str()]);
    r.code(0);
    let expected = format!(
        "store        {}\n\
         segments     1 (00000001.dwal)\n\
         records      7 (5 put, 1 delete, 1 raw)\n\
         bytes        283 in segment files, 283 in valid records\n\
         live keys    3\n\
         tombstones   1\n\
         txid range   1..7\n\
         tail damage  none\n",
        td.path().display()
    );
    assert_eq!(r.stdout, expected);
}

#[test]
fn json_summary_with_a_torn_tail() {
    let td = tempfile::tempdir().unwrap();
    two_segments(td.path());
    cut(&seg(td.path(), 2), 1);
    let r = datawal(["stat".as_ref(), td.path().as_os_str(), "--json".as_ref()]);
    r.code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["segments"], 2);
    assert_eq!(
        v["segment_files"],
        serde_json::json!(["00000001.dwal", "00000002.dwal"])
    );
    assert_eq!(v["records"], 2);
    assert_eq!(v["live_keys"], 2);
    assert_eq!(v["tombstones"], 0);
    assert_eq!(v["first_txid"], 1);
    assert_eq!(v["last_txid"], 2);
    assert_eq!(v["bytes"], 30 * 3 - 1);
    assert_eq!(v["record_bytes"], 30 * 2);
    assert_eq!(v["tail"]["file"], "00000002.dwal");
    assert_eq!(v["tail"]["offset"], 0);
    assert_eq!(v["tail"]["bytes"], 29);
}

#[test]
fn torn_files_left_by_a_writer_are_listed() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    cut(&seg(td.path(), 1), 4);
    // A writer's open moves the torn tail aside.
    drop(datawal_core::RecordLog::open(td.path()).unwrap());
    let r = datawal(["stat".as_ref(), td.path().as_os_str()]);
    r.code(0);
    assert!(r.stdout.contains("tail damage  none"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("torn files   1 (tails a writer moved aside: 00000001-"),
        "{}",
        r.stdout
    );
}

#[test]
fn empty_directory_says_so() {
    let td = tempfile::tempdir().unwrap();
    let r = datawal(["stat".as_ref(), td.path().as_os_str()]);
    r.code(0);
    assert!(
        r.stdout.contains("segments     0 (no segment files"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("txid range   none"), "{}", r.stdout);
}

#[test]
fn corruption_fails_with_exit_4() {
    let td = tempfile::tempdir().unwrap();
    two_segments(td.path());
    flip(&seg(td.path(), 1), 0);
    datawal(["stat".as_ref(), td.path().as_os_str()])
        .code(4)
        .one_line_error(&["00000001.dwal", "offset 0", "bad magic"]);
}
