//! The records and reports of reading a log: what a scan, a cursor or
//! recovery hands out (owned and borrowed records, positions, the torn
//! tail and the recovery report).

use std::path::PathBuf;

use crate::error::CorruptKind;
use crate::format::RecordType;

/// A record decoded from disk, borrowing its key and payload from the
/// cursor's buffer (valid until the cursor moves on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// Record type.
    pub record_type: RecordType,
    /// Transaction id.
    pub txid: u64,
    /// Key bytes (empty for records written by `append`).
    pub key: &'a [u8],
    /// Payload bytes.
    pub payload: &'a [u8],
    /// Segment id.
    pub segment: u32,
    /// Offset of the frame within the segment.
    pub offset: u64,
    /// Frame length on disk.
    pub len: u32,
}

impl RecordView<'_> {
    /// Copy into an owned [`Record`].
    pub fn to_record(&self) -> Record {
        Record {
            record_type: self.record_type,
            txid: self.txid,
            key: self.key.to_vec(),
            payload: self.payload.to_vec(),
            segment: self.segment,
            offset: self.offset,
            len: self.len,
        }
    }

    /// Where the record is.
    pub fn position(&self) -> RecordRef {
        RecordRef {
            segment: self.segment,
            offset: self.offset,
            len: self.len,
        }
    }
}

/// A decoded record, owning its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Record type.
    pub record_type: RecordType,
    /// Transaction id.
    pub txid: u64,
    /// Key bytes (empty for records written by `append`).
    pub key: Vec<u8>,
    /// Payload bytes.
    pub payload: Vec<u8>,
    /// Segment id.
    pub segment: u32,
    /// Offset of the frame within the segment.
    pub offset: u64,
    /// Frame length on disk.
    pub len: u32,
}

impl Record {
    /// Where the record is (for [`crate::RecordLog::read_at`]).
    pub fn position(&self) -> RecordRef {
        RecordRef {
            segment: self.segment,
            offset: self.offset,
            len: self.len,
        }
    }

    /// The record as a borrowed view, as cursors and followers hand them
    /// out.
    pub fn view(&self) -> RecordView<'_> {
        RecordView {
            record_type: self.record_type,
            txid: self.txid,
            key: &self.key,
            payload: &self.payload,
            segment: self.segment,
            offset: self.offset,
            len: self.len,
        }
    }
}

/// Where a record is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordRef {
    /// Segment id (the file `{segment:08}.dwal`).
    pub segment: u32,
    /// Offset of the frame's header within the segment.
    pub offset: u64,
    /// Frame length: header, key, payload and CRC.
    pub len: u32,
}

/// A torn tail found at the end of the last segment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TailDamage {
    /// Segment id.
    pub segment: u32,
    /// Where the valid prefix ends (the damaged frame's offset).
    pub offset: u64,
    /// How many bytes follow the valid prefix.
    pub bytes: u64,
    /// What was found at `offset`.
    pub kind: CorruptKind,
    /// Where the writer saved the cut bytes before truncating the segment
    /// (`None` for read-only scans, which change nothing).
    pub saved_to: Option<PathBuf>,
    /// How many CRC-valid frames the cut bytes still contain after the
    /// damage, counted by the writer's repair (`None` for read-only scans).
    /// Non-zero means records were cut that a crash alone does not explain
    /// (for example a store where the published crate appended after torn
    /// bytes, or media damage): they are in the `saved_to` file.
    pub intact_frames_cut: Option<u64>,
}

/// What a scan or recovery found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryReport {
    /// Segment files read.
    pub files_scanned: u32,
    /// Valid records found.
    pub records_replayed: u64,
    /// 1 when the last segment had a torn tail, else 0.
    pub tail_truncated: u32,
    /// Bytes after the valid prefix of the last segment.
    pub tail_bytes_discarded: u64,
    /// Always 0: damage that is not a torn tail is an error, not a count.
    #[deprecated(
        since = "0.2.0",
        note = "always 0, kept for the published 0.1 API: damage that is not a torn tail is an Error::Corrupt"
    )]
    pub mid_stream_errors: u32,
    /// Always 0: unknown versions are an error.
    #[deprecated(
        since = "0.2.0",
        note = "always 0, kept for the published 0.1 API: an unknown wire version is an Error::Corrupt"
    )]
    pub unsupported_versions: u32,
    /// Highest txid seen, 0 when there are no records.
    pub last_txid_seen: u64,
    /// Bytes of segments whose records were taken from their hint files
    /// (`{id:08}.hint`) instead of being read: 0 when no hint was used.
    /// Those bytes' CRCs were checked when the hints were written, not by
    /// this open; [`crate::RecordLogReader::verify`] reads everything.
    pub bytes_from_hints: u64,
    /// The torn tail, if any, and where its bytes were saved.
    pub tail: Option<TailDamage>,
    /// Zero bytes from the end of the valid prefix of the last segment to
    /// the end of its file: free space (what
    /// [`LogOptions::preallocate`](crate::LogOptions::preallocate) reserves,
    /// or zeros a crash left where unsynced appends were), not damage. 0
    /// when the last segment ends with its last record, or with a torn
    /// tail (zeros after a partly written record are part of the tail).
    pub free_bytes: u64,
}
