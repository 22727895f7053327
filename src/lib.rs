//! # datawal
//!
//! A local, crash-safe, typed record store: an append-only segmented log,
//! a key/value projection of it, and versioned records on top.
//!
//! This crate re-exports the three layers:
//!
//! - bytes ([`datawal_core`], also as [`raw`]): [`RecordLog`],
//!   [`RecordLogReader`], [`DataWal`], framed with CRC-32C and recovered as
//!   their longest valid prefix;
//! - types ([`datawal_typed`], also as [`typed`]): [`TypedLog`],
//!   [`TypedWal`], the [`Record`] trait and `#[derive(Record)]`, the [`Key`]
//!   encoding and the body [`Codec`]s;
//! - errors: [`Error`] (the typed layer's, which wraps [`CoreError`]).
//!
//! ```
//! use datawal::{Record, TypedLog, TypedWal};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
//! #[record(name = "order", version = 1)]
//! struct Order {
//!     #[record(key)]
//!     id: u64,
//!     cents: u64,
//! }
//!
//! # fn main() -> datawal::Result<()> {
//! let dir = tempfile::tempdir().expect("tempdir");
//!
//! let mut log = TypedLog::<Order>::open(dir.path().join("orders"))?;
//! log.append(&Order { id: 7, cents: 1250 })?;
//! log.fsync()?; // the durability boundary
//! drop(log);
//!
//! let mut log = TypedLog::<Order>::open(dir.path().join("orders"))?;
//! assert_eq!(log.scan()?, [Order { id: 7, cents: 1250 }]);
//!
//! let mut state = TypedWal::<u64, Order>::open(dir.path().join("state"))?;
//! state.insert(&Order { id: 7, cents: 1250 })?; // key from #[record(key)]
//! state.fsync()?;
//! assert_eq!(state.get(&7)?.map(|o| o.cents), Some(1250));
//! # Ok(())
//! # }
//! ```
//!
//! The derive finds the typed layer through this crate by itself (it reads
//! the dependencies in your `Cargo.toml`); `#[record(crate = "...")]` is
//! there for a path it cannot find, such as a re-export of your own. Its
//! attributes are listed on [`Record`](derive@Record).
//!
//! The formats are specified byte by byte in `docs/canon.md` (frames,
//! segments) and `docs/canon-typed.md` (the typed envelope and keys).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// The bytes-only core, whole: `datawal::raw::format`, `raw::segment`, …
pub use datawal_core as raw;
/// The typed layer, whole (the path the derive uses for it when a crate
/// depends on this facade).
pub use datawal_typed as typed;

// The derive names the typed layer `::datawal::typed` in code that depends
// on this crate; this makes the same path work inside it.
extern crate self as datawal;

/// The core's error: I/O, lock, corruption of frames.
pub use datawal_core::Error as CoreError;
/// A raw record of the core log (bytes), as returned by [`RecordLog::scan`].
pub use datawal_core::Record as RawRecord;
/// The core's result alias.
pub use datawal_core::Result as CoreResult;
pub use datawal_core::{
    consumers, BackupStats, CompactionStats, ConsumerOffset, CorruptKind, DataWal, DataWalReader,
    FollowOptions, Follower, LogOptions, LogStats, RecordCursor, RecordIter, RecordLog,
    RecordLogReader, RecordRef, RecordType, RecordView, RecoveryReport, SharedLog, SharedWal,
    TailDamage, TransformError, TruncateStats, Verification, LOCK_FILE, MAX_KEY_LEN,
    MAX_PAYLOAD_LEN, WIRE_VERSION,
};

pub use datawal_typed::{
    from_payload, to_payload, Codec, DecodeError, Entry, Error, Key, KeyError, Location, LogIter,
    Options, ReadPolicy, Record, Result, SharedTypedLog, SharedTypedWal, Skipped, TypedFollower,
    TypedLog, TypedReader, TypedWal, WalIter,
};

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
