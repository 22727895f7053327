//! The txid floor (`txid.floor`): the lowest txid the next record may
//! have, written when segments are removed, so txids never go backwards
//! once the records that held them are gone (`docs/canon.md`). A leaf: the
//! log writes it, the log and positioned readers read it.

use std::io;
use std::path::Path;

use crate::atomic::{read_store_file, AtomicFile};
use crate::error::{Error, Result};

/// Name of the txid floor file in a store directory.
pub const FLOOR_FILE: &str = "txid.floor";
/// Its magic.
const FLOOR_MAGIC: [u8; 4] = *b"DWTF";
/// Its format version.
const FLOOR_VERSION: u16 = 1;
/// Its length: magic, version, 2 reserved bytes, the txid, a CRC-32C of the
/// 16 bytes before it.
const FLOOR_LEN: usize = 20;

/// The txid floor of `dir`: no record appended from now on may have a
/// lower txid. `None` when there is no floor file.
///
/// # Errors
/// [`Error::MetaFile`] when the file is there but not a valid floor (it is
/// written atomically, so only outside interference makes it so: refusing
/// is safer than letting txids go backwards); [`Error::Io`].
pub(crate) fn read_floor(dir: &Path) -> Result<Option<u64>> {
    let path = dir.join(FLOOR_FILE);
    // No link followed, no FIFO waited on, never more than one byte past
    // the floor's length (a planted link to /dev/zero ends at once).
    let bytes = match read_store_file(&path, FLOOR_LEN as u64) {
        Ok(Some(b)) => b,
        Ok(None) => return Ok(None),
        Err(e) => return Err(Error::io("read txid floor", path, e)),
    };
    let bad = |reason: &'static str| Error::MetaFile {
        path: path.clone(),
        reason,
    };
    let b: &[u8; FLOOR_LEN] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| bad("is not 20 bytes long"))?;
    if b[..4] != FLOOR_MAGIC || u16::from_le_bytes([b[4], b[5]]) != FLOOR_VERSION {
        return Err(bad("has an unknown magic or version"));
    }
    let crc = u32::from_le_bytes([b[16], b[17], b[18], b[19]]);
    if crc != crc32c::crc32c(&b[..16]) {
        return Err(bad("fails its CRC"));
    }
    let mut txid = [0u8; 8];
    txid.copy_from_slice(&b[8..16]);
    Ok(Some(u64::from_le_bytes(txid)))
}

/// Make `next_txid` the floor of `dir`, durably (temporary file, fsync,
/// rename, directory fsync).
pub(crate) fn write_floor(dir: &Path, next_txid: u64) -> Result<()> {
    let mut b = [0u8; FLOOR_LEN];
    b[..4].copy_from_slice(&FLOOR_MAGIC);
    b[4..6].copy_from_slice(&FLOOR_VERSION.to_le_bytes());
    b[8..16].copy_from_slice(&next_txid.to_le_bytes());
    let crc = crc32c::crc32c(&b[..16]);
    b[16..].copy_from_slice(&crc.to_le_bytes());
    let mut file = AtomicFile::create(dir.join(FLOOR_FILE))?;
    io::Write::write_all(&mut file, &b)
        .map_err(|e| Error::io("write txid floor", dir.join(FLOOR_FILE), e))?;
    file.commit()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn the_floor_round_trips_and_damage_is_refused() {
        let td = tempfile::tempdir().unwrap();
        assert_eq!(read_floor(td.path()).unwrap(), None);
        write_floor(td.path(), 12_345).unwrap();
        assert_eq!(read_floor(td.path()).unwrap(), Some(12_345));
        let path = td.path().join(FLOOR_FILE);
        let good = fs::read(&path).unwrap();
        for at in 0..FLOOR_LEN {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            fs::write(&path, &bad).unwrap();
            if at == 6 || at == 7 {
                // Reserved bytes are covered by the CRC too.
            }
            assert!(
                matches!(read_floor(td.path()), Err(Error::MetaFile { .. })),
                "byte {at}"
            );
        }
        fs::write(&path, &good[..19]).unwrap();
        assert!(matches!(read_floor(td.path()), Err(Error::MetaFile { .. })));
    }

    /// A floor planted as a link (here to /dev/zero, endless) or as a FIFO
    /// is an error at once: not followed, not waited on, not read whole.
    #[test]
    fn a_planted_floor_is_refused_without_being_read() {
        let td = tempfile::tempdir().unwrap();
        let path = td.path().join(FLOOR_FILE);
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let e = read_floor(td.path()).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        fs::remove_file(&path).unwrap();
        assert!(std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap()
            .success());
        let e = read_floor(td.path()).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        fs::remove_file(&path).unwrap();
        fs::write(&path, vec![0u8; 1 << 20]).unwrap();
        assert!(matches!(read_floor(td.path()), Err(Error::MetaFile { .. })));
    }
}
