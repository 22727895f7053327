//! [`DataWal`]: the last-write-wins key/value projection of a [`RecordLog`].

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::{CorruptKind, Error, Result};
use crate::format::{decode_frame, Decoded, RecordType};
use crate::keydir::{KeyBuf, KeyHashBuilder, INLINE_KEY};
use crate::log::{LogOptions, RecordLog};
use crate::recovery::{RecordRef, RecordView};
use crate::segment::segment_path;

/// Segment files kept open for reads.
const MAX_OPEN_SEGMENTS: usize = 64;

/// Last-write-wins key/value store over a [`RecordLog`]: `put` appends a
/// [`RecordType::Put`], `delete` a [`RecordType::Delete`] tombstone.
///
/// The key directory holds each live key's position, not its value: memory
/// grows with the number and length of keys, and [`get`](Self::get) reads the
/// record back and verifies its CRC.
#[derive(Debug)]
pub struct DataWal {
    log: RecordLog,
    keydir: HashMap<KeyBuf, RecordRef, KeyHashBuilder>,
    files: Mutex<HashMap<u32, Arc<File>, KeyHashBuilder>>,
}

impl DataWal {
    /// Open (or create) the store in `dir`, recovering the log and building
    /// the key directory in the same single pass.
    ///
    /// # Errors
    /// As [`RecordLog::open`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(dir, LogOptions::default())
    }

    /// As [`open`](Self::open), with settings for the log.
    ///
    /// # Errors
    /// As [`RecordLog::open`].
    pub fn open_with(dir: impl AsRef<Path>, options: LogOptions) -> Result<Self> {
        let mut keydir: HashMap<KeyBuf, RecordRef, KeyHashBuilder> =
            HashMap::with_hasher(KeyHashBuilder::new());
        let log = RecordLog::open_visit(dir.as_ref(), options, |v: &RecordView<'_>| {
            match v.record_type {
                RecordType::Put => set(&mut keydir, v.key, v.position()),
                RecordType::Delete => {
                    keydir.remove(v.key);
                }
                RecordType::Raw => {}
            }
        })?;
        Ok(DataWal {
            log,
            keydir,
            files: Mutex::new(HashMap::with_hasher(KeyHashBuilder::new())),
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
        self.keydir.contains_key(key)
    }

    /// Where the live value of `key` is on disk.
    pub fn ref_of(&self, key: &[u8]) -> Option<RecordRef> {
        self.keydir.get(key).copied()
    }

    /// The live keys, sorted by bytes.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        let mut keys: Vec<Vec<u8>> = self.keydir.keys().map(|k| k.as_slice().to_vec()).collect();
        keys.sort_unstable();
        keys
    }

    pub(crate) fn sorted_entries(&self) -> Vec<(&[u8], RecordRef)> {
        let mut v: Vec<(&[u8], RecordRef)> = self
            .keydir
            .iter()
            .map(|(k, r)| (k.as_slice(), *r))
            .collect();
        v.sort_unstable_by(|a, b| a.0.cmp(b.0));
        v
    }

    /// Every live `(key, value)`, sorted by key.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn items(&self) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.sorted_entries()
            .into_iter()
            .map(|(k, r)| Ok((k.to_vec(), self.read_value(k, r)?)))
            .collect()
    }

    /// The live value of `key`, read from disk and CRC-checked.
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the bytes at the recorded position are no
    /// longer that record, [`Error::Io`].
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.keydir.get(key) {
            Some(r) => self.read_value(key, *r).map(Some),
            None => Ok(None),
        }
    }

    fn segment_file(&self, segment: u32) -> Result<Arc<File>> {
        let mut files = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(f) = files.get(&segment) {
            return Ok(Arc::clone(f));
        }
        let path = segment_path(self.log.dir(), segment);
        let f = Arc::new(File::open(&path).map_err(|e| Error::io("open segment", &path, e))?);
        if files.len() >= MAX_OPEN_SEGMENTS {
            files.clear();
        }
        files.insert(segment, Arc::clone(&f));
        Ok(f)
    }

    /// Read the Put record at `r` and return its payload.
    pub(crate) fn read_value(&self, key: &[u8], r: RecordRef) -> Result<Vec<u8>> {
        let file = self.segment_file(r.segment)?;
        let path = || segment_path(self.log.dir(), r.segment);
        let corrupt = |kind| Error::Corrupt {
            segment: r.segment,
            offset: r.offset,
            path: path(),
            kind,
        };
        let mut buf = vec![0u8; r.len as usize];
        file.read_exact_at(&mut buf, r.offset)
            .map_err(|e| Error::io("read record", path(), e))?;
        let (header, k_len) = match decode_frame(&buf) {
            Ok(Decoded::Frame(f)) => {
                if f.header.record_type != RecordType::Put || f.key != key {
                    return Err(corrupt(CorruptKind::Unexpected {
                        detail: format!(
                            "expected the put of key {}, found a {} record",
                            crate::format::display_key(key),
                            f.header.record_type.name()
                        ),
                    }));
                }
                (f.header, f.key.len())
            }
            Ok(Decoded::Incomplete { available, needed }) => {
                return Err(corrupt(CorruptKind::Truncated { available, needed }))
            }
            Err(kind) => return Err(corrupt(kind)),
        };
        let start = crate::format::HEADER_LEN + k_len;
        buf.truncate(start + header.payload_len as usize);
        buf.drain(..start);
        Ok(buf)
    }

    /// Set `key` to `value` (one Put record).
    ///
    /// # Errors
    /// As [`RecordLog::append_record`].
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        let r = self.log.append_record(RecordType::Put, key, value)?;
        set(&mut self.keydir, key, r);
        Ok(())
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

/// Point `key` at `r`. A short key is built in place and looked up once; a
/// long one is only boxed when it is new.
#[inline]
fn set(keydir: &mut HashMap<KeyBuf, RecordRef, KeyHashBuilder>, key: &[u8], r: RecordRef) {
    if key.len() <= INLINE_KEY {
        keydir.insert(KeyBuf::from(key), r);
    } else if let Some(slot) = keydir.get_mut(key) {
        *slot = r;
    } else {
        keydir.insert(KeyBuf::from(key), r);
    }
}
