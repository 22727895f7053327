//! [`GroupCommit`]: the writer behind a lock, and the one sync at a time
//! that every waiting thread shares.
//!
//! Two locks, never held one inside the other's wait:
//! - the *writer lock* (`RwLock<W>`) orders appends in the file; it is held
//!   for one `write` (an append) or one lookup and `pread` (a read);
//! - the *sync token* (`SyncState::busy`, under a mutex with a condvar) is
//!   held by the one thread that is syncing or rotating. It is taken
//!   before the writer lock, never while holding it.
//!
//! A sync: read the target (the txid the next append gets); return at once
//! if `durable` already reaches it; wait while another thread holds the
//! token; else take the token, capture a [`SyncPoint`] under the writer
//! lock (read), `fdatasync` a second handle on the active segment (and the
//! directory when a segment was created) with no lock held, report back to
//! the log under the writer lock, and publish the captured txid as durable.
//! Every fsync of the log's files runs under the token, the segment a
//! rotation closes included: so after a failed `fdatasync` nobody else
//! syncs (and, the error being spent, succeeds) before the log is
//! poisoned, and no rotation moves the active segment while a leader syncs
//! it.
//!
//! Gathering: a leader that took the token while fewer threads wait for a
//! sync than the last group held waits a little (at most as long as the
//! last `fdatasync` took) for the others to append and join, then syncs
//! for all of them. Without it, threads that each wait for their own
//! record settle into two halves taking turns (one half syncs while the
//! other appends), about half the records per `fdatasync` that one group
//! gets. The wait changes when a sync starts, never what it covers: the
//! point is captured after it (`formal/GroupCommit.tla`: a leader may
//! stutter before its capture).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{
    Condvar, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::kv::DataWal;
use crate::log::{BackupStats, RecordLog, SyncPoint};
use crate::segment::{fsync_dir, segment_path};

/// What a shared handle wraps: a [`RecordLog`], or a store that owns one.
pub(crate) trait Writer {
    fn log(&self) -> &RecordLog;
    fn log_mut(&mut self) -> &mut RecordLog;
    /// The store's own rotation (a `DataWal` also forgets the keys that
    /// retention removed, and may compact).
    fn rotate(&mut self) -> Result<()>;
}

impl Writer for RecordLog {
    fn log(&self) -> &RecordLog {
        self
    }
    fn log_mut(&mut self) -> &mut RecordLog {
        self
    }
    fn rotate(&mut self) -> Result<()> {
        RecordLog::rotate(self)
    }
}

impl Writer for DataWal {
    fn log(&self) -> &RecordLog {
        DataWal::log(self)
    }
    fn log_mut(&mut self) -> &mut RecordLog {
        DataWal::log_mut(self)
    }
    fn rotate(&mut self) -> Result<()> {
        DataWal::rotate(self)
    }
}

/// When [`GroupCommit::sync_then`] rotates.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rotate {
    /// Always ([`crate::SharedLog::rotate`]).
    Always,
    /// When this many more bytes would overflow the segment.
    IfFull(u64),
    /// Never (a lifecycle operation, which rotates itself if it must).
    Never,
}

/// The longest a leader gathers, however slow the last `fdatasync` was.
const MAX_GATHER: Duration = Duration::from_millis(5);

/// Why the handle is poisoned when a thread panicked holding a lock.
const PANICKED: &str = "a thread panicked while it held the writer lock or the sync token";

#[derive(Debug)]
struct SyncState {
    /// Every record with a txid below this is durable.
    durable: u64,
    /// The sync token is taken: a sync or a rotation is under way.
    busy: bool,
    /// Why the handle is poisoned; set once, never cleared.
    poisoned: Option<String>,
    /// Threads waiting for the token holder.
    waiting: usize,
    /// The targets of the threads among them that wait for a sync (a
    /// thread whose target is above `durable` waits for the next one).
    targets: Vec<u64>,
    /// How many threads the last sync was for (its leader and the
    /// threads it gathered): how many the next leader waits for.
    group: usize,
    /// A leader is gathering: an arriving thread wakes it.
    gathering: bool,
    /// How long the last `fdatasync` took: the longest a leader gathers.
    last_sync: Duration,
}

impl SyncState {
    /// Threads that wait for a sync not yet made.
    fn uncovered(&self) -> usize {
        self.targets.iter().filter(|&&t| t > self.durable).count()
    }
}

/// A writer shared by threads, with group commit.
#[derive(Debug)]
pub(crate) struct GroupCommit<W> {
    dir: PathBuf,
    writer: RwLock<W>,
    /// The txid the next append gets, stored after each append: a sync's
    /// target, read without the writer lock.
    appended: AtomicU64,
    /// The active segment holds bytes found at open that no sync of this
    /// handle has covered yet: the first append syncs them first.
    unsynced_at_open: AtomicBool,
    state: Mutex<SyncState>,
    changed: Condvar,
    /// Wakes a gathering leader when a thread comes to wait.
    arrived: Condvar,
    #[cfg(test)]
    pub(crate) faults: testing::Faults,
}

impl<W: Writer> GroupCommit<W> {
    pub(crate) fn new(mut writer: W) -> Self {
        // A killed writer's appends are read back at open but may be only
        // in the page cache: the first sync covers them too, and the first
        // append waits for one, so that the log's "length at the last
        // successful sync" (where a failed sync cuts back to) is true
        // before anything is appended after them (`formal/GroupCommit`,
        // variant `bug-open-without-sync`).
        let unsynced = writer.log_mut().assume_unsynced();
        GroupCommit {
            dir: writer.log().dir().to_path_buf(),
            appended: AtomicU64::new(writer.log().next_txid()),
            unsynced_at_open: AtomicBool::new(unsynced),
            writer: RwLock::new(writer),
            state: Mutex::new(SyncState {
                durable: 1,
                busy: false,
                poisoned: None,
                waiting: 0,
                targets: Vec::new(),
                group: 1,
                gathering: false,
                last_sync: Duration::ZERO,
            }),
            changed: Condvar::new(),
            arrived: Condvar::new(),
            #[cfg(test)]
            faults: testing::Faults::default(),
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The writer, for reading (lookups, metadata). A panic while the
    /// lock was held poisons writes, not reads: what reads return is
    /// checked against the files (CRCs), as after a reopen.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, W> {
        self.writer.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, W>> {
        self.writer.write().map_err(|_| poisoned(PANICKED))
    }

    fn lock_state(&self) -> MutexGuard<'_, SyncState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The txid the next append gets.
    pub(crate) fn appended(&self) -> u64 {
        self.appended.load(Ordering::SeqCst)
    }

    /// `true` once the handle is poisoned (a failed write, sync or rotation).
    pub(crate) fn is_poisoned(&self) -> bool {
        let published = self.lock_state().poisoned.is_some();
        published || self.poison_of().is_some()
    }

    /// Append: run `f` under the writer lock. When `incoming` more bytes
    /// would rotate the segment, or bytes found at open are not synced
    /// yet, go through [`sync_then`](Self::sync_then) instead. Returns
    /// `f`'s result and the txid the next append gets (for an append, one
    /// past its last record).
    ///
    /// # Errors
    /// `f`'s; as [`sync_then`](Self::sync_then) when it goes there.
    pub(crate) fn append<R>(
        &self,
        incoming: u64,
        f: impl FnOnce(&mut W) -> Result<R>,
    ) -> Result<(R, u64)> {
        {
            let mut w = self.write()?;
            let fresh = self.unsynced_at_open.load(Ordering::SeqCst);
            if !fresh && !w.log().would_rotate(incoming) {
                let r = f(&mut w);
                let end = self.note_appended(&w);
                return r.map(|r| (r, end));
            }
        }
        self.sync_then(Rotate::IfFull(incoming), f)
    }

    fn note_appended(&self, w: &W) -> u64 {
        let end = w.log().next_txid();
        self.appended.fetch_max(end, Ordering::SeqCst);
        end
    }

    /// Holding the sync token: sync what is appended (no lock held), then,
    /// under the writer lock, rotate as `rotate` says and run `f`. A
    /// rotation's own `fdatasync` then covers only what was appended
    /// between the two.
    ///
    /// # Errors
    /// [`Error::Poisoned`]; the sync's or the rotation's error (which
    /// poisons the handle); `f`'s.
    pub(crate) fn sync_then<R>(
        &self,
        rotate: Rotate,
        f: impl FnOnce(&mut W) -> Result<R>,
    ) -> Result<(R, u64)> {
        let token = loop {
            // Without a target, the wait ends with the token or an error.
            if let Some(token) = self.take_token(None)? {
                break token;
            }
        };
        let mut durable = None;
        let res = (|| {
            durable = Some(self.lead()?.next_txid);
            let mut w = self.write()?;
            let rotating = match rotate {
                Rotate::Always => true,
                Rotate::IfFull(incoming) => w.log().would_rotate(incoming),
                Rotate::Never => false,
            };
            if rotating {
                let before = w.log().next_txid();
                w.rotate()?;
                // The rotation synced the segment it closed (and the
                // directory, when a creation was not yet durable).
                durable = Some(before);
            }
            let r = f(&mut w);
            let end = self.note_appended(&w);
            r.map(|r| (r, end))
        })();
        token.release(durable, res.is_err());
        res
    }

    /// Return once every record below `target` is durable.
    ///
    /// # Errors
    /// [`Error::Poisoned`] (this or another thread's sync failed, or a write
    /// did); [`Error::Io`] when this thread led the sync and it failed.
    pub(crate) fn sync_to(&self, target: u64) -> Result<()> {
        while let Some(token) = self.take_token(Some(target))? {
            self.gather();
            match self.lead() {
                Ok(point) => token.release(Some(point.next_txid), false),
                Err(e) => {
                    token.release(None, true);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Holding the token: wait until as many threads wait for a sync as
    /// the last sync was for, or as long as the last `fdatasync` took,
    /// whichever comes first; then remember how many came.
    fn gather(&self) {
        let mut st = self.lock_state();
        let limit = st.last_sync.min(MAX_GATHER);
        #[cfg(test)]
        let limit = self.faults.gather_for().unwrap_or(limit);
        let deadline = Instant::now() + limit;
        st.gathering = true;
        while st.uncovered() + 1 < st.group && st.poisoned.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            st = self
                .arrived
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        st.gathering = false;
        st.group = st.uncovered() + 1;
    }

    /// Wait until the token is free and take it; `None` (at once or after
    /// waiting) when `target` is given and already durable.
    fn take_token(&self, target: Option<u64>) -> Result<Option<Token<'_, W>>> {
        let mut st = self.lock_state();
        if let Some(t) = target {
            st.targets.push(t);
            // Counted while it waits; the leader's own record included.
            let group = st.uncovered() + usize::from(st.busy);
            st.group = st.group.max(group);
            // Wake a gathering leader once, when its group is complete.
            if st.gathering && st.uncovered() + 1 >= st.group {
                self.arrived.notify_one();
            }
        }
        let token = loop {
            if target.is_some_and(|t| st.durable >= t) {
                break Ok(None);
            }
            if let Some(reason) = &st.poisoned {
                break Err(poisoned(reason));
            }
            if !st.busy {
                st.busy = true;
                break Ok(Some(Token {
                    core: self,
                    held: true,
                }));
            }
            st.waiting += 1;
            st = self
                .changed
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner);
            st.waiting -= 1;
        };
        if let Some(t) = target {
            if let Some(i) = st.targets.iter().position(|&x| x == t) {
                st.targets.swap_remove(i);
            }
        }
        token
    }

    /// Sync what is appended, then copy the log as that sync left it
    /// (every record below the txid it made durable, no other) to `out`,
    /// as [`RecordLog::backup_to`]. Holding the sync token (so no rotation
    /// moves the active segment between the sync and the staging), and
    /// the writer lock shared (appends wait), the closed segments are
    /// hard-linked into the copy and the others opened; the copying then
    /// runs with no lock and no token, through those handles, which read
    /// a segment even once retention or compaction has removed it.
    ///
    /// # Errors
    /// [`Error::Poisoned`]; the sync's error (which poisons the handle);
    /// as [`RecordLog::backup_to`] (which does not).
    pub(crate) fn backup_to(&self, out: &Path) -> Result<BackupStats> {
        let token = loop {
            if let Some(token) = self.take_token(None)? {
                break token;
            }
        };
        let point = match self.lead() {
            Ok(point) => point,
            Err(e) => {
                token.release(None, true);
                return Err(e);
            }
        };
        // The active segment is the one synced, and holds the point's
        // records up to its size.
        let staged = self
            .read()
            .log()
            .stage_backup(out, point.size, point.next_txid);
        token.release(Some(point.next_txid), false);
        staged?.finish()
    }

    /// Sync, holding the token: capture where the log stands, `fdatasync`
    /// with no lock held, report back. Returns the point now durable
    /// (every record below its `next_txid`).
    fn lead(&self) -> Result<SyncPoint> {
        let point = self.read().log().sync_point()?;
        let started = Instant::now();
        let synced = self.sync_files(&point);
        self.lock_state().last_sync = started.elapsed();
        let mut w = self.write()?;
        match synced {
            Ok(()) => {
                w.log_mut().synced(&point);
                self.unsynced_at_open.store(false, Ordering::SeqCst);
                Ok(point)
            }
            Err(err) => Err(w.log_mut().sync_failed(&point, err)),
        }
    }

    fn sync_files(&self, point: &SyncPoint) -> Result<()> {
        #[cfg(test)]
        self.faults
            .before_sync(&segment_path(&self.dir, point.segment))?;
        point
            .file
            .sync_data()
            .map_err(|e| Error::io("fsync segment", segment_path(&self.dir, point.segment), e))?;
        if point.dir_dirty {
            fsync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// Why the log is poisoned, if it is.
    fn poison_of(&self) -> Option<String> {
        match self.writer.read() {
            Ok(w) => w.log().poison_reason().map(str::to_owned),
            Err(_) => Some(PANICKED.to_owned()),
        }
    }

    /// Give the token back: publish `durable`, the poison if any, and wake
    /// every waiter.
    fn give_back(&self, durable: Option<u64>, poison: Option<String>) {
        let mut st = self.lock_state();
        st.busy = false;
        if let Some(end) = durable {
            st.durable = st.durable.max(end);
        }
        if st.poisoned.is_none() {
            st.poisoned = poison;
        }
        drop(st);
        self.changed.notify_all();
    }

    /// Threads waiting for the token holder (for tests).
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.lock_state().waiting
    }

    /// Every record below this txid is durable (for tests).
    #[cfg(test)]
    pub(crate) fn durable(&self) -> u64 {
        self.lock_state().durable
    }

    /// Make the next leader gather `n` threads (for tests).
    #[cfg(test)]
    pub(crate) fn set_group(&self, n: usize) {
        self.lock_state().group = n;
    }

    /// How many threads the next leader gathers (for tests).
    #[cfg(test)]
    pub(crate) fn group(&self) -> usize {
        self.lock_state().group
    }

    /// A leader is gathering (for tests).
    #[cfg(test)]
    pub(crate) fn gathering(&self) -> bool {
        self.lock_state().gathering
    }
}

fn poisoned(reason: &str) -> Error {
    Error::Poisoned {
        reason: reason.to_owned(),
    }
}

/// The sync token. Given back by [`release`](Self::release); dropped
/// without it (a panic), it poisons the handle.
struct Token<'a, W: Writer> {
    core: &'a GroupCommit<W>,
    held: bool,
}

impl<W: Writer> Token<'_, W> {
    /// Give the token back; after a failure, poison the handle if the log
    /// is poisoned (a failed sync, write or rotation).
    fn release(mut self, durable: Option<u64>, failed: bool) {
        self.held = false;
        let poison = if failed { self.core.poison_of() } else { None };
        self.core.give_back(durable, poison);
    }
}

impl<W: Writer> Drop for Token<'_, W> {
    fn drop(&mut self) {
        if self.held {
            self.core.give_back(None, Some(PANICKED.to_owned()));
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Fault injection for the unit tests: hold a leader inside its sync,
    //! make the sync fail, count syncs.

    use std::path::Path;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc::{channel, Receiver, Sender};
    use std::sync::Mutex;
    use std::time::Duration;

    use crate::error::{Error, Result};

    /// What the held sync does when released.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum Outcome {
        Sync,
        Fail,
    }

    #[derive(Debug, Default)]
    pub(crate) struct Faults {
        /// Syncs started by leaders (and before rotations).
        pub(crate) syncs: AtomicUsize,
        /// The next sync says so on `entered` and waits for an outcome.
        hold: Mutex<Option<(Sender<()>, Receiver<Outcome>)>>,
        /// Every sync from now on fails.
        fail_all: std::sync::atomic::AtomicBool,
        /// How long a leader gathers, instead of the last sync's time.
        gather_for: Mutex<Option<Duration>>,
    }

    /// The test's end of a held sync.
    pub(crate) struct Held {
        pub(crate) entered: Receiver<()>,
        pub(crate) outcome: Sender<Outcome>,
    }

    impl Faults {
        /// Hold the next sync until told what to do.
        pub(crate) fn hold_next(&self) -> Held {
            let (entered_tx, entered) = channel();
            let (outcome, outcome_rx) = channel();
            *self.hold.lock().unwrap() = Some((entered_tx, outcome_rx));
            Held { entered, outcome }
        }

        /// Leaders gather for `d` (instead of the last sync's time).
        pub(crate) fn set_gather_for(&self, d: Duration) {
            *self.gather_for.lock().unwrap() = Some(d);
        }

        pub(crate) fn gather_for(&self) -> Option<Duration> {
            *self.gather_for.lock().unwrap()
        }

        /// Make every later sync fail.
        pub(crate) fn fail_all(&self) {
            self.fail_all.store(true, Ordering::SeqCst);
        }

        pub(crate) fn before_sync(&self, path: &Path) -> Result<()> {
            self.syncs.fetch_add(1, Ordering::SeqCst);
            let held = self.hold.lock().unwrap().take();
            let mut outcome = Outcome::Sync;
            if let Some((entered, rx)) = held {
                let _ = entered.send(());
                outcome = rx.recv().unwrap_or(Outcome::Sync);
            }
            if self.fail_all.load(Ordering::SeqCst) {
                outcome = Outcome::Fail;
            }
            match outcome {
                Outcome::Sync => Ok(()),
                Outcome::Fail => Err(Error::io(
                    "fsync segment",
                    path,
                    std::io::Error::other("injected fdatasync failure"),
                )),
            }
        }
    }
}
