//! The store's identity: a random 128-bit id kept in [`STORE_ID_FILE`]
//! inside the store directory, the first half of every message id.

use std::fmt;
use std::io::Write as _;
use std::path::Path;

use datawal_core::AtomicFile;

use crate::error::{Error, Result};

/// The identity file's name in the store directory. The core and the
/// published crate only read `%08u.dwal` segments (and their own side
/// files), so they step over it.
pub const STORE_ID_FILE: &str = "datawal-store.id";

/// A store's identity: 128 random bits, written as 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StoreId(u128);

impl StoreId {
    /// The identity of the store in `dir`, created (random, written
    /// atomically) when the store has none yet.
    ///
    /// # Errors
    /// [`Error::StoreId`] when the file exists and is not 32 hex digits and
    /// a newline; [`Error::Store`] when it cannot be read or written.
    pub fn load_or_create(dir: &Path) -> Result<StoreId> {
        if let Some(id) = Self::load(dir)? {
            return Ok(id);
        }
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|e| Error::StoreId {
            path: dir.join(STORE_ID_FILE),
            reason: format!("cannot be created: no random bytes ({e})"),
        })?;
        let id = StoreId(u128::from_le_bytes(bytes));
        let path = dir.join(STORE_ID_FILE);
        let mut file = AtomicFile::create(&path)?;
        let written = writeln!(file, "{id}");
        written.map_err(|e| Error::StoreId {
            path: path.clone(),
            reason: format!("cannot be written: {e}"),
        })?;
        file.commit()?;
        // Another shipper may have created it at the same time: the file
        // decides.
        Self::load(dir)?.ok_or_else(|| Error::StoreId {
            path,
            reason: "vanished right after it was written".into(),
        })
    }

    /// The identity of the store in `dir`, or `None` when it has none.
    ///
    /// # Errors
    /// As [`load_or_create`](Self::load_or_create).
    pub fn load(dir: &Path) -> Result<Option<StoreId>> {
        let path = dir.join(STORE_ID_FILE);
        let cannot_read = |e: std::io::Error| Error::StoreId {
            path: path.clone(),
            reason: format!("cannot be read: {e}"),
        };
        // Not through a link, not a FIFO, and never more than the id's
        // 33 bytes and one more (to tell a longer file).
        let file = match datawal_core::open_store_file(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(cannot_read(e)),
        };
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(file, 34), &mut text)
            .map_err(cannot_read)?;
        match text.strip_suffix(b"\n").and_then(Self::parse) {
            Some(id) => Ok(Some(id)),
            None => Err(Error::StoreId {
                path,
                reason: "does not hold 32 lowercase hex digits and a newline".into(),
            }),
        }
    }

    /// Parse 32 lowercase hex digits.
    pub fn parse(text: &[u8]) -> Option<StoreId> {
        let valid = text.len() == 32
            && text
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
        if !valid {
            return None;
        }
        let text = std::str::from_utf8(text).ok()?;
        u128::from_str_radix(text, 16).ok().map(StoreId)
    }
}

impl fmt::Display for StoreId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_then_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(StoreId::load(dir.path()).expect("load"), None);
        let id = StoreId::load_or_create(dir.path()).expect("create");
        assert_eq!(StoreId::load_or_create(dir.path()).expect("again"), id);
        let text = std::fs::read_to_string(dir.path().join(STORE_ID_FILE)).expect("read");
        assert_eq!(text, format!("{id}\n"));
        assert_eq!(text.len(), 33);
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_new_id() {
        let dir = tempfile::tempdir().expect("tempdir");
        for bad in [&b""[..], b"xyz\n", b"0123456789ABCDEF0123456789abcdef\n"] {
            std::fs::write(dir.path().join(STORE_ID_FILE), bad).expect("write");
            assert!(matches!(
                StoreId::load_or_create(dir.path()),
                Err(Error::StoreId { .. })
            ));
        }
    }

    /// An id file planted as a link to another store's id is refused, not
    /// followed (the stream would take this store for that one); a long
    /// file is read no further than an id and one byte.
    #[test]
    fn a_linked_or_long_id_file_is_refused() {
        let other = tempfile::tempdir().expect("tempdir");
        StoreId::load_or_create(other.path()).expect("create");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(STORE_ID_FILE);
        std::os::unix::fs::symlink(other.path().join(STORE_ID_FILE), &path).expect("link");
        let e = StoreId::load(dir.path()).expect_err("a link");
        assert!(e.to_string().contains("symbolic link"), "{e}");
        std::fs::remove_file(&path).expect("unlink");
        let mut long = format!("{}\n", "a".repeat(32)).into_bytes();
        long.extend(std::iter::repeat_n(b'a', 1 << 20));
        std::fs::write(&path, long).expect("write");
        assert!(matches!(
            StoreId::load(dir.path()),
            Err(Error::StoreId { .. })
        ));
    }
}
