//! `datawal ship` and `datawal pull` against a real `nats-server -js`
//! (cargo feature `nats`). Each test starts its own server on a free
//! loopback port (`datawal-nats/tests/support/nats_server.rs`: skipped
//! with a loud message when the binary is absent, a failure in CI).

mod common;
#[path = "../../datawal-nats/tests/support/nats_server.rs"]
mod nats_server;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::datawal;
use datawal_core::{DataWal, RecordLog};
use nats_server::NatsServer;

const RECORDS: u64 = 100_000;

/// A key/value store of `RECORDS` records: puts of distinct keys, every
/// tenth followed by a delete of an earlier key.
fn source_store(dir: &Path) {
    let mut db = DataWal::open(dir).expect("open");
    let mut written = 0u64;
    let mut i = 0u64;
    while written < RECORDS {
        db.put(
            format!("key-{i:06}").as_bytes(),
            format!("value {i}").as_bytes(),
        )
        .expect("put");
        written += 1;
        if i % 10 == 9 && written < RECORDS {
            db.delete(format!("key-{:06}", i - 5).as_bytes())
                .expect("delete");
            written += 1;
        }
        i += 1;
    }
    db.fsync().expect("fsync");
}

/// A tiny xorshift, seeded: the kill points are random but repeatable.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// `datawal pull` into `into`, then the pulled store's `scan --json` and
/// `export` against the source's: byte-identical.
fn assert_pull_is_identical(url: &str, stream: &str, source: &Path, into: &Path) {
    let pulled = datawal(
        ["pull", "--nats", url, "--stream", stream]
            .iter()
            .map(|s| s.as_ref())
            .chain([into.as_os_str()]),
    );
    pulled.code(0);
    assert!(
        pulled
            .stdout
            .starts_with(&format!("pulled {RECORDS} records into")),
        "{}",
        pulled.stdout
    );
    for cmd in ["scan", "export"] {
        let args = |d: &Path| -> Vec<std::ffi::OsString> {
            match cmd {
                "scan" => vec!["scan".into(), d.into(), "--json".into()],
                _ => vec!["export".into(), d.into(), "-".into()],
            }
        };
        let a = datawal(args(source));
        let b = datawal(args(into));
        a.code(0);
        b.code(0);
        assert!(!a.out.is_empty());
        assert!(
            a.out == b.out,
            "`datawal {cmd}` differs between source and pulled store"
        );
    }
}

/// Ship 100k records while SIGKILLing the shipper (a child running the
/// CLI) at random moments 20 times; a last run completes. The stream then
/// holds exactly the log's records in txid order: `pull` (which refuses a
/// gap or a duplicate) rebuilds the store byte for byte.
#[test]
fn ship_survives_20_kills_and_pull_rebuilds_the_store() {
    let Some(server) =
        NatsServer::start_or_skip("ship_survives_20_kills_and_pull_rebuilds_the_store")
    else {
        return;
    };
    let source = tempfile::tempdir().expect("tempdir");
    source_store(source.path());
    let url = server.url();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut counts = Vec::new();
    for _ in 0..20 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_datawal"))
            .args(["ship", "--nats", &url, "--stream", "KILL"])
            .arg(source.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn datawal ship");
        std::thread::sleep(Duration::from_millis(50 + rng.below(500)));
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
        counts.push(server.messages());
    }
    eprintln!("messages in the stream after each kill: {counts:?}");
    let mid = counts.iter().filter(|&&c| c > 0 && c < RECORDS).count();
    assert!(
        mid >= 10,
        "at least half the kills landed mid-ship: {counts:?}"
    );
    let t0 = Instant::now();
    let last = datawal(
        ["ship", "--nats", &url, "--stream", "KILL"]
            .iter()
            .map(|s| s.as_ref())
            .chain([source.path().as_os_str()]),
    );
    last.code(0);
    eprintln!(
        "final ship of {} records: {:?}",
        RECORDS - counts[counts.len() - 1],
        t0.elapsed()
    );
    assert!(
        last.stdout
            .contains(&format!("the stream holds up to txid {RECORDS}")),
        "{}",
        last.stdout
    );
    assert_eq!(server.messages(), RECORDS);
    let copy = tempfile::tempdir().expect("tempdir");
    assert_pull_is_identical(&url, "KILL", source.path(), copy.path());
}

/// `datawal ship --follow` with a writer appending concurrently: every
/// record arrives.
#[test]
fn ship_follow_delivers_every_record_of_a_concurrent_writer() {
    let Some(server) =
        NatsServer::start_or_skip("ship_follow_delivers_every_record_of_a_concurrent_writer")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut log = RecordLog::open(dir.path()).expect("open");
    log.append(b"first").expect("append");
    log.fsync().expect("fsync");
    let mut child = Command::new(env!("CARGO_BIN_EXE_datawal"))
        .args([
            "ship",
            "--follow",
            "--nats",
            &server.url(),
            "--stream",
            "FOLLOW",
        ])
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn datawal ship --follow");
    const N: u64 = 20_000;
    for i in 1..N {
        log.append(format!("r{i}").as_bytes()).expect("append");
        if i % 500 == 0 {
            log.fsync().expect("fsync");
        }
    }
    log.fsync().expect("fsync");
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.messages() < N && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reap");
    assert_eq!(server.messages(), N);
    // In order, each once: pull refuses anything else.
    let copy = tempfile::tempdir().expect("tempdir");
    let pulled = datawal(
        ["pull", "--nats", &server.url(), "--stream", "FOLLOW"]
            .iter()
            .map(|s| s.as_ref())
            .chain([copy.path().as_os_str()]),
    );
    pulled.code(0);
    let got: Vec<(u64, Vec<u8>)> = RecordLog::open(copy.path())
        .expect("open copy")
        .scan()
        .expect("scan")
        .into_iter()
        .map(|r| (r.txid, r.payload))
        .collect();
    let want: Vec<(u64, Vec<u8>)> = log
        .scan()
        .expect("scan")
        .into_iter()
        .map(|r| (r.txid, r.payload))
        .collect();
    assert_eq!(got.len() as u64, N);
    assert!(got == want, "the pulled log differs from the source");
}
