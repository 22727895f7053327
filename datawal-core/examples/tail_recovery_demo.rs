//! What happens after a crash tears the last record: the torn bytes are
//! moved aside, the segment is cut back to its valid prefix, and records
//! appended afterwards are found by every later open.
//!
//! `cargo run -p datawal-core --example tail_recovery_demo`

use std::fs::OpenOptions;
use std::io::Write;

use datawal_core::RecordLog;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut log = RecordLog::open(dir.path())?;
    log.append(b"acknowledged 1")?;
    log.append(b"acknowledged 2")?;
    log.fsync()?;
    log.close()?;

    // Simulate a crash in the middle of a write: half a frame at the end.
    let segment = dir.path().join("00000001.dwal");
    OpenOptions::new()
        .append(true)
        .open(&segment)?
        .write_all(b"DWAL\x01\x00\x00\x00\x03\x00\x00")?;

    let mut log = RecordLog::open(dir.path())?;
    let report = log.recovery_report()?;
    if let Some(tail) = &report.tail {
        println!(
            "torn tail: segment {} offset {}: {} bytes ({}), saved to {}",
            tail.segment,
            tail.offset,
            tail.bytes,
            tail.kind,
            tail.saved_to
                .as_ref()
                .map_or("-".into(), |p| p.display().to_string())
        );
    }
    log.append(b"acknowledged 3, after recovery")?;
    log.fsync()?;
    log.close()?;

    let mut log = RecordLog::open(dir.path())?;
    for r in log.scan()? {
        println!("txid {}: {}", r.txid, String::from_utf8_lossy(&r.payload));
    }
    assert_eq!(log.scan()?.len(), 3);
    Ok(())
}
