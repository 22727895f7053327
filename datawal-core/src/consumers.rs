//! Named, durable consumers: where a follower opened with
//! [`crate::Follower::open_named`] stopped, kept in
//! `dir/consumers/<name>.offset` (a subdirectory, which the published
//! crate's segment listing, like this crate's, passes over).
//!
//! An offset file is written whole or not at all ([`AtomicFile`]: a
//! temporary sibling, fsync, rename, directory fsync), so a process killed
//! at any moment leaves the previous offset or the new one. Its last line
//! is a CRC-32C of the lines before it, so a file damaged any other way is
//! refused ([`Error::ConsumerOffset`]) rather than read as another offset.
//! The format (text, one field a line) is in `docs/canon.md`:
//!
//! ```text
//! datawal consumer offset v1
//! txid 1234
//! segment 3
//! offset 40960
//! len 57
//! crc 0x1a2b3c4d
//! check 0x89abcdef
//! ```
//!
//! `txid` is the last txid the consumer committed (0: none); `segment`,
//! `offset` and `len` are where that record is, and `crc` the CRC stored in
//! its frame, so that a consumer resuming after a record that a writer's
//! repair has since cut is told so ([`Error::Cut`]). A consumer holds
//! `dir/consumers/<name>.lock` (`flock`) while it is open: one follower per
//! name at a time.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use fs2::FileExt as _;

use crate::atomic::{read_store_file, AtomicFile};
use crate::error::{Error, Result};
use crate::recovery::RecordRef;

/// The subdirectory of a store that holds consumer offsets.
pub const CONSUMERS_DIR: &str = "consumers";
/// The first line of an offset file.
const MAGIC_LINE: &str = "datawal consumer offset v1";
/// Longest consumer name.
const MAX_NAME_LEN: usize = 64;

/// Where a named consumer stands: the last txid it committed and where that
/// record is. From [`consumers`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConsumerOffset {
    /// The consumer's name.
    pub name: String,
    /// The last txid it committed; it resumes after it (0: none yet).
    pub txid: u64,
    /// Where that record is (`None` when `txid` is 0).
    pub position: Option<RecordRef>,
    /// The CRC-32C stored in that record's frame.
    pub crc: u32,
}

/// The named consumers of the store in `dir`, sorted by name, with the
/// offsets they committed. A store without consumers gives an empty list.
///
/// # Errors
/// [`Error::ConsumerOffset`] for an offset file that does not read back
/// (named); [`Error::Io`].
pub fn consumers(dir: impl AsRef<Path>) -> Result<Vec<ConsumerOffset>> {
    let sub = dir.as_ref().join(CONSUMERS_DIR);
    let entries = match fs::read_dir(&sub) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read directory", &sub, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("read directory", &sub, e))?;
        let file_name = entry.file_name();
        let Some(name) = file_name
            .to_str()
            .and_then(|n| n.strip_suffix(".offset"))
            .filter(|n| valid_name(n))
        else {
            continue;
        };
        let is_file = entry
            .file_type()
            .map_err(|e| Error::io("stat", entry.path(), e))?
            .is_file();
        if is_file {
            if let Some(offset) = read_offset(&entry.path(), name)? {
                out.push(offset);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// `true` when `name` is 1 to 64 characters of `A-Z a-z 0-9 _ -`.
fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A named consumer's files, locked for one follower.
#[derive(Debug)]
pub(crate) struct Consumer {
    name: String,
    path: PathBuf,
    _lock: File,
}

impl Consumer {
    /// Check `name`, create `dir/consumers/` when missing, and take the
    /// consumer's lock.
    pub(crate) fn acquire(dir: &Path, name: &str) -> Result<Consumer> {
        if !valid_name(name) {
            return Err(Error::ConsumerName {
                name: name.to_owned(),
            });
        }
        let sub = dir.join(CONSUMERS_DIR);
        fs::create_dir_all(&sub).map_err(|e| Error::io("create directory", &sub, e))?;
        let lock_path = sub.join(format!("{name}.lock"));
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
        }
        let lock = options
            .open(&lock_path)
            .map_err(|e| Error::io("open consumer lock", &lock_path, e))?;
        if lock.try_lock_exclusive().is_err() {
            return Err(Error::ConsumerLocked {
                name: name.to_owned(),
                path: lock_path,
            });
        }
        Ok(Consumer {
            name: name.to_owned(),
            path: sub.join(format!("{name}.offset")),
            _lock: lock,
        })
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The offset committed last, if any.
    pub(crate) fn load(&self) -> Result<Option<ConsumerOffset>> {
        read_offset(&self.path, &self.name)
    }

    /// Replace the offset, atomically and durably.
    pub(crate) fn store(&self, txid: u64, position: Option<RecordRef>, crc: u32) -> Result<()> {
        let text = encode(txid, position, crc);
        let mut file = AtomicFile::create(&self.path)?;
        file.write_all(text.as_bytes())
            .map_err(|e| Error::io("write", file.temp_path().to_path_buf(), e))?;
        file.commit()
    }
}

/// The text of an offset file.
fn encode(txid: u64, position: Option<RecordRef>, crc: u32) -> String {
    let at = position.unwrap_or(RecordRef {
        segment: 0,
        offset: 0,
        len: 0,
    });
    let body = format!(
        "{MAGIC_LINE}\ntxid {txid}\nsegment {}\noffset {}\nlen {}\ncrc {crc:#010x}\n",
        at.segment, at.offset, at.len
    );
    let check = crc32c::crc32c(body.as_bytes());
    format!("{body}check {check:#010x}\n")
}

/// The most of an offset file that is read (they are under 200 bytes).
const MAX_OFFSET_FILE: u64 = 4096;

/// Read the offset file at `path`; `None` when there is none.
fn read_offset(path: &Path, name: &str) -> Result<Option<ConsumerOffset>> {
    // No link followed, no FIFO waited on, and bounded: an offset file is
    // under 200 bytes.
    let bytes = match read_store_file(path, MAX_OFFSET_FILE) {
        Ok(Some(b)) => b,
        Ok(None) => return Ok(None),
        Err(e) => return Err(Error::io("read consumer offset", path, e)),
    };
    decode(&bytes, name)
        .map(Some)
        .map_err(|reason| Error::ConsumerOffset {
            path: path.to_path_buf(),
            reason,
        })
}

/// Parse an offset file's bytes, checking every line and the checksum.
fn decode(bytes: &[u8], name: &str) -> std::result::Result<ConsumerOffset, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_owned())?;
    let Some(check_at) = text.rfind("check ") else {
        return Err("no check line".to_owned());
    };
    let (body, check_line) = text.split_at(check_at);
    let computed = crc32c::crc32c(body.as_bytes());
    // The exact line written: no other spelling of the same number.
    if check_line != format!("check {computed:#010x}\n") {
        return Err(format!(
            "checksum mismatch (stored {:?}, computed {computed:#010x})",
            check_line.trim_end()
        ));
    }
    let mut lines = body.lines();
    if lines.next() != Some(MAGIC_LINE) {
        return Err(format!("the first line is not {MAGIC_LINE:?}"));
    }
    let mut field = |key: &str| -> std::result::Result<u64, String> {
        let line = lines.next().unwrap_or_default();
        let value = line
            .strip_prefix(key)
            .and_then(|v| v.strip_prefix(' '))
            .ok_or_else(|| format!("expected the {key} line, found {line:?}"))?;
        let parsed = match value.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => value.parse(),
        };
        parsed.map_err(|_| format!("bad {key} value {value:?}"))
    };
    let txid = field("txid")?;
    let segment = field("segment")?;
    let offset = field("offset")?;
    let len = field("len")?;
    let crc = field("crc")?;
    let (Ok(segment), Ok(len), Ok(crc)) = (
        u32::try_from(segment),
        u32::try_from(len),
        u32::try_from(crc),
    ) else {
        return Err("a field is out of range".to_owned());
    };
    Ok(ConsumerOffset {
        name: name.to_owned(),
        txid,
        position: (txid > 0).then_some(RecordRef {
            segment,
            offset,
            len,
        }),
        crc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        for ok in ["a", "projection", "A-b_9", &"x".repeat(64)] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "a b", "a/b", "..", "é", "a.offset", &"x".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    /// An offset file planted as a link (to /dev/zero, endless) or as a
    /// huge file is an error at once, never followed or read whole.
    #[test]
    fn a_planted_offset_file_is_refused_without_being_read() {
        let td = tempfile::tempdir().unwrap();
        let path = td.path().join("p.offset");
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let e = read_offset(&path, "p").unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        fs::remove_file(&path).unwrap();
        let mut long = encode(1, None, 0).into_bytes();
        long.extend(std::iter::repeat_n(b'x', 1 << 20));
        fs::write(&path, long).unwrap();
        assert!(matches!(
            read_offset(&path, "p"),
            Err(Error::ConsumerOffset { .. })
        ));
    }

    #[test]
    fn offsets_round_trip_and_every_damage_is_refused() {
        let at = RecordRef {
            segment: 3,
            offset: 40_960,
            len: 57,
        };
        let text = encode(1234, Some(at), 0x1a2b_3c4d);
        let back = decode(text.as_bytes(), "p").unwrap();
        assert_eq!(
            (back.txid, back.position, back.crc),
            (1234, Some(at), 0x1a2b_3c4d)
        );
        let none = decode(encode(0, None, 0).as_bytes(), "p").unwrap();
        assert_eq!((none.txid, none.position), (0, None));
        // Every shorter prefix (a torn write) and every flipped bit is refused.
        for cut in 0..text.len() {
            assert!(
                decode(&text.as_bytes()[..cut], "p").is_err(),
                "cut at {cut}"
            );
        }
        for i in 0..text.len() {
            for bit in 0..8 {
                let mut b = text.clone().into_bytes();
                b[i] ^= 1 << bit;
                assert!(decode(&b, "p").is_err(), "byte {i} bit {bit}");
            }
        }
    }

    #[test]
    fn a_consumer_name_is_held_by_one_follower_at_a_time() {
        let td = tempfile::tempdir().unwrap();
        let a = Consumer::acquire(td.path(), "p").unwrap();
        assert!(matches!(
            Consumer::acquire(td.path(), "p"),
            Err(Error::ConsumerLocked { .. })
        ));
        assert!(Consumer::acquire(td.path(), "q").is_ok());
        a.store(
            7,
            Some(RecordRef {
                segment: 1,
                offset: 0,
                len: 30,
            }),
            9,
        )
        .unwrap();
        drop(a);
        let b = Consumer::acquire(td.path(), "p").unwrap();
        assert_eq!(b.load().unwrap().unwrap().txid, 7);
        let listed = consumers(td.path()).unwrap();
        assert_eq!(listed.len(), 1, "{listed:?}");
        assert_eq!(listed[0].name, "p");
    }
}
