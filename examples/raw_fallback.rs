//! Raw fallback: every typed handle hands back its core handle, for bytes
//! the typed layer does not own; reads can skip what they cannot decode and
//! say exactly what they skipped.
//!
//! ```text
//! cargo run --example raw_fallback
//! ```

use datawal::{ReadPolicy, Record, RecordLog, TypedLog};
use serde::{Deserialize, Serialize};

/// A sensor reading.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "reading", version = 1)]
struct Reading {
    sensor: u16,
    millikelvin: u32,
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::TempDir::new()?;
    let path = dir.path().join("readings");

    let mut log = TypedLog::<Reading>::open(&path)?;
    log.append(&Reading {
        sensor: 1,
        millikelvin: 293_150,
    })?;
    // Opaque bytes from another tool, through the core handle.
    log.raw_mut().append(b"legacy,2,291000")?;
    log.append(&Reading {
        sensor: 3,
        millikelvin: 300_000,
    })?;
    log.fsync()?;

    // The default policy stops at the first record it cannot decode.
    let err = log.scan().unwrap_err();
    println!("stop: {err}");

    // Skip: the typed values, and a report of what was left out.
    log.set_read_policy(ReadPolicy::Skip);
    let readings = log.scan()?;
    println!("typed: {readings:?}");
    for s in log.skipped().iter() {
        println!("{s}");
    }
    anyhow::ensure!(readings.len() == 2 && log.skipped().len() == 1);

    // Raw: every record as bytes, typed or not.
    let raw: RecordLog = log.into_raw();
    let mut raw = raw;
    for r in raw.scan()? {
        println!(
            "txid {} {:?} key {:02x?} payload {} bytes",
            r.txid,
            r.record_type,
            r.key,
            r.payload.len()
        );
    }
    Ok(())
}
