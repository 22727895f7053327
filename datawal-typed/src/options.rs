//! Options shared by the typed handles.

use datawal_core::LogOptions;

use crate::Codec;

/// What a bulk read does with a record it cannot decode.
///
/// Applies to records whose bytes are the problem (a newer version, another
/// type, an unknown codec or envelope, a body or key that does not decode).
/// Errors of the store itself (I/O, a corrupt frame in the core log) always
/// stop the read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReadPolicy {
    /// Return the first such error (the default).
    #[default]
    Stop,
    /// Leave the record out and list it in the handle's or iterator's
    /// `skipped()` report.
    Skip,
}

impl ReadPolicy {
    /// Whether a read under this policy leaves out the record that failed
    /// with `e` and goes on (only skippable errors, only under `Skip`).
    pub(crate) fn skips(self, e: &crate::Error) -> bool {
        self == ReadPolicy::Skip && e.is_skippable()
    }
}

/// How a typed handle writes and reads.
///
/// `Codec` and `ReadPolicy` convert into `Options`, so
/// `TypedLog::<T>::open_with(dir, Codec::Json)` works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Options {
    /// The codec new records are written with (readers accept every codec).
    pub codec: Codec,
    /// What bulk reads do with records they cannot decode.
    pub read_policy: ReadPolicy,
    /// The core log's settings (segment size, …), used when the handle
    /// opens its store (`from_raw` keeps the raw handle's own).
    pub log: LogOptions,
    /// Whether a log may hold several record types (see
    /// [`mixed_types`](Self::mixed_types)).
    pub mixed: bool,
}

impl Options {
    /// The defaults: [`Codec::Bincode`], [`ReadPolicy::Stop`].
    #[must_use]
    pub fn new() -> Options {
        Options::default()
    }

    /// Write new records with `codec`.
    #[must_use]
    pub fn codec(mut self, codec: Codec) -> Options {
        self.codec = codec;
        self
    }

    /// Read with `policy`.
    #[must_use]
    pub fn read_policy(mut self, policy: ReadPolicy) -> Options {
        self.read_policy = policy;
        self
    }

    /// Open a log meant to hold several record types: a handle of another
    /// type than the store's description lists is then accepted (and the
    /// description lists both), where it is otherwise refused with
    /// [`Error::Refused`](crate::Error::Refused). Two types whose
    /// fingerprints collide are refused even so.
    #[must_use]
    pub fn mixed_types(mut self) -> Options {
        self.mixed = true;
        self
    }

    /// Open the store with the core log's settings `log`.
    #[must_use]
    pub fn log_options(mut self, log: LogOptions) -> Options {
        self.log = log;
        self
    }
}

impl From<LogOptions> for Options {
    fn from(log: LogOptions) -> Options {
        Options::new().log_options(log)
    }
}

impl From<Codec> for Options {
    fn from(codec: Codec) -> Options {
        Options::new().codec(codec)
    }
}

impl From<ReadPolicy> for Options {
    fn from(policy: ReadPolicy) -> Options {
        Options::new().read_policy(policy)
    }
}
