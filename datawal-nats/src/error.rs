//! The crate's error type.

use std::fmt;
use std::path::PathBuf;

/// What went wrong shipping or pulling.
///
/// [`is_transient`](Error::is_transient) tells the errors the shipper
/// retries (with backoff, from the stream's last message) from those it
/// returns.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing the local store failed.
    Store(datawal_core::Error),
    /// The NATS server could not be reached.
    Connect {
        /// The server URL.
        url: String,
        /// The client's error.
        reason: String,
    },
    /// A JetStream request (stream info, last message, consumer) failed or
    /// timed out.
    Stream {
        /// The stream.
        stream: String,
        /// What was asked.
        op: &'static str,
        /// The client's or the server's error.
        reason: String,
    },
    /// Publishing a record failed or its acknowledgement did not come
    /// (timeout, lost connection, or the server refused it because the
    /// stream's last message is not the one before it).
    Publish {
        /// The record's txid.
        txid: u64,
        /// The client's or the server's error.
        reason: String,
    },
    /// The stream's last message is not this store's: another store (or
    /// another publisher) writes to the stream or subject. One stream per
    /// store: the ordering check is on the stream's last message.
    ForeignStream {
        /// The stream.
        stream: String,
        /// The stream sequence of the message found.
        sequence: u64,
        /// What it is.
        found: String,
    },
    /// A message of the stream does not carry what a shipped record does
    /// (a missing or malformed `Datawal-*` header).
    BadMessage {
        /// The stream.
        stream: String,
        /// The message's stream sequence.
        sequence: u64,
        /// What is wrong.
        reason: String,
    },
    /// Shipping a typed store: the record's payload is not a typed envelope.
    NotTyped {
        /// The record's txid.
        txid: u64,
        /// Why the envelope header does not parse.
        reason: String,
    },
    /// The store's identity file is not what this crate writes.
    StoreId {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The stream's last record of this store is not the log's record with
    /// that txid (or the log ends before it): the log lost records the
    /// stream holds (a power cut before they were fsynced) and may have
    /// reused their txids. Shipping stops rather than mix two histories.
    Diverged {
        /// The txid.
        txid: u64,
        /// What differs.
        reason: String,
    },
    /// A record is larger than the server accepts in one message (its
    /// `max_payload`, 1 MiB by default): it cannot be shipped, and the
    /// records after it wait behind it.
    TooLarge {
        /// The record's txid.
        txid: u64,
        /// Its payload's length.
        len: usize,
    },
    /// The follower's stream of records ended without an error (it never
    /// should: it ends only after yielding one).
    FollowerStopped,
    /// The records read are not one after the other (the log holds a gap
    /// where the stream needs the next txid).
    Gap {
        /// The txid the stream needs next.
        expected: u64,
        /// The txid read.
        found: u64,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// `true` for what may pass by itself (the server down or restarting,
    /// a lost connection, a refused or unacknowledged publish): the
    /// shipper retries these.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Connect { .. } | Error::Stream { .. } | Error::Publish { .. }
        )
    }
}

impl From<datawal_core::Error> for Error {
    fn from(e: datawal_core::Error) -> Self {
        Error::Store(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Store(e) => write!(f, "local store: {e}"),
            Error::Connect { url, reason } => {
                write!(f, "cannot connect to NATS at {url}: {reason}")
            }
            Error::Stream { stream, op, reason } => {
                write!(f, "JetStream stream {stream}: {op} failed: {reason}")
            }
            Error::Publish { txid, reason } => {
                write!(f, "publishing txid {txid} failed: {reason}")
            }
            Error::ForeignStream {
                stream,
                sequence,
                found,
            } => write!(
                f,
                "stream {stream}'s last message (sequence {sequence}) is {found}, not this \
                 store's: ship each store to a stream of its own"
            ),
            Error::BadMessage {
                stream,
                sequence,
                reason,
            } => write!(
                f,
                "message {sequence} of stream {stream} is not a shipped datawal record: {reason}"
            ),
            Error::NotTyped { txid, reason } => write!(
                f,
                "record txid {txid} is not a typed envelope ({reason}); ship the store \
                 without --typed"
            ),
            Error::StoreId { path, reason } => write!(
                f,
                "store identity file {} {reason}; restore it (a new identity makes the \
                 stream refuse this store's records)",
                path.display()
            ),
            Error::Diverged { txid, reason } => write!(
                f,
                "the stream's record txid {txid} is not the log's ({reason}): the log lost \
                 records the stream holds; ship to a new stream, or pull the stream back"
            ),
            Error::TooLarge { txid, len } => write!(
                f,
                "record txid {txid} ({len} payload bytes) is larger than the server's \
                 max_payload: raise max_payload in the server's configuration"
            ),
            Error::FollowerStopped => write!(f, "the log's follower stopped without an error"),
            Error::Gap { expected, found } => write!(
                f,
                "the log holds txid {found} where the stream needs {expected}: the records \
                 between are not in the log"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Store(e) => Some(e),
            _ => None,
        }
    }
}
