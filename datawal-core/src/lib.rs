//! # datawal-core
//!
//! The bytes-only core of datawal: an append-only, segmented log of framed
//! records ([`RecordLog`]), recovered on open as its longest valid prefix, and
//! [`DataWal`], a last-write-wins key/value projection of that log with
//! tombstones, [`DataWal::compact_to`] and [`DataWal::export_jsonl`].
//!
//! Its files are wire format v1 of the published `datawal` 0.1.x crates,
//! byte for byte: each reads the other's stores. The format is specified in
//! `docs/canon.md` and in [`format`](mod@format).
//!
//! ```
//! use datawal_core::{DataWal, RecordLog};
//! # fn main() -> datawal_core::Result<()> {
//! let dir = tempfile::tempdir().expect("tempdir");
//!
//! let mut log = RecordLog::open(dir.path().join("events"))?;
//! log.append(b"started")?;
//! log.fsync()?; // the durability boundary
//! assert_eq!(log.scan()?[0].payload, b"started");
//!
//! let mut kv = DataWal::open(dir.path().join("state"))?;
//! kv.put(b"user:1", b"ada")?;
//! kv.delete(b"user:2")?;
//! kv.fsync()?;
//! assert_eq!(kv.get(b"user:1")?.as_deref(), Some(&b"ada"[..]));
//! # Ok(())
//! # }
//! ```
//!
//! One process writes a directory at a time (`flock` on the directory and on
//! `.lock`, see `docs/canon.md`); inside it, [`SharedLog`] and [`SharedWal`]
//! let any number of threads append and read, sharing `fdatasync`s (group
//! commit);
//! [`RecordLogReader`] reads a snapshot without the lock.
//!
//! Reading by position: `read_at`, `cursor_from` and `last` on both
//! handles. Following: [`Follower`] tails a log as a writer (in this or
//! another process) appends, and resumes where a named consumer last
//! committed ([`consumers`] lists them); with the cargo feature `async`,
//! `Follower::into_stream` is a `futures_core::Stream`.
//!
//! **Unix only** (it relies on `flock`, `pread`, `O_NOFOLLOW` and
//! directory fsync); Linux is what CI runs.

// `unsafe` is allowed in one module only (`crc`), which says why.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod atomic;
mod compaction;
mod consumers;
mod crc;
mod error;
mod export;
mod floor;
mod follower;
pub mod format;
mod hint;
mod keydir;
mod kv;
mod lock;
mod log;
mod position;
mod projection;
mod reader;
mod record;
mod recovery;
mod scanner;
pub mod segment;
mod shared;
#[cfg(feature = "async")]
mod stream;
mod tail;

pub use atomic::{open_store_file, AtomicFile};
pub use compaction::{CompactionStats, TransformError};
pub use consumers::{consumers, ConsumerOffset, CONSUMERS_DIR};
pub use error::{CorruptKind, Error, Result};
pub use follower::{FollowOptions, Follower};
pub use format::{RecordType, MAX_KEY_LEN, MAX_PAYLOAD_LEN, WIRE_VERSION};
pub use hint::{hint_path, HINT_EXT};
pub use kv::DataWal;
pub use lock::LOCK_FILE;
pub use log::{BackupStats, LogOptions, RecordIter, RecordLog, TruncateStats};
pub use projection::LiveIter;
pub use reader::{Damage, DataWalReader, LogStats, RecordLogReader, Verification};
pub use recovery::{Record, RecordCursor, RecordRef, RecordView, RecoveryReport, TailDamage};
pub use shared::{SharedLog, SharedWal};
#[cfg(feature = "async")]
pub use stream::FollowerStream;
pub use tail::count_intact_frames;
