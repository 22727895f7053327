//! [`FollowerStream`]: a [`Follower`] as a `futures_core::Stream`
//! (cargo feature `async`), for any executor.
//!
//! Waiting for a file to grow is not something an executor can do for us
//! without a runtime-specific reactor, so one thread per stream does the
//! waiting: it reads records with the follower (inotify or polling, as the
//! follower would) and hands them over a bounded channel (256 records:
//! a stream that is not polled holds the thread back), waking the task.
//! The follower itself sits behind a mutex that the thread holds only
//! while it reads, so [`FollowerStream::commit`] can be called from the
//! task at any time.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures_core::Stream;

use crate::error::Result;
use crate::follower::Follower;
use crate::recovery::Record;

/// Records the thread may read ahead of the task.
const AHEAD: usize = 256;
/// How long the thread waits between looks when nothing wakes it (it also
/// notices a dropped stream then).
const WAIT: Duration = Duration::from_millis(100);

/// A [`Follower`] as a [`Stream`] of records, from
/// [`Follower::into_stream`]. Runtime-agnostic: it needs no reactor (one
/// thread per stream waits for the log to grow).
///
/// The stream yields every record as the follower would, and ends after
/// the first error (which it yields).
#[derive(Debug)]
pub struct FollowerStream {
    shared: Arc<Shared>,
    records: Receiver<Result<Record>>,
}

#[derive(Debug)]
struct Shared {
    /// `None` once the stream is dropped (which releases a named
    /// consumer at once).
    follower: Mutex<Option<Follower>>,
    waker: Mutex<Option<Waker>>,
    stop: AtomicBool,
}

impl Follower {
    /// This follower as a [`Stream`] (cargo feature `async`).
    #[must_use]
    pub fn into_stream(mut self) -> FollowerStream {
        let waiter = self.take_waiter();
        let shared = Arc::new(Shared {
            follower: Mutex::new(Some(self)),
            waker: Mutex::new(None),
            stop: AtomicBool::new(false),
        });
        let (tx, records) = sync_channel(AHEAD);
        let thread_shared = Arc::clone(&shared);
        std::thread::spawn(move || {
            let shared = thread_shared;
            let mut waiter = waiter;
            while !shared.stop.load(Ordering::Acquire) {
                waiter.arm();
                let next = match lock(&shared.follower).as_mut() {
                    Some(follower) => follower.try_next(),
                    None => return,
                };
                let (item, last) = match next {
                    Ok(Some(record)) => (Ok(record), false),
                    Ok(None) => {
                        waiter.wait(WAIT);
                        continue;
                    }
                    Err(e) => (Err(e), true),
                };
                waiter.found();
                if tx.send(item).is_err() {
                    return;
                }
                if let Some(w) = lock(&shared.waker).take() {
                    w.wake();
                }
                if last {
                    return;
                }
            }
        });
        FollowerStream { shared, records }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FollowerStream {
    /// [`Follower::commit`] for the stream's follower.
    ///
    /// # Errors
    /// As [`Follower::commit`].
    pub fn commit(&self, txid: u64) -> Result<()> {
        match lock(&self.shared.follower).as_mut() {
            Some(follower) => follower.commit(txid),
            None => Err(crate::Error::NoConsumer),
        }
    }

    /// The txid of the last record the stream has yielded or read ahead.
    pub fn last_txid(&self) -> Option<u64> {
        lock(&self.shared.follower).as_ref()?.last_txid()
    }
}

impl Stream for FollowerStream {
    type Item = Result<Record>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        match this.records.try_recv() {
            Ok(item) => return Poll::Ready(Some(item)),
            Err(TryRecvError::Disconnected) => return Poll::Ready(None),
            Err(TryRecvError::Empty) => {}
        }
        *lock(&this.shared.waker) = Some(cx.waker().clone());
        // Again, now that a record sent from here on will wake the task.
        match this.records.try_recv() {
            Ok(item) => Poll::Ready(Some(item)),
            Err(TryRecvError::Disconnected) => Poll::Ready(None),
            Err(TryRecvError::Empty) => Poll::Pending,
        }
    }
}

impl Drop for FollowerStream {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        // The follower (and a consumer's lock) goes now, not when the
        // thread next looks.
        drop(lock(&self.shared.follower).take());
    }
}
