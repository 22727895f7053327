//! [`pull`]: rebuild a store from a stream the shipper wrote.

use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use async_nats::jetstream::consumer::pull::OrderedConfig;
use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::stream::LastRawMessageErrorKind;
use datawal_core::RecordLog;
use futures_core::Stream as _;

use crate::error::{Error, Result};
use crate::headers;

/// What [`pull`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PullReport {
    /// Records appended to the local store.
    pub appended: u64,
    /// Messages skipped because the store already held their txid.
    pub skipped: u64,
    /// The store's last txid afterwards (0: empty).
    pub last_txid: u64,
}

/// Where to pull from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PullOptions {
    /// The NATS server.
    pub url: String,
    /// The stream.
    pub stream: String,
    /// The subject; `datawal.{stream}` when `None` (as the shipper).
    pub subject: Option<String>,
    /// How long to wait for the next message before giving up.
    pub timeout: Duration,
}

impl PullOptions {
    /// Pull `stream` from the server at `url`, waiting at most 10 s for
    /// each message.
    pub fn new(url: impl Into<String>, stream: impl Into<String>) -> PullOptions {
        PullOptions {
            url: url.into(),
            stream: stream.into(),
            subject: None,
            timeout: Duration::from_secs(10),
        }
    }

    /// Read `subject` instead of `datawal.{stream}`.
    #[must_use]
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }
}

/// Append the stream's records to the store in `dir` (created when
/// missing) under their own txids, then fsync. An empty store gets the
/// same records with the same txids as the shipped log; a store that
/// already holds a prefix of it gets the rest (messages at or below its
/// last txid are skipped). A stream that is not one record per txid in
/// order (a gap or a duplicate after that point) is refused.
///
/// # Errors
/// [`Error::Connect`] and [`Error::Stream`] (server, stream, timeout),
/// [`Error::BadMessage`] for a message the shipper did not write,
/// [`Error::Store`] for the store (locked by a writer, or
/// `datawal_core::Error::TxidNotNext` when the stream does not continue
/// the store's log).
pub async fn pull(options: &PullOptions, dir: impl AsRef<Path>) -> Result<PullReport> {
    let subject = options
        .subject
        .clone()
        .unwrap_or_else(|| format!("datawal.{}", options.stream));
    let stream_error = |op: &'static str, e: &dyn std::fmt::Display| Error::Stream {
        stream: options.stream.clone(),
        op,
        reason: e.to_string(),
    };
    let client = async_nats::connect(options.url.as_str())
        .await
        .map_err(|e| Error::Connect {
            url: options.url.clone(),
            reason: e.to_string(),
        })?;
    let js = async_nats::jetstream::new(client);
    let stream = js
        .get_stream(&options.stream)
        .await
        .map_err(|e| stream_error("get", &e))?;
    let mut log = RecordLog::open(dir.as_ref())?;
    let mut report = PullReport {
        last_txid: log.last()?.map_or(0, |r| r.txid),
        ..PullReport::default()
    };
    // Only what the store held before may be skipped: a txid repeated in
    // the stream is refused by the log (`TxidNotNext`), never dropped.
    let held = report.last_txid;
    let last_sequence = match stream.get_last_raw_message_by_subject(&subject).await {
        Ok(message) => message.sequence,
        Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => return Ok(report),
        Err(e) => return Err(stream_error("last message", &e)),
    };
    let consumer = stream
        .create_consumer(OrderedConfig {
            filter_subject: subject.clone(),
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .map_err(|e| stream_error("create ordered consumer", &e))?;
    let mut messages = consumer
        .messages()
        .await
        .map_err(|e| stream_error("read", &e))?;
    loop {
        let next = std::future::poll_fn(|cx| Pin::new(&mut messages).poll_next(cx));
        let message = match tokio::time::timeout(options.timeout, next).await {
            Err(_) => return Err(stream_error("read", &"no message within the timeout")),
            Ok(None) => return Err(stream_error("read", &"the consumer ended")),
            Ok(Some(Err(e))) => return Err(stream_error("read", &e)),
            Ok(Some(Ok(message))) => message,
        };
        let sequence = message
            .info()
            .map_err(|e| stream_error("message metadata", &e))?
            .stream_sequence;
        let shipped = headers::read(&options.stream, sequence, message.headers.as_ref())?;
        if shipped.txid <= held {
            report.skipped += 1;
        } else {
            log.append_record_at(
                shipped.txid,
                shipped.record_type,
                &shipped.key,
                &message.payload,
            )?;
            report.appended += 1;
            report.last_txid = shipped.txid;
        }
        if sequence >= last_sequence {
            break;
        }
    }
    log.fsync()?;
    log.close()?;
    Ok(report)
}
