//! `datawal verify`: exit 0 clean, 3 torn tail, 4 hard corruption, with
//! segment file and offset named; never changes the store.

mod common;
use common::*;

fn verify(dir: &std::path::Path) -> Run {
    datawal(["verify".as_ref(), dir.as_os_str()])
}

#[test]
fn clean_store_exits_0() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    let r = verify(td.path());
    r.code(0);
    assert_eq!(
        r.stdout,
        "ok: 7 records in 1 segment, txids 1..7, 283 bytes\n"
    );
    assert!(r.stderr.is_empty());
}

#[test]
fn empty_directory_is_clean() {
    let td = tempfile::tempdir().unwrap();
    verify(td.path()).code(0);
}

#[test]
fn torn_tail_exits_3_and_is_left_in_place() {
    let td = tempfile::tempdir().unwrap();
    two_segments(td.path());
    let last = seg(td.path(), 2);
    let len = std::fs::metadata(&last).unwrap().len();
    cut(&last, 3);
    let before = snapshot(td.path());
    let r = verify(td.path());
    r.code(3);
    assert!(
        r.stdout
            .starts_with("torn tail: segment 00000002.dwal at offset 0: record truncated"),
        "{}",
        r.stdout
    );
    assert!(r
        .stdout
        .contains(&format!("{} bytes after the valid prefix", len - 3)));
    assert!(
        r.stdout.contains("intact: 2 records in 2 segments"),
        "{}",
        r.stdout
    );
    assert_eq!(snapshot(td.path()), before, "verify must not repair");
}

/// Zeros after the last record are free space (what a preallocating
/// writer leaves): exit 0, counted.
#[test]
fn zeros_after_the_last_record_are_free_space_and_exit_0() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    let path = seg(td.path(), 1);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend([0u8; 100]);
    std::fs::write(&path, &bytes).unwrap();
    let r = verify(td.path());
    r.code(0);
    assert!(
        r.stdout.starts_with("ok: ") && r.stdout.contains("100 bytes of free space"),
        "{}",
        r.stdout
    );
}

/// Zeros with one non-zero byte among them are a torn tail: exit 3.
#[test]
fn zeros_then_a_non_zero_byte_are_a_torn_tail_and_exit_3() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    let path = seg(td.path(), 1);
    let mut bytes = std::fs::read(&path).unwrap();
    let end = bytes.len();
    bytes.extend([0u8; 100]);
    bytes[end + 60] = 9;
    std::fs::write(&path, bytes).unwrap();
    let r = verify(td.path());
    r.code(3);
    assert!(
        r.stdout.contains(&format!("at offset {end}")),
        "{}",
        r.stdout
    );
}

#[test]
fn crc_error_in_a_closed_segment_exits_4_naming_file_and_offset() {
    let td = tempfile::tempdir().unwrap();
    two_segments(td.path());
    let second = 24 + 1 + 1 + 4;
    flip(&seg(td.path(), 1), second + 24 + 1);
    let r = verify(td.path());
    r.code(4).one_line_error(&[
        "00000001.dwal",
        &format!("at offset {second}"),
        "CRC-32C mismatch",
    ]);
    assert_eq!(r.stdout, "corrupt: 1 record intact before the damage\n");
}

#[test]
fn truncated_closed_segment_exits_4() {
    let td = tempfile::tempdir().unwrap();
    two_segments(td.path());
    cut(&seg(td.path(), 1), 2);
    verify(td.path())
        .code(4)
        .one_line_error(&["00000001.dwal", "truncated"]);
}

#[test]
fn structural_damage_in_the_last_segment_exits_4() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    // Flags byte of the second record.
    flip(&seg(td.path(), 1), 32 + 7);
    verify(td.path())
        .code(4)
        .one_line_error(&["00000001.dwal", "offset 32", "flags"]);
}

#[test]
fn damage_followed_by_intact_records_is_a_tail_with_a_warning() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    // A payload byte of the second record: a CRC error in the last segment
    // is where the valid prefix ends, and the five intact records after it
    // go with the tail. verify counts them.
    flip(&seg(td.path(), 1), 32 + 24 + 6);
    let before = snapshot(td.path());
    let r = verify(td.path());
    r.code(3);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with("torn tail: segment 00000001.dwal at offset 32: CRC-32C mismatch"),
        "{}",
        r.stdout
    );
    assert!(
        lines[0].contains("251 bytes after the valid prefix"),
        "{}",
        r.stdout
    );
    assert_eq!(
        lines[1],
        "warning: 5 intact records after the damage; they are cut with the tail"
    );
    assert_eq!(
        lines[2],
        "intact: 1 record in 1 segment, txids 1..1, 32 bytes"
    );
    assert_eq!(snapshot(td.path()), before);
}

#[test]
fn a_plain_torn_tail_has_no_warning() {
    let td = tempfile::tempdir().unwrap();
    kv_store(td.path());
    cut(&seg(td.path(), 1), 1);
    let r = verify(td.path());
    r.code(3);
    assert!(!r.stdout.contains("warning"), "{}", r.stdout);
}
