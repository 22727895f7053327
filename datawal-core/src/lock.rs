//! The single-writer lock.
//!
//! A writer holds two `flock` locks for as long as its handle lives:
//!
//! - on the store **directory** itself: the lock this crate relies on. A
//!   directory cannot be replaced, linked elsewhere or deleted while it holds
//!   files, so removing or planting entries inside the store cannot let a
//!   second writer in.
//! - on `dir/.lock`, the lock the published datawal 0.1.x takes, so that a
//!   0.1.x writer and this one exclude each other too.
//!
//! Nothing is ever written to either: `.lock` is opened read-only, without
//! following a symbolic link (`O_NOFOLLOW`) and without blocking on a FIFO
//! (`O_NONBLOCK`), and must turn out to be a regular file. Whatever `.lock`
//! is (a symbolic or hard link to a segment of this store or of another, a
//! FIFO, a directory), opening the store changes no byte of any file.
//!
//! The locks are released when the last descriptor sharing them is closed,
//! never by an explicit unlock: a child forked after the store was opened
//! holds copies of the descriptors, and its dropping its copy of the handle
//! must not release the parent's lock (with an explicit `LOCK_UN` it did).
//! std opens every descriptor close-on-exec, so an `exec`ed child holds
//! nothing once it has exec'd; a contended lock is retried for 200 ms
//! before [`Error::Locked`], which covers a child between fork and exec.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use fs2::FileExt;

use crate::error::{Error, Result};

/// Name of the lock file (the published crate's lock).
pub const LOCK_FILE: &str = ".lock";

/// The held writer locks, released when the handle is dropped (by closing
/// the descriptors, not by unlocking them).
#[derive(Debug)]
pub(crate) struct DirLock {
    _dir: File,
    _file: File,
}

impl DirLock {
    /// Take the exclusive locks on `dir` and `dir/.lock` without blocking.
    pub(crate) fn acquire(dir: &Path) -> Result<Self> {
        let dir_handle = File::open(dir).map_err(|e| Error::io("open store directory", dir, e))?;
        try_lock(&dir_handle, dir, dir)?;
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(false)
            .create(false)
            .custom_flags(libc_flags())
            .open(&path);
        let file = match file {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => create_lock_file(&path)?,
            Err(e) => return Err(not_a_lock_file(&path, e)),
        };
        let meta = file
            .metadata()
            .map_err(|e| Error::io("stat lock file", &path, e))?;
        if !meta.is_file() {
            return Err(Error::LockFile {
                path,
                reason: "is not a regular file",
            });
        }
        try_lock(&file, dir, &path)?;
        Ok(DirLock {
            _dir: dir_handle,
            _file: file,
        })
    }
}

/// `O_NOFOLLOW | O_NONBLOCK`: refuse a symbolic link, do not wait for a
/// FIFO's other end.
fn libc_flags() -> i32 {
    #[cfg(target_os = "linux")]
    {
        (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// Create `.lock` (empty, never written), or open the one a racing opener
/// created in between.
fn create_lock_file(path: &Path) -> Result<File> {
    match OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .custom_flags(libc_flags())
        .open(path)
    {
        Ok(f) => Ok(f),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => OpenOptions::new()
            .read(true)
            .custom_flags(libc_flags())
            .open(path)
            .map_err(|e| not_a_lock_file(path, e)),
        Err(e) => Err(Error::io("create lock file", path, e)),
    }
}

/// The error for a `.lock` that cannot be opened: a symbolic link is named
/// as such (`ELOOP` under `O_NOFOLLOW`), anything else is I/O.
fn not_a_lock_file(path: &Path, e: io::Error) -> Error {
    #[cfg(target_os = "linux")]
    if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
        return Error::LockFile {
            path: path.to_path_buf(),
            reason: "is a symbolic link",
        };
    }
    Error::io("open lock file", path, e)
}

/// How long a contended lock is retried before [`Error::Locked`]: a child
/// process spawned by any thread holds copies of every descriptor from its
/// fork until its `exec` closes them (well under a millisecond, longer on a
/// loaded machine), so a handle dropped and reopened while another thread
/// spawns a process can find its own old lock still held for that long.
const CONTENDED_RETRY: std::time::Duration = std::time::Duration::from_millis(200);

fn try_lock(file: &File, dir: &Path, what: &Path) -> Result<()> {
    let deadline = std::time::Instant::now() + CONTENDED_RETRY;
    let mut pause = std::time::Duration::from_millis(1);
    loop {
        match file.try_lock_exclusive() {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == fs2::lock_contended_error().kind() => {
                if std::time::Instant::now() >= deadline {
                    return Err(Error::Locked {
                        dir: dir.to_path_buf(),
                    });
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(Error::io("lock", what, e)),
        }
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
    fn stale_lock_file_is_no_obstacle_and_is_left_as_it_was() {
        let td = tempfile::tempdir().unwrap();
        std::fs::write(td.path().join(LOCK_FILE), b"99999\n").unwrap();
        let _l = DirLock::acquire(td.path()).unwrap();
        assert_eq!(
            std::fs::read(td.path().join(LOCK_FILE)).unwrap(),
            b"99999\n"
        );
    }
}
