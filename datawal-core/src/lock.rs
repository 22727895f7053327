//! The single-writer lock: an fs2 (flock) exclusive lock on `dir/.lock`,
//! held by the open descriptor. The file's existence means nothing; a lock
//! left by a dead process is released by the kernel.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use fs2::FileExt;

use crate::error::{Error, Result};

/// Name of the lock sentinel file.
pub const LOCK_FILE: &str = ".lock";

/// A held directory lock, released on drop.
#[derive(Debug)]
pub(crate) struct DirLock {
    file: File,
}

impl DirLock {
    /// Take the exclusive lock on `dir/.lock` without blocking.
    pub(crate) fn acquire(dir: &Path) -> Result<Self> {
        let path: PathBuf = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io("open lock file", &path, e))?;
        if let Err(e) = file.try_lock_exclusive() {
            return if e.kind() == fs2::lock_contended_error().kind() {
                Err(Error::Locked {
                    dir: dir.to_path_buf(),
                })
            } else {
                Err(Error::io("lock", &path, e))
            };
        }
        // Informational only: who holds it. Failures here do not matter.
        // The pid is written over the old one and the file is shortened only
        // when the old content was longer: truncating to zero first costs a
        // journalled block free on every open (milliseconds on ext4).
        let line = format!("{}\n", std::process::id());
        if file.write_all_at(line.as_bytes(), 0).is_ok() {
            let old_len = file.metadata().map(|m| m.len()).unwrap_or(0);
            if old_len > line.len() as u64 {
                let _ = file.set_len(line.len() as u64);
            }
        }
        Ok(DirLock { file })
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = FileExt::unlock(&self.file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_in_process_is_refused_then_released() {
        let td = tempfile::tempdir().unwrap();
        let a = DirLock::acquire(td.path()).unwrap();
        assert!(matches!(
            DirLock::acquire(td.path()),
            Err(Error::Locked { .. })
        ));
        drop(a);
        DirLock::acquire(td.path()).unwrap();
    }

    #[test]
    fn stale_lock_file_is_no_obstacle() {
        let td = tempfile::tempdir().unwrap();
        std::fs::write(td.path().join(LOCK_FILE), b"99999\n").unwrap();
        DirLock::acquire(td.path()).unwrap();
    }

    #[test]
    fn lock_file_names_the_holder_whatever_was_there() {
        let td = tempfile::tempdir().unwrap();
        let want = format!("{}\n", std::process::id());
        for old in ["", "1\n", "12345678901234567890\n"] {
            std::fs::write(td.path().join(LOCK_FILE), old).unwrap();
            let l = DirLock::acquire(td.path()).unwrap();
            let got = std::fs::read_to_string(td.path().join(LOCK_FILE)).unwrap();
            assert_eq!(got, want, "after {old:?}");
            drop(l);
        }
    }
}
