//! Follow lag: from a record's append (just before the writer's `append`) to
//! the server's acknowledgement of its publish, with `Shipper::follow`
//! running in the same process against a real `nats-server -js` on
//! loopback (file storage).
//!
//! ```sh
//! cargo bench -p datawal-nats --bench follow_lag            # 20k records, 5k/s
//! DATAWAL_LAG_RECORDS=5000 DATAWAL_LAG_RATE=1000 cargo bench -p datawal-nats --bench follow_lag
//! ```
//!
//! The writer appends at a steady rate (fsync every 100 records); the lag of
//! each record is printed as p50, p99 and max. Needs `nats-server` on PATH.

#[path = "../tests/support/nats_server.rs"]
mod nats_server;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use datawal_core::RecordLog;
use datawal_nats::{ShipOptions, Shipper};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let Some(server) = nats_server::NatsServer::start_or_skip("follow_lag bench") else {
        return Ok(());
    };
    let records = env_u64("DATAWAL_LAG_RECORDS", 20_000);
    let rate = env_u64("DATAWAL_LAG_RATE", 5_000).max(1);
    let dir = tempfile::tempdir()?;
    let mut log = RecordLog::open(dir.path())?;
    log.append(b"warm-up")?;
    log.fsync()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;

    // appended[txid] = when the writer's append returned.
    let appended: Arc<Mutex<Vec<Option<Instant>>>> =
        Arc::new(Mutex::new(vec![None; records as usize + 2]));
    let mut lags: Vec<Duration> = Vec::with_capacity(records as usize);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    let mut done_tx = Some(done_tx);
    let last = records + 1;

    let writer_times = Arc::clone(&appended);
    let writer = std::thread::spawn(move || -> anyhow::Result<()> {
        let start = Instant::now();
        let interval = Duration::from_nanos(1_000_000_000 / rate);
        for i in 0..records {
            let due = start + interval * (i as u32);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            // Taken just before the append: the follower may see the
            // record before `append` returns.
            let txid = log.next_txid();
            writer_times.lock().expect("lock")[txid as usize] = Some(Instant::now());
            log.append(format!("event {i}").as_bytes())?;
            if i % 100 == 99 {
                log.fsync()?;
            }
        }
        log.fsync()?;
        Ok(())
    });

    let mut shipper = Shipper::new(dir.path(), ShipOptions::new(server.url(), "LAG"))?;
    let started = Instant::now();
    let report = runtime.block_on(shipper.follow(
        async move {
            let _ = done_rx.await;
        },
        |ack| {
            let now = Instant::now();
            if let Some(Some(t)) = appended.lock().expect("lock").get(ack.txid as usize) {
                lags.push(now.saturating_duration_since(*t));
            }
            if ack.txid == last {
                if let Some(tx) = done_tx.take() {
                    let _ = tx.send(());
                }
            }
        },
    ))?;
    let elapsed = started.elapsed();
    writer.join().expect("writer thread")?;
    lags.sort();
    let pct = |p: f64| lags[((lags.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "follow lag, append -> JetStream ack: {} records at {rate}/s in {:.1} s \
         ({} published): p50 {:?}, p99 {:?}, max {:?}",
        lags.len(),
        elapsed.as_secs_f64(),
        report.published,
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}
