//! Files and directories that appear whole or not at all: built under a
//! temporary sibling name, then renamed into place.
//!
//! The temporary sibling is created exclusively (`O_CREAT | O_EXCL`, and
//! `O_NOFOLLOW` on Unix; `mkdir` for a directory) under a name with a random
//! suffix, `.{name}.{tag}-XXXXXX`: a file or link someone else put in the
//! directory is never opened, truncated or removed, and the name cannot be
//! guessed ahead of time. Whatever fails before the rename removes the
//! temporary (the `tempfile` crate's guards do it on drop, so an early
//! return cannot forget). A crash leaves it behind, as any crash of a
//! writer can.
//!
//! Every temporary file datawal writes goes through here: the core's
//! `export_jsonl` and `compact_to`, the typed layer's `export_jsonl` and the
//! CLI's `export`.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::{Builder, NamedTempFile, TempDir};

use crate::error::{Error, Result};
use crate::segment::fsync_dir;

/// A file written whole or not at all: bytes go to a temporary sibling of
/// the target, which [`commit`](Self::commit) fsyncs and renames over the
/// target. Dropped without `commit`, it removes the temporary and leaves
/// the target as it was.
///
/// ```
/// use std::io::Write as _;
/// # fn main() -> datawal_core::Result<()> {
/// let dir = tempfile::tempdir().expect("tempdir");
/// let path = dir.path().join("state.jsonl");
/// let mut file = datawal_core::AtomicFile::create(&path)?;
/// file.write_all(b"{}\n").expect("write");
/// file.commit()?;
/// assert_eq!(std::fs::read(&path).expect("read"), b"{}\n");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    target: PathBuf,
    parent: PathBuf,
    temp: BufWriter<Temp>,
}

/// The temporary file, written through its [`File`]: `NamedTempFile`'s own
/// `Write` wraps every error to add the path, which hides the OS error
/// code (`EFBIG`, `ENOSPC`) from callers.
#[derive(Debug)]
struct Temp(NamedTempFile);

impl Write for Temp {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.as_file_mut().write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.as_file_mut().flush()
    }
}

impl AtomicFile {
    /// Start writing `path`: create its parent directory when missing, and
    /// a new temporary file `.{name}.tmp-XXXXXX` beside it, exclusively
    /// (never through an existing file or link). Its mode is what
    /// `File::create` gives (0o666 less the umask), so the file put in
    /// place has the permissions a plain write would give it.
    ///
    /// # Errors
    /// [`Error::Io`] when `path` does not end in a file name, or the
    /// directory or the temporary file cannot be created.
    pub fn create(path: impl AsRef<Path>) -> Result<AtomicFile> {
        let target = path.as_ref().to_path_buf();
        let (parent, prefix) = sibling_prefix(&target, "tmp")?;
        let temp = Builder::new()
            .prefix(&prefix)
            .make_in(&parent, create_exclusive)
            .map_err(|e| Error::io("create temporary file in", &parent, e))?;
        Ok(AtomicFile {
            target,
            parent,
            temp: BufWriter::new(Temp(temp)),
        })
    }

    /// The temporary file being written (for messages).
    pub fn temp_path(&self) -> &Path {
        self.temp.get_ref().0.path()
    }

    /// Flush and fsync the temporary file, rename it over the target, and
    /// fsync the directory: the target is then the complete new file, and
    /// stays so after a crash.
    ///
    /// # Errors
    /// [`Error::Io`] when a write, the fsync or the rename fails (the
    /// temporary is removed and the target is as it was), or the directory
    /// cannot be synced (the new file is in place, but a crash could still
    /// undo the rename).
    pub fn commit(self) -> Result<()> {
        let AtomicFile {
            target,
            parent,
            mut temp,
        } = self;
        if let Err(e) = temp.flush() {
            return Err(Error::io("write", temp.get_ref().0.path(), e));
        }
        let Temp(temp) = temp
            .into_inner()
            .map_err(|e| Error::io("write", &target, e.into_error()))?;
        temp.as_file()
            .sync_all()
            .map_err(|e| Error::io("fsync", temp.path(), e))?;
        // On failure the error hands the file back; dropping it removes it.
        temp.persist(&target)
            .map_err(|e| Error::io("rename into place", &target, e.error))?;
        fsync_dir(&parent)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.temp.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.temp.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
}

/// A new, empty temporary file `.{name}.{tag}-XXXXXX` beside `path` (its
/// parent created when missing), made exclusively like
/// [`AtomicFile::create`]'s and removed when dropped; the caller writes it
/// and renames it into place with `persist`.
pub(crate) fn temp_file_beside(path: &Path, tag: &str) -> Result<NamedTempFile> {
    let (parent, prefix) = sibling_prefix(path, tag)?;
    Builder::new()
        .prefix(&prefix)
        .make_in(&parent, create_exclusive)
        .map_err(|e| Error::io("create temporary file in", &parent, e))
}

/// A new, empty temporary directory `.{name}.{tag}-XXXXXX` beside `path`
/// (its parent created when missing), made exclusively by `mkdir` and
/// removed with its contents when the guard is dropped; the caller fills
/// it, renames it into place and then calls [`TempDir::keep`].
pub(crate) fn temp_dir_beside(path: &Path, tag: &str) -> Result<TempDir> {
    let (parent, prefix) = sibling_prefix(path, tag)?;
    let mut builder = Builder::new();
    builder.prefix(&prefix);
    #[cfg(unix)]
    {
        // The mode `create_dir` gives (0o777 less the umask), not 0o700: the
        // directory becomes the store.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o777));
    }
    builder
        .tempdir_in(&parent)
        .map_err(|e| Error::io("create a temporary directory for", path, e))
}

/// The parent of `path` (created when missing) and the prefix
/// `.{name}.{tag}-` of its temporary siblings.
fn sibling_prefix(path: &Path, tag: &str) -> Result<(PathBuf, OsString)> {
    let Some(name) = path.file_name() else {
        return Err(Error::io(
            "write",
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"),
        ));
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(|e| Error::io("create directory", &parent, e))?;
    let mut prefix = OsString::from(".");
    prefix.push(name);
    prefix.push(format!(".{tag}-"));
    Ok((parent, prefix))
}

/// Create `path` for writing; fail if anything, a link included, is there.
fn create_exclusive(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o666)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    options.open(path)
}

/// Check the target: absent, or an empty directory (then its canonical path).
pub(crate) fn check_target(out_dir: &Path) -> Result<PathBuf> {
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

/// Rename the finished temporary directory `tmp` to `target` and fsync the
/// parent: `target` is then the complete new directory, durably.
pub(crate) fn rename_dir_into_place(tmp: TempDir, target: &Path) -> Result<()> {
    fs::rename(tmp.path(), target).map_err(|e| Error::io("rename into place", target, e))?;
    // Renamed: nothing is left at the temporary name to remove.
    let _ = tmp.keep();
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        fsync_dir(parent)?;
    }
    Ok(())
}

/// Open a small file of a store for reading (the typed layer's
/// description, the shipper's store identity) as the store's own files
/// are read: never through a symbolic link (`O_NOFOLLOW`), never waiting
/// for a FIFO's other end (`O_NONBLOCK`), and only a regular file. A
/// missing file is `ErrorKind::NotFound`, as from `File::open`; a link, a
/// FIFO, a directory or a device is `ErrorKind::InvalidData`, its message
/// saying which ("is a symbolic link (not followed)", "is not a regular
/// file").
///
/// # Errors
/// As above, and any other error of `open(2)` or `fstat(2)`.
pub fn open_store_file(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "is a symbolic link (not followed)",
                )
            } else {
                e
            }
        })?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "is not a regular file",
        ));
    }
    Ok(file)
}

/// The bytes of a small file of the store, opened as [`open_store_file`]
/// opens it and read no further than `max_len + 1` bytes (a longer file
/// shows as longer without being read whole, however large it is); `None`
/// when there is no such file.
///
/// # Errors
/// As [`open_store_file`], and a failed read.
pub(crate) fn read_store_file(path: &Path, max_len: u64) -> io::Result<Option<Vec<u8>>> {
    let file = match open_store_file(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(file, max_len + 1), &mut bytes)?;
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_files_are_opened_only_when_regular_and_never_through_a_link() {
        let td = tempfile::tempdir().unwrap();
        let plain = td.path().join("plain");
        fs::write(&plain, b"x").unwrap();
        assert!(open_store_file(&plain).is_ok());
        let missing = open_store_file(&td.path().join("missing")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        let link = td.path().join("link");
        std::os::unix::fs::symlink(&plain, &link).unwrap();
        let e = open_store_file(&link).unwrap_err();
        assert_eq!(
            (e.kind(), e.to_string().as_str()),
            (
                io::ErrorKind::InvalidData,
                "is a symbolic link (not followed)"
            )
        );
        let e = open_store_file(td.path()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "a directory");
        let fifo = td.path().join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        // Returns at once (O_NONBLOCK), refused as not a regular file.
        let e = open_store_file(&fifo).unwrap_err();
        assert_eq!(e.to_string(), "is not a regular file");
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn temporary_names_are_hidden_tagged_and_unpredictable() {
        let td = tempfile::tempdir().unwrap();
        let target = td.path().join("out.jsonl");
        let a = AtomicFile::create(&target).unwrap();
        let b = AtomicFile::create(&target).unwrap();
        for f in [&a, &b] {
            let name = f.temp_path().file_name().unwrap().to_str().unwrap();
            let suffix = name.strip_prefix(".out.jsonl.tmp-").unwrap();
            assert!(suffix.len() >= 6, "{name}");
            assert!(suffix.bytes().all(|b| b.is_ascii_alphanumeric()), "{name}");
        }
        assert_ne!(a.temp_path(), b.temp_path());
        drop((a, b));
        assert!(names(td.path()).is_empty(), "{:?}", names(td.path()));
    }

    #[test]
    fn dropped_without_commit_removes_the_temporary_and_keeps_the_target() {
        let td = tempfile::tempdir().unwrap();
        let target = td.path().join("out");
        fs::write(&target, b"old").unwrap();
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(&[7; 100_000]).unwrap();
        drop(f);
        assert_eq!(names(td.path()), ["out"]);
        assert_eq!(fs::read(&target).unwrap(), b"old");
    }

    #[cfg(unix)]
    #[test]
    fn commit_replaces_the_target_with_the_mode_a_plain_create_gives() {
        use std::os::unix::fs::PermissionsExt;
        let td = tempfile::tempdir().unwrap();
        let plain = td.path().join("plain");
        File::create(&plain).unwrap();
        let target = td.path().join("nested/out");
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&target), mode(&plain));
        assert_eq!(names(&td.path().join("nested")), ["out"]);
    }

    #[test]
    fn a_failed_rename_removes_the_temporary() {
        let td = tempfile::tempdir().unwrap();
        let target = td.path().join("dir");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("keep"), b"x").unwrap();
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"new").unwrap();
        let err = f.commit().unwrap_err();
        assert!(err.to_string().contains("rename into place"), "{err}");
        assert_eq!(names(td.path()), ["dir"]);
        assert_eq!(names(&target), ["keep"]);
    }

    #[test]
    fn a_path_without_a_file_name_is_an_error() {
        let err = AtomicFile::create("/").unwrap_err();
        assert!(err.to_string().contains("names no file"), "{err}");
    }

    #[test]
    fn temporary_directories_are_fresh_and_removed_on_drop() {
        let td = tempfile::tempdir().unwrap();
        let target = td.path().join("store");
        let t = temp_dir_beside(&target, "compacting").unwrap();
        let name = t.path().file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.starts_with(".store.compacting-"), "{name}");
        assert!(names(t.path()).is_empty());
        fs::write(t.path().join("f"), b"x").unwrap();
        drop(t);
        assert!(names(td.path()).is_empty());
    }
}
