//! `compact_to`: write the live projection of a [`DataWal`] to a new store.

use std::fs;
use std::path::{Path, PathBuf};

use crate::atomic::temp_dir_beside;
use crate::error::{Error, Result};
use crate::format::RecordType;
use crate::kv::DataWal;
use crate::log::RecordLog;
use crate::segment::fsync_dir;

/// What [`DataWal::compact_to`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactionStats {
    /// Live keys in the source (one Put each in the output).
    pub live_keys: u64,
    /// Records written to the output.
    pub records_written: u64,
    /// Bytes written to the output's segment.
    pub bytes_written: u64,
}

/// The boxed error a compaction transform returns.
pub type TransformError = Box<dyn std::error::Error + Send + Sync>;

/// Check the target: absent, or an empty directory (then its canonical path).
fn check_target(out_dir: &Path) -> Result<PathBuf> {
    match fs::metadata(out_dir) {
        Ok(m) if !m.is_dir() => Err(Error::NotADirectory {
            path: out_dir.to_path_buf(),
        }),
        Ok(_) => {
            let mut rd =
                fs::read_dir(out_dir).map_err(|e| Error::io("read directory", out_dir, e))?;
            if rd.next().is_some() {
                return Err(Error::TargetNotEmpty {
                    path: out_dir.to_path_buf(),
                });
            }
            fs::canonicalize(out_dir).map_err(|e| Error::io("resolve path", out_dir, e))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(out_dir.to_path_buf()),
        Err(e) => Err(Error::io("stat", out_dir, e)),
    }
}

impl DataWal {
    /// Write the live projection (one Put per live key, sorted by key, txids
    /// from 1) as a new store in `out_dir`, which must be absent or empty.
    ///
    /// The output is built in a temporary sibling directory (a fresh
    /// `.{name}.compacting-XXXXXX`, random suffix, made by `mkdir` so
    /// nothing already there is used or removed), fsynced, and renamed into
    /// place: `out_dir` never holds a partial store, and a failure removes
    /// the temporary. The segment written is byte-identical to the
    /// published crate's.
    ///
    /// # Errors
    /// [`Error::TargetNotEmpty`], [`Error::NotADirectory`], read errors as
    /// [`get`](Self::get), [`Error::Io`].
    pub fn compact_to(&self, out_dir: impl AsRef<Path>) -> Result<CompactionStats> {
        self.compact_to_with(out_dir, |_, v| Ok(v))
    }

    /// As [`compact_to`](Self::compact_to), passing every live value through
    /// `transform` (for example to rewrite old encodings as the latest).
    ///
    /// # Errors
    /// As [`compact_to`](Self::compact_to), and [`Error::Transform`] when the
    /// transform refuses a value (the target is then left untouched).
    pub fn compact_to_with<F>(
        &self,
        out_dir: impl AsRef<Path>,
        mut transform: F,
    ) -> Result<CompactionStats>
    where
        F: FnMut(&[u8], Vec<u8>) -> std::result::Result<Vec<u8>, TransformError>,
    {
        let target = check_target(out_dir.as_ref())?;
        // A fresh directory of our own, removed with its contents on any
        // error until it is renamed into place.
        let tmp = temp_dir_beside(&target, "compacting")?;
        let stats = self.write_compacted(tmp.path(), &mut transform)?;
        fs::rename(tmp.path(), &target)
            .map_err(|e| Error::io("rename compacted store into place", &target, e))?;
        // Renamed: nothing is left at the temporary name to remove.
        let _ = tmp.keep();
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            fsync_dir(parent)?;
        }
        Ok(stats)
    }

    /// Write the live projection, through `transform`, as a new store in
    /// the empty directory `dir`.
    fn write_compacted<F>(&self, dir: &Path, transform: &mut F) -> Result<CompactionStats>
    where
        F: FnMut(&[u8], Vec<u8>) -> std::result::Result<Vec<u8>, TransformError>,
    {
        let mut out = RecordLog::open(dir)?;
        let mut stats = CompactionStats::default();
        let values = self.values();
        let entries = self.proj.sorted_entries();
        stats.live_keys = entries.len() as u64;
        for (batch, read) in values.value_batches(&entries) {
            let mut values = Vec::with_capacity(batch.len());
            for ((key, _), value) in batch.iter().zip(read) {
                let value = transform(key, value?).map_err(|source| Error::Transform {
                    key: key.to_vec(),
                    source,
                })?;
                values.push(value);
            }
            let refs = out.append_batch(
                batch
                    .iter()
                    .zip(&values)
                    .map(|((k, _), v)| (RecordType::Put, *k, &v[..])),
            )?;
            stats.records_written += refs.len() as u64;
            stats.bytes_written += refs.iter().map(|r| u64::from(r.len)).sum::<u64>();
        }
        out.fsync()?;
        out.close()?;
        Ok(stats)
    }
}
