//! The writer lock survives a forked child dropping its copy of the
//! handle. Alone in its test binary: the child holds copies of every
//! descriptor open in the process at the fork, other tests' locks included.

use datawal_core::{Error, RecordLog};

/// A child forked after the store was opened drops its copy of the handle
/// (what a daemon's fork or `pre_exec` code does): the parent's lock holds.
#[test]
fn a_forked_child_dropping_the_handle_keeps_the_parents_lock() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    log.append(b"parent").unwrap();
    log.fsync().unwrap();
    // SAFETY: the child only drops the handle (closing descriptors, freeing
    // memory: glibc's fork leaves malloc usable in the child of a threaded
    // process) and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        drop(log);
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(0) };
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    assert!(
        matches!(RecordLog::open(td.path()), Err(Error::Locked { .. })),
        "the child's drop released the parent's lock"
    );
    log.append(b"still the writer").unwrap();
    log.fsync().unwrap();
    drop(log);
    RecordLog::open(td.path()).unwrap();
}
