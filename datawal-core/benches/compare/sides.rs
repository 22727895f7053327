//! The two sides of every row: this crate and the published one, behind one
//! trait, so each workload is written once.

use std::path::Path;

use datawal_core::{DataWal, RecordLog, RecordType};

/// What the workloads use of a crate.
pub trait Side {
    /// The append-only log.
    type Log;
    /// The key/value store.
    type Kv;

    fn open_log(dir: &Path) -> Self::Log;
    fn append(log: &mut Self::Log, p: &[u8]);
    /// `n` copies of `p`, as one batch where the crate has batches.
    fn append_many(log: &mut Self::Log, n: usize, p: &[u8]);
    fn fsync(log: &mut Self::Log);
    /// Records returned by `scan()`.
    fn scan_len(log: &mut Self::Log) -> usize;
    /// Payload bytes seen by `scan_iter()`.
    fn scan_iter_bytes(log: &mut Self::Log) -> usize;

    fn open_kv(dir: &Path) -> Self::Kv;
    fn put(kv: &mut Self::Kv, k: &[u8], v: &[u8]);
    fn get(kv: &mut Self::Kv, k: &[u8]) -> Option<Vec<u8>>;
    fn delete(kv: &mut Self::Kv, k: &[u8]);
    fn kv_fsync(kv: &mut Self::Kv);
    fn kv_len(kv: &Self::Kv) -> usize;
    /// Live keys written to `out`.
    fn compact_to(kv: &mut Self::Kv, out: &Path) -> u64;
    fn export_jsonl(kv: &mut Self::Kv, out: &Path);
}

/// This crate.
pub struct Ours;

/// The published crate, `datawal = "=0.1.5"`.
pub struct Theirs;

impl Side for Ours {
    type Log = RecordLog;
    type Kv = DataWal;

    fn open_log(dir: &Path) -> RecordLog {
        RecordLog::open(dir).unwrap()
    }
    fn append(log: &mut RecordLog, p: &[u8]) {
        log.append(p).unwrap();
    }
    fn append_many(log: &mut RecordLog, n: usize, p: &[u8]) {
        log.append_batch((0..n).map(|_| (RecordType::Raw, &b""[..], p)))
            .unwrap();
    }
    fn fsync(log: &mut RecordLog) {
        log.fsync().unwrap();
    }
    fn scan_len(log: &mut RecordLog) -> usize {
        log.scan().unwrap().len()
    }
    fn scan_iter_bytes(log: &mut RecordLog) -> usize {
        log.scan_iter()
            .unwrap()
            .map(|r| r.unwrap().payload.len())
            .sum()
    }

    fn open_kv(dir: &Path) -> DataWal {
        DataWal::open(dir).unwrap()
    }
    fn put(kv: &mut DataWal, k: &[u8], v: &[u8]) {
        kv.put(k, v).unwrap();
    }
    fn get(kv: &mut DataWal, k: &[u8]) -> Option<Vec<u8>> {
        kv.get(k).unwrap()
    }
    fn delete(kv: &mut DataWal, k: &[u8]) {
        kv.delete(k).unwrap();
    }
    fn kv_fsync(kv: &mut DataWal) {
        kv.fsync().unwrap();
    }
    fn kv_len(kv: &DataWal) -> usize {
        kv.len()
    }
    fn compact_to(kv: &mut DataWal, out: &Path) -> u64 {
        kv.compact_to(out).unwrap().live_keys
    }
    fn export_jsonl(kv: &mut DataWal, out: &Path) {
        kv.export_jsonl(out).unwrap();
    }
}

impl Side for Theirs {
    type Log = datawal015::RecordLog;
    type Kv = datawal015::DataWal;

    fn open_log(dir: &Path) -> Self::Log {
        datawal015::RecordLog::open(dir).unwrap()
    }
    fn append(log: &mut Self::Log, p: &[u8]) {
        log.append(p).unwrap();
    }
    fn append_many(log: &mut Self::Log, n: usize, p: &[u8]) {
        for _ in 0..n {
            log.append(p).unwrap();
        }
    }
    fn fsync(log: &mut Self::Log) {
        log.fsync().unwrap();
    }
    fn scan_len(log: &mut Self::Log) -> usize {
        log.scan().unwrap().len()
    }
    fn scan_iter_bytes(log: &mut Self::Log) -> usize {
        log.scan_iter()
            .unwrap()
            .map(|r| r.unwrap().payload.len())
            .sum()
    }

    fn open_kv(dir: &Path) -> Self::Kv {
        datawal015::DataWal::open(dir).unwrap()
    }
    fn put(kv: &mut Self::Kv, k: &[u8], v: &[u8]) {
        kv.put(k, v).unwrap();
    }
    fn get(kv: &mut Self::Kv, k: &[u8]) -> Option<Vec<u8>> {
        kv.get(k).unwrap()
    }
    fn delete(kv: &mut Self::Kv, k: &[u8]) {
        kv.delete(k).unwrap();
    }
    fn kv_fsync(kv: &mut Self::Kv) {
        kv.fsync().unwrap();
    }
    fn kv_len(kv: &Self::Kv) -> usize {
        kv.len()
    }
    fn compact_to(kv: &mut Self::Kv, out: &Path) -> u64 {
        kv.compact_to(out).unwrap().live_keys
    }
    fn export_jsonl(kv: &mut Self::Kv, out: &Path) {
        kv.export_jsonl(out).unwrap();
    }
}
