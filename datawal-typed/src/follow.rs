//! [`TypedFollower`]: a core [`Follower`] that decodes what it yields.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::time::Duration;

use datawal_core::{FollowOptions, Follower};

use crate::describe::StoreKind;
use crate::described::{self as store, Asked};
use crate::error::{Result, Skipped};
use crate::log::{decode_record, Entry, TypedReader};
use crate::{ReadPolicy, Record};

// `TypedReader::follow_from` is here, with the follower, so that the log
// module does not need this one.
impl<T: Record> TypedReader<T> {
    /// A follower of this log from the first record whose txid is at least
    /// `txid`, reading with this reader's policy (see [`TypedFollower`]).
    ///
    /// # Errors
    /// As [`TypedFollower::open`].
    pub fn follow_from(&self, txid: u64) -> Result<TypedFollower<T>> {
        TypedFollower::open(self.raw().dir(), txid, self.policy())
    }
}

/// Follows a typed log as it grows, yielding [`Entry<T>`]: every record
/// once, in txid order, across rotations, writer restarts and repairs,
/// without the writer lock (see [`Follower`] for how, and for
/// [`datawal_core::Error::Cut`] and [`datawal_core::Error::Truncated`]).
///
/// Records that do not decode as `T` follow the read policy: under
/// [`ReadPolicy::Stop`] each is returned as an error, after which the
/// follower goes on with the next record when called again; under
/// [`ReadPolicy::Skip`] they are passed over and listed in
/// [`skipped`](Self::skipped).
///
/// ```
/// use std::time::Duration;
/// use datawal_typed::{ReadPolicy, TypedFollower, TypedLog};
/// # fn main() -> datawal_typed::Result<()> {
/// let dir = tempfile::tempdir().expect("tempdir");
/// let mut log = TypedLog::<String>::open(dir.path())?;
/// let mut follower = TypedFollower::<String>::open(dir.path(), 0, ReadPolicy::Stop)?;
/// log.append(&"hello".to_string())?;
/// let entry = follower.next_timeout(Duration::from_secs(5))?.expect("appended");
/// assert_eq!((entry.txid, entry.value.as_str()), (1, "hello"));
/// # Ok(())
/// # }
/// ```
pub struct TypedFollower<T: Record> {
    follower: Follower,
    policy: ReadPolicy,
    skipped: Vec<Skipped>,
    _type: PhantomData<fn() -> T>,
}

impl<T: Record> fmt::Debug for TypedFollower<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedFollower")
            .field("type", &T::NAME)
            .field("follower", &self.follower)
            .field("policy", &self.policy)
            .field("skipped", &self.skipped.len())
            .finish_non_exhaustive()
    }
}

impl<T: Record> TypedFollower<T> {
    /// Follow the log in `dir` from the first record whose txid is at least
    /// `from_txid` (0: the oldest), reading with `policy`.
    ///
    /// # Errors
    /// [`crate::Error::Refused`] as [`TypedReader::open`]; as
    /// [`Follower::open`], as [`crate::Error::Core`].
    pub fn open(dir: impl AsRef<Path>, from_txid: u64, policy: ReadPolicy) -> Result<Self> {
        check::<T>(dir.as_ref())?;
        Ok(Self::from_raw(Follower::open(dir, from_txid)?, policy))
    }

    /// Follow the log in `dir` as the named consumer `name`, from the record
    /// after its last [commit](Self::commit).
    ///
    /// # Errors
    /// [`crate::Error::Refused`] as [`TypedReader::open`]; as
    /// [`Follower::open_named`], as [`crate::Error::Core`].
    pub fn open_named(dir: impl AsRef<Path>, name: &str, policy: ReadPolicy) -> Result<Self> {
        check::<T>(dir.as_ref())?;
        Ok(Self::from_raw(Follower::open_named(dir, name)?, policy))
    }

    /// As [`open`](Self::open), with the core follower's options (polling
    /// instead of inotify).
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with(
        dir: impl AsRef<Path>,
        from_txid: u64,
        policy: ReadPolicy,
        options: FollowOptions,
    ) -> Result<Self> {
        check::<T>(dir.as_ref())?;
        Ok(Self::from_raw(
            Follower::open_with(dir, from_txid, options)?,
            policy,
        ))
    }

    /// Decode what a core follower yields.
    #[must_use]
    pub fn from_raw(follower: Follower, policy: ReadPolicy) -> Self {
        TypedFollower {
            follower,
            policy,
            skipped: Vec::new(),
            _type: PhantomData,
        }
    }

    /// The next entry when it exists now; `Ok(None)` when the follower has
    /// read all there is. Never waits.
    ///
    /// # Errors
    /// Core errors ([`crate::Error::Core`]); under [`ReadPolicy::Stop`] a
    /// record that does not decode.
    pub fn try_next(&mut self) -> Result<Option<Entry<T>>> {
        self.next_with(Follower::try_next)
    }

    /// Wait until the next entry exists or `timeout` has passed: `Ok(None)`
    /// when nothing new arrived in time.
    ///
    /// # Errors
    /// As [`try_next`](Self::try_next).
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Entry<T>>> {
        let deadline = std::time::Instant::now() + timeout;
        self.next_with(|f| {
            f.next_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
        })
    }

    /// Pull records with `pull` until one decodes (or, under `Stop`, one
    /// does not), passing over the undecodable ones under `Skip`.
    fn next_with(
        &mut self,
        mut pull: impl FnMut(&mut Follower) -> datawal_core::Result<Option<datawal_core::Record>>,
    ) -> Result<Option<Entry<T>>> {
        loop {
            let Some(record) = pull(&mut self.follower)? else {
                return Ok(None);
            };
            match decode_record::<T>(&record) {
                Ok(entry) => return Ok(Some(entry)),
                Err(e) if self.policy.skips(&e) => self.skipped.push(Skipped::new(e)),
                Err(e) => return Err(e),
            }
        }
    }

    /// Record that every record up to and including `txid` was processed
    /// (see [`Follower::commit`]).
    ///
    /// # Errors
    /// As [`Follower::commit`], as [`crate::Error::Core`].
    pub fn commit(&mut self, txid: u64) -> Result<()> {
        Ok(self.follower.commit(txid)?)
    }

    /// The records passed over under [`ReadPolicy::Skip`].
    #[must_use]
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// The core follower.
    #[must_use]
    pub fn raw(&self) -> &Follower {
        &self.follower
    }

    /// Give up the typed view and keep the core follower.
    #[must_use]
    pub fn into_raw(self) -> Follower {
        self.follower
    }
}

impl<T: Record> Iterator for TypedFollower<T> {
    type Item = Result<Entry<T>>;

    /// The next entry, waiting for it as long as it takes.
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.next_timeout(Duration::from_secs(3600)) {
                Ok(Some(entry)) => return Some(Ok(entry)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// Refuse a follower of `T` on a store described as holding something
/// else (as [`TypedReader::open`]).
fn check<T: Record>(dir: &Path) -> Result<()> {
    store::check_reader(dir, &Asked::of::<T>(StoreKind::Log, None, false))
}
