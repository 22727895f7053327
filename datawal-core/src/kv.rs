//! [`DataWal`]: the last-write-wins key/value projection of a [`RecordLog`].

use std::path::Path;

use crate::error::{Error, Result};
use crate::format::RecordType;
use crate::log::{LogOptions, Opening, RecordLog};
use crate::projection::{LiveIter, Projection, Replay, Values, KEYDIR_EXHAUSTED};
use crate::recovery::RecordRef;

/// Last-write-wins key/value store over a [`RecordLog`]: `put` appends a
/// [`RecordType::Put`], `delete` a [`RecordType::Delete`] tombstone.
///
/// The key directory holds each live key's position, not its value: memory
/// grows with the number and length of keys, and [`get`](Self::get) reads the
/// record back and verifies its CRC.
#[derive(Debug)]
pub struct DataWal {
    log: RecordLog,
    pub(crate) proj: Projection,
    /// The active segment when the last write returned: a change means a
    /// rotation, after which retention may have removed segments and
    /// automatic compaction may be due.
    active_seen: u32,
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
        let dir = dir.as_ref();
        let mut opening = Opening::start(dir, options)?;
        let replay = opening.replay(|o| Replay::with_hints(dir, o.segments(), o.hints()))?;
        let log = opening.finish()?;
        let proj = replay.finish(dir)?;
        let active_seen = log.active_segment();
        Ok(DataWal {
            log,
            proj,
            active_seen,
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

    /// The log, mutably (crate-internal: lifecycle operations).
    pub(crate) fn log_mut(&mut self) -> &mut RecordLog {
        &mut self.log
    }

    /// The log and the projection, borrowed apart.
    pub(crate) fn parts_mut(&mut self) -> (&mut RecordLog, &Projection) {
        (&mut self.log, &self.proj)
    }

    /// Point `key` at its rewritten Put.
    pub(crate) fn point_key(&mut self, key: &[u8], r: RecordRef) -> Result<()> {
        self.proj
            .keydir
            .insert(key, r)
            .map_err(|_| Error::Exhausted {
                what: KEYDIR_EXHAUSTED,
            })
    }

    /// Drop keys whose live Put was in a segment that retention removed.
    pub(crate) fn forget_removed_segments(&mut self) {
        let first = self.log.first_segment();
        let gone: Vec<Vec<u8>> = self
            .proj
            .keydir
            .iter()
            .filter(|(_, r)| r.segment < first)
            .map(|(k, _)| k.to_vec())
            .collect();
        for k in gone {
            self.proj.keydir.remove(&k);
        }
    }

    /// Give up the key directory and keep the log.
    pub fn into_log(self) -> RecordLog {
        self.log
    }

    crate::projection::key_directory_reads!();

    /// Every live `(key, value)`, sorted by key.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn items(&self) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.values().items()
    }

    /// The live value of `key`, read from disk and CRC-checked.
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the bytes at the recorded position are no
    /// longer that record, [`Error::Io`].
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.values().get(key)
    }

    /// Every live key with its value, in key order, read in batches (far
    /// fewer `pread`s than a `get` per key).
    pub fn iter(&self) -> LiveIter<'_> {
        LiveIter::new(self.values())
    }

    /// The projection and how to read its values (the active segment
    /// through the log's own handle).
    pub(crate) fn values(&self) -> Values<'_> {
        Values {
            proj: &self.proj,
            active: Some(self.log.active_file()),
        }
    }

    /// Set `key` to `value` (one Put record).
    ///
    /// # Errors
    /// As [`RecordLog::append_record`]; [`Error::Exhausted`], before
    /// writing, when `key` is new and the store already holds
    /// 4,294,967,295 live keys.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        let keydir = &mut self.proj.keydir;
        if keydir.is_full() && keydir.get(key).is_none() {
            return Err(Error::Exhausted {
                what: KEYDIR_EXHAUSTED,
            });
        }
        let r = self.log.append_record(RecordType::Put, key, value)?;
        self.proj
            .keydir
            .insert(key, r)
            .map_err(|_| Error::Exhausted {
                what: KEYDIR_EXHAUSTED,
            })?;
        self.after_write()
    }

    /// After a write that rotated: drop keys whose segments retention
    /// removed, and compact when the automatic policy says so.
    #[inline]
    fn after_write(&mut self) -> Result<()> {
        if self.log.active_segment() == self.active_seen {
            return Ok(());
        }
        self.after_rotation()
    }

    #[cold]
    fn after_rotation(&mut self) -> Result<()> {
        if self.log.options().retains() {
            self.forget_removed_segments();
        }
        if let Some(percent) = self.log.options().compact_dead_percent {
            let total = self.log.log_bytes();
            let live: u64 = self.proj.keydir.iter().map(|(_, r)| u64::from(r.len)).sum();
            if total > 0 && (total - live.min(total)) * 100 > total * u64::from(percent) {
                self.compact()?;
            }
        }
        self.active_seen = self.log.active_segment();
        Ok(())
    }

    /// Remove `key` (one Delete tombstone, written even when the key is absent,
    /// as the published crate does).
    ///
    /// # Errors
    /// As [`RecordLog::append_record`].
    pub fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.log.append_record(RecordType::Delete, key, b"")?;
        self.proj.keydir.remove(key);
        self.after_write()
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
        self.log.rotate()?;
        self.after_write()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::segment_path;

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
        let mut entries = db.proj.sorted_entries();
        let want: Vec<Vec<u8>> = entries
            .iter()
            .map(|(k, _)| db.get(k).unwrap().unwrap())
            .collect();
        let got: Vec<Vec<u8>> = db
            .values()
            .read_values(&entries)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, want);
        entries.reverse();
        let got: Vec<Vec<u8>> = db
            .values()
            .read_values(&entries)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let want: Vec<Vec<u8>> = want.into_iter().rev().collect();
        assert_eq!(got, want);
        assert!(db.values().read_values(&[]).is_empty());
    }

    #[test]
    fn a_damaged_record_in_a_bulk_read_fails_alone_with_the_error_get_gives() {
        let td = tempfile::tempdir().unwrap();
        let db = store(td.path(), 300);
        let entries = db.proj.sorted_entries();
        let (victim_key, victim) = entries[entries.len() / 2];
        // Flip a payload byte of the victim on disk (its CRC no longer matches).
        let path = segment_path(db.dir(), victim.segment);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = victim.offset as usize + victim.len as usize - 5;
        bytes[at] ^= 0xFF;
        std::fs::write(&path, &bytes).unwrap();

        let results = db.values().read_values(&entries);
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
        assert!(
            db.proj.keydir.capacity() < 128,
            "{}",
            db.proj.keydir.capacity()
        );

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
            (3_000..=3_584).contains(&db.proj.keydir.capacity()),
            "{}",
            db.proj.keydir.capacity()
        );
    }
}
