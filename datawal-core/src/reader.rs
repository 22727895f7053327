//! [`RecordLogReader`]: a read-only snapshot that takes no lock.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::log::RecordIter;
use crate::recovery::{Record, RecordCursor, RecoveryReport};
use crate::segment::{list_segments, require_dir};

/// A read-only view of a store directory, safe to open while a writer appends.
///
/// The set of segments is fixed at [`open`](Self::open); each scan reads them
/// as they are then. An incomplete record at the end of the last segment (a
/// writer mid-append, or a torn tail) ends the scan: a reader sees a valid
/// prefix, never a torn record as data. The reader changes nothing on disk.
#[derive(Debug, Clone)]
pub struct RecordLogReader {
    dir: PathBuf,
    segments: Vec<u32>,
}

impl RecordLogReader {
    /// Snapshot the segments of `dir`. Does not create anything.
    ///
    /// # Errors
    /// [`crate::Error::Io`] when `dir` does not exist or cannot be listed,
    /// [`crate::Error::NotADirectory`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref();
        require_dir(dir)?;
        Ok(RecordLogReader {
            dir: dir.to_path_buf(),
            segments: list_segments(dir)?,
        })
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The segment ids of the snapshot, ascending.
    pub fn segments(&self) -> &[u32] {
        &self.segments
    }

    /// A zero-copy lending cursor over the snapshot.
    pub fn cursor(&self) -> RecordCursor {
        RecordCursor::new(&self.dir, self.segments.clone())
    }

    /// A streaming iterator over owned records of the snapshot.
    ///
    /// # Errors
    /// None today (errors come as items); kept fallible for the published signature.
    pub fn scan_iter(&self) -> Result<RecordIter<'_>> {
        Ok(RecordIter::new(self.cursor()))
    }

    /// Every record of the snapshot, with what the scan found.
    ///
    /// # Errors
    /// [`crate::Error::Corrupt`], [`crate::Error::Io`].
    pub fn scan(&self) -> Result<(Vec<Record>, RecoveryReport)> {
        let mut cursor = self.cursor();
        let mut out = Vec::new();
        cursor.for_each_view(|v| out.push(v.to_record()))?;
        Ok((out, cursor.into_report()))
    }
}
