//! The private handle under every typed handle ([`TypedLog`](crate::TypedLog),
//! [`TypedWal`](crate::TypedWal), [`SharedTypedLog`](crate::SharedTypedLog),
//! [`SharedTypedWal`](crate::SharedTypedWal)): the core handle, the options,
//! the one-time check that the codec reads the type back ([`WriteCheck`]),
//! the store's description ([`Recorder`]: updated before the first write of
//! a codec it does not list), the write buffers and the last bulk read's
//! `skipped` report.
//!
//! The public handles only forward: what a write does before it reaches the
//! core (encode the key, check the codec, encode the envelope and body) is
//! written once, here.
//!
//! The exclusive handles own a `Handle` and write through `&mut self`
//! ([`encode`](Handle::encode), into the handle's own buffers, the check
//! reached through `Mutex::get_mut`: no lock taken); the shared handles keep
//! one behind an `Arc` and write through `&self`
//! ([`encode_shared`](Handle::encode_shared), into buffers of the calling
//! thread, the check locked once per write).

use std::ops::Range;
use std::sync::{Mutex, PoisonError};

use crate::described::Recorder;
use crate::error::{Result, Skipped, SkippedCell};
use crate::payload::{append_payload, WriteCheck};
use crate::{Codec, Key, Options, ReadPolicy, Record};

/// A core handle `S` with what the typed layer keeps beside it.
#[derive(Debug)]
pub(crate) struct Handle<S> {
    raw: S,
    options: Options,
    state: Mutex<WriteState>,
    skipped: SkippedCell,
    /// Encoded keys, back to back (one per value of a batch).
    key_buf: Vec<u8>,
    /// Envelopes and bodies, back to back.
    buf: Vec<u8>,
}

/// What a write checks and updates before it encodes.
#[derive(Debug, Default)]
pub(crate) struct WriteState {
    check: WriteCheck,
    /// `None` for a store without a description.
    recorder: Option<Recorder>,
}

impl WriteState {
    /// Before values are encoded with `codec`: the description lists the
    /// codec (durably).
    fn before_write(&mut self, codec: Codec) -> Result<&mut WriteCheck> {
        if let Some(recorder) = &mut self.recorder {
            recorder.before_write(codec)?;
        }
        Ok(&mut self.check)
    }
}

/// A batch encoded by [`Handle::encode_batch`], with the core handle to
/// write it through.
pub(crate) struct Batch<'a, S> {
    pub(crate) raw: &'a mut S,
    /// The encoded keys, back to back.
    pub(crate) keys: &'a [u8],
    /// The payloads, back to back.
    pub(crate) payloads: &'a [u8],
    /// Where each value's key and payload are in `keys` and `payloads`.
    pub(crate) ranges: Vec<(Range<usize>, Range<usize>)>,
}

impl<S> Handle<S> {
    pub(crate) fn new(raw: S, options: Options) -> Self {
        Self::with_recorder(raw, options, None)
    }

    /// A handle over a store whose description `recorder` keeps.
    pub(crate) fn with_recorder(raw: S, options: Options, recorder: Option<Recorder>) -> Self {
        Handle {
            raw,
            options,
            state: Mutex::new(WriteState {
                check: WriteCheck::default(),
                recorder,
            }),
            skipped: SkippedCell::default(),
            key_buf: Vec::new(),
            buf: Vec::new(),
        }
    }

    pub(crate) fn raw(&self) -> &S {
        &self.raw
    }

    pub(crate) fn raw_mut(&mut self) -> &mut S {
        &mut self.raw
    }

    pub(crate) fn into_raw(self) -> S {
        self.raw
    }

    /// The same handle over `f(raw)` (a core handle made shared).
    pub(crate) fn map_raw<U>(self, f: impl FnOnce(S) -> U) -> Handle<U> {
        Handle {
            raw: f(self.raw),
            options: self.options,
            state: self.state,
            skipped: self.skipped,
            key_buf: self.key_buf,
            buf: self.buf,
        }
    }

    pub(crate) fn options(&self) -> Options {
        self.options
    }

    pub(crate) fn read_policy(&self) -> ReadPolicy {
        self.options.read_policy
    }

    pub(crate) fn set_codec(&mut self, codec: Codec) {
        self.options.codec = codec;
    }

    pub(crate) fn set_read_policy(&mut self, policy: ReadPolicy) {
        self.options.read_policy = policy;
    }

    /// The last bulk read's skipped records.
    pub(crate) fn skipped(&self) -> impl std::ops::Deref<Target = Vec<Skipped>> + '_ {
        self.skipped.get()
    }

    /// Replace the skipped report (a new bulk read's).
    pub(crate) fn set_skipped(&self, skipped: Vec<Skipped>) {
        self.skipped.set(skipped);
    }

    pub(crate) fn skipped_cell(&self) -> &SkippedCell {
        &self.skipped
    }

    /// The core handle and the write check, borrowed together, for
    /// compactions that re-encode with the handle's codec while the core
    /// reads (the description lists the codec first).
    ///
    /// # Errors
    /// When the description cannot be written.
    pub(crate) fn raw_and_check(&mut self) -> Result<(&mut S, &mut WriteCheck)> {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        let check = state.before_write(self.options.codec)?;
        Ok((&mut self.raw, check))
    }

    /// Run `f` on the core handle with the write check locked: a shared
    /// handle's compaction that re-encodes values (writers' encodings wait
    /// for it; the description lists the codec first).
    ///
    /// # Errors
    /// When the description cannot be written.
    pub(crate) fn with_check<R>(&self, f: impl FnOnce(&S, &mut WriteCheck) -> R) -> Result<R> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let check = state.before_write(self.options.codec)?;
        Ok(f(&self.raw, check))
    }

    /// Encode `key` into the handle's key buffer; the core handle and the
    /// key's bytes.
    pub(crate) fn encode_key<K: Key>(&mut self, key: &K) -> (&mut S, &[u8]) {
        self.key_buf.clear();
        key.encode_key(&mut self.key_buf);
        (&mut self.raw, &self.key_buf)
    }

    /// Encode `key` and `value` (checked, with the handle's codec) into the
    /// handle's buffers; the core handle, the key's bytes and the payload.
    ///
    /// # Errors
    /// [`Error::Unreadable`](crate::Error::Unreadable) and
    /// [`Error::Encode`](crate::Error::Encode).
    pub(crate) fn encode<K: Key, T: Record>(
        &mut self,
        key: &K,
        value: &T,
    ) -> Result<(&mut S, &[u8], &[u8])> {
        self.key_buf.clear();
        self.buf.clear();
        key.encode_key(&mut self.key_buf);
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        let check = state.before_write(self.options.codec)?;
        append_payload(value, self.options.codec, &mut self.buf, check)?;
        Ok((&mut self.raw, &self.key_buf, &self.buf))
    }

    /// Encode every value of a batch (keys from [`Record::key`]) into the
    /// handle's buffers.
    ///
    /// # Errors
    /// As [`encode`](Self::encode): nothing is to be written then.
    pub(crate) fn encode_batch<'a, T: Record + 'a>(
        &mut self,
        values: impl IntoIterator<Item = &'a T>,
    ) -> Result<Batch<'_, S>> {
        self.key_buf.clear();
        self.buf.clear();
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        let check = state.before_write(self.options.codec)?;
        let mut ranges = Vec::new();
        for value in values {
            let k0 = self.key_buf.len();
            value.key().encode_key(&mut self.key_buf);
            let p0 = self.buf.len();
            append_payload(value, self.options.codec, &mut self.buf, check)?;
            ranges.push((k0..self.key_buf.len(), p0..self.buf.len()));
        }
        Ok(Batch {
            raw: &mut self.raw,
            keys: &self.key_buf,
            payloads: &self.buf,
            ranges,
        })
    }

    /// Encode `key` and `value` into new buffers, for a handle shared
    /// between threads (the check is locked for the encoding); the key's
    /// bytes and the payload.
    ///
    /// # Errors
    /// As [`encode`](Self::encode).
    pub(crate) fn encode_shared<K: Key, T: Record>(
        &self,
        key: &K,
        value: &T,
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        let key = encode_key(key);
        let mut buf = Vec::new();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let check = state.before_write(self.options.codec)?;
        append_payload(value, self.options.codec, &mut buf, check)?;
        Ok((key, buf))
    }
}

/// `key` in datawal's key encoding, in a new buffer.
pub(crate) fn encode_key<K: Key>(key: &K) -> Vec<u8> {
    let mut k = Vec::new();
    key.encode_key(&mut k);
    k
}
