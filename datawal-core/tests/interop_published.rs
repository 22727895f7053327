//! Wire compatibility with the published `datawal` 0.1.5 crate, tested:
//! the same operations write byte-identical segment files, exports and
//! compaction outputs, and each crate reads the other's stores record for
//! record (type, txid, key, payload, segment, offset, len).

use std::fs;
use std::path::Path;

use datawal015 as published;

/// A record as both crates can describe it.
type Row = (u8, u64, Vec<u8>, Vec<u8>, u32, u64, u32);

mod reliability_support;
use reliability_support::Rng;

/// Up to `max` random bytes.
fn some_bytes(r: &mut Rng, max: u64) -> Vec<u8> {
    let n = r.below(max + 1) as usize;
    r.bytes(n)
}

#[derive(Debug, Clone)]
enum Op {
    Append(Vec<u8>),
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    Rotate,
    Fsync,
}

fn ops(seed: u64, n: usize) -> Vec<Op> {
    let mut r = Rng::new(seed);
    (0..n)
        .map(|_| {
            // Few distinct keys so that overwrites and deletes hit.
            let key = format!("key-{}", r.below(8)).into_bytes();
            match r.below(20) {
                0..=5 => Op::Append(some_bytes(&mut r, 200)),
                6..=12 => Op::Put(key, some_bytes(&mut r, 300)),
                13..=15 => Op::Delete(key),
                16 => Op::Rotate,
                _ => Op::Fsync,
            }
        })
        .collect()
}

fn segment_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".dwal"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn ours_rows(dir: &Path) -> Vec<Row> {
    let mut log = datawal_core::RecordLog::open(dir).unwrap();
    log.scan()
        .unwrap()
        .into_iter()
        .map(|r| {
            let t = r.record_type.as_byte();
            (t, r.txid, r.key, r.payload, r.segment, r.offset, r.len)
        })
        .collect()
}

fn theirs_rows(dir: &Path) -> Vec<Row> {
    let mut log = published::RecordLog::open(dir).unwrap();
    log.scan()
        .unwrap()
        .into_iter()
        .map(|r| {
            let t = r.record_type.as_byte();
            (t, r.txid, r.key, r.payload, r.segment, r.offset, r.len)
        })
        .collect()
}

/// Apply `ops` to our `log`, then `fsync`.
fn apply_ours(log: &mut datawal_core::RecordLog, ops: &[Op]) {
    for op in ops {
        match op {
            Op::Append(p) => drop(log.append(p).unwrap()),
            Op::Put(k, v) => drop(
                log.append_record(datawal_core::RecordType::Put, k, v)
                    .unwrap(),
            ),
            Op::Delete(k) => drop(
                log.append_record(datawal_core::RecordType::Delete, k, b"")
                    .unwrap(),
            ),
            Op::Rotate => log.rotate().unwrap(),
            Op::Fsync => log.fsync().unwrap(),
        }
    }
    log.fsync().unwrap();
}

fn run_ours_log(dir: &Path, ops: &[Op]) {
    apply_ours(&mut datawal_core::RecordLog::open(dir).unwrap(), ops);
}

fn run_theirs_log(dir: &Path, ops: &[Op]) {
    let mut log = published::RecordLog::open(dir).unwrap();
    for op in ops {
        match op {
            Op::Append(p) => drop(log.append(p).unwrap()),
            Op::Put(k, v) => drop(log.append_record(published::RecordType::Put, k, v).unwrap()),
            Op::Delete(k) => drop(
                log.append_record(published::RecordType::Delete, k, b"")
                    .unwrap(),
            ),
            Op::Rotate => log.rotate().unwrap(),
            Op::Fsync => log.fsync().unwrap(),
        }
    }
    log.fsync().unwrap();
}

#[test]
fn record_log_same_ops_write_identical_segments_and_read_each_other() {
    for seed in 1..=12u64 {
        let td = tempfile::tempdir().unwrap();
        let (a, b) = (td.path().join("ours"), td.path().join("theirs"));
        let ops = ops(seed, 120);
        // Split across two sessions: reopening must continue the txids the same way.
        run_ours_log(&a, &ops[..60]);
        run_ours_log(&a, &ops[60..]);
        run_theirs_log(&b, &ops[..60]);
        run_theirs_log(&b, &ops[60..]);
        assert_eq!(segment_files(&a), segment_files(&b), "seed {seed}");
        let rows = ours_rows(&a);
        assert!(!rows.is_empty());
        assert_eq!(rows, theirs_rows(&a), "published reads ours, seed {seed}");
        assert_eq!(rows, ours_rows(&b), "we read theirs, seed {seed}");
    }
}

/// With `LogOptions::preallocate`, the segments a writer closes (rotate,
/// close, drop) and those a later writer trims at open are byte for byte
/// what the published crate writes for the same operations, and it reads
/// them. An open preallocated segment, or one a crash left, it refuses
/// (the documented limit): that is checked too, so the docs stay true.
#[test]
fn preallocated_segments_read_with_the_published_crate_once_closed_or_trimmed() {
    use datawal_core::LogOptions;
    let mut refused = 0;
    for seed in 1..=6u64 {
        let td = tempfile::tempdir().unwrap();
        let (a, b) = (td.path().join("ours"), td.path().join("theirs"));
        let ops = ops(seed, 120);
        let options = LogOptions::default().preallocate(1 + seed * 300);
        for half in [&ops[..60], &ops[60..]] {
            let mut log = datawal_core::RecordLog::open_with(&a, options).unwrap();
            apply_ours(&mut log, half);
            if std::ptr::eq(half, &ops[..60]) {
                // While it is open, zeros follow the data of the active
                // segment, and the published crate refuses the store.
                let active = datawal_core::segment::segment_path(&a, log.active_segment());
                let (_, report) = datawal_core::RecordLogReader::open(&a)
                    .unwrap()
                    .scan()
                    .unwrap();
                assert!(report.free_bytes > 0, "seed {seed}: {report:?}");
                assert!(fs::metadata(&active).unwrap().len() > 0);
                // A copy stands for the store as a crash leaves it. With a
                // header's worth of zeros or more after the data, 0.1.5
                // refuses it ("bad magic"); with fewer, it takes them for a
                // truncated tail, which its writer does not cut.
                let crashed = td.path().join("crashed");
                fs::create_dir(&crashed).unwrap();
                for (name, bytes) in segment_files(&a) {
                    fs::write(crashed.join(name), bytes).unwrap();
                }
                let opened = published::RecordLog::open(&crashed);
                if report.free_bytes >= 24 {
                    let err = opened.expect_err("0.1.5 opened an untrimmed segment");
                    assert!(format!("{err:#}").contains("magic"), "seed {seed}: {err:#}");
                    refused += 1;
                } else {
                    let report = opened.unwrap().recovery_report().unwrap();
                    assert_eq!(report.tail_bytes_discarded, report_free(&a));
                }
                fs::remove_dir_all(&crashed).unwrap();
                drop(log);
            } else {
                log.close().unwrap();
            }
        }
        run_theirs_log(&b, &ops[..60]);
        run_theirs_log(&b, &ops[60..]);
        assert_eq!(segment_files(&a), segment_files(&b), "seed {seed}");
        let rows = ours_rows(&a);
        assert!(!rows.is_empty());
        assert_eq!(rows, theirs_rows(&a), "published reads ours, seed {seed}");
    }
    assert!(
        refused >= 3,
        "only {refused} stores with 24 free bytes or more"
    );
}

/// The free bytes a reader finds after the data of the last segment.
fn report_free(dir: &Path) -> u64 {
    let (_, report) = datawal_core::RecordLogReader::open(dir)
        .unwrap()
        .scan()
        .unwrap();
    report.free_bytes
}

fn run_ours_kv(dir: &Path, ops: &[Op]) -> datawal_core::DataWal {
    let mut kv = datawal_core::DataWal::open(dir).unwrap();
    for op in ops {
        match op {
            Op::Put(k, v) => kv.put(k, v).unwrap(),
            Op::Delete(k) => kv.delete(k).unwrap(),
            Op::Append(_) | Op::Rotate => {}
            Op::Fsync => kv.fsync().unwrap(),
        }
    }
    kv.fsync().unwrap();
    kv
}

fn run_theirs_kv(dir: &Path, ops: &[Op]) -> published::DataWal {
    let mut kv = published::DataWal::open(dir).unwrap();
    for op in ops {
        match op {
            Op::Put(k, v) => kv.put(k, v).unwrap(),
            Op::Delete(k) => kv.delete(k).unwrap(),
            Op::Append(_) | Op::Rotate => {}
            Op::Fsync => kv.fsync().unwrap(),
        }
    }
    kv.fsync().unwrap();
    kv
}

#[test]
fn datawal_same_ops_write_identical_segments_exports_and_compactions() {
    for seed in 100..=107u64 {
        let td = tempfile::tempdir().unwrap();
        let p = |n: &str| td.path().join(n);
        let ops = ops(seed, 150);
        let ours = run_ours_kv(&p("ours"), &ops);
        let mut theirs = run_theirs_kv(&p("theirs"), &ops);
        assert_eq!(
            segment_files(&p("ours")),
            segment_files(&p("theirs")),
            "seed {seed}"
        );

        ours.export_jsonl(p("ours.jsonl")).unwrap();
        theirs.export_jsonl(&p("theirs.jsonl")).unwrap();
        let export = fs::read(p("ours.jsonl")).unwrap();
        assert_eq!(export, fs::read(p("theirs.jsonl")).unwrap(), "seed {seed}");

        let s_ours = ours.compact_to(p("ours.compact")).unwrap();
        let s_theirs = theirs.compact_to(&p("theirs.compact")).unwrap();
        assert_eq!(
            (
                s_ours.live_keys,
                s_ours.records_written,
                s_ours.bytes_written
            ),
            (
                s_theirs.live_keys,
                s_theirs.records_written,
                s_theirs.bytes_written
            )
        );
        assert_eq!(
            segment_files(&p("ours.compact")),
            segment_files(&p("theirs.compact")),
            "seed {seed}"
        );

        // Each reads the other's key/value store.
        drop(ours);
        drop(theirs);
        let ours_reads_theirs = datawal_core::DataWal::open(p("theirs")).unwrap();
        let mut theirs_reads_ours = published::DataWal::open(&p("ours")).unwrap();
        assert_eq!(ours_reads_theirs.len(), theirs_reads_ours.len());
        for (k, v) in ours_reads_theirs.items().unwrap() {
            assert_eq!(theirs_reads_ours.get(&k).unwrap(), Some(v));
        }
    }
}

#[test]
fn empty_store_exports_and_compacts_identically() {
    let td = tempfile::tempdir().unwrap();
    let p = |n: &str| td.path().join(n);
    let ours = datawal_core::DataWal::open(p("ours")).unwrap();
    let mut theirs = published::DataWal::open(&p("theirs")).unwrap();
    ours.export_jsonl(p("a.jsonl")).unwrap();
    theirs.export_jsonl(&p("b.jsonl")).unwrap();
    assert_eq!(
        fs::read(p("a.jsonl")).unwrap(),
        fs::read(p("b.jsonl")).unwrap()
    );
    ours.compact_to(p("a.compact")).unwrap();
    theirs.compact_to(&p("b.compact")).unwrap();
    assert_eq!(
        segment_files(&p("a.compact")),
        segment_files(&p("b.compact"))
    );
}

/// After we repair a torn tail and append, the published crate reads every
/// record, including those appended after the repair (it would have lost them
/// had the torn bytes been left in place).
#[test]
fn published_reads_our_repaired_store_including_later_appends() {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path();
    {
        let mut log = datawal_core::RecordLog::open(dir).unwrap();
        log.append(b"one").unwrap();
        log.append(b"two").unwrap();
        log.fsync().unwrap();
    }
    let seg = dir.join("00000001.dwal");
    let mut bytes = fs::read(&seg).unwrap();
    bytes.extend_from_slice(b"DWAL\x01\x00\x00\x00torn");
    fs::write(&seg, bytes).unwrap();
    {
        let mut log = datawal_core::RecordLog::open(dir).unwrap();
        assert_eq!(log.recovery_report().unwrap().tail_truncated, 1);
        log.append(b"three").unwrap();
        log.fsync().unwrap();
    }
    let mut theirs = published::RecordLog::open(dir).unwrap();
    let payloads: Vec<_> = theirs
        .scan()
        .unwrap()
        .into_iter()
        .map(|r| r.payload)
        .collect();
    assert_eq!(
        payloads,
        vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
    );
    assert_eq!(theirs.recovery_report().unwrap().tail_truncated, 0);
}

/// The published crate keeps torn bytes and appends after them; records it
/// appends there are lost to it on the next open. We take the same longest
/// valid prefix, but keep every cut byte aside and count the intact records
/// among them, so nothing is destroyed silently.
#[test]
fn published_store_with_records_after_torn_bytes_is_cut_saved_and_counted() {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path();
    {
        let mut log = published::RecordLog::open(dir).unwrap();
        log.append(b"one").unwrap();
        log.fsync().unwrap();
    }
    let seg = dir.join("00000001.dwal");
    let mut bytes = fs::read(&seg).unwrap();
    let valid_len = bytes.len() as u64;
    bytes.extend_from_slice(b"DWAL\x01\x00\x00\x00torn");
    fs::write(&seg, &bytes).unwrap();
    {
        let mut log = published::RecordLog::open(dir).unwrap();
        log.append(b"lost by the published crate").unwrap();
        log.fsync().unwrap();
    }
    let mut again = published::RecordLog::open(dir).unwrap();
    assert_eq!(
        again.scan().unwrap().len(),
        1,
        "the published crate lost the append"
    );
    drop(again);
    let damaged = fs::read(&seg).unwrap();

    let log = datawal_core::RecordLog::open(dir).unwrap();
    let tail = log.recovery_report().unwrap().tail.unwrap();
    assert_eq!(tail.offset, valid_len);
    assert_eq!(
        tail.intact_frames_cut,
        Some(1),
        "the lost append is counted"
    );
    let saved = fs::read(tail.saved_to.unwrap()).unwrap();
    assert_eq!(
        saved,
        damaged[valid_len as usize..],
        "and kept, byte for byte"
    );
}

#[test]
fn published_reads_our_corpus_fixtures_alike() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    for name in ["valid_log", "tombstones", "compaction_output"] {
        let td = tempfile::tempdir().unwrap();
        for e in fs::read_dir(root.join(name)).unwrap() {
            let e = e.unwrap();
            fs::copy(e.path(), td.path().join(e.file_name())).unwrap();
        }
        assert_eq!(ours_rows(td.path()), theirs_rows(td.path()), "{name}");
    }
}

/// Our hint files (`{id:08}.hint`) are invisible to the published crate: it
/// opens a hinted store to the same items, appends and rotates; our next
/// open still uses the hints (as prefixes) and sees what it wrote, exactly
/// as a full replay does.
#[test]
fn published_opens_a_hinted_store_and_we_open_what_it_appended() {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path();
    let value = |i: u32| vec![(i % 251) as u8; 200 + (i % 300) as usize];
    {
        let mut kv = datawal_core::DataWal::open(dir).unwrap();
        for i in 0..900u32 {
            if i == 300 || i == 600 {
                kv.rotate().unwrap();
            }
            kv.put(format!("key-{}", i % 700).as_bytes(), &value(i))
                .unwrap();
            if i % 13 == 0 {
                kv.delete(format!("key-{}", i / 2).as_bytes()).unwrap();
            }
        }
        kv.fsync().unwrap();
    }
    for id in 1..=3 {
        assert!(datawal_core::hint_path(dir, id).exists(), "hint {id}");
    }
    let ours = datawal_core::DataWal::open(dir).unwrap().items().unwrap();
    {
        let mut theirs = published::DataWal::open(dir).unwrap();
        let mut items = theirs.items().unwrap();
        items.sort();
        assert!(items == ours, "the published crate reads other items");
        for i in 0..50u32 {
            theirs
                .put(format!("late-{i}").as_bytes(), &value(i))
                .unwrap();
            theirs.delete(format!("key-{i}").as_bytes()).unwrap();
        }
        theirs.fsync().unwrap();
    }
    {
        let mut log = published::RecordLog::open(dir).unwrap();
        log.rotate().unwrap();
        log.append_record(published::RecordType::Put, b"after-rotate", b"v")
            .unwrap();
        log.fsync().unwrap();
    }
    let mut theirs = published::DataWal::open(dir).unwrap();
    let mut want = theirs.items().unwrap();
    want.sort();
    drop(theirs);
    let bare = tempfile::tempdir().unwrap();
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_name().to_string_lossy().ends_with(".dwal") {
            fs::copy(e.path(), bare.path().join(e.file_name())).unwrap();
        }
    }
    let full = datawal_core::DataWal::open(bare.path()).unwrap();
    let hinted = datawal_core::DataWal::open(dir).unwrap();
    assert!(hinted.log().recovery_report().unwrap().bytes_from_hints > 0);
    assert!(hinted.items().unwrap() == want, "hinted open differs");
    assert!(full.items().unwrap() == want, "full replay differs");
    for k in full.keys() {
        assert_eq!(hinted.ref_of(&k), full.ref_of(&k));
    }
    assert_eq!(hinted.log().next_txid(), full.log().next_txid());
}
