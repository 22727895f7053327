//! [`Follower`]: tailing a log as a writer (in this or another process)
//! appends to it, without the writer lock.
//!
//! # How it reads
//! A follower stands at a position: a segment, the offset of the next
//! frame in it, and the txid the next record must carry. Each step reads
//! the segment from that offset on with the log's own cursor (the frame
//! checks, CRC and torn-tail rules of `recovery.rs`), so it yields only
//! complete, CRC-valid frames, in order, and stops before anything else:
//! an incomplete frame at the end of the last segment is a write in
//! progress or a torn tail that the next writer repairs, and the follower
//! waits there.
//!
//! A segment is known to be closed when a segment with a higher id was
//! listed *before* the read: the writer creates the next segment only
//! after its last write to this one, so that read sees all of it, and
//! damage found in it is real ([`Error::Corrupt`]); the follower then moves
//! on to the next segment.
//!
//! # Where it stands
//! The follower keeps the position and stored CRC of the last record it
//! yielded. Whenever it has read all there is (and on anything unexpected:
//! a txid out of order, damage), it reads those four CRC bytes back: when
//! the segment got shorter than that record, or holds other bytes there, a
//! writer's repair cut records that the follower had already yielded (their
//! bytes changed after it read them, as a power cut can do), and it
//! returns [`Error::Cut`] instead of going on with a history that is no
//! longer the log's. Records with txids below the one it needs are never
//! yielded; a record above it means the ones between were removed
//! ([`Error::Truncated`]).
//!
//! # Waking up
//! On Linux (cargo feature `inotify`, on by default) the follower watches
//! the store directory with inotify (through `rustix`, no thread): an
//! append, a truncation or a new segment wakes it at once, and it also
//! looks every second in case a change was not reported (a file system
//! that does not report other machines' writes, an overflowed queue).
//! Elsewhere, when inotify cannot be had (no more instances), or with
//! [`FollowOptions::poll_only`], it polls: 1 ms after the last change,
//! doubling to 50 ms while nothing changes.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::consumers::Consumer;
use crate::error::{CorruptKind, Error, Result};
use crate::format::CRC_LEN;
use crate::position::{first_available, locate, read_full_at};
use crate::recovery::{Record, RecordCursor, RecordRef};
use crate::segment::{list_segments, open_segment, require_dir, segment_path};

/// The first poll interval once nothing new was found.
const POLL_MIN: Duration = Duration::from_millis(1);
/// The longest poll interval.
const POLL_MAX: Duration = Duration::from_millis(50);
/// With inotify, how long the follower waits for an event before looking
/// anyway.
#[cfg(all(target_os = "linux", feature = "inotify"))]
const WATCH_RECHECK: Duration = Duration::from_secs(1);

/// How a [`Follower`] waits for new records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FollowOptions {
    /// Poll with backoff even where inotify is available.
    pub poll_only: bool,
}

impl FollowOptions {
    /// Poll (1 ms, doubling to 50 ms while nothing changes) instead of
    /// watching the directory with inotify.
    #[must_use]
    pub fn poll_only(mut self) -> Self {
        self.poll_only = true;
        self
    }
}

/// The last record a follower yielded: enough to tell whether the log
/// still holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Yielded {
    at: RecordRef,
    txid: u64,
    crc: u32,
}

impl Yielded {
    fn end(&self) -> u64 {
        self.at.offset + u64::from(self.at.len)
    }
}

/// Follows a log as it grows: every record exactly once, in txid order,
/// across rotations, writer restarts and torn-tail repairs.
///
/// It takes no lock and changes nothing in the store (a named follower
/// writes its offset file under `dir/consumers/`), so it works while a
/// writer in this or another process appends. As an [`Iterator`] it
/// blocks until the next record exists;
/// [`next_timeout`](Self::next_timeout) waits at most a given time.
///
/// After an error the follower stays where it was: calling it again tries
/// again (an I/O error may pass; [`Error::Cut`] and [`Error::Truncated`]
/// are found again).
///
/// ```
/// use std::time::Duration;
/// use datawal_core::{Follower, RecordLog};
/// # fn main() -> datawal_core::Result<()> {
/// let dir = tempfile::tempdir().expect("tempdir");
/// let mut log = RecordLog::open(dir.path())?;
/// let mut follower = Follower::open(dir.path(), 0)?;
/// assert!(follower.next_timeout(Duration::ZERO)?.is_none());
/// log.append(b"hello")?;
/// let record = follower.next().expect("a record")?;
/// assert_eq!((record.txid, record.payload.as_slice()), (1, &b"hello"[..]));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Follower {
    dir: PathBuf,
    /// The segment read, and where its next frame starts. Segment 0 (no
    /// such segment) before the store has one.
    segment: u32,
    offset: u64,
    /// Records below this txid are passed over, not yielded (until the
    /// first record is yielded).
    from_txid: u64,
    /// The last record yielded.
    last: Option<Yielded>,
    /// The open cursor at `segment`/`offset`, whether the segment was
    /// known to be closed when it was opened, and whether the last record
    /// was checked since it read its first record.
    cursor: Option<(RecordCursor, bool, bool)>,
    /// The segment file of `last`, kept open for the check.
    last_file: Option<(u32, File)>,
    waiter: Waiter,
    consumer: Option<Consumer>,
}

impl Follower {
    /// Follow the log in `dir` from the first record whose txid is at
    /// least `from_txid` (0: from the oldest record there is). The start is
    /// found as [`RecordLog::cursor_from`](crate::RecordLog::cursor_from)
    /// finds it; a txid past the end is waited for.
    ///
    /// # Errors
    /// [`Error::Truncated`] when `from_txid` is at least 1 and below the
    /// oldest txid left; [`Error::NotADirectory`]; [`Error::Io`] when `dir`
    /// does not exist or cannot be read; [`Error::Corrupt`] in the segment
    /// read to find the start.
    pub fn open(dir: impl AsRef<Path>, from_txid: u64) -> Result<Follower> {
        Self::open_with(dir, from_txid, FollowOptions::default())
    }

    /// As [`open`](Self::open), with options.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with(
        dir: impl AsRef<Path>,
        from_txid: u64,
        options: FollowOptions,
    ) -> Result<Follower> {
        let dir = dir.as_ref();
        require_dir(dir)?;
        let waiter = Waiter::new(dir, &options);
        let ids = list_segments(dir)?;
        let (segment, offset) = match locate(dir, &ids, from_txid)? {
            (idx, offset) if idx < ids.len() => (ids[idx], offset),
            _ => (0, 0),
        };
        Ok(Follower {
            dir: dir.to_path_buf(),
            segment,
            offset,
            from_txid,
            last: None,
            cursor: None,
            last_file: None,
            waiter,
            consumer: None,
        })
    }

    /// Follow the log in `dir` as the named consumer `name`, from the
    /// record after the last txid it [committed](Self::commit) (from the
    /// oldest record for a new name). The name is 1 to 64 characters of
    /// `A-Z a-z 0-9 _ -`; its offset lives in
    /// `dir/consumers/<name>.offset`, and one follower at a time holds it.
    ///
    /// # Errors
    /// [`Error::ConsumerName`], [`Error::ConsumerLocked`],
    /// [`Error::ConsumerOffset`] for an offset file that does not read
    /// back; [`Error::Cut`] when the committed record is no longer in the
    /// log where it was (a repair cut it); [`Error::Truncated`] when the
    /// record after it was removed; as [`open`](Self::open) otherwise.
    pub fn open_named(dir: impl AsRef<Path>, name: &str) -> Result<Follower> {
        Self::open_named_with(dir, name, FollowOptions::default())
    }

    /// As [`open_named`](Self::open_named), with options.
    ///
    /// # Errors
    /// As [`open_named`](Self::open_named).
    pub fn open_named_with(
        dir: impl AsRef<Path>,
        name: &str,
        options: FollowOptions,
    ) -> Result<Follower> {
        let dir = dir.as_ref();
        require_dir(dir)?;
        let consumer = Consumer::acquire(dir, name)?;
        let committed = consumer.load()?;
        let mut follower = match committed {
            Some(c) if c.txid > 0 => {
                let at = c.position.unwrap_or(RecordRef {
                    segment: 0,
                    offset: 0,
                    len: 0,
                });
                let mut f = Self::open_with(dir, 0, options)?;
                f.resume_after(Yielded {
                    at,
                    txid: c.txid,
                    crc: c.crc,
                })?;
                f
            }
            _ => Self::open_with(dir, 0, options)?,
        };
        follower.consumer = Some(consumer);
        Ok(follower)
    }

    /// Stand right after the committed record `c`, when the log still holds
    /// it. (When retention removed its segment, the follower moves on to
    /// the next segment, whose first record must be the one after `c`.)
    fn resume_after(&mut self, c: Yielded) -> Result<()> {
        self.last = Some(c);
        self.check_last()?;
        self.segment = c.at.segment;
        self.offset = c.end();
        self.from_txid = c.txid + 1;
        Ok(())
    }

    /// The next record when it exists now; `Ok(None)` when the follower
    /// has read all there is. Never waits.
    ///
    /// # Errors
    /// [`Error::Cut`], [`Error::Truncated`], [`Error::Corrupt`],
    /// [`Error::Io`].
    pub fn try_next(&mut self) -> Result<Option<Record>> {
        loop {
            if self.cursor.is_none() && !self.open_cursor()? {
                self.check_last()?;
                return Ok(None);
            }
            let Some((cursor, closed, verified)) = self.cursor.as_mut() else {
                continue;
            };
            let (closed, verified) = (*closed, *verified);
            let step = cursor.next_view();
            let view = match step {
                Ok(Some(view)) => view,
                Ok(None) => {
                    let tail = cursor.report().tail.clone();
                    self.cursor = None;
                    self.check_last()?;
                    if !closed {
                        return Ok(None);
                    }
                    if let Some(t) = tail {
                        return Err(Error::Corrupt {
                            segment: t.segment,
                            offset: t.offset,
                            path: segment_path(&self.dir, t.segment),
                            kind: t.kind,
                        });
                    }
                    // The segment is read to its end: on to the next one.
                    let Some(next) = self.next_segment()? else {
                        return Ok(None);
                    };
                    self.segment = next;
                    self.offset = 0;
                    continue;
                }
                Err(e) => {
                    self.cursor = None;
                    self.check_last()?;
                    return Err(e);
                }
            };
            let at = view.position();
            let txid = view.txid;
            let expected = self.last.map(|l| l.txid + 1);
            if expected.is_none() && txid < self.from_txid {
                // Before the start asked for.
                self.offset = at.offset + u64::from(at.len);
                continue;
            }
            let want = expected.unwrap_or(self.from_txid);
            if want >= 1 && txid != want {
                self.cursor = None;
                self.check_last()?;
                if txid > want {
                    return Err(Error::Truncated {
                        requested: want,
                        first_available: txid,
                    });
                }
                return Err(Error::Corrupt {
                    segment: at.segment,
                    offset: at.offset,
                    path: segment_path(&self.dir, at.segment),
                    kind: CorruptKind::TxidOrder {
                        found: txid,
                        expected: want,
                    },
                });
            }
            let record = view.to_record();
            let crc = cursor.last_crc().unwrap_or_default();
            if !verified {
                // The first record read through this cursor: only now,
                // after the read, is the last record checked (a writer may
                // have cut it and written other records of the same sizes,
                // so that one lands where this follower stands).
                if let Err(e) = self.check_last() {
                    self.cursor = None;
                    return Err(e);
                }
                if let Some(c) = self.cursor.as_mut() {
                    c.2 = true;
                }
            }
            self.offset = at.offset + u64::from(at.len);
            self.last = Some(Yielded { at, txid, crc });
            return Ok(Some(record));
        }
    }

    /// Open a cursor at the follower's position; `false` when its segment
    /// does not exist and no later one does (nothing to read yet).
    fn open_cursor(&mut self) -> Result<bool> {
        let ids = list_segments(&self.dir)?;
        let later = ids.iter().copied().find(|&id| id > self.segment);
        if !ids.contains(&self.segment) {
            match (later, self.last) {
                (Some(next), _) => {
                    // Removed by retention (the txid check tells whether
                    // records the follower needs went with it), or the
                    // store's first segment.
                    self.segment = next;
                    self.offset = 0;
                }
                (None, Some(last)) if last.at.segment != self.segment => {
                    // Gone, and no later one: the log ends in the segment
                    // of the last record (a newest segment that a crash
                    // undid); read on after that record, once it checks.
                    self.check_last()?;
                    self.segment = last.at.segment;
                    self.offset = last.end();
                    return Ok(false);
                }
                _ => return Ok(false),
            }
        }
        let closed = ids.iter().any(|&id| id > self.segment);
        let cursor = RecordCursor::new_at(&self.dir, vec![self.segment], self.offset);
        self.cursor = Some((cursor, closed, false));
        Ok(true)
    }

    /// The first segment after the current one.
    fn next_segment(&self) -> Result<Option<u32>> {
        Ok(list_segments(&self.dir)?
            .into_iter()
            .find(|&id| id > self.segment))
    }

    /// [`Error::Cut`] unless the log still holds the last record yielded,
    /// where it was, with the same stored CRC.
    fn check_last(&mut self) -> Result<()> {
        let Some(last) = self.last else {
            return Ok(());
        };
        let path = segment_path(&self.dir, last.at.segment);
        if self
            .last_file
            .as_ref()
            .is_none_or(|(id, _)| *id != last.at.segment)
        {
            match open_segment(OpenOptions::new().read(true), &path) {
                Ok(f) => self.last_file = Some((last.at.segment, f)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    // Removed by retention once read (a later segment
                    // exists), or cut with the whole segment.
                    let later = list_segments(&self.dir)?
                        .into_iter()
                        .any(|id| id > last.at.segment);
                    return if later { Ok(()) } else { Err(cut(last, path)) };
                }
                Err(e) => return Err(Error::io("open segment", &path, e)),
            }
        }
        let Some((_, file)) = self.last_file.as_ref() else {
            return Ok(());
        };
        let mut crc = [0u8; CRC_LEN];
        let got = read_full_at(file, &mut crc, last.end() - CRC_LEN as u64)
            .map_err(|e| Error::io("read segment", &path, e))?;
        if got == CRC_LEN && u32::from_le_bytes(crc) == last.crc {
            Ok(())
        } else {
            Err(cut(last, path))
        }
    }

    /// Wait until the next record exists or `timeout` has passed:
    /// `Ok(None)` when nothing new arrived in time.
    ///
    /// # Errors
    /// As [`try_next`](Self::try_next).
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Record>> {
        let deadline = Instant::now().checked_add(timeout);
        loop {
            self.waiter.arm();
            if let Some(record) = self.try_next()? {
                self.waiter.found();
                return Ok(Some(record));
            }
            let left = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()),
                None => Duration::MAX,
            };
            if left.is_zero() {
                return Ok(None);
            }
            self.waiter.wait(left);
        }
    }

    /// Record that the named consumer has processed every record up to and
    /// including `txid`: after a restart,
    /// [`open_named`](Self::open_named) resumes with the record after it.
    /// Atomic and durable: a process killed at any moment leaves the
    /// previous offset or this one. `txid` 0 resets the consumer to the
    /// start.
    ///
    /// # Errors
    /// [`Error::NotYielded`] when `txid` is past the last record yielded;
    /// [`Error::NoConsumer`] on a follower opened without a name;
    /// [`Error::Io`] (the previous offset is then still in place).
    pub fn commit(&mut self, txid: u64) -> Result<()> {
        let Some(consumer) = self.consumer.as_ref() else {
            return Err(Error::NoConsumer);
        };
        let last_txid = self.last.map_or(0, |l| l.txid);
        if txid > last_txid {
            return Err(Error::NotYielded {
                txid,
                last_yielded: last_txid,
            });
        }
        let at = match self.last {
            _ if txid == 0 => None,
            Some(l) if l.txid == txid => Some(l),
            _ => Some(find(&self.dir, txid)?),
        };
        consumer.store(txid, at.map(|y| y.at), at.map_or(0, |y| y.crc))
    }

    /// The txid of the last record yielded (or, for a named follower just
    /// opened, committed), if any.
    pub fn last_txid(&self) -> Option<u64> {
        self.last.map(|l| l.txid)
    }

    /// The consumer's name, for a follower opened with
    /// [`open_named`](Self::open_named).
    pub fn name(&self) -> Option<&str> {
        self.consumer.as_ref().map(Consumer::name)
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Hand the waiting over (to the thread of a stream).
    #[cfg(feature = "async")]
    pub(crate) fn take_waiter(&mut self) -> Waiter {
        std::mem::replace(&mut self.waiter, Waiter::Poll { interval: POLL_MIN })
    }
}

/// The position and stored CRC of the record with txid `txid`.
fn find(dir: &Path, txid: u64) -> Result<Yielded> {
    let mut cursor = crate::position::cursor_from(dir, list_segments(dir)?, txid)?;
    match cursor.next_view()? {
        Some(v) if v.txid == txid => {
            let at = v.position();
            Ok(Yielded {
                at,
                txid,
                crc: cursor.last_crc().unwrap_or_default(),
            })
        }
        _ => Err(Error::Truncated {
            requested: txid,
            first_available: first_available(dir, &list_segments(dir)?)?.unwrap_or(0),
        }),
    }
}

fn cut(last: Yielded, path: PathBuf) -> Error {
    Error::Cut {
        txid: last.txid,
        segment: last.at.segment,
        offset: last.at.offset,
        path,
    }
}

impl Iterator for Follower {
    type Item = Result<Record>;

    /// The next record, waiting for it as long as it takes.
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.next_timeout(Duration::from_secs(3600)) {
                Ok(Some(record)) => return Some(Ok(record)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// How a follower sleeps until something may have changed.
#[derive(Debug)]
pub(crate) enum Waiter {
    #[cfg(all(target_os = "linux", feature = "inotify"))]
    Watch(watch::Watch),
    Poll {
        interval: Duration,
    },
}

impl Waiter {
    fn new(dir: &Path, options: &FollowOptions) -> Waiter {
        #[cfg(all(target_os = "linux", feature = "inotify"))]
        if !options.poll_only {
            if let Some(w) = watch::Watch::new(dir) {
                return Waiter::Watch(w);
            }
        }
        let _ = (dir, options);
        Waiter::Poll { interval: POLL_MIN }
    }

    /// Before a read: from now on, a change wakes the next `wait`.
    pub(crate) fn arm(&mut self) {
        #[cfg(all(target_os = "linux", feature = "inotify"))]
        if let Waiter::Watch(w) = self {
            w.drain();
        }
    }

    /// A record was found: poll quickly again.
    #[cfg_attr(
        not(all(target_os = "linux", feature = "inotify")),
        allow(irrefutable_let_patterns)
    )]
    pub(crate) fn found(&mut self) {
        if let Waiter::Poll { interval } = self {
            *interval = POLL_MIN;
        }
    }

    /// Sleep until a change or `at_most`.
    pub(crate) fn wait(&mut self, at_most: Duration) {
        match self {
            #[cfg(all(target_os = "linux", feature = "inotify"))]
            Waiter::Watch(w) => w.wait(at_most.min(WATCH_RECHECK)),
            Waiter::Poll { interval } => {
                std::thread::sleep(at_most.min(*interval));
                *interval = (*interval * 2).min(POLL_MAX);
            }
        }
    }
}

/// The inotify watch of a store directory (no thread, no `unsafe`).
#[cfg(all(target_os = "linux", feature = "inotify"))]
mod watch {
    use std::path::Path;
    use std::time::Duration;

    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    use rustix::fd::OwnedFd;
    use rustix::fs::inotify::{self, CreateFlags, WatchFlags};

    #[derive(Debug)]
    pub(crate) struct Watch {
        fd: OwnedFd,
    }

    impl Watch {
        /// Watch `dir` for appends and truncations of its files, new and
        /// removed files; `None` when inotify is not available.
        pub(super) fn new(dir: &Path) -> Option<Watch> {
            let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).ok()?;
            let flags = WatchFlags::MODIFY
                | WatchFlags::CREATE
                | WatchFlags::MOVED_TO
                | WatchFlags::DELETE
                | WatchFlags::ONLYDIR;
            inotify::add_watch(&fd, dir, flags).ok()?;
            Some(Watch { fd })
        }

        /// Read and drop the pending events.
        pub(super) fn drain(&mut self) {
            let mut buf = [0u8; 4096];
            while matches!(rustix::io::read(&self.fd, &mut buf), Ok(n) if n > 0) {}
        }

        /// Block until an event is pending or `at_most` has passed.
        pub(super) fn wait(&mut self, at_most: Duration) {
            let timeout = Timespec::try_from(at_most).ok();
            let mut fds = [PollFd::new(&self.fd, PollFlags::IN)];
            let _ = poll(&mut fds, timeout.as_ref());
        }
    }
}
