//! [`Shipper`]: publish a store's records to a JetStream stream, in txid
//! order, each exactly once.
//!
//! # How it ships (the protocol `formal/Ship.tla` checks)
//! 1. Ask the stream for the last message on the subject. Its
//!    `Datawal-Txid` is where shipping resumes; the shipper keeps no
//!    position of its own, so it can never resume from a position the
//!    server had not acknowledged. That message must be the log's record
//!    with its txid ([`Error::Diverged`] otherwise: the log lost records
//!    the stream holds, e.g. not fsynced before a power cut).
//! 2. Read the log from the next txid with the core's follower and publish
//!    each record with message id `{store}:{txid}` (the server drops a
//!    duplicate within its de-duplication window) and the id it expects
//!    the stream's last message to have, `Nats-Expected-Last-Msg-Id` (the
//!    first record a stream gets from this store: `Nats-Expected-Last-Sequence`).
//!    A message lost on a dying connection while the next one goes out on
//!    the new one is then refused instead of leaving a gap.
//! 3. At most `window` publishes wait for their acknowledgement: memory
//!    stays bounded, and a slow or absent server holds the shipper back.
//! 4. Any failure (connect, timeout, refusal) drops what is in flight and
//!    goes back to 1 after a backoff (50 ms doubling to `max_backoff`).
//!    Nothing is dropped: the records are read again from the log.

use std::collections::VecDeque;
use std::future::{poll_fn, Future, IntoFuture as _};
use std::path::{Path, PathBuf};
use std::pin::{pin, Pin};
use std::time::Duration;

use async_nats::jetstream::context::{Context, ContextBuilder, PublishError, PublishErrorKind};
use async_nats::jetstream::publish::PublishAck;
use async_nats::jetstream::stream::{Config, LastRawMessageErrorKind, StorageType};
use datawal_core::{Follower, FollowerStream, Record, RecordLogReader};
use futures_core::Stream as _;

use crate::error::{Error, Result};
use crate::headers::{self, msg_id, Expect};
use crate::identity::StoreId;

/// The first wait after a failure.
const BACKOFF_MIN: Duration = Duration::from_millis(50);

/// Where and how to ship.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShipOptions {
    /// The NATS server, e.g. `nats://127.0.0.1:4222`.
    pub url: String,
    /// The JetStream stream (created with file storage when missing).
    pub stream: String,
    /// The subject; `datawal.{stream}` when `None`.
    pub subject: Option<String>,
    /// Most publishes waiting for their acknowledgement (at least 1).
    pub window: usize,
    /// Add the typed envelope's headers (fingerprint, version, codec, and
    /// the type's name from the store's description) to every record; a
    /// record that is not an envelope is then an error. A store that
    /// describes itself (`datawal_typed::describe`, written by the typed
    /// handles) gets them without it, on every record that is an
    /// envelope.
    pub typed: bool,
    /// How long a publish waits for its acknowledgement (keep it well
    /// below the stream's de-duplication window, 2 minutes by default).
    pub ack_timeout: Duration,
    /// The longest wait between retries.
    pub max_backoff: Duration,
}

impl ShipOptions {
    /// Ship to `stream` on the server at `url`, with a window of 256, a
    /// 5 s acknowledgement timeout and retries up to 2 s apart.
    pub fn new(url: impl Into<String>, stream: impl Into<String>) -> ShipOptions {
        ShipOptions {
            url: url.into(),
            stream: stream.into(),
            subject: None,
            window: 256,
            typed: false,
            ack_timeout: Duration::from_secs(5),
            max_backoff: Duration::from_secs(2),
        }
    }

    /// Publish on `subject` instead of `datawal.{stream}`.
    #[must_use]
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// At most `window` unacknowledged publishes (0 counts as 1).
    #[must_use]
    pub fn window(mut self, window: usize) -> Self {
        self.window = window.max(1);
        self
    }

    /// Add the typed envelope's headers.
    #[must_use]
    pub fn typed(mut self, typed: bool) -> Self {
        self.typed = typed;
        self
    }

    /// Wait at most `timeout` for each acknowledgement.
    #[must_use]
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = timeout;
        self
    }

    /// Wait at most `backoff` between retries.
    #[must_use]
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The subject published on.
    pub fn subject_or_default(&self) -> String {
        self.subject
            .clone()
            .unwrap_or_else(|| format!("datawal.{}", self.stream))
    }
}

/// What a shipping run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ShipReport {
    /// Records the stream stored.
    pub published: u64,
    /// Records the stream acknowledged as duplicates (already stored).
    pub duplicates: u64,
    /// The txid of the stream's last record of this store (0: none).
    pub last_txid: u64,
    /// Failures retried.
    pub retries: u64,
}

/// One acknowledged record (for [`Shipper::follow`]'s callback).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Acked {
    /// The record's txid.
    pub txid: u64,
    /// Its sequence in the stream.
    pub sequence: u64,
    /// The stream already held it.
    pub duplicate: bool,
}

type AckFuture = Pin<Box<dyn Future<Output = Result<PublishAck, PublishError>> + Send>>;

/// Ships one store to one stream. See the [module](self) for the protocol.
#[derive(Debug)]
pub struct Shipper {
    dir: PathBuf,
    id: StoreId,
    options: ShipOptions,
    subject: String,
}

/// Where shipping resumes.
struct Resume {
    last_txid: u64,
    expect: Expect,
}

impl Shipper {
    /// A shipper for the store in `dir` (its identity file is created
    /// when missing). Connects on first use.
    ///
    /// # Errors
    /// [`Error::StoreId`] or [`Error::Store`] for the identity file.
    pub fn new(dir: impl AsRef<Path>, options: ShipOptions) -> Result<Shipper> {
        let dir = dir.as_ref().to_path_buf();
        let id = StoreId::load_or_create(&dir)?;
        let subject = options.subject_or_default();
        Ok(Shipper {
            dir,
            id,
            options,
            subject,
        })
    }

    /// The store's identity.
    pub fn store_id(&self) -> StoreId {
        self.id
    }

    /// The subject published on.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// Ship every record up to the log's last one at the time of the call,
    /// retrying transient failures until done.
    ///
    /// # Errors
    /// The errors [`Error::is_transient`] says are not: the store
    /// unreadable, a foreign stream, a gap, a record that is not typed.
    pub async fn ship_once(&mut self) -> Result<ShipReport> {
        let until = RecordLogReader::open(&self.dir)?
            .last()?
            .map_or(0, |r| r.txid);
        self.run(Some(until), std::future::pending(), &mut |_: &Acked| {})
            .await
    }

    /// Ship records as they are appended until `stop` completes, calling
    /// `on_ack` for each acknowledged record.
    ///
    /// # Errors
    /// As [`ship_once`](Self::ship_once).
    pub async fn follow(
        &mut self,
        stop: impl Future<Output = ()>,
        mut on_ack: impl FnMut(&Acked),
    ) -> Result<ShipReport> {
        self.run(None, stop, &mut on_ack).await
    }

    async fn run<F: FnMut(&Acked)>(
        &mut self,
        until: Option<u64>,
        stop: impl Future<Output = ()>,
        on_ack: &mut F,
    ) -> Result<ShipReport> {
        let mut stop = pin!(stop);
        let mut report = ShipReport::default();
        let mut backoff = BACKOFF_MIN;
        loop {
            let before = report.last_txid;
            let attempt = self.attempt(until, &mut report, on_ack);
            let res = tokio::select! {
                res = attempt => res,
                () = &mut stop => return Ok(report),
            };
            match res {
                Ok(()) => return Ok(report),
                Err(e) if e.is_transient() => {
                    report.retries += 1;
                    if report.last_txid != before {
                        backoff = BACKOFF_MIN;
                    }
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = &mut stop => return Ok(report),
                    }
                    backoff = (backoff * 2).min(self.options.max_backoff.max(BACKOFF_MIN));
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn connect(&self) -> Result<Context> {
        let client = async_nats::connect(self.options.url.as_str())
            .await
            .map_err(|e| Error::Connect {
                url: self.options.url.clone(),
                reason: e.to_string(),
            })?;
        Ok(ContextBuilder::new()
            .timeout(self.options.ack_timeout)
            .max_ack_inflight(self.options.window.max(1) * 4)
            .backpressure_on_inflight(true)
            .build(client))
    }

    fn stream_error(&self, op: &'static str, e: impl std::fmt::Display) -> Error {
        Error::Stream {
            stream: self.options.stream.clone(),
            op,
            reason: e.to_string(),
        }
    }

    /// Step 1: the stream's last message decides where to go on.
    async fn resume(&self, js: &Context) -> Result<Resume> {
        let mut stream = js
            .get_or_create_stream(Config {
                name: self.options.stream.clone(),
                subjects: vec![self.subject.clone()],
                storage: StorageType::File,
                ..Default::default()
            })
            .await
            .map_err(|e| self.stream_error("get or create", e))?;
        let last_sequence = stream
            .info()
            .await
            .map_err(|e| self.stream_error("info", e))?
            .state
            .last_sequence;
        match stream.get_last_raw_message_by_subject(&self.subject).await {
            Ok(message) => {
                let shipped = headers::read(
                    &self.options.stream,
                    message.sequence,
                    Some(&message.headers),
                )?;
                if shipped.store != Some(self.id) || message.sequence != last_sequence {
                    return Err(Error::ForeignStream {
                        stream: self.options.stream.clone(),
                        sequence: last_sequence,
                        found: match shipped.store {
                            Some(other) if other != self.id => {
                                format!("from store {other}")
                            }
                            _ => format!(
                                "not on subject {} (its last is at {})",
                                self.subject, message.sequence
                            ),
                        },
                    });
                }
                self.check_same(shipped.txid, &shipped, &message.payload)?;
                Ok(Resume {
                    last_txid: shipped.txid,
                    expect: Expect::MsgId(msg_id(self.id, shipped.txid)),
                })
            }
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(Resume {
                last_txid: 0,
                expect: Expect::Sequence(last_sequence),
            }),
            Err(e) => Err(self.stream_error("last message", e)),
        }
    }

    /// The stream's last record must be the log's record with its txid.
    fn check_same(&self, txid: u64, shipped: &headers::Shipped, payload: &[u8]) -> Result<()> {
        let mut follower = match Follower::open(&self.dir, txid) {
            Ok(f) => f,
            // Truncated past it: nothing left to compare with.
            Err(datawal_core::Error::Truncated { .. }) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let diverged = |reason: &str| Error::Diverged {
            txid,
            reason: reason.to_string(),
        };
        match follower.next_timeout(Duration::ZERO)? {
            None => Err(diverged("the log ends before it")),
            Some(r) if r.txid != txid => Err(diverged("the log has no record with this txid")),
            Some(r) if r.record_type != shipped.record_type || r.key != shipped.key => {
                Err(diverged("type or key differ"))
            }
            Some(r) if r.payload != payload => Err(diverged("payloads differ")),
            Some(_) => Ok(()),
        }
    }

    /// Steps 1 to 3, once; returns on reaching `until` or on a failure.
    async fn attempt<F: FnMut(&Acked)>(
        &self,
        until: Option<u64>,
        report: &mut ShipReport,
        on_ack: &mut F,
    ) -> Result<()> {
        let js = self.connect().await?;
        let resume = self.resume(&js).await?;
        report.last_txid = resume.last_txid;
        let mut reading = until.is_none_or(|u| resume.last_txid < u);
        if !reading {
            return Ok(());
        }
        // From 0: the oldest record left (the log may have been truncated).
        let from = match resume.last_txid {
            0 => 0,
            last => last + 1,
        };
        let mut records = Follower::open(&self.dir, from)?.into_stream();
        let mut expect = resume.expect;
        let mut need = from;
        let mut names = headers::TypeNames::new(&self.dir, self.options.typed);
        let mut inflight: VecDeque<(u64, AckFuture)> = VecDeque::new();
        loop {
            if !reading || inflight.len() >= self.options.window.max(1) {
                let Some((txid, ack)) = inflight.pop_front() else {
                    return Ok(());
                };
                let ack = ack.await;
                self.acked(txid, ack, report, on_ack)?;
                continue;
            }
            let record = tokio::select! {
                biased;
                ack = front(&mut inflight), if !inflight.is_empty() => {
                    if let Some((txid, _)) = inflight.pop_front() {
                        self.acked(txid, ack, report, on_ack)?;
                    }
                    continue;
                }
                record = next_record(&mut records) => record?,
            };
            if need != 0 && record.txid != need {
                return Err(Error::Gap {
                    expected: need,
                    found: record.txid,
                });
            }
            need = record.txid + 1;
            let message = headers::message(self.id, &record, names.as_mut(), &expect)?;
            let ack = js
                .send_publish(self.subject.clone(), message)
                .await
                .map_err(|e| match e.kind() {
                    PublishErrorKind::MaxPayloadExceeded => Error::TooLarge {
                        txid: record.txid,
                        len: record.payload.len(),
                    },
                    _ => Error::Publish {
                        txid: record.txid,
                        reason: e.to_string(),
                    },
                })?;
            expect = Expect::MsgId(msg_id(self.id, record.txid));
            inflight.push_back((record.txid, ack.into_future()));
            if until.is_some_and(|u| record.txid >= u) {
                reading = false;
            }
        }
    }

    fn acked<F: FnMut(&Acked)>(
        &self,
        txid: u64,
        ack: Result<PublishAck, PublishError>,
        report: &mut ShipReport,
        on_ack: &mut F,
    ) -> Result<()> {
        let ack = ack.map_err(|e| Error::Publish {
            txid,
            reason: e.to_string(),
        })?;
        if ack.duplicate {
            report.duplicates += 1;
        } else {
            report.published += 1;
        }
        report.last_txid = txid;
        on_ack(&Acked {
            txid,
            sequence: ack.sequence,
            duplicate: ack.duplicate,
        });
        Ok(())
    }
}

/// The oldest in-flight acknowledgement (the queue is not empty).
async fn front(inflight: &mut VecDeque<(u64, AckFuture)>) -> Result<PublishAck, PublishError> {
    match inflight.front_mut() {
        Some((_, ack)) => ack.as_mut().await,
        None => std::future::pending().await,
    }
}

/// The follower's next record; its stream ends only after an error.
async fn next_record(records: &mut FollowerStream) -> Result<Record> {
    match poll_fn(|cx| Pin::new(&mut *records).poll_next(cx)).await {
        Some(record) => Ok(record?),
        None => Err(Error::FollowerStopped),
    }
}
