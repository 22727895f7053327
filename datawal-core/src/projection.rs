//! The last-write-wins projection of a log, one implementation for the
//! writer ([`crate::DataWal`]) and the lock-free reader
//! ([`crate::DataWalReader`]): the replay that builds the key directory,
//! and reading live values back by position.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{CorruptKind, Error, Result};
use crate::format::{decode_frame, put_value, Decoded, RecordType};
use crate::hint::{Fold, Hint, KeyOp};
use crate::keydir::{KeyDir, KeyHashBuilder};
use crate::recovery::{Record, RecordRef, RecordView};
use crate::segment::{open_segment, segment_path};

/// What [`Error::Exhausted`] names when the key directory is full.
pub(crate) const KEYDIR_EXHAUSTED: &str = "key directory (4,294,967,295 live keys)";

/// Segment files kept open for reads.
const MAX_OPEN_SEGMENTS: usize = 64;

/// A live key and where its Put is.
pub(crate) type Entry<'k> = (&'k [u8], RecordRef);

/// Most keys a [`Replay`] reserves room for before the scan (about 6 MiB of
/// key directory): beyond it the directory grows as it fills.
const RESERVE_CAP: usize = 1 << 17;

/// The bytes of segments `ids` in `dir` (a segment that cannot be stat'ed
/// counts 0: the scan that follows reports why).
pub(crate) fn segments_len(dir: &Path, ids: &[u32]) -> u64 {
    ids.iter()
        .filter_map(|&id| std::fs::metadata(segment_path(dir, id)).ok())
        .map(|m| m.len())
        .sum()
}

/// Last write wins: the key directory built from the records of a log, in
/// order. A Put sets its key's position, a Delete removes the key, Raw
/// records are not part of the projection.
#[derive(Debug)]
pub(crate) struct Replay {
    keydir: KeyDir,
    log_bytes: u64,
    sized: bool,
    full: bool,
}

impl Replay {
    /// A replay of a log of `log_bytes` bytes (for sizing the directory).
    pub(crate) fn new(log_bytes: u64) -> Self {
        Replay {
            keydir: KeyDir::default(),
            log_bytes,
            sized: false,
            full: false,
        }
    }

    /// A replay of segments `ids` of `dir` whose prefixes `hints` cover:
    /// room for every Put the hints hold is reserved before any is applied
    /// (their counts are exact, so the directory never grows while they
    /// are; a log that overwrites its keys over many segments gets more
    /// room than it keeps, which [`finish`](Self::finish) gives back), and
    /// the bytes left to read size the rest as in [`new`](Self::new).
    pub(crate) fn with_hints(dir: &Path, ids: &[u32], hints: &[Option<Hint>]) -> Self {
        let hinted = hints.iter().flatten();
        let covered: u64 = hinted.clone().map(|h| h.covered).sum();
        let puts: u64 = hinted.map(|h| h.puts).sum();
        let mut replay = Replay::new(segments_len(dir, ids).saturating_sub(covered));
        // Each counted Put has an entry of at least 17 bytes in a hint file
        // whose length was checked: the count is bounded by bytes on disk.
        replay
            .keydir
            .reserve(usize::try_from(puts).unwrap_or(usize::MAX));
        replay
    }

    /// Apply the next record.
    #[inline]
    pub(crate) fn visit(&mut self, v: &RecordView<'_>) {
        if !self.sized {
            // Size the table once, from the log's length over the first
            // frame's: one allocation instead of a doubling per power of
            // two (each a rehash and a table of fresh pages to fault in).
            self.sized = true;
            let records = self.log_bytes / u64::from(v.len.max(1));
            self.keydir
                .reserve(usize::try_from(records).map_or(RESERVE_CAP, |r| r.min(RESERVE_CAP)));
        }
        match v.record_type {
            RecordType::Put => self.full |= self.keydir.insert(v.key, v.position()).is_err(),
            RecordType::Delete => {
                self.keydir.remove(v.key);
            }
            RecordType::Raw => {}
        }
    }

    /// The projection of the records seen.
    ///
    /// # Errors
    /// [`Error::Exhausted`] when more than 4,294,967,295 keys were live at once.
    pub(crate) fn finish(self, dir: &Path) -> Result<Projection> {
        if self.full {
            return Err(Error::Exhausted {
                what: KEYDIR_EXHAUSTED,
            });
        }
        let mut keydir = self.keydir;
        // Overwrites and deletes leave fewer keys than records: give back
        // what the estimate reserved beyond them.
        keydir.shrink_to_fit();
        Ok(Projection {
            dir: dir.to_path_buf(),
            keydir,
            files: Mutex::new(HashMap::with_hasher(KeyHashBuilder::default())),
        })
    }
}

#[cfg(test)]
impl Replay {
    /// Keys the directory has room for without growing.
    pub(crate) fn capacity(&self) -> usize {
        self.keydir.capacity()
    }
}

impl Fold for Replay {
    const KEYS: bool = true;

    fn hinted(&mut self, _: &Hint) {}

    #[inline]
    fn key_op(&mut self, op: KeyOp<'_>) {
        match op {
            KeyOp::Put { key, at } => self.full |= self.keydir.insert(key, at).is_err(),
            KeyOp::Delete { key } => {
                self.keydir.remove(key);
            }
        }
    }

    #[inline]
    fn record(&mut self, view: &RecordView<'_>) {
        self.visit(view);
    }
}

/// The live keys of a store and where their values are.
#[derive(Debug)]
pub(crate) struct Projection {
    dir: PathBuf,
    pub(crate) keydir: KeyDir,
    files: Mutex<HashMap<u32, Arc<File>, KeyHashBuilder>>,
}

impl Projection {
    /// Number of live keys.
    pub(crate) fn len(&self) -> usize {
        self.keydir.len()
    }

    /// `true` when no key is live.
    pub(crate) fn is_empty(&self) -> bool {
        self.keydir.is_empty()
    }

    /// `true` when `key` is live.
    pub(crate) fn contains_key(&self, key: &[u8]) -> bool {
        self.keydir.get(key).is_some()
    }

    /// Where the live value of `key` is on disk.
    pub(crate) fn ref_of(&self, key: &[u8]) -> Option<RecordRef> {
        self.keydir.get(key)
    }

    /// The live keys, sorted by bytes.
    pub(crate) fn keys(&self) -> Vec<Vec<u8>> {
        let mut keys: Vec<Vec<u8>> = self.keydir.iter().map(|(k, _)| k.to_vec()).collect();
        keys.sort_unstable();
        keys
    }

    pub(crate) fn sorted_entries(&self) -> Vec<Entry<'_>> {
        let mut v: Vec<Entry<'_>> = self.keydir.iter().collect();
        v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        v
    }
}

/// Reading live values of a [`Projection`]: through a writer's active
/// segment handle when there is one, else through cached segment files.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Values<'a> {
    pub(crate) proj: &'a Projection,
    pub(crate) active: Option<(u32, &'a File)>,
}

impl Values<'_> {
    /// Every live `(key, value)`, sorted by key.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub(crate) fn items(&self) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let entries = self.proj.sorted_entries();
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
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.proj.keydir.get(key) {
            Some(r) => self.read_value(key, r).map(Some),
            None => Ok(None),
        }
    }

    fn segment_file(&self, segment: u32) -> Result<Arc<File>> {
        let mut files = self
            .proj
            .files
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(f) = files.get(&segment) {
            return Ok(Arc::clone(f));
        }
        let path = segment_path(&self.proj.dir, segment);
        let f = open_segment(OpenOptions::new().read(true), &path)
            .map_err(|e| Error::io("open segment", &path, e))?;
        let f = Arc::new(f);
        if files.len() >= MAX_OPEN_SEGMENTS {
            files.clear();
        }
        files.insert(segment, Arc::clone(&f));
        Ok(f)
    }

    /// Read `buf.len()` bytes of `segment` at `offset`. A writer's active
    /// segment is read through the log's own handle; others through the
    /// cache of open segment files.
    fn read_at(&self, segment: u32, offset: u64, buf: &mut [u8]) -> Result<()> {
        let read = match self.active {
            Some((active_id, active)) if active_id == segment => active.read_exact_at(buf, offset),
            _ => self.segment_file(segment)?.read_exact_at(buf, offset),
        };
        read.map_err(|e| Error::io("read record", segment_path(&self.proj.dir, segment), e))
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

    /// Read the whole Put record at `r` (its txid and position too).
    pub(crate) fn read_record(&self, key: &[u8], r: RecordRef) -> Result<Record> {
        let mut buf = vec![0; r.len as usize];
        self.read_at(r.segment, r.offset, &mut buf)?;
        put_value(key, &buf).map_err(|kind| self.corrupt(r, kind))?;
        match decode_frame(&buf) {
            Ok(Decoded::Frame(f)) => Ok(Record {
                record_type: f.header.record_type,
                txid: f.header.txid,
                key: f.key.to_vec(),
                payload: f.payload.to_vec(),
                segment: r.segment,
                offset: r.offset,
                len: r.len,
            }),
            Ok(Decoded::Incomplete { available, needed }) => {
                Err(self.corrupt(r, CorruptKind::Truncated { available, needed }))
            }
            Err(kind) => Err(self.corrupt(r, kind)),
        }
    }

    /// The live record of `key`.
    pub(crate) fn get_record(&self, key: &[u8]) -> Result<Option<Record>> {
        match self.proj.keydir.get(key) {
            Some(r) => self.read_record(key, r).map(Some),
            None => Ok(None),
        }
    }

    fn corrupt(&self, r: RecordRef, kind: CorruptKind) -> Error {
        Error::Corrupt {
            segment: r.segment,
            offset: r.offset,
            path: segment_path(&self.proj.dir, r.segment),
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
        let (batch, tail) = rest.split_at(batch_len(rest));
        rest = tail;
        Some(batch)
    })
}

/// How many of `entries` (at least one) make the next batch of about
/// [`BATCH_BYTES`] of records.
fn batch_len(entries: &[Entry<'_>]) -> usize {
    let mut bytes = 0usize;
    entries
        .iter()
        .take_while(|(_, r)| {
            bytes += r.len as usize;
            bytes <= BATCH_BYTES
        })
        .count()
        .max(1)
}

/// Every live key with its value, in key order, read in batches (records
/// close together in a segment come with one `pread`): from
/// [`crate::DataWal::iter`] and [`crate::DataWalReader::iter`]. Each item
/// is the key, where its Put is, and the value, or the error
/// [`crate::DataWal::get`] would give for that key.
#[derive(Debug)]
pub struct LiveIter<'a> {
    values: Values<'a>,
    entries: Vec<Entry<'a>>,
    /// Entries before this one have been read into `batch` (or returned).
    read_to: usize,
    /// Index in `entries` of the next item to return.
    next: usize,
    batch: std::vec::IntoIter<Result<Vec<u8>>>,
}

impl<'a> LiveIter<'a> {
    pub(crate) fn new(values: Values<'a>) -> Self {
        LiveIter {
            entries: values.proj.sorted_entries(),
            values,
            read_to: 0,
            next: 0,
            batch: Vec::new().into_iter(),
        }
    }
}

impl<'a> Iterator for LiveIter<'a> {
    type Item = Result<(&'a [u8], RecordRef, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next == self.read_to {
            let rest = self.entries.get(self.read_to..)?;
            if rest.is_empty() {
                return None;
            }
            let n = batch_len(rest);
            self.batch = self.values.read_values(&rest[..n]).into_iter();
            self.read_to += n;
        }
        let (key, r) = *self.entries.get(self.next)?;
        self.next += 1;
        Some(self.batch.next()?.map(|value| (key, r, value)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.entries.len() - self.next;
        (left, Some(left))
    }
}

/// Most bytes read by one `pread` in [`Values::read_values`].
const RUN_BYTES: u64 = 1 << 20;
/// Largest gap of unwanted bytes read through, rather than starting a new
/// `pread`, in [`Values::read_values`].
const RUN_GAP: u64 = 16 << 10;

/// The reads both key/value handles answer from their key directory alone
/// (no I/O): the writer ([`DataWal`](crate::DataWal)) and the read-only
/// snapshot ([`DataWalReader`](crate::DataWalReader)), which both hold it
/// as `self.proj`.
macro_rules! key_directory_reads {
    () => {
        /// Number of live keys.
        pub fn len(&self) -> usize {
            self.proj.len()
        }

        /// `true` when no key is live.
        pub fn is_empty(&self) -> bool {
            self.proj.is_empty()
        }

        /// `true` when `key` is live.
        pub fn contains_key(&self, key: &[u8]) -> bool {
            self.proj.contains_key(key)
        }

        /// Where the live value of `key` is on disk.
        pub fn ref_of(&self, key: &[u8]) -> Option<RecordRef> {
            self.proj.ref_of(key)
        }

        /// The live keys, sorted by bytes.
        pub fn keys(&self) -> Vec<Vec<u8>> {
            self.proj.keys()
        }
    };
}
pub(crate) use key_directory_reads;
