//! Damage a store at many places (flipped bytes, truncations, appended
//! garbage): every read-only subcommand answers with a defined exit code and
//! at most one error line, never a panic, and they agree with each other.

mod common;
use common::*;

use std::path::Path;

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A store of two segments with every record type, typed and binary payloads.
fn build(dir: &Path) {
    let mut db = datawal_core::DataWal::open(dir).unwrap();
    db.put(b"user:1", b"ada").unwrap();
    db.put(&[0, 1, 2], &typed(1, 1, "t", &[9, 9])).unwrap();
    db.rotate().unwrap();
    db.put(b"order:7", &typed(3, 2, "order", br#"{"id":7}"#))
        .unwrap();
    db.delete(b"user:1").unwrap();
    db.put(b"k", &[0xff; 100]).unwrap();
    db.fsync().unwrap();
}

/// Run every read-only subcommand on `dir`; returns verify's exit code.
fn check(dir: &Path, case: &str) -> i32 {
    let d = dir.as_os_str();
    let verify = datawal(["verify".as_ref(), d]);
    let scan = datawal(["scan".as_ref(), d, "--json".as_ref()]);
    let stat = datawal(["stat".as_ref(), d]);
    let out = dir.with_extension("jsonl");
    let export = datawal(["export".as_ref(), d, out.as_os_str()]);
    let get = datawal(["get".as_ref(), d, "order:7".as_ref()]);
    for (name, r) in [
        ("verify", &verify),
        ("scan", &scan),
        ("stat", &stat),
        ("export", &export),
        ("get", &get),
    ] {
        assert!(
            [0, 1, 3, 4].contains(&r.code),
            "{case}: {name} exited {}: {}",
            r.code,
            r.stderr
        );
        if r.code == 4 {
            r.one_line_error(&[".dwal", "offset"]);
        }
        assert!(
            !r.stderr.contains("panicked"),
            "{case}: {name}: {}",
            r.stderr
        );
    }
    match verify.code {
        0 => {
            for r in [&scan, &stat, &export] {
                assert_eq!(r.code, 0, "{case}: clean for verify: {}", r.stderr);
            }
            assert!(stat.stdout.contains("tail damage  none"), "{case}");
        }
        3 => {
            for r in [&scan, &stat, &export] {
                assert_eq!(r.code, 0, "{case}: torn tail only: {}", r.stderr);
            }
            assert!(scan.stderr.contains("torn tail"), "{case}: {}", scan.stderr);
            assert!(!stat.stdout.contains("tail damage  none"), "{case}");
        }
        4 => {
            for r in [&scan, &stat, &export] {
                assert_eq!(r.code, 4, "{case}: corrupt for verify");
            }
        }
        c => panic!("{case}: verify exited {c}"),
    }
    // Every line scan printed is a JSON object.
    for line in scan.stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["txid"].is_u64(), "{case}: {line}");
    }
    verify.code
}

#[test]
fn flipped_bytes() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let td = tempfile::tempdir().unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for case in 0..40 {
        let dir = td.path().join(format!("flip{case}"));
        build(&dir);
        let id = 1 + rng.below(2) as u32;
        let path = seg(&dir, id);
        let len = std::fs::metadata(&path).unwrap().len();
        let at = rng.below(len);
        flip(&path, at);
        seen.insert(check(&dir, &format!("flip segment {id} byte {at}")));
    }
    // The cases reach a torn tail and hard corruption (a flipped byte is
    // never clean: every byte is covered by a CRC or checked).
    assert_eq!(seen, [3, 4].into(), "verify outcomes seen");
}

#[test]
fn truncations_and_garbage() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let td = tempfile::tempdir().unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for case in 0..30 {
        let dir = td.path().join(format!("cut{case}"));
        build(&dir);
        let id = 1 + rng.below(2) as u32;
        let path = seg(&dir, id);
        let len = std::fs::metadata(&path).unwrap().len();
        let n = 1 + rng.below(len);
        cut(&path, n);
        if case % 3 == 0 {
            let mut bytes = std::fs::read(&path).unwrap();
            for _ in 0..rng.below(64) {
                bytes.push(rng.next() as u8);
            }
            std::fs::write(&path, bytes).unwrap();
        }
        seen.insert(check(
            &dir,
            &format!("segment {id} cut by {n} (case {case})"),
        ));
    }
    assert!(
        seen.contains(&3) && seen.contains(&4),
        "verify outcomes seen: {seen:?}"
    );
}
