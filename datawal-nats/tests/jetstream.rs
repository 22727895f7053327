//! Shipping to and pulling from a real `nats-server -js` (started per test
//! on a free loopback port; see `support/nats_server.rs` for how the tests
//! skip or fail when the binary is absent).

mod support {
    pub mod nats_server;
}

use std::pin::Pin;
use std::time::Duration;

use anyhow::{ensure, Context as _};
use async_nats::jetstream::consumer::pull::OrderedConfig;
use datawal_core::{DataWal, RecordLog, RecordType};
use datawal_nats::{headers, pull, PullOptions, ShipOptions, Shipper, StoreId};
use futures_core::Stream as _;
use support::nats_server::NatsServer;

/// One message of the stream, as the tests compare it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Msg {
    txid: u64,
    record_type: String,
    key_b64: Option<String>,
    payload: Vec<u8>,
    msg_id: String,
    typed: Option<(String, String, String)>,
    type_name: Option<String>,
}

/// Every message of `stream`, in stream order.
async fn read_stream(url: &str, stream: &str) -> anyhow::Result<Vec<Msg>> {
    let js = async_nats::jetstream::new(async_nats::connect(url).await?);
    let mut stream = js.get_stream(stream).await?;
    let last = stream.info().await?.state.last_sequence;
    let mut out = Vec::new();
    if last == 0 {
        return Ok(out);
    }
    let consumer = stream.create_consumer(OrderedConfig::default()).await?;
    let mut messages = consumer.messages().await?;
    loop {
        let next = std::future::poll_fn(|cx| Pin::new(&mut messages).poll_next(cx));
        let message = tokio::time::timeout(Duration::from_secs(10), next)
            .await
            .context("stream read timed out")?
            .context("consumer ended")??;
        let seq = message
            .info()
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .stream_sequence;
        let h = message.headers.clone().context("no headers")?;
        let get = |n: &str| h.get(n).map(|v| v.as_str().to_string());
        out.push(Msg {
            txid: get(headers::TXID).context("txid")?.parse()?,
            record_type: get(headers::RECORD_TYPE).context("type")?,
            key_b64: get(headers::KEY_B64),
            payload: message.payload.to_vec(),
            msg_id: get("Nats-Msg-Id").context("msg id")?,
            type_name: get(headers::TYPED_NAME),
            typed: get(headers::TYPED_FINGERPRINT).map(|f| {
                (
                    f,
                    get(headers::TYPED_VERSION).unwrap_or_default(),
                    get(headers::TYPED_CODEC).unwrap_or_default(),
                )
            }),
        });
        if seq >= last {
            return Ok(out);
        }
    }
}

/// The stream holds exactly the log's records, in txid order.
async fn assert_stream_is_log(
    url: &str,
    stream: &str,
    dir: &std::path::Path,
) -> anyhow::Result<usize> {
    let id = StoreId::load(dir)?.context("store id")?;
    let records = RecordLog::open(dir)?.scan()?;
    let msgs = read_stream(url, stream).await?;
    ensure!(
        msgs.len() == records.len(),
        "stream holds {} messages, log {} records",
        msgs.len(),
        records.len()
    );
    for (m, r) in msgs.iter().zip(&records) {
        ensure!(
            m.txid == r.txid,
            "stream txid {} where the log has {}",
            m.txid,
            r.txid
        );
        ensure!(m.payload == r.payload, "payload of txid {} differs", r.txid);
        ensure!(
            m.msg_id == format!("{id}:{}", r.txid),
            "msg id {}",
            m.msg_id
        );
        let t = match r.record_type {
            RecordType::Raw => "raw",
            RecordType::Put => "put",
            RecordType::Delete => "delete",
        };
        ensure!(m.record_type == t, "type of txid {}", r.txid);
    }
    Ok(msgs.len())
}

fn fast(url: &str, stream: &str) -> ShipOptions {
    ShipOptions::new(url, stream)
        .ack_timeout(Duration::from_secs(1))
        .max_backoff(Duration::from_millis(200))
}

/// A key/value store (binary keys, puts and deletes) ships record for
/// record; shipping again publishes nothing; `pull` into an empty
/// directory gives the same log, txid for txid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kv_store_ships_exactly_and_pulls_back() -> anyhow::Result<()> {
    let Some(server) = NatsServer::start_or_skip("kv_store_ships_exactly_and_pulls_back") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    {
        let mut db = DataWal::open(dir.path())?;
        for i in 0u32..3000 {
            let key = [0u8, 10, 13, (i % 251) as u8, b':'];
            db.put(&key, &i.to_le_bytes())?;
            if i % 7 == 0 {
                db.delete(&key)?;
            }
        }
        db.fsync()?;
    }
    let mut shipper = Shipper::new(dir.path(), fast(&server.url(), "KV"))?;
    let report = shipper.ship_once().await?;
    let n = assert_stream_is_log(&server.url(), "KV", dir.path()).await?;
    assert_eq!(report.published as usize, n);
    assert_eq!(report.last_txid as usize, n);
    assert_eq!(n, 3000 + 3000usize.div_ceil(7));

    let again = shipper.ship_once().await?;
    assert_eq!((again.published, again.duplicates), (0, 0));

    let copy = tempfile::tempdir()?;
    let pulled = pull(&PullOptions::new(server.url(), "KV"), copy.path()).await?;
    assert_eq!((pulled.appended as usize, pulled.skipped), (n, 0));
    let strip = |v: Vec<datawal_core::Record>| {
        v.into_iter()
            .map(|r| (r.txid, r.record_type, r.key, r.payload))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        strip(RecordLog::open(copy.path())?.scan()?),
        strip(RecordLog::open(dir.path())?.scan()?)
    );
    // Pulling again adds nothing.
    let again = pull(&PullOptions::new(server.url(), "KV"), copy.path()).await?;
    assert_eq!((again.appended as usize, again.skipped as usize), (0, n));
    Ok(())
}

/// The server is SIGKILLed and restarted (file storage) while 30k records
/// are in flight: the stream still holds each record once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_mid_ship_leaves_no_gap_and_no_duplicate() -> anyhow::Result<()> {
    let Some(mut server) =
        NatsServer::start_or_skip("server_restart_mid_ship_leaves_no_gap_and_no_duplicate")
    else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    {
        let mut log = RecordLog::open(dir.path())?;
        for i in 0u32..30_000 {
            log.append(format!("event {i}").as_bytes())?;
        }
        log.fsync()?;
    }
    // A run whose shipper finished before the restart (a test thread held
    // back on a loaded machine) proves nothing: try again on a new stream,
    // at most three times. Every run must leave an exact stream.
    let url = server.url();
    for attempt in 0..3 {
        let stream = format!("RESTART{attempt}");
        let mut shipper = Shipper::new(dir.path(), fast(&url, &stream))?;
        let ship = tokio::spawn(async move { shipper.ship_once().await });

        // Restart once some, not all, records are in the stream.
        let js = async_nats::jetstream::new(async_nats::connect(url.as_str()).await?);
        let mut seen = 0;
        for _ in 0..2000 {
            if let Ok(mut s) = js.get_stream(&stream).await {
                seen = s.info().await.map(|i| i.state.messages).unwrap_or(0);
                if seen >= 1000 {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        ensure!(seen >= 1000, "restart point: {seen} messages");
        server.restart();

        let report = tokio::time::timeout(Duration::from_secs(60), ship).await???;
        assert_eq!(report.last_txid, 30_000);
        assert_eq!(
            assert_stream_is_log(&url, &stream, dir.path()).await?,
            30_000
        );
        if seen < 30_000 && report.retries >= 1 {
            return Ok(());
        }
        eprintln!("run {attempt}: the shipper was done before the restart ({report:?}); again");
    }
    anyhow::bail!("in three runs the restart never landed mid-ship")
}

/// `follow` with a writer appending concurrently: every record arrives, in
/// order, and each is acknowledged once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_ships_every_record_of_a_concurrent_writer() -> anyhow::Result<()> {
    let Some(server) =
        NatsServer::start_or_skip("follow_ships_every_record_of_a_concurrent_writer")
    else {
        return Ok(());
    };
    const N: u64 = 5000;
    let dir = tempfile::tempdir()?;
    let path = dir.path().to_path_buf();
    let mut log = RecordLog::open(&path)?;
    log.append(b"first")?;
    log.fsync()?;
    let writer = std::thread::spawn(move || -> anyhow::Result<()> {
        for i in 1..N {
            log.append(format!("r{i}").as_bytes())?;
            if i % 100 == 0 {
                log.fsync()?;
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        log.fsync()?;
        Ok(())
    });
    let mut shipper = Shipper::new(&path, fast(&server.url(), "FOLLOW"))?;
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let mut done_tx = Some(done_tx);
    let mut acked = Vec::new();
    let stop = async move {
        let _ = done_rx.await;
    };
    let report = shipper
        .follow(stop, |a| {
            acked.push(a.txid);
            if a.txid == N {
                if let Some(tx) = done_tx.take() {
                    let _ = tx.send(());
                }
            }
        })
        .await?;
    writer.join().expect("writer thread")?;
    assert_eq!(acked, (1..=N).collect::<Vec<_>>());
    assert_eq!(report.published, N);
    assert_eq!(
        assert_stream_is_log(&server.url(), "FOLLOW", &path).await?,
        N as usize
    );
    Ok(())
}

/// Typed records carry the envelope's fingerprint, version and codec.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_records_carry_envelope_headers() -> anyhow::Result<()> {
    use datawal_typed::envelope::{fingerprint, Header};
    let Some(server) = NatsServer::start_or_skip("typed_records_carry_envelope_headers") else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    {
        let mut log = RecordLog::open(dir.path())?;
        let mut payload = Header::new(datawal_typed::Codec::Json, 3, fingerprint("order"))
            .to_bytes()
            .to_vec();
        payload.extend_from_slice(br#"{"id":1}"#);
        log.append(&payload)?;
        log.fsync()?;
    }
    Shipper::new(dir.path(), fast(&server.url(), "TYPED").typed(true))?
        .ship_once()
        .await?;
    let msgs = read_stream(&server.url(), "TYPED").await?;
    assert_eq!(
        msgs[0].typed,
        Some((
            format!("{:08x}", fingerprint("order")),
            "3".to_string(),
            "json".to_string()
        ))
    );
    // No description (raw appends): no name.
    assert_eq!(msgs[0].type_name, None);
    // A typed handle's store describes itself: its records carry the
    // typed headers and the name without being asked, and a raw record
    // appended to it is shipped without them.
    let described = tempfile::tempdir()?;
    {
        let mut log = datawal_typed::TypedLog::<String>::open(described.path())?;
        log.append(&"hello".to_string())?;
        log.raw_mut().append(b"raw bytes")?;
        log.fsync()?;
    }
    Shipper::new(described.path(), fast(&server.url(), "NAMED"))?
        .ship_once()
        .await?;
    let named = read_stream(&server.url(), "NAMED").await?;
    assert_eq!(named[0].type_name.as_deref(), Some("String"));
    let string = datawal_typed::envelope::fingerprint("String");
    assert_eq!(
        named[0]
            .typed
            .as_ref()
            .map(|(f, v, _)| (f.clone(), v.clone())),
        Some((format!("{string:08x}"), "1".to_string()))
    );
    assert_eq!(
        (named[1].typed.as_ref(), named[1].type_name.as_ref()),
        (None, None)
    );
    // A store without a description gets none unless asked.
    Shipper::new(dir.path(), fast(&server.url(), "UNTYPED"))?
        .ship_once()
        .await?;
    assert_eq!(read_stream(&server.url(), "UNTYPED").await?[0].typed, None);
    // A raw payload shipped as typed is refused, naming the txid.
    let raw = tempfile::tempdir()?;
    RecordLog::open(raw.path())?.append(b"x")?;
    let err = Shipper::new(raw.path(), fast(&server.url(), "TYPED2").typed(true))?
        .ship_once()
        .await
        .expect_err("not an envelope");
    assert!(
        matches!(err, datawal_nats::Error::NotTyped { txid: 1, .. }),
        "{err}"
    );
    Ok(())
}

/// A second store shipping to the same stream is refused (the ordering
/// check is on the stream's last message), and the first store's messages
/// stay as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_store_on_the_same_stream_is_refused() -> anyhow::Result<()> {
    let Some(server) = NatsServer::start_or_skip("a_second_store_on_the_same_stream_is_refused")
    else {
        return Ok(());
    };
    let a = tempfile::tempdir()?;
    let b = tempfile::tempdir()?;
    RecordLog::open(a.path())?.append(b"a")?;
    RecordLog::open(b.path())?.append(b"b")?;
    Shipper::new(a.path(), fast(&server.url(), "ONE"))?
        .ship_once()
        .await?;
    let err = Shipper::new(b.path(), fast(&server.url(), "ONE"))?
        .ship_once()
        .await
        .expect_err("foreign stream");
    assert!(
        matches!(err, datawal_nats::Error::ForeignStream { .. }),
        "{err}"
    );
    assert_eq!(
        assert_stream_is_log(&server.url(), "ONE", a.path()).await?,
        1
    );
    Ok(())
}

/// A log that lost records the stream holds (as a power cut before fsync
/// can do) and reused their txids is refused, not mixed into the stream:
/// the stream's last record must be the log's record with that txid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_that_lost_shipped_records_is_refused() -> anyhow::Result<()> {
    let Some(server) = NatsServer::start_or_skip("a_log_that_lost_shipped_records_is_refused")
    else {
        return Ok(());
    };
    let shipped = tempfile::tempdir()?;
    {
        let mut log = RecordLog::open(shipped.path())?;
        for i in 0..10 {
            log.append(format!("before {i}").as_bytes())?;
        }
    }
    Shipper::new(shipped.path(), fast(&server.url(), "CUT"))?
        .ship_once()
        .await?;
    // The same store after losing records 6..=10 and writing others.
    let rewritten = tempfile::tempdir()?;
    std::fs::copy(
        shipped.path().join(datawal_nats::STORE_ID_FILE),
        rewritten.path().join(datawal_nats::STORE_ID_FILE),
    )?;
    {
        let mut log = RecordLog::open(rewritten.path())?;
        for i in 0..12 {
            let payload = if i < 5 {
                format!("before {i}")
            } else {
                format!("after {i}")
            };
            log.append(payload.as_bytes())?;
        }
    }
    let err = Shipper::new(rewritten.path(), fast(&server.url(), "CUT"))?
        .ship_once()
        .await
        .expect_err("diverged");
    assert!(
        matches!(err, datawal_nats::Error::Diverged { txid: 10, .. }),
        "{err}"
    );
    // And a log that ends before the stream's last record.
    let shorter = tempfile::tempdir()?;
    std::fs::copy(
        shipped.path().join(datawal_nats::STORE_ID_FILE),
        shorter.path().join(datawal_nats::STORE_ID_FILE),
    )?;
    RecordLog::open(shorter.path())?.append(b"before 0")?;
    let err = Shipper::new(shorter.path(), fast(&server.url(), "CUT"))?
        .ship_once()
        .await
        .expect_err("diverged");
    assert!(
        matches!(err, datawal_nats::Error::Diverged { txid: 10, .. }),
        "{err}"
    );
    assert_eq!(
        assert_stream_is_log(&server.url(), "CUT", shipped.path()).await?,
        10
    );
    Ok(())
}

/// A record larger than the server's max_payload (1 MiB by default) is an
/// error naming its txid, not a retry forever; the records before it are
/// shipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_over_max_payload_is_an_error_not_a_retry() -> anyhow::Result<()> {
    let Some(server) =
        NatsServer::start_or_skip("a_record_over_max_payload_is_an_error_not_a_retry")
    else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    {
        let mut log = RecordLog::open(dir.path())?;
        log.append(b"small")?;
        log.append(&vec![7u8; 2 << 20])?;
    }
    let err = tokio::time::timeout(
        Duration::from_secs(20),
        Shipper::new(dir.path(), fast(&server.url(), "BIG"))?.ship_once(),
    )
    .await?
    .expect_err("too large");
    assert!(
        matches!(err, datawal_nats::Error::TooLarge { txid: 2, len } if len == 2 << 20),
        "{err}"
    );
    assert_eq!(read_stream(&server.url(), "BIG").await?.len(), 1);
    Ok(())
}
