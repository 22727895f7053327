//! Typed handles that many threads share: [`SharedTypedLog`] and
//! [`SharedTypedWal`], `Clone + Send + Sync` with every method on `&self`,
//! over the core's [`SharedLog`] and [`SharedWal`] (group commit: a `sync`
//! shares one `fdatasync` with every thread waiting at the same time).
//!
//! Encoding happens outside the core's append lock, in the calling thread's
//! own buffer; the clones share one private handle (the core handle, the
//! options, the one-time check that the codec can read the type back, and
//! the last bulk read's `skipped` report) behind an `Arc`.

use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use datawal_core::{DataWal, RecordLog, RecordRef, RecordType, SharedLog, SharedWal};

use crate::described as store;
use crate::error::{Location, Result, Skipped};
use crate::handle::{encode_key, Handle};
use crate::log::LogIter;
use crate::payload::decode_payload;
use crate::wal::Upgrade;
use crate::{Key, Options, Record, TypedLog, TypedWal};

/// A [`TypedLog`] that many threads share: `Clone + Send + Sync`, every
/// method on `&self`, durable appends through group commit.
///
/// ```
/// use datawal_typed::SharedTypedLog;
/// # fn main() -> datawal_typed::Result<()> {
/// let dir = tempfile::tempdir().expect("tempdir");
/// let log = SharedTypedLog::<String>::open(dir.path())?;
/// std::thread::scope(|s| {
///     for t in 0..4 {
///         let log = log.clone();
///         s.spawn(move || log.append_durable(&format!("from thread {t}")).map(|_| ()));
///     }
/// });
/// assert_eq!(log.scan()?.len(), 4);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct SharedTypedLog<T: Record> {
    handle: Arc<Handle<SharedLog>>,
    _type: PhantomData<fn() -> T>,
}

impl<T: Record> Clone for SharedTypedLog<T> {
    fn clone(&self) -> Self {
        SharedTypedLog {
            handle: Arc::clone(&self.handle),
            _type: PhantomData,
        }
    }
}

impl<T: Record> SharedTypedLog<T> {
    /// Open (or create) the log in `dir` with the default [`Options`].
    ///
    /// # Errors
    /// As [`SharedLog::open`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(dir, Options::default())
    }

    /// Open with `options` (an [`Options`], a codec or a read policy).
    ///
    /// # Errors
    /// As [`SharedLog::open_with`].
    pub fn open_with(dir: impl AsRef<Path>, options: impl Into<Options>) -> Result<Self> {
        // The plain handle checks and records the description.
        Ok(TypedLog::open_with(dir, options)?.into_shared())
    }

    /// Wrap a core shared log with `options`.
    #[must_use]
    pub fn from_raw_with(log: SharedLog, options: impl Into<Options>) -> Self {
        SharedTypedLog {
            handle: Arc::new(Handle::new(log, options.into())),
            _type: PhantomData,
        }
    }

    /// Append `value` (not durable until a [`sync`](Self::sync)).
    ///
    /// # Errors
    /// As [`TypedLog::append`].
    pub fn append(&self, value: &T) -> Result<RecordRef> {
        let (key, payload) = self.handle.encode_shared(&value.key(), value)?;
        Ok(self
            .handle
            .raw()
            .append_record(RecordType::Raw, &key, &payload)?)
    }

    /// Append `value` and return once it is durable (group commit).
    ///
    /// # Errors
    /// As [`append`](Self::append) and [`SharedLog::sync`].
    pub fn append_durable(&self, value: &T) -> Result<RecordRef> {
        let (key, payload) = self.handle.encode_shared(&value.key(), value)?;
        Ok(self
            .handle
            .raw()
            .append_record_durable(RecordType::Raw, &key, &payload)?)
    }

    /// Make every record appended before the call durable, sharing one
    /// `fdatasync` with the threads syncing at the same time.
    ///
    /// # Errors
    /// As [`SharedLog::sync`].
    pub fn sync(&self) -> Result<()> {
        Ok(self.handle.raw().sync()?)
    }

    /// Every value, in order, upgraded to the latest version, under the
    /// handle's read policy (a lock-free read: appends go on meanwhile).
    ///
    /// # Errors
    /// As [`TypedLog::scan`].
    pub fn scan(&self) -> Result<Vec<T>> {
        let mut iter = self.iter()?;
        let mut out = Vec::new();
        for value in &mut iter {
            out.push(value?.value);
        }
        self.handle.set_skipped(iter.into_skipped());
        Ok(out)
    }

    /// A streaming iterator over the log's records.
    ///
    /// # Errors
    /// As [`SharedLog::cursor`].
    pub fn iter(&self) -> Result<LogIter<T>> {
        Ok(LogIter::new(
            self.handle.raw().cursor()?,
            self.handle.read_policy(),
        ))
    }

    /// The records the last [`scan`](Self::scan) skipped under
    /// [`ReadPolicy::Skip`](crate::ReadPolicy::Skip).
    pub fn skipped(&self) -> impl std::ops::Deref<Target = Vec<Skipped>> + '_ {
        self.handle.skipped()
    }

    /// Remove whole closed segments below `txid`, while other threads
    /// append ([`SharedLog::truncate_before`]).
    ///
    /// # Errors
    /// As [`SharedLog::truncate_before`].
    pub fn truncate_before(&self, txid: u64) -> Result<datawal_core::TruncateStats> {
        Ok(self.handle.raw().truncate_before(txid)?)
    }

    /// A consistent copy of the log, while other threads append
    /// ([`SharedLog::backup_to`]), with the store's description (see
    /// [`crate::describe`]), if any, as [`TypedLog::backup_to`].
    ///
    /// # Errors
    /// As [`SharedLog::backup_to`]; when the description cannot be read or
    /// copied.
    pub fn backup_to(&self, out_dir: impl AsRef<Path>) -> Result<datawal_core::BackupStats> {
        let raw = self.handle.raw();
        let stats = raw.backup_to(out_dir.as_ref())?;
        store::copy(raw.dir(), out_dir.as_ref())?;
        Ok(stats)
    }

    /// The core shared log.
    #[must_use]
    pub fn raw(&self) -> &SharedLog {
        self.handle.raw()
    }
}

impl<T: Record> TypedLog<T> {
    /// This handle, shared: see [`SharedTypedLog`].
    #[must_use]
    pub fn into_shared(self) -> SharedTypedLog<T> {
        SharedTypedLog {
            handle: Arc::new(self.into_handle().map_raw(RecordLog::into_shared)),
            _type: PhantomData,
        }
    }
}

/// A [`TypedWal`] that many threads share: `Clone + Send + Sync`, every
/// method on `&self`, durable writes through group commit.
#[derive(Debug)]
pub struct SharedTypedWal<K: Key, V: Record> {
    handle: Arc<Handle<SharedWal>>,
    _types: PhantomData<fn() -> (K, V)>,
}

impl<K: Key, V: Record> Clone for SharedTypedWal<K, V> {
    fn clone(&self) -> Self {
        SharedTypedWal {
            handle: Arc::clone(&self.handle),
            _types: PhantomData,
        }
    }
}

impl<K: Key, V: Record> SharedTypedWal<K, V> {
    /// Open (or create) the store in `dir` with the default [`Options`].
    ///
    /// # Errors
    /// As [`SharedWal::open`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(dir, Options::default())
    }

    /// Open with `options`.
    ///
    /// # Errors
    /// As [`SharedWal::open_with`].
    pub fn open_with(dir: impl AsRef<Path>, options: impl Into<Options>) -> Result<Self> {
        Ok(TypedWal::open_with(dir, options)?.into_shared())
    }

    /// Wrap a core shared store with `options`.
    #[must_use]
    pub fn from_raw_with(db: SharedWal, options: impl Into<Options>) -> Self {
        SharedTypedWal {
            handle: Arc::new(Handle::new(db, options.into())),
            _types: PhantomData,
        }
    }

    /// Set `key` to `value` (not durable until a [`sync`](Self::sync)).
    ///
    /// # Errors
    /// As [`TypedWal::put`].
    pub fn put(&self, key: &K, value: &V) -> Result<()> {
        let (key, payload) = self.handle.encode_shared(key, value)?;
        Ok(self.db().put(&key, &payload)?)
    }

    /// Set `key` to `value` and return once it is durable (group commit).
    ///
    /// # Errors
    /// As [`put`](Self::put) and [`SharedWal::sync`].
    pub fn put_durable(&self, key: &K, value: &V) -> Result<()> {
        let (key, payload) = self.handle.encode_shared(key, value)?;
        Ok(self.db().put_durable(&key, &payload)?)
    }

    /// Set `value.key()` to `value`.
    ///
    /// # Errors
    /// As [`put`](Self::put).
    pub fn insert(&self, value: &V) -> Result<()>
    where
        V: Record<Key = K>,
    {
        self.put(&value.key(), value)
    }

    /// Remove `key` (a tombstone).
    ///
    /// # Errors
    /// As [`SharedWal::delete`].
    pub fn delete(&self, key: &K) -> Result<()> {
        Ok(self.db().delete(&encode_key(key))?)
    }

    /// The value of `key`, upgraded to the latest version.
    ///
    /// # Errors
    /// As [`TypedWal::get`].
    pub fn get(&self, key: &K) -> Result<Option<V>> {
        let k = encode_key(key);
        let Some(at) = self.db().ref_of(&k) else {
            return Ok(None);
        };
        let Some(bytes) = self.db().get(&k)? else {
            return Ok(None);
        };
        decode_payload::<V>(&bytes, || Location::of_key(at.segment, at.offset, &k))
            .map(|(v, _)| Some(v))
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

    /// The values the last [`compact`](Self::compact) copied unchanged
    /// because they did not decode, under
    /// [`ReadPolicy::Skip`](crate::ReadPolicy::Skip).
    pub fn skipped(&self) -> impl std::ops::Deref<Target = Vec<Skipped>> + '_ {
        self.handle.skipped()
    }

    /// Make every write made before the call durable (group commit).
    ///
    /// # Errors
    /// As [`SharedWal::sync`].
    pub fn sync(&self) -> Result<()> {
        Ok(self.db().sync()?)
    }

    /// Compact the store in place, while other threads write
    /// ([`SharedWal::compact`]: their writes wait for it), every value
    /// rewritten as the latest version of `V` with this handle's codec, as
    /// [`TypedWal::compact`] does; under
    /// [`ReadPolicy::Skip`](crate::ReadPolicy::Skip) a value that
    /// does not decode is copied unchanged and listed by
    /// [`skipped`](Self::skipped).
    ///
    /// # Errors
    /// As [`TypedWal::compact`] (nothing is removed from the store when a
    /// value fails), and as [`SharedWal::compact`].
    pub fn compact(&self) -> Result<datawal_core::CompactionStats> {
        let mut upgrade = Upgrade::new(self.handle.options());
        let result = self.handle.with_check(|db, check| {
            db.compact_with(|key, value| upgrade.value::<V>(key, None, value, check))
        })?;
        let db = self.db();
        upgrade.finish(result, self.handle.skipped_cell(), |key| db.ref_of(key))
    }

    /// Remove whole closed segments below `txid`, while other threads
    /// write ([`SharedWal::truncate_before`]): keys whose live value was in
    /// them are gone.
    ///
    /// # Errors
    /// As [`SharedWal::truncate_before`].
    pub fn truncate_before(&self, txid: u64) -> Result<datawal_core::TruncateStats> {
        Ok(self.db().truncate_before(txid)?)
    }

    /// A consistent copy of the store, while other threads write
    /// ([`SharedWal::backup_to`]), with the store's description (see
    /// [`crate::describe`]), if any, as [`TypedWal::backup_to`].
    ///
    /// # Errors
    /// As [`SharedWal::backup_to`]; when the description cannot be read or
    /// copied.
    pub fn backup_to(&self, out_dir: impl AsRef<Path>) -> Result<datawal_core::BackupStats> {
        let stats = self.db().backup_to(out_dir.as_ref())?;
        store::copy(self.db().dir(), out_dir.as_ref())?;
        Ok(stats)
    }

    /// The core shared store.
    #[must_use]
    pub fn raw(&self) -> &SharedWal {
        self.handle.raw()
    }

    fn db(&self) -> &SharedWal {
        self.handle.raw()
    }
}

impl<K: Key, V: Record> TypedWal<K, V> {
    /// This handle, shared: see [`SharedTypedWal`].
    #[must_use]
    pub fn into_shared(self) -> SharedTypedWal<K, V> {
        SharedTypedWal {
            handle: Arc::new(self.into_handle().map_raw(DataWal::into_shared)),
            _types: PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_share_a_typed_log_and_a_typed_store() {
        fn sync<T: Send + Sync + Clone>() {}
        sync::<SharedTypedLog<String>>();
        sync::<SharedTypedWal<u64, String>>();
        let dir = tempfile::tempdir().unwrap();
        let log = SharedTypedLog::<String>::open(dir.path().join("log")).unwrap();
        let kv = TypedWal::<u64, String>::open(dir.path().join("kv"))
            .unwrap()
            .into_shared();
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let (log, kv) = (log.clone(), kv.clone());
                s.spawn(move || {
                    for i in 0..25u64 {
                        log.append_durable(&format!("{t}-{i}")).unwrap();
                        kv.put(&(t * 100 + i), &format!("v{i}")).unwrap();
                    }
                    kv.sync().unwrap();
                });
            }
        });
        assert_eq!(log.scan().unwrap().len(), 100);
        assert_eq!(kv.len(), 100);
        assert_eq!(kv.get(&307).unwrap().as_deref(), Some("v7"));
        kv.delete(&307).unwrap();
        assert!(!kv.contains_key(&307));
        drop((log, kv));
        // Everything reads back through the plain handles.
        let log = TypedLog::<String>::open(dir.path().join("log")).unwrap();
        let mut got = log.scan().unwrap();
        got.sort();
        assert_eq!(got.len(), 100);
        let kv = TypedWal::<u64, String>::open(dir.path().join("kv")).unwrap();
        assert_eq!(kv.len(), 99);
    }
}
