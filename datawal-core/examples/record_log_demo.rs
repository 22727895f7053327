//! The raw record log: append, fsync, rotate, reopen and scan.
//!
//! `cargo run -p datawal-core --example record_log_demo`

use datawal_core::{RecordLog, RecordType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;

    let mut log = RecordLog::open(dir.path())?;
    let first = log.append(b"service started")?;
    log.append_record(RecordType::Put, b"config", b"{\"threads\":4}")?;
    log.fsync()?; // everything above is now durable
    log.rotate()?; // later records go to segment 2
    log.append_batch([
        (RecordType::Raw, &b""[..], &b"request 1"[..]),
        (RecordType::Raw, &b""[..], &b"request 2"[..]),
    ])?;
    log.fsync()?;
    println!(
        "first record at {first:?}; active segment {}",
        log.active_segment()
    );
    log.close()?;

    let mut log = RecordLog::open(dir.path())?;
    for r in log.scan()? {
        println!(
            "segment {} offset {:>3} txid {} {:<6} key={:?} payload={:?}",
            r.segment,
            r.offset,
            r.txid,
            r.record_type.name(),
            String::from_utf8_lossy(&r.key),
            String::from_utf8_lossy(&r.payload)
        );
    }
    let report = log.recovery_report()?;
    println!(
        "{} files, {} records, last txid {}",
        report.files_scanned, report.records_replayed, report.last_txid_seen
    );
    Ok(())
}
