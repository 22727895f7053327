//! `compact_to`: write the live projection of a [`DataWal`] to a new store.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::format::RecordType;
use crate::kv::DataWal;
use crate::log::RecordLog;
use crate::segment::{fsync_dir, temp_sibling};

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

/// Check the target and choose the temporary directory to build in.
fn prepare_target(out_dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let target = match fs::metadata(out_dir) {
        Ok(m) if !m.is_dir() => {
            return Err(Error::NotADirectory {
                path: out_dir.to_path_buf(),
            })
        }
        Ok(_) => {
            let mut rd =
                fs::read_dir(out_dir).map_err(|e| Error::io("read directory", out_dir, e))?;
            if rd.next().is_some() {
                return Err(Error::TargetNotEmpty {
                    path: out_dir.to_path_buf(),
                });
            }
            fs::canonicalize(out_dir).map_err(|e| Error::io("resolve path", out_dir, e))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => out_dir.to_path_buf(),
        Err(e) => return Err(Error::io("stat", out_dir, e)),
    };
    let (_, tmp) = temp_sibling(&target, "compacting")?;
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(|e| Error::io("remove stale temporary", &tmp, e))?;
    }
    Ok((target, tmp))
}

impl DataWal {
    /// Write the live projection (one Put per live key, sorted by key, txids
    /// from 1) as a new store in `out_dir`, which must be absent or empty.
    ///
    /// The output is built in a temporary sibling directory, fsynced, and
    /// renamed into place: `out_dir` never holds a partial store. The
    /// segment written is byte-identical to the published crate's.
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
        let out_dir = out_dir.as_ref();
        let (target, tmp) = prepare_target(out_dir)?;
        let result = (|| {
            let mut out = RecordLog::open(&tmp)?;
            let mut stats = CompactionStats::default();
            let entries = self.sorted_entries();
            stats.live_keys = entries.len() as u64;
            for (batch, read) in self.value_batches(&entries) {
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
        })();
        let stats = match result {
            Ok(s) => s,
            Err(e) => {
                let _ = fs::remove_dir_all(&tmp);
                return Err(e);
            }
        };
        fs::rename(&tmp, &target).map_err(|e| {
            let _ = fs::remove_dir_all(&tmp);
            Error::io("rename compacted store into place", &target, e)
        })?;
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            fsync_dir(parent)?;
        }
        Ok(stats)
    }
}
