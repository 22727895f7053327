//! Read-only access to a store: a lock-free snapshot, the last-write-wins
//! projection built from it, and reading a record back by position.
//!
//! Nothing here takes the writer lock or changes a file: these helpers work
//! while a writer appends.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::os::unix::fs::FileExt as _;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use datawal_core::format::put_value;
use datawal_core::segment::segment_path;
use datawal_core::{Error, RecordCursor, RecordLogReader, RecordRef, RecordType};

/// Segment files a [`ValueReader`] keeps open at most.
const MAX_OPEN_SEGMENTS: usize = 64;

/// Check that `dir` is an existing directory, with a message that says which
/// of the two it is not.
///
/// # Errors
/// When `dir` is missing, is not a directory, or cannot be inspected.
pub fn require_dir(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => bail!(
            "{} is not a directory (give the store's directory)",
            dir.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("no such store directory: {}", dir.display())
        }
        Err(e) => Err(e).with_context(|| format!("cannot inspect {}", dir.display())),
    }
}

/// A lock-free snapshot of the store in `dir`.
///
/// # Errors
/// As [`require_dir`], and when the directory cannot be listed.
pub fn open_reader(dir: &Path) -> Result<RecordLogReader> {
    require_dir(dir)?;
    Ok(RecordLogReader::open(dir)?)
}

/// The sizes of the snapshot's segment files, in snapshot order, and where
/// each starts in the concatenation (for progress).
#[derive(Debug, Default)]
pub struct Sizes {
    /// `(segment id, size in bytes)`, ascending ids.
    pub files: Vec<(u32, u64)>,
}

impl Sizes {
    /// Stat every segment of the snapshot. A segment that vanished counts as empty.
    pub fn of(reader: &RecordLogReader) -> Sizes {
        let files = reader
            .segments()
            .iter()
            .map(|&id| {
                let len = fs::metadata(segment_path(reader.dir(), id))
                    .map(|m| m.len())
                    .unwrap_or(0);
                (id, len)
            })
            .collect();
        Sizes { files }
    }

    /// Total bytes.
    pub fn total(&self) -> u64 {
        self.files.iter().map(|f| f.1).sum()
    }

    /// Bytes before segment `id` in the concatenation.
    pub fn base_of(&self, id: u32) -> u64 {
        self.files
            .iter()
            .take_while(|f| f.0 < id)
            .map(|f| f.1)
            .sum()
    }
}

/// Counts taken over every record of a snapshot.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Projection {
    /// The live keys and where their last Put is (last write wins; a Delete removes).
    pub live: BTreeMap<Vec<u8>, RecordRef>,
    /// Put records.
    pub puts: u64,
    /// Delete records (tombstones).
    pub deletes: u64,
    /// Raw records (written by `append`, not part of the key/value view).
    pub raws: u64,
    /// Bytes of valid frames.
    pub frame_bytes: u64,
    /// Lowest txid seen.
    pub first_txid: Option<u64>,
    /// Highest txid seen.
    pub last_txid: Option<u64>,
}

impl Projection {
    /// Read the cursor to its end, calling `progress` with each record's
    /// segment and end offset. With `keys` false, only counts are taken and
    /// `live` stays empty (memory stays flat).
    ///
    /// # Errors
    /// Corruption and I/O errors of the cursor.
    pub fn build(
        cursor: &mut RecordCursor,
        keys: bool,
        mut progress: impl FnMut(u32, u64),
    ) -> Result<Self> {
        let mut p = Projection::default();
        while let Some(v) = cursor.next_view()? {
            match v.record_type {
                RecordType::Put => {
                    p.puts += 1;
                    if keys {
                        match p.live.get_mut(v.key) {
                            Some(slot) => *slot = v.position(),
                            None => {
                                p.live.insert(v.key.to_vec(), v.position());
                            }
                        }
                    }
                }
                RecordType::Delete => {
                    p.deletes += 1;
                    p.live.remove(v.key);
                }
                RecordType::Raw => p.raws += 1,
            }
            p.frame_bytes += u64::from(v.len);
            p.first_txid = Some(p.first_txid.map_or(v.txid, |t| t.min(v.txid)));
            p.last_txid = Some(p.last_txid.map_or(v.txid, |t| t.max(v.txid)));
            progress(v.segment, v.offset + u64::from(v.len));
        }
        Ok(p)
    }

    /// Records seen.
    pub fn records(&self) -> u64 {
        self.puts + self.deletes + self.raws
    }
}

/// Reads live values back by position, keeping each segment file open.
#[derive(Debug)]
pub struct ValueReader<'a> {
    dir: &'a Path,
    files: HashMap<u32, File>,
}

impl<'a> ValueReader<'a> {
    /// A reader of the store in `dir`.
    pub fn new(dir: &'a Path) -> Self {
        ValueReader {
            dir,
            files: HashMap::new(),
        }
    }

    /// Read back the Put of `key` at `r` and return its value.
    ///
    /// # Errors
    /// I/O errors, and [`Error::Corrupt`] when the bytes there are no longer
    /// that record.
    pub fn read(&mut self, key: &[u8], r: RecordRef) -> Result<Vec<u8>> {
        let path = segment_path(self.dir, r.segment);
        let corrupt = |kind| Error::Corrupt {
            segment: r.segment,
            offset: r.offset,
            path: path.clone(),
            kind,
        };
        if self.files.len() >= MAX_OPEN_SEGMENTS && !self.files.contains_key(&r.segment) {
            self.files.clear();
        }
        let file = match self.files.entry(r.segment) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(
                File::open(&path).with_context(|| format!("open segment {}", path.display()))?,
            ),
        };
        let mut buf = vec![0u8; r.len as usize];
        file.read_exact_at(&mut buf, r.offset)
            .with_context(|| format!("read record at offset {} of {}", r.offset, path.display()))?;
        let value = put_value(key, &buf).map_err(corrupt)?;
        buf.truncate(value.end);
        buf.drain(..value.start);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datawal_core::format::encode_into;

    fn frame(txid: u64, key: &[u8], value: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        encode_into(&mut v, RecordType::Put, txid, key, value);
        v
    }

    #[test]
    fn values_read_back_and_checked() {
        let td = tempfile::tempdir().unwrap();
        let mut bytes = frame(1, b"a", b"one");
        let second = bytes.len() as u64;
        bytes.extend(frame(2, b"b", b"two"));
        fs::write(td.path().join("00000001.dwal"), &bytes).unwrap();
        let mut vr = ValueReader::new(td.path());
        let r = |offset, len| RecordRef {
            segment: 1,
            offset,
            len,
        };
        assert_eq!(vr.read(b"a", r(0, second as u32)).unwrap(), b"one");
        assert_eq!(vr.read(b"b", r(second, second as u32)).unwrap(), b"two");
        let e = vr.read(b"a", r(second, second as u32)).unwrap_err();
        assert!(e.to_string().contains("not the put of its key"), "{e}");
        let e = vr.read(b"a", r(1, second as u32)).unwrap_err();
        assert!(
            e.downcast_ref::<Error>().is_some_and(Error::is_corrupt),
            "{e}"
        );
    }

    #[test]
    fn projection_is_last_write_wins() {
        let td = tempfile::tempdir().unwrap();
        let mut db = datawal_core::DataWal::open(td.path()).unwrap();
        db.put(b"a", b"1").unwrap();
        db.put(b"b", b"2").unwrap();
        db.delete(b"a").unwrap();
        db.put(b"b", b"3").unwrap();
        db.put(b"a", b"4").unwrap();
        db.delete(b"c").unwrap();
        db.fsync().unwrap();
        let reader = RecordLogReader::open(td.path()).unwrap();
        let mut ends = Vec::new();
        let p = Projection::build(&mut reader.cursor(), true, |s, e| ends.push((s, e))).unwrap();
        assert_eq!((p.puts, p.deletes, p.raws, p.records()), (4, 2, 0, 6));
        assert_eq!((p.first_txid, p.last_txid), (Some(1), Some(6)));
        assert_eq!(ends.len(), 6);
        assert_eq!(ends.last().map(|e| e.1), Some(p.frame_bytes));
        let mut values = ValueReader::new(td.path());
        let live: Vec<(Vec<u8>, Vec<u8>)> = p
            .live
            .iter()
            .map(|(k, r)| (k.clone(), values.read(k, *r).unwrap()))
            .collect();
        assert_eq!(
            live,
            vec![
                (b"a".to_vec(), b"4".to_vec()),
                (b"b".to_vec(), b"3".to_vec())
            ]
        );
        let counts = Projection::build(&mut reader.cursor(), false, |_, _| {}).unwrap();
        assert!(counts.live.is_empty());
        assert_eq!(counts.records(), 6);
        assert_eq!(counts.frame_bytes, p.frame_bytes);
    }

    #[test]
    fn sizes_place_segments_end_to_end() {
        let s = Sizes {
            files: vec![(1, 10), (2, 5), (4, 7)],
        };
        assert_eq!(s.total(), 22);
        assert_eq!(s.base_of(1), 0);
        assert_eq!(s.base_of(2), 10);
        assert_eq!(s.base_of(4), 15);
    }

    #[test]
    fn dir_checks_name_the_problem() {
        let td = tempfile::tempdir().unwrap();
        let missing = td.path().join("nope");
        let e = require_dir(&missing).unwrap_err().to_string();
        assert!(e.starts_with("no such store directory"), "{e}");
        let file = td.path().join("f");
        fs::write(&file, b"x").unwrap();
        let e = require_dir(&file).unwrap_err().to_string();
        assert!(e.contains("is not a directory"), "{e}");
    }
}
