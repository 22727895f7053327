//! Helpers for the integration tests: run the built `datawal` binary, write
//! stores with this workspace's core and with the published crate, damage them.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use datawal_core::{DataWal, RecordLog, RecordType};

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Run {
    /// The exit code.
    pub code: i32,
    /// Standard output, as bytes.
    pub out: Vec<u8>,
    /// Standard output, lossily as text.
    pub stdout: String,
    /// Standard error, lossily as text.
    pub stderr: String,
}

/// Run `datawal` with `args`, with no terminal and no inherited backtrace setting.
pub fn datawal<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let output = Command::new(env!("CARGO_BIN_EXE_datawal"))
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run datawal");
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        out: output.stdout,
    }
}

impl Run {
    /// Assert exit code `code`, showing the output when it differs.
    #[track_caller]
    pub fn code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code; stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Assert that stderr is exactly one `datawal: error: …` line containing
    /// every one of `needles`, and nothing Rust-internal.
    #[track_caller]
    pub fn one_line_error(&self, needles: &[&str]) -> &Self {
        let err = &self.stderr;
        assert!(err.starts_with("datawal: error: "), "stderr: {err:?}");
        assert_eq!(err.lines().count(), 1, "one line: {err:?}");
        for n in needles {
            assert!(err.contains(n), "stderr lacks {n:?}: {err:?}");
        }
        for bad in ["panicked", "backtrace", "RUST_BACKTRACE", "Error {", "Os {"] {
            assert!(!err.contains(bad), "stderr has {bad:?}: {err:?}");
        }
        self
    }
}

/// `dir/{id:08}.dwal`.
pub fn seg(dir: &Path, id: u32) -> PathBuf {
    dir.join(format!("{id:08}.dwal"))
}

/// A key/value store written by this workspace's core, in one segment:
/// raw `boot`, puts of `user:1` (twice), `user:2`, a binary key, a typed
/// JSON value, and a delete of `user:2`. Txids 1..=7.
pub fn kv_store(dir: &Path) {
    let mut log = RecordLog::open(dir).unwrap();
    log.append(b"boot").unwrap();
    log.fsync().unwrap();
    log.close().unwrap();
    let mut db = DataWal::open(dir).unwrap();
    db.put(b"user:1", b"ada").unwrap();
    db.put(b"user:2", b"bob").unwrap();
    db.put(&[0x00, 0xff], &[0xde, 0xad, 0xbe, 0xef]).unwrap();
    db.put(
        b"order:7",
        &typed(3, 2, "order", br#"{"id":7,"cents":250}"#),
    )
    .unwrap();
    db.delete(b"user:2").unwrap();
    db.put(b"user:1", b"ada lovelace").unwrap();
    db.fsync().unwrap();
}

/// The same store, written by the published `datawal` 0.1.5.
pub fn kv_store_015(dir: &Path) {
    let mut log = datawal015::RecordLog::open(dir).unwrap();
    log.append(b"boot").unwrap();
    log.fsync().unwrap();
    drop(log);
    let mut db = datawal015::DataWal::open(dir).unwrap();
    db.put(b"user:1", b"ada").unwrap();
    db.put(b"user:2", b"bob").unwrap();
    db.put(&[0x00, 0xff], &[0xde, 0xad, 0xbe, 0xef]).unwrap();
    db.put(
        b"order:7",
        &typed(3, 2, "order", br#"{"id":7,"cents":250}"#),
    )
    .unwrap();
    db.delete(b"user:2").unwrap();
    db.put(b"user:1", b"ada lovelace").unwrap();
    db.fsync().unwrap();
}

/// Two segments written by the core: `a`, `b` in segment 1 (closed), `c` in segment 2.
pub fn two_segments(dir: &Path) {
    let mut db = DataWal::open(dir).unwrap();
    db.put(b"a", b"1").unwrap();
    db.put(b"b", b"2").unwrap();
    db.rotate().unwrap();
    db.put(b"c", b"3").unwrap();
    db.fsync().unwrap();
}

/// A typed envelope: format 1, `codec`, schema `version`, CRC-32C of `name`, `body`.
pub fn typed(codec: u8, version: u16, name: &str, body: &[u8]) -> Vec<u8> {
    let mut p = vec![1, codec];
    p.extend_from_slice(&version.to_le_bytes());
    p.extend_from_slice(&crc32c::crc32c(name.as_bytes()).to_le_bytes());
    p.extend_from_slice(body);
    p
}

/// Append a raw record with `RecordType` `rt` through the core (for stores
/// mixing record types).
pub fn append(dir: &Path, rt: RecordType, key: &[u8], payload: &[u8]) {
    let mut log = RecordLog::open(dir).unwrap();
    log.append_record(rt, key, payload).unwrap();
    log.fsync().unwrap();
}

/// Cut the last `n` bytes of a file (a torn tail).
pub fn cut(path: &Path, n: u64) {
    let f = OpenOptions::new().write(true).open(path).unwrap();
    let len = f.metadata().unwrap().len();
    f.set_len(len - n).unwrap();
}

/// XOR the byte at `offset` of a file with `0xff`.
pub fn flip(path: &Path, offset: u64) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset as usize] ^= 0xff;
    let mut f = OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    f.write_all(&bytes).unwrap();
}

/// Every file of `dir` with its bytes, sorted by name (to prove nothing changed).
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            let bytes = if e.file_type().unwrap().is_file() {
                fs::read(e.path()).unwrap()
            } else {
                Vec::new()
            };
            (name, bytes)
        })
        .collect();
    v.sort();
    v
}

/// Whether python3 can import duckdb, for the tests that read an export
/// back with it. Without it the test named `test` says so loudly and is to
/// return; in CI (`CI`, or `DATAWAL_REQUIRE_DUCKDB=1` from `.ci/run`, which
/// installs it) its absence fails the test instead.
pub fn duckdb_or_skip(test: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let required = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
            || std::env::var_os("DATAWAL_REQUIRE_DUCKDB").is_some_and(|v| v == "1");
        assert!(
            !required,
            "{test}: python3 with duckdb is required in CI (pip install duckdb)"
        );
        eprintln!(
            "\n!!!!!!!! SKIPPED {test}: python3 -c 'import duckdb' failed; \
             pip install duckdb to run it !!!!!!!!\n"
        );
    }
    ok
}
