//! A real fsync failure, on a real file system: an ext4 image, loop-mounted,
//! whose backing file lives on a size-limited tmpfs. Once the tmpfs is full,
//! the kernel's writeback of new data blocks fails (EIO / ENOSPC from
//! `fdatasync`) while the file system itself stays mounted read-write (its
//! journal and metadata blocks are allocated in the tmpfs beforehand).
//!
//! After such a failure Linux may drop the pages it could not write while
//! still serving them from the page cache, so a writer opened next would see
//! the failed bytes, append after them, and lose what it appended once the
//! cache is gone (a remount shows zeros where the failed bytes were). The
//! writer must cut the segment back to its last durable length.
//!
//! Needs root (mount). As another user the test says so and returns: CI
//! runs as root.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use datawal_core::{RecordLog, RecordLogReader};

fn run(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A tmpfs holding an ext4 image, the image loop-mounted; unmounted on drop.
struct FailingDisk {
    _td: tempfile::TempDir,
    tmpfs: PathBuf,
    image: PathBuf,
    mnt: PathBuf,
}

impl FailingDisk {
    fn new() -> Self {
        let td = tempfile::tempdir().unwrap();
        let (tmpfs, mnt) = (td.path().join("tmpfs"), td.path().join("mnt"));
        fs::create_dir(&tmpfs).unwrap();
        fs::create_dir(&mnt).unwrap();
        run(
            "mount",
            &[
                "-t",
                "tmpfs",
                "-o",
                "size=24m",
                "tmpfs",
                tmpfs.to_str().unwrap(),
            ],
        );
        let image = tmpfs.join("ext4.img");
        fs::File::create(&image).unwrap().set_len(64 << 20).unwrap();
        let disk = FailingDisk {
            _td: td,
            tmpfs,
            image,
            mnt,
        };
        run(
            "mkfs.ext4",
            &["-q", "-b", "4096", disk.image.to_str().unwrap()],
        );
        disk.back_metadata();
        disk.mount();
        disk
    }

    /// mkfs leaves the journal and inode tables as holes of the image: give
    /// every block before the first free one its tmpfs pages now (rewriting
    /// the same bytes), so that only new data blocks fail once tmpfs is full.
    fn back_metadata(&self) {
        let out = Command::new("dumpe2fs").arg(&self.image).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let first_free: u64 = text
            .lines()
            // Group 0's range (`Free blocks: 2065-16383`), not the total.
            .filter_map(|l| l.trim().strip_prefix("Free blocks: "))
            .find_map(|r| r.split_once('-').map(|(lo, _)| lo))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no free blocks in dumpe2fs output"));
        let bytes = first_free * 4096;
        let f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.image)
            .unwrap();
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0u8; 1 << 20];
        let mut at = 0;
        while at < bytes {
            let n = (bytes - at).min(buf.len() as u64) as usize;
            f.read_exact_at(&mut buf[..n], at).unwrap();
            f.write_all_at(&buf[..n], at).unwrap();
            at += n as u64;
        }
        f.sync_all().unwrap();
    }

    fn mount(&self) {
        run(
            "mount",
            &[
                "-o",
                "loop",
                self.image.to_str().unwrap(),
                self.mnt.to_str().unwrap(),
            ],
        );
    }

    /// Unmount and mount again: the page cache of the image's files is gone.
    fn remount(&self) {
        run("umount", &[self.mnt.to_str().unwrap()]);
        self.mount();
    }

    /// Fill the tmpfs: from now on, writeback of new data blocks fails.
    fn fill(&self) -> PathBuf {
        let filler = self.tmpfs.join("filler");
        let mut f = fs::File::create(&filler).unwrap();
        let chunk = vec![0xFFu8; 64 << 10];
        while f.write_all(&chunk).is_ok() {}
        filler
    }
}

impl Drop for FailingDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.mnt).status();
        let _ = Command::new("umount").arg("-l").arg(&self.tmpfs).status();
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn payload(i: u32) -> Vec<u8> {
    format!("acknowledged record {i}").into_bytes()
}

fn append_durably(dir: &Path, from: u32, to: u32) {
    let mut log = RecordLog::open(dir).unwrap();
    for i in from..to {
        log.append(&payload(i)).unwrap();
    }
    log.fsync().unwrap();
}

#[test]
fn a_failed_fsync_loses_nothing_acknowledged_before_or_after_it() {
    if !is_root() {
        eprintln!("fsync_failure: needs root to mount a file system; not run");
        return;
    }
    let disk = FailingDisk::new();
    let store = disk.mnt.join("store");
    append_durably(&store, 0, 10);

    let filler = disk.fill();
    let mut log = RecordLog::open(&store).unwrap();
    // 4 MiB that the page cache takes and the disk refuses (past the space
    // the first writer reserved, whose blocks the disk already backs).
    log.append(&vec![0x42; 4 << 20]).unwrap();
    let err = log.fsync().expect_err("writeback to a full disk must fail");
    println!("the failed fsync: {err}");
    assert!(log.is_poisoned());
    drop(log);
    fs::remove_file(filler).unwrap();

    // A writer opened after the failure appends, durably.
    append_durably(&store, 10, 20);
    disk.remount();

    let (records, report) = RecordLogReader::open(&store).unwrap().scan().unwrap();
    let got: Vec<Vec<u8>> = records.into_iter().map(|r| r.payload).collect();
    let want: Vec<Vec<u8>> = (0..20).map(payload).collect();
    let lost = want.iter().filter(|p| !got.contains(p)).count();
    println!("acknowledged records lost after the remount: {lost} of 20");
    assert_eq!(got, want, "tail: {:?}", report.tail);
    assert!(report.tail.is_none(), "{:?}", report.tail);
}

/// The same failure under group commit: four threads append 2 MiB each and
/// sync through one `SharedLog` on the full disk. The failed `fdatasync`
/// fails every one of them (the leader with the I/O error, the others
/// poisoned), nobody is told "durable", the segment is cut back to what the
/// last successful sync covered, and after a remount exactly the records
/// acknowledged before and after the failure are there, each thread's in
/// its order.
#[test]
fn a_failed_group_commit_fails_every_waiter_and_loses_nothing_acknowledged() {
    use datawal_core::{Error, SharedLog};

    if !is_root() {
        eprintln!("fsync_failure: needs root to mount a file system; not run");
        return;
    }
    let disk = FailingDisk::new();
    let store = disk.mnt.join("shared");
    let record =
        |round: u32, thread: u32, i: u32| format!("round {round} thread {thread} record {i}");
    let acked_round = |round: u32| {
        let log = SharedLog::open(&store).unwrap();
        std::thread::scope(|s| {
            for t in 0..4 {
                let log = &log;
                s.spawn(move || {
                    for i in 0..10 {
                        log.append_durable(record(round, t, i).as_bytes()).unwrap();
                    }
                });
            }
        });
    };
    acked_round(0);
    let durable_len = fs::metadata(store.join("00000001.dwal")).unwrap().len();

    let filler = disk.fill();
    let log = SharedLog::open(&store).unwrap();
    let results: Vec<datawal_core::Result<_>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4u8)
            .map(|t| {
                let log = &log;
                s.spawn(move || log.append_durable(&vec![t; 2 << 20]))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let io = results
        .iter()
        .filter(|r| matches!(r, Err(Error::Io { .. })))
        .count();
    let poisoned = results
        .iter()
        .filter(|r| matches!(r, Err(Error::Poisoned { .. })))
        .count();
    println!("after the failed group commit: {io} I/O error, {poisoned} poisoned, 0 durable");
    assert_eq!((io, poisoned), (1, 3), "{results:?}");
    assert!(log.is_poisoned());
    assert!(matches!(log.sync(), Err(Error::Poisoned { .. })));
    assert_eq!(
        fs::metadata(store.join("00000001.dwal")).unwrap().len(),
        durable_len,
        "cut back to the last synced length"
    );
    drop(log);
    fs::remove_file(filler).unwrap();

    acked_round(1);
    disk.remount();

    let (records, report) = RecordLogReader::open(&store).unwrap().scan().unwrap();
    assert!(report.tail.is_none(), "{:?}", report.tail);
    let got: Vec<String> = records
        .iter()
        .map(|r| String::from_utf8(r.payload.clone()).expect("only acknowledged text records"))
        .collect();
    assert_eq!(got.len(), 80, "{got:?}");
    for round in 0..2 {
        for t in 0..4 {
            let mine: Vec<&String> = got
                .iter()
                .filter(|p| p.starts_with(&format!("round {round} thread {t} ")))
                .collect();
            let want: Vec<String> = (0..10).map(|i| record(round, t, i)).collect();
            assert_eq!(mine, want.iter().collect::<Vec<_>>());
        }
    }
}

/// A writer appended without syncing and went away (its bytes still only in
/// the page cache); the next writer's first rotation must sync them before
/// closing the segment. With the disk failing, that sync fails and the
/// rotation is refused; without it, the segment was closed holding bytes
/// that read back as zeros after a remount, and every later open failed
/// with corruption in a closed segment.
#[test]
fn a_rotation_after_reopen_syncs_what_open_found() {
    if !is_root() {
        eprintln!("fsync_failure: needs root to mount a file system; not run");
        return;
    }
    let disk = FailingDisk::new();
    let store = disk.mnt.join("store");
    append_durably(&store, 0, 10);
    {
        let mut log = RecordLog::open(&store).unwrap();
        // Unsynced: 4 MiB only in the page cache when this handle goes.
        log.append(&vec![0x42; 4 << 20]).unwrap();
    }
    let filler = disk.fill();
    let mut log = RecordLog::open(&store).unwrap();
    let rotated = log.rotate();
    println!("rotation on a failing disk: {rotated:?}");
    assert!(rotated.is_err(), "the segment was closed without a sync");
    drop(log);
    fs::remove_file(filler).unwrap();
    append_durably(&store, 10, 20);
    disk.remount();
    let (records, report) = RecordLogReader::open(&store)
        .unwrap()
        .scan()
        .expect("the store opens: no closed segment holds unsynced bytes");
    let got: Vec<Vec<u8>> = records.into_iter().map(|r| r.payload).collect();
    let want: Vec<Vec<u8>> = (0..20).map(payload).collect();
    assert_eq!(got, want, "tail: {:?}", report.tail);
}
