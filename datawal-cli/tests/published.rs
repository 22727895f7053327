//! Stores written by the published `datawal` 0.1.5 crate: every subcommand
//! reads them, and export / compact give what that crate gives.

mod common;
use common::*;

#[test]
fn scan_stat_verify_get() {
    let td = tempfile::tempdir().unwrap();
    kv_store_015(td.path());
    let dir = td.path().as_os_str();
    datawal(["verify".as_ref(), dir]).code(0);
    let stat = datawal(["stat".as_ref(), dir]);
    stat.code(0);
    assert!(
        stat.stdout
            .contains("records      7 (5 put, 1 delete, 1 raw)"),
        "{}",
        stat.stdout
    );
    assert!(stat.stdout.contains("live keys    3"), "{}", stat.stdout);
    assert!(stat.stdout.contains("txid range   1..7"), "{}", stat.stdout);
    // Same bytes as the core writes, so the same scan.
    let other = tempfile::tempdir().unwrap();
    kv_store(other.path());
    assert_eq!(
        datawal(["scan".as_ref(), dir]).code(0).stdout,
        datawal(["scan".as_ref(), other.path().as_os_str()])
            .code(0)
            .stdout
    );
    assert_eq!(
        datawal(["get".as_ref(), dir, "user:1".as_ref()])
            .code(0)
            .stdout,
        "\"ada lovelace\"\n"
    );
    datawal(["get".as_ref(), dir, "user:2".as_ref()]).code(1);
}

#[test]
fn export_matches_the_published_export() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    kv_store_015(&store);
    let cli = td.path().join("cli.jsonl");
    datawal(["export".as_ref(), store.as_os_str(), cli.as_os_str()]).code(0);
    let published = td.path().join("published.jsonl");
    datawal015::DataWal::open(&store)
        .unwrap()
        .export_jsonl(&published)
        .unwrap();
    assert_eq!(
        std::fs::read(&cli).unwrap(),
        std::fs::read(&published).unwrap()
    );
}

#[test]
fn compact_matches_the_published_compaction() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    kv_store_015(&store);
    let cli = td.path().join("cli");
    // The store holds one raw record, which no compaction keeps.
    datawal([
        "compact".as_ref(),
        store.as_os_str(),
        cli.as_os_str(),
        "--drop-raw-records".as_ref(),
    ])
    .code(0);
    let published = td.path().join("published");
    datawal015::DataWal::open(&store)
        .unwrap()
        .compact_to(&published)
        .unwrap();
    assert_eq!(
        std::fs::read(seg(&cli, 1)).unwrap(),
        std::fs::read(seg(&published, 1)).unwrap()
    );
    // And the published crate reads the CLI's output.
    let mut db = datawal015::DataWal::open(&cli).unwrap();
    assert_eq!(
        db.get(b"user:1").unwrap().as_deref(),
        Some(&b"ada lovelace"[..])
    );
    assert_eq!(db.len(), 3);
}

#[test]
fn published_torn_tail_and_corruption() {
    let td = tempfile::tempdir().unwrap();
    let store = td.path().join("s");
    {
        let mut log = datawal015::RecordLog::open(&store).unwrap();
        log.append(b"one").unwrap();
        log.rotate().unwrap();
        log.append(b"two").unwrap();
        log.append(b"three").unwrap();
        log.fsync().unwrap();
    }
    cut(&seg(&store, 2), 1);
    let r = datawal(["verify".as_ref(), store.as_os_str()]);
    r.code(3);
    assert!(
        r.stdout.contains("segment 00000002.dwal at offset 31"),
        "{}",
        r.stdout
    );
    flip(&seg(&store, 1), 26);
    datawal(["verify".as_ref(), store.as_os_str()])
        .code(4)
        .one_line_error(&["00000001.dwal", "offset 0"]);
}
