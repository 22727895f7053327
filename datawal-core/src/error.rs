//! The crate's error type.

use std::fmt;
use std::io;
use std::path::PathBuf;

pub use crate::format::CorruptKind;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every error `datawal-core` returns.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system I/O call failed.
    Io {
        /// What datawal was doing.
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Another handle (in this or another process) holds the writer lock.
    Locked {
        /// The store directory.
        dir: PathBuf,
    },
    /// The path exists but is not a directory.
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// A record on disk is damaged where damage cannot be a torn tail:
    /// anywhere in a closed segment, or a structural error anywhere.
    Corrupt {
        /// Segment id (the file is `{segment:08}.dwal`).
        segment: u32,
        /// Byte offset of the record's header within the segment.
        offset: u64,
        /// The segment file.
        path: PathBuf,
        /// What is wrong.
        kind: CorruptKind,
    },
    /// A key longer than [`crate::MAX_KEY_LEN`] was refused before writing.
    KeyTooLarge {
        /// Length of the key given.
        len: usize,
    },
    /// A payload longer than [`crate::MAX_PAYLOAD_LEN`] was refused before writing.
    PayloadTooLarge {
        /// Length of the payload given.
        len: usize,
    },
    /// An earlier write or fsync failed; the handle refuses further writes.
    Poisoned {
        /// The failure that poisoned the handle.
        reason: String,
    },
    /// `compact_to` was given a target that already holds files.
    TargetNotEmpty {
        /// The target directory.
        path: PathBuf,
    },
    /// The 64-bit transaction id, the 32-bit segment id, or the key
    /// directory's room for `u32::MAX` live keys ran out.
    Exhausted {
        /// Which counter.
        what: &'static str,
    },
    /// `dir/.lock` is not a regular file (a symbolic link, a FIFO, a
    /// directory): the store is not opened, and nothing is written through
    /// it. Remove the entry (no writer is running) and open again.
    LockFile {
        /// The `.lock` path.
        path: PathBuf,
        /// What it is instead.
        reason: &'static str,
    },
    /// A record carries txid `u64::MAX`: no later record could be numbered,
    /// so a writer refuses the store (readers still read it).
    TxidsExhausted {
        /// Segment id of the record.
        segment: u32,
        /// Byte offset of the record's header within the segment.
        offset: u64,
        /// The segment file.
        path: PathBuf,
    },
    /// A side file of the store (the txid floor) is not what datawal
    /// writes there: it is written atomically, so only outside
    /// interference makes it so. The store is refused rather than risk
    /// txids going backwards.
    MetaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A `compact_to_with` transform refused a value.
    Transform {
        /// The key whose value was refused.
        key: Vec<u8>,
        /// The transform's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A positioned read (`read_at`) was given a [`crate::RecordRef`] that
    /// does not point at a record: the segment has no complete, CRC-valid
    /// frame of exactly that length at that offset.
    NoRecordAt {
        /// The position asked for.
        at: crate::RecordRef,
        /// The segment file.
        path: PathBuf,
        /// What was found there instead.
        kind: CorruptKind,
    },
    /// A reader needs the record with txid `requested`, and the oldest
    /// record left in the log has txid `first_available`, higher: the
    /// records in between were removed (whole segments deleted by retention
    /// or by hand). Never returned for `requested` 0 ("from the oldest
    /// record"), nor for a store whose records start at txid 1.
    Truncated {
        /// The txid that was asked for (or that a follower needed next).
        requested: u64,
        /// The oldest txid the log still holds.
        first_available: u64,
    },
    /// A follower had already yielded the record with txid `txid` at
    /// `segment`/`offset`, and the log no longer holds it there: a writer's
    /// torn-tail repair cut it (its bytes changed after the follower read
    /// them, as a power cut or damaged media can do). The follower stops
    /// rather than go on with a history that is no longer the log's.
    Cut {
        /// The txid of the last record the follower yielded.
        txid: u64,
        /// Its segment id.
        segment: u32,
        /// Its offset within the segment.
        offset: u64,
        /// The segment file.
        path: PathBuf,
    },
    /// A consumer name is not 1 to 64 characters of `A-Z a-z 0-9 _ -`.
    ConsumerName {
        /// The name given.
        name: String,
    },
    /// A consumer's offset file cannot be read back: not the format
    /// datawal writes, or its checksum does not match.
    ConsumerOffset {
        /// The offset file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Another follower (in this or another process) holds the named
    /// consumer.
    ConsumerLocked {
        /// The consumer's name.
        name: String,
        /// Its lock file.
        path: PathBuf,
    },
    /// `commit` was called on a follower opened without a name
    /// (`Follower::open`): only named consumers keep an offset.
    NoConsumer,
    /// `commit` was given a txid the follower has not yielded yet.
    NotYielded {
        /// The txid given.
        txid: u64,
        /// The last txid the follower yielded (0: none yet).
        last_yielded: u64,
    },
    /// [`RecordLog::append_record_at`](crate::RecordLog::append_record_at)
    /// was given a txid that is not the log's next one (lower: txids never
    /// go back; higher, while the log holds records: a gap). Nothing was
    /// written.
    TxidNotNext {
        /// The txid given.
        txid: u64,
        /// The txid the next record must carry.
        next: u64,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    /// `true` for [`Error::Corrupt`].
    pub fn is_corrupt(&self) -> bool {
        matches!(self, Error::Corrupt { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { op, path, source } => {
                write!(f, "{op} {}: {source}", path.display())
            }
            Error::Locked { dir } => write!(
                f,
                "store {} is locked by another writer (in this or another process); \
                 close that handle or open a read-only RecordLogReader",
                dir.display()
            ),
            Error::NotADirectory { path } => {
                write!(f, "{} exists and is not a directory", path.display())
            }
            Error::Corrupt {
                segment,
                offset,
                path,
                kind,
            } => write!(
                f,
                "corrupt record in segment {segment} ({}) at offset {offset}: {kind}; \
                 the store cannot be opened past this point (inspect it with `datawal verify`)",
                path.display()
            ),
            Error::KeyTooLarge { len } => write!(
                f,
                "key of {len} bytes refused: the limit is {} bytes",
                crate::format::MAX_KEY_LEN
            ),
            Error::PayloadTooLarge { len } => write!(
                f,
                "payload of {len} bytes refused: the limit is {} bytes",
                crate::format::MAX_PAYLOAD_LEN
            ),
            Error::Poisoned { reason } => write!(
                f,
                "writer poisoned: {reason}; drop the handle and reopen the store \
                 (reopening recovers the valid prefix)"
            ),
            Error::TargetNotEmpty { path } => write!(
                f,
                "target {} is not empty; refusing to overwrite it",
                path.display()
            ),
            Error::Exhausted { what } => write!(f, "{what} exhausted"),
            Error::LockFile { path, reason } => write!(
                f,
                "lock file {} {reason}; nothing was written through it. With no \
                 writer running, remove it and open the store again",
                path.display()
            ),
            Error::MetaFile { path, reason } => write!(
                f,
                "store file {} {reason}; restore it from a backup, or (if no segment was \
                 ever removed from this store) remove it",
                path.display()
            ),
            Error::TxidsExhausted {
                segment,
                offset,
                path,
            } => write!(
                f,
                "the record in segment {segment} ({}) at offset {offset} carries txid \
                 u64::MAX, so no later record can be numbered: the store is refused for \
                 writing (read it with RecordLogReader, or copy it with compact_to)",
                path.display()
            ),
            Error::Transform { key, source } => write!(
                f,
                "compaction transform failed for key {}: {source}",
                crate::format::display_key(key)
            ),
            Error::NoRecordAt { at, path, kind } => write!(
                f,
                "no record at segment {} ({}) offset {} length {}: {kind}; a position \
                 must come from append, scan, a cursor or a follower of this store",
                at.segment,
                path.display(),
                at.offset,
                at.len
            ),
            Error::Truncated {
                requested,
                first_available,
            } => write!(
                f,
                "the record with txid {requested} is no longer in the log: the oldest \
                 record left is txid {first_available} (older segments were removed); start \
                 again from txid {first_available} or from a backup"
            ),
            Error::Cut {
                txid,
                segment,
                offset,
                path,
            } => write!(
                f,
                "the record with txid {txid} that this follower already yielded \
                 (segment {segment}, {}, offset {offset}) was cut from the log by a writer's \
                 repair of a torn tail; what the follower yielded from there on is not in the \
                 log any more: resume from the log as it is now",
                path.display()
            ),
            Error::ConsumerName { name } => write!(
                f,
                "consumer name {name:?} refused: use 1 to 64 characters of \
                 A-Z, a-z, 0-9, '_' and '-'"
            ),
            Error::ConsumerOffset { path, reason } => write!(
                f,
                "consumer offset file {} is unreadable: {reason}; remove it to \
                 restart that consumer from the beginning",
                path.display()
            ),
            Error::ConsumerLocked { name, path } => write!(
                f,
                "consumer {name:?} is in use by another follower (lock {})",
                path.display()
            ),
            Error::NoConsumer => f.write_str(
                "datawal: commit needs a named consumer: open the follower with \
                 Follower::open_named",
            ),
            Error::NotYielded { txid, last_yielded } => write!(
                f,
                "cannot commit txid {txid}: the follower has yielded only up to txid \
                 {last_yielded}"
            ),
            Error::TxidNotNext { txid, next } => write!(
                f,
                "cannot append txid {txid}: the log's next txid is {next} (txids never go \
                 back, and only an empty log may start above its next txid)"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Transform { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}
