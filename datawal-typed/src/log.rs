//! [`TypedLog`]: an append-only log of versioned records.

use std::fmt;
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::path::Path;

use datawal_core::{
    RecordCursor, RecordLog, RecordLogReader, RecordRef, RecordType, RecordView, RecoveryReport,
};

use crate::describe::StoreKind;
use crate::described::{self as store, Asked};
use crate::envelope::Header;
use crate::error::{Error, Location, Result, Skipped};
use crate::handle::Handle;
use crate::payload::{decode_value, Rejected};
use crate::{Codec, Options, ReadPolicy, Record};

/// A value read from a typed log, with where it was stored.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Entry<T> {
    /// The value, upgraded to the latest version.
    pub value: T,
    /// The record's transaction id.
    pub txid: u64,
    /// Segment id.
    pub segment: u32,
    /// Offset of the record's frame within the segment.
    pub offset: u64,
    /// The schema version the record was written with.
    pub version: u16,
    /// The codec the record was written with.
    pub codec: Codec,
    /// Length of the record's frame on disk.
    pub len: u32,
}

impl<T> Entry<T> {
    /// Where the record is, for [`TypedLog::read_at`] or
    /// [`TypedReader::read_at`].
    #[must_use]
    pub fn position(&self) -> RecordRef {
        RecordRef {
            segment: self.segment,
            offset: self.offset,
            len: self.len,
        }
    }

    /// Where the record is, as a [`Location`].
    #[must_use]
    pub fn location(&self) -> Location {
        Location::in_log(self.segment, self.offset, self.txid)
    }
}

/// An append-only log of `T` records over a core [`RecordLog`].
///
/// Each record is a core `Raw` record whose key field holds the encoded
/// `T::key()` and whose payload holds the typed envelope and body (see
/// `docs/canon-typed.md`). Reads decode any version of `T`'s family that its
/// `from`/`try_from` chain reaches, from any codec.
///
/// ```
/// # fn main() -> datawal_typed::Result<()> {
/// use datawal_typed::TypedLog;
/// let dir = tempfile::tempdir().expect("tempdir");
/// let mut log = TypedLog::<String>::open(dir.path())?;
/// log.append(&"hello".to_string())?;
/// log.fsync()?;
/// assert_eq!(log.scan()?, ["hello"]);
/// # Ok(())
/// # }
/// ```
pub struct TypedLog<T: Record> {
    handle: Handle<RecordLog>,
    _type: PhantomData<fn() -> T>,
}

impl<T: Record> fmt::Debug for TypedLog<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedLog")
            .field("type", &T::NAME)
            .field("version", &T::VERSION)
            .field("log", self.handle.raw())
            .field("options", &self.handle.options())
            .finish_non_exhaustive()
    }
}

impl<T: Record> TypedLog<T> {
    /// Open (or create) the log in `dir` with the default [`Options`].
    ///
    /// # Errors
    /// As [`RecordLog::open`]: I/O, another writer holding the lock, or
    /// corruption that is not a torn tail.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(dir, Options::default())
    }

    /// Open (or create) the log in `dir` with `options` (an [`Options`], a
    /// [`Codec`] or a [`ReadPolicy`]).
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with(dir: impl AsRef<Path>, options: impl Into<Options>) -> Result<Self> {
        let options = options.into();
        let log = RecordLog::open_with(dir, options.log)?;
        let asked = Asked::of::<T>(StoreKind::Log, None, options.mixed);
        let recorder = store::open(log.dir(), asked, &log)?;
        Ok(TypedLog {
            handle: Handle::with_recorder(log, options, recorder),
            _type: PhantomData,
        })
    }

    /// Wrap an open core log, with the default options. Unlike
    /// [`open`](Self::open), the store's description is neither checked nor
    /// updated.
    #[must_use]
    pub fn from_raw(log: RecordLog) -> Self {
        Self::from_raw_with(log, Options::default())
    }

    /// Wrap an open core log with `options`.
    #[must_use]
    pub fn from_raw_with(log: RecordLog, options: impl Into<Options>) -> Self {
        TypedLog {
            handle: Handle::new(log, options.into()),
            _type: PhantomData,
        }
    }

    /// The options in force.
    #[must_use]
    pub fn options(&self) -> Options {
        self.handle.options()
    }

    /// Write new records with `codec` from now on.
    pub fn set_codec(&mut self, codec: Codec) {
        self.handle.set_codec(codec);
    }

    /// Read with `policy` from now on.
    pub fn set_read_policy(&mut self, policy: ReadPolicy) {
        self.handle.set_read_policy(policy);
    }

    /// Append `value`. Not durable until [`fsync`](Self::fsync).
    ///
    /// The first append with bincode or postcard checks that the codec can
    /// read `T` back (a check of the type, kept for the handle's life): a
    /// type holding, say, a `serde_json::Value` is refused with
    /// [`Error::Unreadable`], whatever the value, before anything is
    /// written. JSON reads every type.
    ///
    /// # Errors
    /// [`Error::Unreadable`] and [`Error::Encode`] (nothing written); the
    /// core's errors as [`Error::Core`] (a key or payload too large, a
    /// poisoned handle, I/O).
    pub fn append(&mut self, value: &T) -> Result<RecordRef> {
        let (log, key, payload) = self.handle.encode(&value.key(), value)?;
        Ok(log.append_record(RecordType::Raw, key, payload)?)
    }

    /// Append every value with one write (see
    /// [`RecordLog::append_batch`]: not a transaction; a failed or cut write
    /// can leave a prefix of the batch, which recovery keeps whole). Not
    /// durable until [`fsync`](Self::fsync).
    ///
    /// # Errors
    /// As [`append`](Self::append); an encoding error or a refused type
    /// writes nothing.
    pub fn append_batch<'a, I>(&mut self, values: I) -> Result<Vec<RecordRef>>
    where
        I: IntoIterator<Item = &'a T>,
        T: 'a,
    {
        // Keys and payloads go into one buffer each; the ranges are kept so
        // the core gets borrowed slices.
        let batch = self.handle.encode_batch(values)?;
        let (keys, payloads) = (batch.keys, batch.payloads);
        Ok(batch.raw.append_batch(
            batch
                .ranges
                .into_iter()
                .map(|(k, p)| (RecordType::Raw, &keys[k], &payloads[p])),
        )?)
    }

    /// Every value in the log, in order, upgraded to the latest version.
    ///
    /// Under [`ReadPolicy::Skip`] undecodable records are left out and
    /// listed by [`skipped`](Self::skipped).
    ///
    /// # Errors
    /// Under [`ReadPolicy::Stop`], the first record that does not decode
    /// ([`Error::Envelope`], [`Error::WrongType`], [`Error::Decode`],
    /// [`Error::RecordType`]); core errors ([`Error::Core`]) under either
    /// policy. (A log's key field is not decoded: the value carries its key.)
    pub fn scan(&self) -> Result<Vec<T>> {
        let mut iter = self.iter()?;
        // Every record of a typed log is one value: size the output from the
        // txid count (capped: txids come from disk), as the core's scan does.
        let hint = self.handle.raw().next_txid().saturating_sub(1).min(1 << 20);
        let mut out = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
        // Only the value is kept: no `Entry` is built.
        iter.for_each_decoded(|value, _, _| out.push(value))?;
        self.handle.set_skipped(iter.into_skipped());
        Ok(out)
    }

    /// Every record with its position, txid, version and codec. As
    /// [`scan`](Self::scan) otherwise.
    ///
    /// # Errors
    /// As [`scan`](Self::scan).
    pub fn scan_entries(&self) -> Result<Vec<Entry<T>>> {
        let mut iter = self.iter()?;
        let mut out = Vec::new();
        iter.for_each_decoded(|value, header, view| out.push(entry(value, header, view)))?;
        self.handle.set_skipped(iter.into_skipped());
        Ok(out)
    }

    /// The records the last [`scan`](Self::scan) or
    /// [`scan_entries`](Self::scan_entries) skipped under
    /// [`ReadPolicy::Skip`].
    #[must_use]
    pub fn skipped(&self) -> impl std::ops::Deref<Target = Vec<Skipped>> + '_ {
        self.handle.skipped()
    }

    /// A streaming iterator over the log's records, decoding each from the
    /// core cursor's buffer (no copy of the record's bytes).
    ///
    /// # Errors
    /// As [`RecordLog::cursor`].
    pub fn iter(&self) -> Result<LogIter<T>> {
        Ok(LogIter::new(
            self.handle.raw().cursor()?,
            self.handle.read_policy(),
        ))
    }

    /// The record at `at` (from [`append`](Self::append) or
    /// [`Entry::position`]), decoded: one positioned read. The read policy
    /// does not apply: a record that does not decode is an error.
    ///
    /// # Errors
    /// [`Error::Core`] with [`datawal_core::Error::NoRecordAt`] when no
    /// record starts there; the decoding errors of [`scan`](Self::scan).
    pub fn read_at(&self, at: RecordRef) -> Result<Entry<T>> {
        decode_record(&self.handle.raw().read_at(at)?)
    }

    /// An iterator from the first record whose txid is at least `txid`,
    /// under the handle's read policy, without reading the segments before
    /// it (see [`RecordLog::cursor_from`]).
    ///
    /// # Errors
    /// As [`RecordLog::cursor_from`] ([`datawal_core::Error::Truncated`]
    /// for a txid that was removed).
    pub fn cursor_from(&self, txid: u64) -> Result<LogIter<T>> {
        Ok(LogIter::new(
            self.handle.raw().cursor_from(txid)?,
            self.handle.read_policy(),
        ))
    }

    /// The newest record, decoded (one positioned read). Under
    /// [`ReadPolicy::Skip`], the newest record that decodes.
    ///
    /// # Errors
    /// Under [`ReadPolicy::Stop`], when the newest record does not decode;
    /// core errors.
    pub fn last(&self) -> Result<Option<Entry<T>>> {
        let newest = self.handle.raw().last()?;
        last_decoded(newest, self.handle.read_policy(), |t| self.cursor_from(t))
    }

    /// Make everything appended so far durable.
    ///
    /// # Errors
    /// As [`RecordLog::fsync`].
    pub fn fsync(&mut self) -> Result<()> {
        Ok(self.handle.raw_mut().fsync()?)
    }

    /// Close the active segment and start a new one.
    ///
    /// # Errors
    /// As [`RecordLog::rotate`].
    pub fn rotate(&mut self) -> Result<()> {
        Ok(self.handle.raw_mut().rotate()?)
    }

    /// What the open found (torn tail, records replayed, …).
    ///
    /// # Errors
    /// As [`RecordLog::recovery_report`].
    pub fn recovery_report(&self) -> Result<RecoveryReport> {
        Ok(self.handle.raw().recovery_report()?)
    }

    /// Remove whole closed segments below `txid`
    /// ([`RecordLog::truncate_before`]): never the active segment, never a
    /// record at or above `txid`; txids never go backwards.
    ///
    /// # Errors
    /// As [`RecordLog::truncate_before`].
    pub fn truncate_before(&mut self, txid: u64) -> Result<datawal_core::TruncateStats> {
        Ok(self.handle.raw_mut().truncate_before(txid)?)
    }

    /// A consistent copy of the log while it runs ([`RecordLog::backup_to`]),
    /// with the store's description (see [`crate::describe`]), if any.
    ///
    /// # Errors
    /// As [`RecordLog::backup_to`]; when the description cannot be read or
    /// copied.
    pub fn backup_to(&self, out_dir: impl AsRef<Path>) -> Result<datawal_core::BackupStats> {
        let stats = self.handle.raw().backup_to(out_dir.as_ref())?;
        store::copy(self.dir(), out_dir.as_ref())?;
        Ok(stats)
    }

    /// The store directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.handle.raw().dir()
    }

    /// The core log, for raw reads.
    #[must_use]
    pub fn raw(&self) -> &RecordLog {
        self.handle.raw()
    }

    /// The core log, mutably: records appended through it without the
    /// typed layer are read back as [`Error::Envelope`] errors (or skipped).
    pub fn raw_mut(&mut self) -> &mut RecordLog {
        self.handle.raw_mut()
    }

    /// Give up the typed view and keep the core log.
    #[must_use]
    pub fn into_raw(self) -> RecordLog {
        self.handle.into_raw()
    }

    pub(crate) fn into_handle(self) -> Handle<RecordLog> {
        self.handle
    }

    /// Write every record as readable JSON, one
    /// `{"txid":<txid>,"version":<version>,"codec":"<codec>","value":<value>}`
    /// object per line in log order, values upgraded to the latest version
    /// (`version` and `codec` say how each was written). The file is
    /// written through [`datawal_core::AtomicFile`] (a temporary sibling,
    /// fsynced and renamed over `out`; removed on failure), and `out`'s
    /// directory is created when missing.
    ///
    /// Under [`ReadPolicy::Skip`] records that do not decode are left out
    /// and listed by [`skipped`](Self::skipped).
    ///
    /// # Errors
    /// Under [`ReadPolicy::Stop`] the first record that does not decode;
    /// [`Error::Encode`] for a value JSON cannot express (such as a map with
    /// non-string keys); [`Error::Io`] when a line cannot be written;
    /// [`Error::Core`] when the file cannot be created, synced or renamed
    /// into place, and for read errors.
    pub fn export_jsonl(&self, out: impl AsRef<Path>) -> Result<()> {
        #[derive(serde::Serialize)]
        struct Line<'a, T> {
            txid: u64,
            version: u16,
            codec: &'static str,
            value: &'a T,
        }
        let mut file = datawal_core::AtomicFile::create(out)?;
        let mut iter = self.iter()?;
        let mut line = Vec::new();
        let mut failed = None;
        iter.for_each_decoded(|value, header, view| {
            if failed.is_some() {
                return;
            }
            line.clear();
            let row = Line {
                txid: view.txid,
                version: header.version,
                codec: header.codec.name(),
                value: &value,
            };
            if let Err(e) = serde_json::to_writer(&mut line, &row) {
                failed = Some(Error::Encode {
                    name: T::NAME,
                    codec: Codec::Json,
                    message: e.to_string(),
                });
                return;
            }
            line.push(b'\n');
            if let Err(source) = std::io::Write::write_all(&mut file, &line) {
                failed = Some(Error::Io {
                    op: "write",
                    path: file.temp_path().to_path_buf(),
                    source,
                });
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        file.commit()?;
        self.handle.set_skipped(iter.into_skipped());
        Ok(())
    }

    /// Release the log, as [`RecordLog::close`]: give back the disk space
    /// reserved past the active segment's end and the lock. Does not fsync:
    /// call [`fsync`](Self::fsync) first for durability.
    ///
    /// # Errors
    /// As [`RecordLog::close`].
    pub fn close(self) -> Result<()> {
        Ok(self.handle.into_raw().close()?)
    }
}

/// A read-only, lock-free snapshot of a typed log (over
/// [`RecordLogReader`]): it can read while a writer holds the directory.
#[derive(Debug, Clone)]
pub struct TypedReader<T: Record> {
    reader: RecordLogReader,
    policy: ReadPolicy,
    _type: PhantomData<fn() -> T>,
}

impl<T: Record> TypedReader<T> {
    /// Snapshot the segments of `dir`, reading with `policy`.
    ///
    /// # Errors
    /// [`Error::Refused`] when the store's description says it holds
    /// another kind of store or other types only (as [`TypedLog::open`],
    /// except that a store of several types is read as `policy` says);
    /// as [`RecordLogReader::open`].
    pub fn open(dir: impl AsRef<Path>, policy: ReadPolicy) -> Result<Self> {
        let dir = dir.as_ref();
        store::check_reader(dir, &Asked::of::<T>(StoreKind::Log, None, false))?;
        Ok(TypedReader {
            reader: RecordLogReader::open(dir)?,
            policy,
            _type: PhantomData,
        })
    }

    /// A streaming iterator over the snapshot.
    #[must_use]
    pub fn iter(&self) -> LogIter<T> {
        LogIter::new(self.reader.cursor(), self.policy)
    }

    /// The core reader.
    #[must_use]
    pub fn raw(&self) -> &RecordLogReader {
        &self.reader
    }

    /// The record at `at`, decoded (as [`TypedLog::read_at`]).
    ///
    /// # Errors
    /// As [`TypedLog::read_at`].
    pub fn read_at(&self, at: RecordRef) -> Result<Entry<T>> {
        decode_record(&self.reader.read_at(at)?)
    }

    /// An iterator over the snapshot from the first record whose txid is at
    /// least `txid` (as [`TypedLog::cursor_from`]).
    ///
    /// # Errors
    /// As [`RecordLogReader::cursor_from`].
    pub fn cursor_from(&self, txid: u64) -> Result<LogIter<T>> {
        Ok(LogIter::new(self.reader.cursor_from(txid)?, self.policy))
    }

    /// The newest record of the snapshot, decoded (as [`TypedLog::last`];
    /// the reader reads the last segment that holds a record).
    ///
    /// # Errors
    /// As [`TypedLog::last`].
    pub fn last(&self) -> Result<Option<Entry<T>>> {
        last_decoded(self.reader.last()?, self.policy, |t| self.cursor_from(t))
    }

    /// The read policy this reader decodes with.
    pub(crate) fn policy(&self) -> ReadPolicy {
        self.policy
    }
}

/// The entry an owned core record holds, or the error that names why not.
pub(crate) fn decode_record<T: Record>(record: &datawal_core::Record) -> Result<Entry<T>> {
    let view = record.view();
    entry_of(&view).map_err(|rejected| rejected.into_error::<T>(location_of(&view)))
}

/// The newest entry, given the newest core record: under `Skip`, when it
/// does not decode, the records before it are read in growing windows
/// (through `from`, a positioned cursor) for the newest that does.
fn last_decoded<T: Record>(
    newest: Option<datawal_core::Record>,
    policy: ReadPolicy,
    from: impl Fn(u64) -> Result<LogIter<T>>,
) -> Result<Option<Entry<T>>> {
    let Some(newest) = newest else {
        return Ok(None);
    };
    match decode_record(&newest) {
        Ok(entry) => Ok(Some(entry)),
        Err(e) if policy.skips(&e) => {
            let mut window = 64u64;
            loop {
                let mut start = newest.txid.saturating_sub(window);
                let iter = match from(start) {
                    // Older records were removed: the window starts with
                    // the oldest one left.
                    Err(Error::Core(datawal_core::Error::Truncated { .. })) => {
                        start = 0;
                        from(0)?
                    }
                    other => other?,
                };
                let mut found = None;
                for entry in iter {
                    found = Some(entry?);
                }
                if found.is_some() || start <= 1 {
                    return Ok(found);
                }
                window = window.saturating_mul(64);
            }
        }
        Err(e) => Err(e),
    }
}

/// Streaming iterator over a typed log, from [`TypedLog::iter`] or
/// [`TypedReader::iter`].
///
/// Under [`ReadPolicy::Stop`] it yields the first error and then ends;
/// under [`ReadPolicy::Skip`] it leaves undecodable records out and lists
/// them in [`skipped`](Self::skipped). Core errors always end it.
pub struct LogIter<T: Record> {
    cursor: RecordCursor,
    policy: ReadPolicy,
    skipped: Vec<Skipped>,
    done: bool,
    _type: PhantomData<fn() -> T>,
}

impl<T: Record> fmt::Debug for LogIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogIter")
            .field("type", &T::NAME)
            .field("cursor", &self.cursor)
            .field("policy", &self.policy)
            .field("skipped", &self.skipped.len())
            .finish_non_exhaustive()
    }
}

impl<T: Record> LogIter<T> {
    pub(crate) fn new(cursor: RecordCursor, policy: ReadPolicy) -> Self {
        LogIter {
            cursor,
            policy,
            skipped: Vec::new(),
            done: false,
            _type: PhantomData,
        }
    }

    /// The records skipped so far.
    #[must_use]
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The records skipped, taken out of the iterator.
    #[must_use]
    pub fn into_skipped(self) -> Vec<Skipped> {
        self.skipped
    }

    /// What the scan found in the core log so far (complete once the
    /// iterator has ended).
    #[must_use]
    pub fn recovery_report(&self) -> &RecoveryReport {
        self.cursor.report()
    }

    fn step(&mut self) -> Option<Result<Entry<T>>> {
        match self.cursor.next_view() {
            Ok(Some(view)) => Some(
                entry_of(&view).map_err(|rejected| rejected.into_error::<T>(location_of(&view))),
            ),
            Ok(None) => None,
            Err(e) => Some(Err(Error::Core(e))),
        }
    }

    /// Decode every remaining record and hand its value, header and view to
    /// `f`, through the core's batch loop
    /// ([`RecordCursor::try_for_each_view`]), with the iterator's policy;
    /// the iterator is finished afterwards. What [`TypedLog::scan`] (values
    /// only) and [`TypedLog::scan_entries`] use.
    ///
    /// The value goes from the decoder's `Result` straight to `f`. Every
    /// function boundary and every remapping of a `Result` (say
    /// `Result<(T, Header), _>` into `Result<T, _>`) copies the value
    /// through the stack, in pieces of other sizes and offsets than it was
    /// written with, and each such copy waits on the stores it reads
    /// (store-to-load forwarding fails): `perf annotate` put most of the
    /// typed layer's own time on those loads. Hence no remapping here, and
    /// `#[inline(always)]` on the decoding layers between the codec and
    /// this loop (`value_of`, `decode_value`, the derive's
    /// `__private::decode_current`, `Codec::decode`): postcard scans 8 %
    /// faster, bincode 3 % (100k `Order` records).
    fn for_each_decoded(&mut self, mut f: impl FnMut(T, Header, &RecordView<'_>)) -> Result<()> {
        if self.done {
            return Ok(());
        }
        self.done = true;
        let (policy, skipped) = (self.policy, &mut self.skipped);
        let flow = self
            .cursor
            .try_for_each_view(|view| match value_of::<T>(&view) {
                Ok((value, header)) => {
                    f(value, header, &view);
                    ControlFlow::Continue(())
                }
                Err(rejected) => reject::<T>(rejected, &view, policy, skipped),
            });
        match flow {
            Ok(ControlFlow::Continue(())) => Ok(()),
            Ok(ControlFlow::Break(e)) => Err(e),
            Err(e) => Err(Error::Core(e)),
        }
    }
}

/// The value a record holds and its envelope header, or why it holds none.
/// (Inlined: see [`LogIter::for_each_decoded`].)
#[inline(always)]
fn value_of<T: Record>(view: &RecordView<'_>) -> Result<(T, Header), Rejected> {
    if view.record_type == RecordType::Delete {
        return Err(Rejected::RecordType(view.record_type));
    }
    decode_value::<T>(view.payload)
}

/// The entry a record holds, or why it holds none.
pub(crate) fn entry_of<T: Record>(view: &RecordView<'_>) -> Result<Entry<T>, Rejected> {
    value_of::<T>(view).map(|(value, header)| entry(value, header, view))
}

/// The entry of `value`, decoded with `header` from the record at `view`.
fn entry<T>(value: T, header: Header, view: &RecordView<'_>) -> Entry<T> {
    Entry {
        value,
        txid: view.txid,
        segment: view.segment,
        offset: view.offset,
        version: header.version,
        codec: header.codec,
        len: view.len,
    }
}

pub(crate) fn location_of(view: &RecordView<'_>) -> Location {
    Location::in_log(view.segment, view.offset, view.txid)
}

/// A record that did not decode, in a batch loop: skipped (and listed) or
/// the end of the loop, by `policy`.
#[cold]
fn reject<T: Record>(
    rejected: Rejected,
    view: &RecordView<'_>,
    policy: ReadPolicy,
    skipped: &mut Vec<Skipped>,
) -> ControlFlow<Error> {
    let e = rejected.into_error::<T>(location_of(view));
    if policy.skips(&e) {
        skipped.push(Skipped::new(e));
        ControlFlow::Continue(())
    } else {
        ControlFlow::Break(e)
    }
}

impl<T: Record> Iterator for LogIter<T> {
    type Item = Result<Entry<T>>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.step() {
                None => self.done = true,
                Some(Ok(entry)) => return Some(Ok(entry)),
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

impl<T: Record> std::iter::FusedIterator for LogIter<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads take `&self` and the handles are `Sync`: readers share one
    /// behind the read side of an `RwLock`.
    #[test]
    fn readers_share_a_handle_behind_a_read_lock() {
        fn sync<T: Sync + Send>() {}
        sync::<TypedLog<String>>();
        sync::<crate::TypedWal<u64, String>>();
        let dir = tempfile::tempdir().unwrap();
        let log = std::sync::RwLock::new(TypedLog::<String>::open(dir.path()).unwrap());
        for i in 0..10 {
            log.write().unwrap().append(&format!("r{i}")).unwrap();
        }
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| assert_eq!(log.read().unwrap().scan().unwrap().len(), 10));
            }
        });
    }

    #[test]
    fn truncation_and_backup_on_the_typed_handle() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TypedLog::<String>::open(dir.path().join("log")).unwrap();
        for i in 0..6 {
            log.append(&format!("r{i}")).unwrap();
            if i % 2 == 1 {
                log.rotate().unwrap();
            }
        }
        log.fsync().unwrap();
        let stats = log.truncate_before(5).unwrap();
        assert_eq!(
            (stats.segments_removed, stats.first_available),
            (2, Some(5))
        );
        assert_eq!(log.scan().unwrap(), ["r4", "r5"]);
        log.backup_to(dir.path().join("copy")).unwrap();
        let copy = TypedLog::<String>::open(dir.path().join("copy")).unwrap();
        assert_eq!(copy.scan().unwrap(), ["r4", "r5"]);
        assert_eq!(copy.raw().next_txid(), 7);
    }

    #[test]
    fn options_carry_the_core_log_settings() {
        let dir = tempfile::tempdir().unwrap();
        let options = Options::new()
            .codec(Codec::Json)
            .log_options(datawal_core::LogOptions::default().max_segment_bytes(200));
        let mut log = TypedLog::<String>::open_with(dir.path(), options).unwrap();
        for i in 0..20 {
            log.append(&format!("record {i}")).unwrap();
        }
        assert!(
            log.raw().active_segment() > 3,
            "{}",
            log.raw().active_segment()
        );
        assert_eq!(log.scan().unwrap().len(), 20);
    }

    #[test]
    fn empty_log_and_empty_batch() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TypedLog::<u64>::open(dir.path()).unwrap();
        assert!(log.append_batch(&[]).unwrap().is_empty());
        assert!(log.scan().unwrap().is_empty());
        assert!(log.iter().unwrap().next().is_none());
    }

    #[test]
    fn entries_carry_their_position() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TypedLog::<String>::open_with(dir.path(), Codec::Json).unwrap();
        let r1 = log.append(&"a".into()).unwrap();
        log.rotate().unwrap();
        let refs = log
            .append_batch(&["b".to_string(), "c".to_string()])
            .unwrap();
        let entries = log.scan_entries().unwrap();
        let got: Vec<_> = entries
            .iter()
            .map(|e| (e.segment, e.offset, e.txid))
            .collect();
        assert_eq!(
            got,
            [
                (r1.segment, r1.offset, 1),
                (refs[0].segment, refs[0].offset, 2),
                (refs[1].segment, refs[1].offset, 3)
            ]
        );
        assert_eq!(
            entries[2].location(),
            Location::in_log(2, refs[1].offset, 3)
        );
        assert_eq!(entries[2].value, "c");
    }

    #[test]
    fn iterator_is_fused_after_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TypedLog::<u32>::open(dir.path()).unwrap();
        log.raw_mut().append(b"x").unwrap();
        log.append(&1).unwrap();
        let mut it = log.iter().unwrap();
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
        assert!(it.next().is_none());
    }

    #[test]
    fn reader_sees_fsynced_records_while_the_writer_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TypedLog::<u32>::open(dir.path()).unwrap();
        log.append_batch(&[1, 2, 3]).unwrap();
        log.fsync().unwrap();
        assert!(
            TypedLog::<u32>::open(dir.path()).is_err(),
            "one writer at a time"
        );
        let reader = TypedReader::<u32>::open(dir.path(), ReadPolicy::Stop).unwrap();
        let read: Vec<u32> = reader.iter().map(|e| e.unwrap().value).collect();
        assert_eq!(read, [1, 2, 3]);
    }
}
