//! [`TypedWal`]: last-write-wins typed key/value state.

use std::fmt;
use std::io::Write;
use std::marker::PhantomData;
use std::path::Path;

use datawal_core::{AtomicFile, CompactionStats, DataWal, RecordRef, RecoveryReport};
use serde::Serialize;

use crate::describe::{KeyDescription, StoreKind};
use crate::described::{self as store, Asked};
use crate::error::{Error, Location, Result, Skipped, SkippedCell};
use crate::handle::{encode_key, Handle};
use crate::key::decode_key_exact;
use crate::payload::{decode_payload, encode_payload, WriteCheck};
use crate::{Key, Options, ReadPolicy, Record};

/// A typed key/value store over a core [`DataWal`]: keys `K` in datawal's
/// order-preserving key encoding, values `V` in the typed envelope.
///
/// Every read decodes any version of `V`'s family that its upgrade chain
/// reaches. [`get`](Self::get) always reports a bad record as an error;
/// bulk reads ([`keys`](Self::keys), [`items`](Self::items),
/// [`iter`](Self::iter), [`export_jsonl`](Self::export_jsonl),
/// [`compact_upgraded_to`](Self::compact_upgraded_to)) follow the
/// [`ReadPolicy`].
///
/// ```
/// # fn main() -> datawal_typed::Result<()> {
/// use datawal_typed::TypedWal;
/// let dir = tempfile::tempdir().expect("tempdir");
/// let mut kv = TypedWal::<String, u64>::open(dir.path())?;
/// kv.put(&"apples".to_string(), &3)?;
/// kv.fsync()?;
/// assert_eq!(kv.get(&"apples".to_string())?, Some(3));
/// # Ok(())
/// # }
/// ```
pub struct TypedWal<K: Key, V: Record> {
    handle: Handle<DataWal>,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K: Key, V: Record> fmt::Debug for TypedWal<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedWal")
            .field("key", &std::any::type_name::<K>())
            .field("value", &V::NAME)
            .field("version", &V::VERSION)
            .field("db", self.handle.raw())
            .field("options", &self.handle.options())
            .finish_non_exhaustive()
    }
}

fn key_error<K: Key>(location: Location, source: crate::KeyError) -> Error {
    Error::Key {
        key_type: std::any::type_name::<K>(),
        location,
        source,
    }
}

impl<K: Key, V: Record> TypedWal<K, V> {
    /// Open (or create) the store in `dir` with the default [`Options`].
    ///
    /// # Errors
    /// As [`DataWal::open`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(dir, Options::default())
    }

    /// Open (or create) the store in `dir` with `options` (an [`Options`],
    /// a [`Codec`](crate::Codec) or a [`ReadPolicy`]).
    ///
    /// # Errors
    /// As [`DataWal::open`].
    pub fn open_with(dir: impl AsRef<Path>, options: impl Into<Options>) -> Result<Self> {
        let options = options.into();
        let db = DataWal::open_with(dir, options.log)?;
        let asked = Asked::of::<V>(
            StoreKind::KeyValue,
            Some(KeyDescription::of_key::<K>()),
            options.mixed,
        );
        let recorder = store::open(db.dir(), asked, db.log())?;
        Ok(TypedWal {
            handle: Handle::with_recorder(db, options, recorder),
            _types: PhantomData,
        })
    }

    /// Wrap an open core store with the default options. Unlike
    /// [`open`](Self::open), the store's description is neither checked nor
    /// updated.
    #[must_use]
    pub fn from_raw(db: DataWal) -> Self {
        Self::from_raw_with(db, Options::default())
    }

    /// Wrap an open core store with `options`.
    #[must_use]
    pub fn from_raw_with(db: DataWal, options: impl Into<Options>) -> Self {
        TypedWal {
            handle: Handle::new(db, options.into()),
            _types: PhantomData,
        }
    }

    /// The options in force.
    #[must_use]
    pub fn options(&self) -> Options {
        self.handle.options()
    }

    /// Write new values with `codec` from now on.
    pub fn set_codec(&mut self, codec: crate::Codec) {
        self.handle.set_codec(codec);
    }

    /// Read with `policy` from now on.
    pub fn set_read_policy(&mut self, policy: ReadPolicy) {
        self.handle.set_read_policy(policy);
    }

    /// Set `key` to `value`. Not durable until [`fsync`](Self::fsync).
    ///
    /// The first write with bincode or postcard checks that the codec can
    /// read `V` back, as [`TypedLog::append`](crate::TypedLog::append) does.
    ///
    /// # Errors
    /// [`Error::Unreadable`] and [`Error::Encode`] (nothing written),
    /// [`Error::Core`].
    pub fn put(&mut self, key: &K, value: &V) -> Result<()> {
        let (db, key, payload) = self.handle.encode(key, value)?;
        Ok(db.put(key, payload)?)
    }

    /// Set `value.key()` to `value`.
    ///
    /// # Errors
    /// As [`put`](Self::put).
    pub fn insert(&mut self, value: &V) -> Result<()>
    where
        V: Record<Key = K>,
    {
        self.put(&value.key(), value)
    }

    /// The value of `key`, upgraded to the latest version.
    ///
    /// # Errors
    /// [`Error::Envelope`], [`Error::WrongType`], [`Error::Decode`] when the
    /// stored record does not decode (whatever the read policy);
    /// [`Error::Core`].
    pub fn get(&self, key: &K) -> Result<Option<V>> {
        self.get_encoded(&encode_key(key))
    }

    fn get_encoded(&self, k: &[u8]) -> Result<Option<V>> {
        let Some(at) = self.db().ref_of(k) else {
            return Ok(None);
        };
        let Some(bytes) = self.db().get(k)? else {
            return Ok(None);
        };
        decode_payload::<V>(&bytes, || Location::of_key(at.segment, at.offset, k))
            .map(|(v, _)| Some(v))
    }

    /// Remove `key` (a tombstone, even if the key is absent). Not durable
    /// until [`fsync`](Self::fsync).
    ///
    /// # Errors
    /// [`Error::Core`].
    pub fn delete(&mut self, key: &K) -> Result<()> {
        let (db, key) = self.handle.encode_key(key);
        Ok(db.delete(key)?)
    }

    /// `true` when `key` has a value.
    #[must_use]
    pub fn contains_key(&self, key: &K) -> bool {
        self.db().contains_key(&encode_key(key))
    }

    /// Number of live keys.
    #[must_use]
    pub fn len(&self) -> usize {
        self.db().len()
    }

    /// `true` when no key is live.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.db().is_empty()
    }

    /// The live keys, in key order (which is `K`'s `Ord` for the key types
    /// datawal ships). Under [`ReadPolicy::Skip`] keys that do not decode are
    /// left out and listed by [`skipped`](Self::skipped).
    ///
    /// # Errors
    /// [`Error::Key`] under [`ReadPolicy::Stop`].
    pub fn keys(&self) -> Result<Vec<K>> {
        let mut skipped = Vec::new();
        let mut out = Vec::with_capacity(self.db().len());
        for k in self.db().keys() {
            match decode_key_exact::<K>(&k) {
                Ok(key) => out.push(key),
                Err(source) => {
                    let at = self.db().ref_of(&k).unwrap_or(RecordRef {
                        segment: 0,
                        offset: 0,
                        len: 0,
                    });
                    let e = key_error::<K>(Location::of_key(at.segment, at.offset, &k), source);
                    match self.handle.read_policy() {
                        ReadPolicy::Skip => skipped.push(Skipped::new(e)),
                        _ => return Err(e),
                    }
                }
            }
        }
        self.handle.set_skipped(skipped);
        Ok(out)
    }

    /// Every live `(key, value)`, in key order, values upgraded to the
    /// latest version. Under [`ReadPolicy::Skip`] pairs that do not decode
    /// are left out and listed by [`skipped`](Self::skipped).
    ///
    /// # Errors
    /// Under [`ReadPolicy::Stop`], the first pair that does not decode;
    /// [`Error::Core`] under either policy.
    pub fn items(&self) -> Result<Vec<(K, V)>> {
        let mut iter = self.iter();
        let out = (&mut iter).collect::<Result<Vec<_>>>()?;
        let skipped = iter.into_skipped();
        self.handle.set_skipped(skipped);
        Ok(out)
    }

    /// A streaming iterator over the live pairs in key order, reading each
    /// value from disk as it goes.
    #[must_use]
    pub fn iter(&self) -> WalIter<'_, K, V> {
        WalIter {
            live: self.db().iter(),
            policy: self.handle.read_policy(),
            skipped: Vec::new(),
            done: false,
            _types: PhantomData,
        }
    }

    /// The records the last bulk read on this handle skipped under
    /// [`ReadPolicy::Skip`].
    #[must_use]
    pub fn skipped(&self) -> impl std::ops::Deref<Target = Vec<Skipped>> + '_ {
        self.handle.skipped()
    }

    /// Write the live pairs, as stored, into the new store `out_dir` (one
    /// `Put` each). Old versions stay old; see
    /// [`compact_upgraded_to`](Self::compact_upgraded_to).
    ///
    /// # Errors
    /// As [`DataWal::compact_to`] (for example a target that is not empty).
    pub fn compact_to(&self, out_dir: impl AsRef<Path>) -> Result<CompactionStats> {
        Ok(self.db().compact_to(out_dir)?)
    }

    /// Write the live pairs into the new store `out_dir`, every value
    /// rewritten as the latest version of `V` with this handle's codec.
    /// Values already at the latest version and codec are copied unchanged.
    ///
    /// Under [`ReadPolicy::Skip`] a value that does not decode is copied
    /// unchanged and listed by [`skipped`](Self::skipped).
    ///
    /// # Errors
    /// Under [`ReadPolicy::Stop`] the first value that does not decode (the
    /// target is then left untouched); [`Error::Unreadable`] or
    /// [`Error::Encode`] for a value this handle's codec cannot write; as
    /// [`DataWal::compact_to`].
    pub fn compact_upgraded_to(&mut self, out_dir: impl AsRef<Path>) -> Result<CompactionStats> {
        let mut upgrade = Upgrade::new(self.handle.options());
        let (db, check) = self.handle.raw_and_check()?;
        let db = &*db;
        let result = db.compact_to_with(out_dir, |key, value| {
            let at = db.ref_of(key);
            upgrade.value::<V>(key, at, value, check)
        });
        upgrade.finish(result, self.handle.skipped_cell(), |_| None)
    }

    /// Compact the store in place ([`DataWal::compact`]: crash-safe at
    /// every step, while the handle stays open), every value rewritten as
    /// the latest version of `V` with this handle's codec, as
    /// [`compact_upgraded_to`](Self::compact_upgraded_to) does.
    ///
    /// # Errors
    /// As [`compact_upgraded_to`](Self::compact_upgraded_to) (nothing is
    /// removed from the store when a value fails), and as
    /// [`DataWal::compact`].
    pub fn compact(&mut self) -> Result<CompactionStats> {
        let mut upgrade = Upgrade::new(self.handle.options());
        let (db, check) = self.handle.raw_and_check()?;
        // The records move: errors are placed once compaction has returned.
        let result = db.compact_with(|key, value| upgrade.value::<V>(key, None, value, check));
        let db = self.handle.raw();
        upgrade.finish(result, self.handle.skipped_cell(), |key| db.ref_of(key))
    }

    /// Remove whole closed segments below `txid` ([`DataWal::truncate_before`]):
    /// keys whose live value was in them are gone.
    ///
    /// # Errors
    /// As [`DataWal::truncate_before`].
    pub fn truncate_before(&mut self, txid: u64) -> Result<datawal_core::TruncateStats> {
        Ok(self.handle.raw_mut().truncate_before(txid)?)
    }

    /// A consistent copy of the store while it runs ([`DataWal::backup_to`]),
    /// with the store's description (see [`crate::describe`]), if any.
    ///
    /// # Errors
    /// As [`DataWal::backup_to`]; when the description cannot be read or
    /// copied.
    pub fn backup_to(&self, out_dir: impl AsRef<Path>) -> Result<datawal_core::BackupStats> {
        let stats = self.db().backup_to(out_dir.as_ref())?;
        store::copy(self.dir(), out_dir.as_ref())?;
        Ok(stats)
    }

    /// Write the live pairs as readable JSON, one
    /// `{"key":<key>,"value":<value>}` object per line, sorted by key bytes,
    /// values upgraded to the latest version. The file is written through
    /// [`datawal_core::AtomicFile`] (a temporary sibling created exclusively
    /// under a random name, fsynced and renamed over `out`; removed on
    /// failure), and `out`'s directory is created when missing.
    ///
    /// Under [`ReadPolicy::Skip`] pairs that do not decode are left out and
    /// listed by [`skipped`](Self::skipped).
    ///
    /// # Errors
    /// Under [`ReadPolicy::Stop`] the first pair that does not decode;
    /// [`Error::Encode`] for a key or value JSON cannot express (such as a map
    /// with non-string keys); [`Error::Io`] when a line cannot be written;
    /// [`Error::Core`] when the file cannot be created, synced or renamed
    /// into place, and for read errors.
    pub fn export_jsonl(&self, out: impl AsRef<Path>) -> Result<()>
    where
        K: Serialize,
    {
        let mut file = AtomicFile::create(out)?;
        let mut iter = self.iter();
        let mut line = Vec::new();
        for pair in &mut iter {
            let (k, v) = pair?;
            line.clear();
            serde_json::to_writer(&mut line, &JsonLine { key: &k, value: &v }).map_err(|e| {
                Error::Encode {
                    name: V::NAME,
                    codec: crate::Codec::Json,
                    message: e.to_string(),
                }
            })?;
            line.push(b'\n');
            file.write_all(&line).map_err(|source| Error::Io {
                op: "write",
                path: file.temp_path().to_path_buf(),
                source,
            })?;
        }
        let skipped = iter.into_skipped();
        file.commit()?;
        self.handle.set_skipped(skipped);
        Ok(())
    }

    /// Make everything written so far durable.
    ///
    /// # Errors
    /// As [`DataWal::fsync`].
    pub fn fsync(&mut self) -> Result<()> {
        Ok(self.handle.raw_mut().fsync()?)
    }

    /// Close the active segment and start a new one.
    ///
    /// # Errors
    /// As [`DataWal::rotate`].
    pub fn rotate(&mut self) -> Result<()> {
        Ok(self.handle.raw_mut().rotate()?)
    }

    /// What the open found (torn tail, records replayed, …).
    ///
    /// # Errors
    /// As [`datawal_core::RecordLog::recovery_report`].
    pub fn recovery_report(&self) -> Result<RecoveryReport> {
        Ok(self.db().log().recovery_report()?)
    }

    /// The store directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.db().dir()
    }

    /// The core store, for raw reads.
    #[must_use]
    pub fn raw(&self) -> &DataWal {
        self.handle.raw()
    }

    fn db(&self) -> &DataWal {
        self.handle.raw()
    }

    /// The core store, mutably: values put through it without the typed
    /// layer are read back as [`Error::Envelope`] errors (or skipped).
    pub fn raw_mut(&mut self) -> &mut DataWal {
        self.handle.raw_mut()
    }

    /// Give up the typed view and keep the core store.
    #[must_use]
    pub fn into_raw(self) -> DataWal {
        self.handle.into_raw()
    }

    pub(crate) fn into_handle(self) -> Handle<DataWal> {
        self.handle
    }
}

#[derive(Serialize)]
struct JsonLine<'a, K, V> {
    key: &'a K,
    value: &'a V,
}

/// Iterator over the live pairs of a [`TypedWal`], in key order.
///
/// Under [`ReadPolicy::Stop`] it yields the first error and then ends;
/// under [`ReadPolicy::Skip`] it leaves undecodable pairs out and lists
/// them in [`skipped`](Self::skipped). Core errors always end it.
pub struct WalIter<'a, K: Key, V: Record> {
    live: datawal_core::LiveIter<'a>,
    policy: ReadPolicy,
    skipped: Vec<Skipped>,
    done: bool,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K: Key, V: Record> fmt::Debug for WalIter<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalIter")
            .field("remaining", &self.live.size_hint().0)
            .field("policy", &self.policy)
            .field("skipped", &self.skipped.len())
            .finish_non_exhaustive()
    }
}

impl<K: Key, V: Record> WalIter<'_, K, V> {
    /// The pairs skipped so far.
    #[must_use]
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The pairs skipped, taken out of the iterator.
    #[must_use]
    pub fn into_skipped(self) -> Vec<Skipped> {
        self.skipped
    }

    fn step(&mut self) -> Option<Result<(K, V)>> {
        // Values come in batches from the core (one `pread` for records
        // close together), keys in order.
        let (k, at, bytes) = match self.live.next()? {
            Ok(item) => item,
            Err(e) => return Some(Err(Error::Core(e))),
        };
        let location = || Location::of_key(at.segment, at.offset, k);
        let key = match decode_key_exact::<K>(k) {
            Ok(key) => key,
            Err(source) => return Some(Err(key_error::<K>(location(), source))),
        };
        Some(decode_payload::<V>(&bytes, location).map(|(v, _)| (key, v)))
    }
}

impl<K: Key, V: Record> Iterator for WalIter<'_, K, V> {
    type Item = Result<(K, V)>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.step() {
                None => self.done = true,
                Some(Ok(pair)) => return Some(Ok(pair)),
                Some(Err(e)) if self.policy.skips(&e) => {
                    self.skipped.push(Skipped::new(e));
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

impl<K: Key, V: Record> std::iter::FusedIterator for WalIter<'_, K, V> {}

/// The transform of an upgrading compaction: each live value decoded and,
/// unless it already is the latest version in the handle's codec,
/// re-encoded; what failed or was skipped is kept for the handle.
pub(crate) struct Upgrade {
    options: Options,
    failure: Option<Error>,
    skipped: Vec<Skipped>,
    buf: Vec<u8>,
}

impl Upgrade {
    pub(crate) fn new(options: Options) -> Self {
        Upgrade {
            options,
            failure: None,
            skipped: Vec::new(),
            buf: Vec::new(),
        }
    }

    /// The value to write for `key`'s stored `value` (at `at`, when known).
    pub(crate) fn value<V: Record>(
        &mut self,
        key: &[u8],
        at: Option<RecordRef>,
        value: Vec<u8>,
        check: &mut WriteCheck,
    ) -> std::result::Result<Vec<u8>, datawal_core::TransformError> {
        let location = || {
            let at = at.unwrap_or(RecordRef {
                segment: 0,
                offset: 0,
                len: 0,
            });
            Location::of_key(at.segment, at.offset, key)
        };
        let codec = self.options.codec;
        match decode_payload::<V>(&value, location) {
            Ok((_, header)) if header.version == V::VERSION && header.codec == codec => Ok(value),
            Ok((v, _)) => match encode_payload(&v, codec, &mut self.buf, check) {
                Ok(()) => Ok(self.buf.clone()),
                Err(e) => Err(self.fail(e)),
            },
            Err(e) if self.options.read_policy == ReadPolicy::Skip => {
                self.skipped.push(Skipped::new(e));
                Ok(value)
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn fail(&mut self, e: Error) -> datawal_core::TransformError {
        let msg = e.to_string();
        self.failure = Some(e);
        msg.into()
    }

    /// The compaction's outcome; `place` gives where a key's record is now
    /// (for errors found while its position was not known).
    pub(crate) fn finish(
        self,
        result: datawal_core::Result<CompactionStats>,
        skipped: &SkippedCell,
        place: impl Fn(&[u8]) -> Option<RecordRef>,
    ) -> Result<CompactionStats> {
        let relocate = |e: &mut Error| {
            if let Some(loc) = e.location_mut() {
                if let Some(r) = loc.key.as_deref().and_then(&place) {
                    loc.segment = r.segment;
                    loc.offset = r.offset;
                }
            }
        };
        match result {
            Ok(stats) => {
                let mut list = self.skipped;
                for s in &mut list {
                    relocate(&mut s.reason);
                    if let Some(loc) = s.reason.location() {
                        s.location = loc.clone();
                    }
                }
                skipped.set(list);
                Ok(stats)
            }
            Err(core) => Err(match self.failure {
                Some(mut e) => {
                    relocate(&mut e);
                    e
                }
                None => Error::Core(core),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_get_delete_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut kv = TypedWal::<i64, String>::open(dir.path()).unwrap();
        assert!(kv.is_empty());
        kv.put(&-5, &"minus five".into()).unwrap();
        kv.put(&5, &"five".into()).unwrap();
        kv.put(&5, &"FIVE".into()).unwrap();
        kv.delete(&7).unwrap();
        assert_eq!(kv.len(), 2);
        assert_eq!(kv.get(&5).unwrap().as_deref(), Some("FIVE"));
        assert_eq!(kv.get(&7).unwrap(), None);
        kv.fsync().unwrap();
        drop(kv);
        let mut kv = TypedWal::<i64, String>::open(dir.path()).unwrap();
        assert_eq!(kv.keys().unwrap(), [-5, 5], "negative keys sort first");
        kv.delete(&-5).unwrap();
        assert!(!kv.contains_key(&-5));
        assert_eq!(kv.items().unwrap(), [(5, "FIVE".to_string())]);
        assert!(kv.recovery_report().unwrap().records_replayed >= 3);
    }

    #[test]
    fn upgrade_compaction_passes_latest_values_through_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let mut kv = TypedWal::<u8, u64>::open(dir.path().join("a")).unwrap();
        kv.put(&1, &10).unwrap();
        let before = kv.raw().get(&[1]).unwrap().unwrap();
        let stats = kv.compact_upgraded_to(dir.path().join("b")).unwrap();
        assert_eq!(stats.live_keys, 1);
        let out = TypedWal::<u8, u64>::open(dir.path().join("b")).unwrap();
        assert_eq!(out.raw().get(&[1]).unwrap().unwrap(), before);
        // With another codec, the value is re-encoded.
        kv.set_codec(crate::Codec::Json);
        kv.compact_upgraded_to(dir.path().join("c")).unwrap();
        let out = TypedWal::<u8, u64>::open(dir.path().join("c")).unwrap();
        assert_eq!(&out.raw().get(&[1]).unwrap().unwrap()[8..], b"10");
        assert_eq!(out.get(&1).unwrap(), Some(10));
    }
}
