//! Segment files: naming, listing, opening (`O_NOATIME`), reserving space
//! past the end, and directory fsync.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Extension of segment files.
pub const SEGMENT_EXT: &str = "dwal";
/// Width of the zero-padded decimal id in a segment file name.
pub const SEGMENT_ID_WIDTH: usize = 8;
/// The highest segment id: the largest that fits in [`SEGMENT_ID_WIDTH`]
/// digits, the names the published crate and [`list_segments`] read. A
/// rotation past it is refused with [`Error::Exhausted`] before anything is
/// written (at 1 GiB a segment, that is 95 PiB of log).
pub const MAX_SEGMENT_ID: u32 = 99_999_999;

/// Open a segment file with `options`, asking the kernel not to update its
/// access time on reads (`O_NOATIME`, Linux): every `DataWal::get` is one
/// `pread`, and checking and updating the access time was about 3 % of it
/// (`perf`, `datawal-core/benches/profile.rs`). Only the file's owner (or a
/// process with `CAP_FOWNER`) may ask; anyone else gets the plain open.
pub(crate) fn open_segment(options: &OpenOptions, path: &Path) -> std::io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut noatime = options.clone();
        noatime.custom_flags(rustix::fs::OFlags::NOATIME.bits() as i32);
        match noatime.open(path) {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {}
            other => return other,
        }
    }
    options.open(path)
}

/// Space [`reserve_beyond_end`] reserves ahead of the active segment's end.
pub(crate) const RESERVE_STEP: u64 = 1 << 20;

/// Reserve disk blocks for `file` from `offset` to `offset + len` without
/// changing its length (Linux `fallocate` with `FALLOC_FL_KEEP_SIZE`): later
/// appends land in blocks that already exist, so an `fdatasync` after them
/// has no block allocation to commit. Readers see nothing: the file's
/// length, and so every byte a reader can reach, is unchanged.
///
/// `false` when the platform or file system cannot do it; the caller just
/// stops asking (it is only an optimisation).
pub(crate) fn reserve_beyond_end(file: &File, offset: u64, len: u64) -> bool {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{fallocate, FallocateFlags};
        fallocate(file, FallocateFlags::KEEP_SIZE, offset, len).is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (file, offset, len);
        false
    }
}

/// Release blocks reserved past the end of `file` by
/// [`reserve_beyond_end`]: a truncation to the file's own length, which
/// changes no byte.
pub(crate) fn release_beyond_end(file: &File) -> std::io::Result<()> {
    file.set_len(file.metadata()?.len())
}

/// Extend `file` from length `from` to length `to` with written zeros, for
/// [`crate::LogOptions::preallocate`]: a later write inside them changes
/// no file length and allocates no block, so an `fdatasync` after it
/// commits the data alone. Zeros were measured against `fallocate` (mode
/// 0: unwritten extents, which the first write into each block converts,
/// a metadata change the sync then commits): 88-byte write + `fdatasync`,
/// mean 149 µs into zeros against 166 µs into `fallocate`d space and 248
/// µs at the end of a growing file (`benches/preallocate.rs`,
/// `docs/benchmarks.md`).
pub(crate) fn extend_zeroed(file: &File, from: u64, to: u64) -> std::io::Result<()> {
    write_zeros(file, from, to)
}

/// Write zeros over `file[from..to]`.
fn write_zeros(file: &File, from: u64, to: u64) -> std::io::Result<()> {
    use std::os::unix::fs::FileExt as _;
    static ZEROS: [u8; 64 << 10] = [0; 64 << 10];
    let mut at = from;
    while at < to {
        let n = (to - at).min(ZEROS.len() as u64) as usize;
        file.write_all_at(&ZEROS[..n], at)?;
        at += n as u64;
    }
    Ok(())
}

/// Create the segment file for the first id from `id` on whose name is
/// free, exclusively (`O_EXCL`: an existing file is never opened), and open
/// it for reading and writing (appends are positioned writes at the end of
/// the data, which preallocated space can follow).
///
/// An entry that is not a regular file (a FIFO, a directory, a symbolic
/// link, dangling or not) is never read as a segment by [`list_segments`],
/// so its name is stepped over: such an entry cannot stop the log from
/// rotating. A regular file in the way is an error (it would be read as a
/// segment on the next open).
///
/// # Errors
/// [`Error::Exhausted`] past [`MAX_SEGMENT_ID`]; [`Error::Io`].
pub(crate) fn create_segment(dir: &Path, mut id: u32) -> Result<(u32, File)> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create_new(true);
    loop {
        if id > MAX_SEGMENT_ID {
            return Err(Error::Exhausted { what: "segment id" });
        }
        let path = segment_path(dir, id);
        match open_segment(&options, &path) {
            Ok(file) => return Ok((id, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                match fs::symlink_metadata(&path) {
                    Ok(m) if !m.file_type().is_file() => id += 1,
                    _ => return Err(Error::io("create segment", &path, e)),
                }
            }
            Err(e) => return Err(Error::io("create segment", &path, e)),
        }
    }
}

/// Path of segment `id` in `dir`: `dir/{id:08}.dwal`.
pub fn segment_path(dir: &Path, id: u32) -> PathBuf {
    dir.join(format!("{id:08}.{SEGMENT_EXT}"))
}

/// The id of a segment file name, or `None` when the name is not exactly
/// eight ASCII digits followed by `.dwal`.
pub fn parse_segment_name(name: &str) -> Option<u32> {
    let digits = name.strip_suffix(".dwal")?;
    if digits.len() != SEGMENT_ID_WIDTH || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Ids of the segment files in `dir`, ascending. Other files are ignored.
///
/// # Errors
/// [`Error::Io`] when the directory cannot be read.
pub fn list_segments(dir: &Path) -> Result<Vec<u32>> {
    let rd = fs::read_dir(dir).map_err(|e| Error::io("read directory", dir, e))?;
    let mut ids = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("read directory", dir, e))?;
        let Some(id) = entry.file_name().to_str().and_then(parse_segment_name) else {
            continue;
        };
        let ft = entry
            .file_type()
            .map_err(|e| Error::io("stat", entry.path(), e))?;
        if ft.is_file() {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// fsync a directory, making the creation, rename or removal of its entries durable.
///
/// # Errors
/// [`Error::Io`] when the directory cannot be opened or synced.
pub fn fsync_dir(dir: &Path) -> Result<()> {
    #[cfg(test)]
    testing::DIR_SYNCS.with(|n| n.set(n.get() + 1));
    let d = File::open(dir).map_err(|e| Error::io("open directory", dir, e))?;
    d.sync_all()
        .map_err(|e| Error::io("fsync directory", dir, e))
}

/// Create `dir` (and parents) unless it exists; refuse a path that is not a directory.
pub(crate) fn ensure_dir(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::NotADirectory {
            path: dir.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))
        }
        Err(e) => Err(Error::io("stat", dir, e)),
    }
}

/// Require `dir` to exist and be a directory.
pub(crate) fn require_dir(dir: &Path) -> Result<()> {
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::NotADirectory {
            path: dir.to_path_buf(),
        }),
        Err(e) => Err(Error::io("open store directory", dir, e)),
    }
}

/// Test hooks: what the unit tests count.
#[cfg(test)]
pub(crate) mod testing {
    use std::cell::Cell;

    thread_local! {
        /// Directory fsyncs ([`super::fsync_dir`]) made by this thread.
        pub(crate) static DIR_SYNCS: Cell<u64> = const { Cell::new(0) };
    }

    /// Directory fsyncs this thread has made so far.
    pub(crate) fn dir_syncs() -> u64 {
        DIR_SYNCS.with(Cell::get)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The open file carries `O_NOATIME` (read back from
    /// `/proc/self/fdinfo`), and reads and appends work through it.
    #[cfg(target_os = "linux")]
    #[test]
    fn segments_open_without_access_time_updates() {
        use std::io::Write;
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::FileExt;

        let td = tempfile::tempdir().unwrap();
        let path = td.path().join("00000001.dwal");
        let mut f = open_segment(
            OpenOptions::new().read(true).append(true).create_new(true),
            &path,
        )
        .unwrap();
        f.write_all(b"hello").unwrap();
        let mut back = [0u8; 5];
        f.read_exact_at(&mut back, 0).unwrap();
        assert_eq!(&back, b"hello");
        let fdinfo = fs::read_to_string(format!("/proc/self/fdinfo/{}", f.as_raw_fd())).unwrap();
        let flags = fdinfo
            .lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .map(|v| u32::from_str_radix(v.trim(), 8).unwrap())
            .unwrap();
        let noatime = rustix::fs::OFlags::NOATIME.bits();
        assert_eq!(flags & noatime, noatime, "flags {flags:o}");
        // A second, read-only open.
        let r = open_segment(OpenOptions::new().read(true), &path).unwrap();
        r.read_exact_at(&mut back, 0).unwrap();
        assert_eq!(&back, b"hello");
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(
            segment_path(Path::new("/s"), 7),
            Path::new("/s/00000007.dwal")
        );
        assert_eq!(parse_segment_name("00000007.dwal"), Some(7));
        assert_eq!(parse_segment_name("4294967295.dwal"), None);
        assert_eq!(parse_segment_name("0000007.dwal"), None);
        assert_eq!(parse_segment_name("0000000a.dwal"), None);
        assert_eq!(parse_segment_name("00000007.dwal.torn"), None);
        assert_eq!(parse_segment_name("+0000007.dwal"), None);
    }

    #[test]
    fn listing_ignores_strays() {
        let td = tempfile::tempdir().unwrap();
        for n in [
            "00000003.dwal",
            "00000001.dwal",
            "notes.txt",
            "00000002.7.torn",
        ] {
            fs::write(td.path().join(n), b"").unwrap();
        }
        fs::create_dir(td.path().join("00000009.dwal")).unwrap();
        assert_eq!(list_segments(td.path()).unwrap(), vec![1, 3]);
    }
}
