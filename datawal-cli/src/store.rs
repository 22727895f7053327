//! The CLI's side of opening a store read-only: messages for a path that
//! is not a store directory, and segment sizes for progress bars. Reading
//! itself is core's read side (`RecordLogReader`, `DataWalReader`): the CLI
//! keeps no rule of the format.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context as _, Result};
use datawal_core::{DataWalReader, RecordLogReader};

use crate::progress::{self, Sizes};

/// Check that `dir` is an existing directory, with a message that says which
/// of the two it is not.
///
/// # Errors
/// When `dir` is missing, is not a directory, or cannot be inspected.
pub fn require_dir(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => bail!(
            "{} is not a directory (give the store's directory)",
            dir.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("no such store directory: {}", dir.display())
        }
        Err(e) => Err(e).with_context(|| format!("cannot inspect {}", dir.display())),
    }
}

/// A lock-free snapshot of the store in `dir`.
///
/// # Errors
/// As [`require_dir`], and when the directory cannot be listed.
pub fn open_reader(dir: &Path) -> Result<RecordLogReader> {
    require_dir(dir)?;
    Ok(RecordLogReader::open(dir)?)
}

/// A lock-free key/value snapshot of the store in `dir`, built with a
/// progress bar over its bytes, and the sizes of the segments it read.
///
/// # Errors
/// As [`open_reader`], corruption, I/O.
pub fn open_kv_snapshot(dir: &Path) -> Result<(DataWalReader, Sizes)> {
    let sizes = Sizes::of(&open_reader(dir)?);
    let bar = progress::bytes(sizes.total(), "reading");
    let mut tracker = progress::Tracker::new(&sizes, &bar);
    let opened =
        DataWalReader::open_visit(dir, |v| tracker.at(v.segment, v.offset + u64::from(v.len)));
    bar.finish_and_clear();
    Ok((opened?, sizes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_checks_name_the_problem() {
        let td = tempfile::tempdir().unwrap();
        let missing = td.path().join("nope");
        let e = require_dir(&missing).unwrap_err().to_string();
        assert!(e.starts_with("no such store directory"), "{e}");
        let file = td.path().join("f");
        fs::write(&file, b"x").unwrap();
        let e = require_dir(&file).unwrap_err().to_string();
        assert!(e.contains("is not a directory"), "{e}");
    }
}
