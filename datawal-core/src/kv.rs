//! [`DataWal`]: the last-write-wins key/value projection of a [`RecordLog`].

use std::cell::Cell;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{CorruptKind, Error, Result};
use crate::format::{put_value, RecordType};
use crate::keydir::{KeyDir, KeyHashBuilder};
use crate::log::{LogOptions, RecordLog};
use crate::recovery::{RecordRef, RecordView};
use crate::segment::{open_segment, segment_path};

/// What [`Error::Exhausted`] names when the key directory is full.
const KEYDIR_EXHAUSTED: &str = "key directory (4,294,967,295 live keys)";

/// Segment files kept open for reads.
const MAX_OPEN_SEGMENTS: usize = 64;

/// A live key and where its Put is.
pub(crate) type Entry<'k> = (&'k [u8], RecordRef);

/// Most keys [`DataWal::open_with`] reserves room for before the scan (about
/// 6 MiB of key directory): beyond it the directory grows as it fills.
const RESERVE_CAP: usize = 1 << 17;

/// The bytes of segments `ids` in `dir` (a segment that cannot be stat'ed
/// counts 0: the scan that follows reports why).
fn segments_len(dir: &Path, ids: &[u32]) -> u64 {
    ids.iter()
        .filter_map(|&id| std::fs::metadata(segment_path(dir, id)).ok())
        .map(|m| m.len())
        .sum()
}

/// Last-write-wins key/value store over a [`RecordLog`]: `put` appends a
/// [`RecordType::Put`], `delete` a [`RecordType::Delete`] tombstone.
///
/// The key directory holds each live key's position, not its value: memory
/// grows with the number and length of keys, and [`get`](Self::get) reads the
/// record back and verifies its CRC.
#[derive(Debug)]
pub struct DataWal {
    log: RecordLog,
    keydir: KeyDir,
    files: Mutex<HashMap<u32, Arc<File>, KeyHashBuilder>>,
}

impl DataWal {
    /// Open (or create) the store in `dir`, recovering the log and building
    /// the key directory in the same single pass.
    ///
    /// # Errors
    /// As [`open_with`](Self::open_with).
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(dir, LogOptions::default())
    }

    /// As [`open`](Self::open), with settings for the log.
    ///
    /// # Errors
    /// As [`RecordLog::open`]; [`Error::Exhausted`] when the log would leave
    /// more than 4,294,967,295 keys live at once.
    pub fn open_with(dir: impl AsRef<Path>, options: LogOptions) -> Result<Self> {
        let mut keydir = KeyDir::default();
        let dir = dir.as_ref();
        // Set by the listing, read at the first record.
        let log_bytes = Cell::new(0);
        let mut sized = false;
        let mut full = false;
        let listed = |ids: &[u32]| log_bytes.set(segments_len(dir, ids));
        let log = RecordLog::open_visit(dir, options, listed, |v: &RecordView<'_>| {
            if !sized {
                // Size the table once, from the log's length over the first
                // frame's: one allocation instead of a doubling per power of
                // two (each a rehash and a table of fresh pages to fault in).
                sized = true;
                let records = log_bytes.get() / u64::from(v.len.max(1));
                keydir
                    .reserve(usize::try_from(records).map_or(RESERVE_CAP, |r| r.min(RESERVE_CAP)));
            }
            match v.record_type {
                RecordType::Put => full |= keydir.insert(v.key, v.position()).is_err(),
                RecordType::Delete => {
                    keydir.remove(v.key);
                }
                RecordType::Raw => {}
            }
        })?;
        if full {
            return Err(Error::Exhausted {
                what: KEYDIR_EXHAUSTED,
            });
        }
        // Overwrites and deletes leave fewer keys than records: give back
        // what the estimate reserved beyond them.
        keydir.shrink_to_fit();
        Ok(DataWal {
            log,
            keydir,
            files: Mutex::new(HashMap::with_hasher(KeyHashBuilder::default())),
        })
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        self.log.dir()
    }

    /// The underlying log.
    pub fn log(&self) -> &RecordLog {
        &self.log
    }

    /// Give up the key directory and keep the log.
    pub fn into_log(self) -> RecordLog {
        self.log
    }

    /// Number of live keys.
    pub fn len(&self) -> usize {
        self.keydir.len()
    }

    /// `true` when no key is live.
    pub fn is_empty(&self) -> bool {
        self.keydir.is_empty()
    }

    /// `true` when `key` is live.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.keydir.get(key).is_some()
    }

    /// Where the live value of `key` is on disk.
    pub fn ref_of(&self, key: &[u8]) -> Option<RecordRef> {
        self.keydir.get(key)
    }

    /// The live keys, sorted by bytes.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        let mut keys: Vec<Vec<u8>> = self.keydir.iter().map(|(k, _)| k.to_vec()).collect();
        keys.sort_unstable();
        keys
    }

    pub(crate) fn sorted_entries(&self) -> Vec<Entry<'_>> {
        let mut v: Vec<Entry<'_>> = self.keydir.iter().collect();
        v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        v
    }

    /// Every live `(key, value)`, sorted by key.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn items(&self) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let entries = self.sorted_entries();
        let values = self.read_values(&entries);
        entries
            .iter()
            .zip(values)
            .map(|((k, _), v)| Ok((k.to_vec(), v?)))
            .collect()
    }

    /// The live value of `key`, read from disk and CRC-checked.
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the bytes at the recorded position are no
    /// longer that record, [`Error::Io`].
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.keydir.get(key) {
            Some(r) => self.read_value(key, r).map(Some),
            None => Ok(None),
        }
    }

    fn segment_file(&self, segment: u32) -> Result<Arc<File>> {
        let mut files = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(f) = files.get(&segment) {
            return Ok(Arc::clone(f));
        }
        let path = segment_path(self.log.dir(), segment);
        let f = open_segment(OpenOptions::new().read(true), &path)
            .map_err(|e| Error::io("open segment", &path, e))?;
        let f = Arc::new(f);
        if files.len() >= MAX_OPEN_SEGMENTS {
            files.clear();
        }
        files.insert(segment, Arc::clone(&f));
        Ok(f)
    }

    /// Read `buf.len()` bytes of `segment` at `offset`. The active segment
    /// is read through the log's own handle; others through the cache of
    /// open segment files.
    fn read_at(&self, segment: u32, offset: u64, buf: &mut [u8]) -> Result<()> {
        let (active_id, active) = self.log.active_file();
        let read = if segment == active_id {
            active.read_exact_at(buf, offset)
        } else {
            self.segment_file(segment)?.read_exact_at(buf, offset)
        };
        read.map_err(|e| Error::io("read record", segment_path(self.log.dir(), segment), e))
    }

    /// Read the Put record at `r` and return its payload.
    pub(crate) fn read_value(&self, key: &[u8], r: RecordRef) -> Result<Vec<u8>> {
        // Not vec![0; n]: that is calloc, which glibc serves without its
        // per-thread cache (a third of get's user-space instructions).
        #[allow(clippy::slow_vector_initialization)]
        let mut buf = {
            let mut buf = Vec::with_capacity(r.len as usize);
            buf.resize(r.len as usize, 0);
            buf
        };
        self.read_at(r.segment, r.offset, &mut buf)?;
        let payload = put_value(key, &buf).map_err(|kind| self.corrupt(r, kind))?;
        buf.truncate(payload.end);
        buf.drain(..payload.start);
        Ok(buf)
    }

    fn corrupt(&self, r: RecordRef, kind: CorruptKind) -> Error {
        Error::Corrupt {
            segment: r.segment,
            offset: r.offset,
            path: segment_path(self.log.dir(), r.segment),
            kind,
        }
    }

    /// `entries` in runs of about [`BATCH_BYTES`] of records, each with its
    /// values as [`read_values`](Self::read_values) returns them: how
    /// compaction and export stream through a store.
    pub(crate) fn value_batches<'a>(
        &'a self,
        entries: &'a [Entry<'a>],
    ) -> impl Iterator<Item = (&'a [Entry<'a>], Vec<Result<Vec<u8>>>)> + 'a {
        batches(entries).map(move |batch| (batch, self.read_values(batch)))
    }

    /// The values of `entries`, in the same order, each as
    /// [`read_value`](Self::read_value) returns it, with few `pread`s: the
    /// records are visited by position, and records close together in a
    /// segment are read with one call. An entry whose bulk read or decoding
    /// fails is read again alone, so its error is the one `get` reports.
    pub(crate) fn read_values(&self, entries: &[Entry<'_>]) -> Vec<Result<Vec<u8>>> {
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_unstable_by_key(|&i| (entries[i].1.segment, entries[i].1.offset));
        let mut out: Vec<Option<Result<Vec<u8>>>> = Vec::new();
        out.resize_with(entries.len(), || None);
        let mut buf = Vec::new();
        let mut i = 0;
        while i < order.len() {
            let first = entries[order[i]].1;
            let start = first.offset;
            let mut end = start + u64::from(first.len);
            let mut j = i + 1;
            while let Some(&k) = order.get(j) {
                let r = entries[k].1;
                let r_end = r.offset + u64::from(r.len);
                if r.segment != first.segment
                    || r.offset > end + RUN_GAP
                    || r_end - start > RUN_BYTES
                {
                    break;
                }
                end = end.max(r_end);
                j += 1;
            }
            buf.clear();
            buf.resize((end - start) as usize, 0);
            let read = self.read_at(first.segment, start, &mut buf).is_ok();
            for &k in &order[i..j] {
                let (key, r) = entries[k];
                let rel = (r.offset - start) as usize;
                let bulk = read
                    .then(|| {
                        let frame = &buf[rel..rel + r.len as usize];
                        put_value(key, frame).ok().map(|p| frame[p].to_vec())
                    })
                    .flatten();
                out[k] = Some(match bulk {
                    Some(value) => Ok(value),
                    None => self.read_value(key, r),
                });
            }
            i = j;
        }
        out.into_iter()
            .zip(entries)
            .map(|(v, (key, r))| v.unwrap_or_else(|| self.read_value(key, *r)))
            .collect()
    }

    /// Set `key` to `value` (one Put record).
    ///
    /// # Errors
    /// As [`RecordLog::append_record`]; [`Error::Exhausted`], before
    /// writing, when `key` is new and the store already holds
    /// 4,294,967,295 live keys.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        if self.keydir.is_full() && self.keydir.get(key).is_none() {
            return Err(Error::Exhausted {
                what: KEYDIR_EXHAUSTED,
            });
        }
        let r = self.log.append_record(RecordType::Put, key, value)?;
        self.keydir.insert(key, r).map_err(|_| Error::Exhausted {
            what: KEYDIR_EXHAUSTED,
        })
    }

    /// Remove `key` (one Delete tombstone, written even when the key is absent,
    /// as the published crate does).
    ///
    /// # Errors
    /// As [`RecordLog::append_record`].
    pub fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.log.append_record(RecordType::Delete, key, b"")?;
        self.keydir.remove(key);
        Ok(())
    }

    /// Make every write durable. See [`RecordLog::fsync`].
    ///
    /// # Errors
    /// As [`RecordLog::fsync`].
    pub fn fsync(&mut self) -> Result<()> {
        self.log.fsync()
    }

    /// Start a new segment. See [`RecordLog::rotate`].
    ///
    /// # Errors
    /// As [`RecordLog::rotate`].
    pub fn rotate(&mut self) -> Result<()> {
        self.log.rotate()
    }
}

/// Bytes of records read, and written to the output, at a time.
const BATCH_BYTES: usize = 1 << 20;

/// `entries` cut into runs of about [`BATCH_BYTES`] of records (at least
/// one record each).
fn batches<'e, 'k>(entries: &'e [Entry<'k>]) -> impl Iterator<Item = &'e [Entry<'k>]> {
    let mut rest = entries;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut bytes = 0usize;
        let n = rest
            .iter()
            .take_while(|(_, r)| {
                bytes += r.len as usize;
                bytes <= BATCH_BYTES
            })
            .count()
            .max(1);
        let (batch, tail) = rest.split_at(n);
        rest = tail;
        Some(batch)
    })
}

/// Most bytes read by one `pread` in [`DataWal::read_values`].
const RUN_BYTES: u64 = 1 << 20;
/// Largest gap of unwanted bytes read through, rather than starting a new
/// `pread`, in [`DataWal::read_values`].
const RUN_GAP: u64 = 16 << 10;

#[cfg(test)]
mod tests {
    use super::*;

    /// A store with `n` keys over three segments, values of varied sizes,
    /// some keys overwritten and some deleted.
    fn store(dir: &Path, n: usize) -> DataWal {
        let mut db = DataWal::open(dir).unwrap();
        for i in 0..n {
            if i == n / 3 || i == 2 * n / 3 {
                db.rotate().unwrap();
            }
            let key = format!("k{i:05}-{}", "x".repeat(i % 40));
            db.put(key.as_bytes(), &vec![i as u8; i % 300]).unwrap();
            if i % 7 == 0 {
                db.put(key.as_bytes(), format!("again {i}").as_bytes())
                    .unwrap();
            }
            if i % 11 == 0 {
                db.delete(key.as_bytes()).unwrap();
            }
        }
        db
    }

    #[test]
    fn bulk_reads_equal_gets_in_any_order() {
        let td = tempfile::tempdir().unwrap();
        let db = store(td.path(), 2000);
        let mut entries = db.sorted_entries();
        let want: Vec<Vec<u8>> = entries
            .iter()
            .map(|(k, _)| db.get(k).unwrap().unwrap())
            .collect();
        let got: Vec<Vec<u8>> = db
            .read_values(&entries)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, want);
        entries.reverse();
        let got: Vec<Vec<u8>> = db
            .read_values(&entries)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let want: Vec<Vec<u8>> = want.into_iter().rev().collect();
        assert_eq!(got, want);
        assert!(db.read_values(&[]).is_empty());
    }

    #[test]
    fn a_damaged_record_in_a_bulk_read_fails_alone_with_the_error_get_gives() {
        let td = tempfile::tempdir().unwrap();
        let db = store(td.path(), 300);
        let entries = db.sorted_entries();
        let (victim_key, victim) = entries[entries.len() / 2];
        // Flip a payload byte of the victim on disk (its CRC no longer matches).
        let path = segment_path(db.dir(), victim.segment);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = victim.offset as usize + victim.len as usize - 5;
        bytes[at] ^= 0xFF;
        std::fs::write(&path, &bytes).unwrap();

        let results = db.read_values(&entries);
        for ((key, _), res) in entries.iter().zip(&results) {
            if *key == victim_key {
                let bulk = res.as_ref().unwrap_err().to_string();
                let single = db.get(key).unwrap_err().to_string();
                assert_eq!(bulk, single);
                assert!(bulk.contains("CRC") || bulk.contains("crc"), "{bulk}");
            } else {
                assert_eq!(res.as_ref().unwrap(), &db.get(key).unwrap().unwrap());
            }
        }
    }

    /// `open` reserves the table from the log's length; a log of many
    /// overwrites must not keep that room.
    #[test]
    fn open_sizes_the_key_directory_to_the_live_keys() {
        let td = tempfile::tempdir().unwrap();
        let mut db = DataWal::open(td.path()).unwrap();
        for i in 0..5_000u32 {
            db.put(format!("key{}", i % 50).as_bytes(), &[1; 16])
                .unwrap();
        }
        drop(db);
        let db = DataWal::open(td.path()).unwrap();
        assert_eq!(db.len(), 50);
        // 50 keys fit a table of 64 buckets (capacity 56); the log alone
        // would have reserved room for 5,000.
        assert!(db.keydir.capacity() < 128, "{}", db.keydir.capacity());

        // Unique keys: the reservation is the table the keys need anyway.
        let td = tempfile::tempdir().unwrap();
        let mut db = DataWal::open(td.path()).unwrap();
        for i in 0..3_000u32 {
            db.put(format!("key{i}").as_bytes(), &[1; 16]).unwrap();
        }
        drop(db);
        let db = DataWal::open(td.path()).unwrap();
        assert_eq!(db.len(), 3_000);
        assert!(
            (3_000..=3_584).contains(&db.keydir.capacity()),
            "{}",
            db.keydir.capacity()
        );
    }
}
