//! An audit log: readable JSON bodies, a composite key, and a lock-free
//! follower that reports denied actions as the writer (another thread
//! here; another process works the same) appends them.
//!
//! ```text
//! cargo run --example typed_audit_log
//! ```

use std::time::Duration;

use datawal::{Codec, ReadPolicy, Record, TypedLog, TypedReader};
use serde::{Deserialize, Serialize};

/// One audited action. The key `(actor, seq)` is encoded so that records
/// sort by actor, then by sequence number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "audit", version = 1)]
struct AuditEntry {
    #[record(key)]
    actor: String,
    #[record(key)]
    seq: u64,
    action: String,
    allowed: bool,
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::TempDir::new()?;
    let path = dir.path().join("audit");

    // JSON bodies: anyone can read the payloads with a hex dump.
    let mut log = TypedLog::<AuditEntry>::open_with(&path, Codec::Json)?;
    let actions = [
        ("ada", "login", true),
        ("bob", "delete-db", false),
        ("ada", "export", true),
        ("eve", "read-secrets", false),
    ];
    // The follower needs no lock: it starts before the writer has written
    // anything, and waits for each record.
    let mut follower = TypedReader::<AuditEntry>::open(&path, ReadPolicy::Stop)?.follow_from(0)?;
    let writer = std::thread::spawn(move || -> anyhow::Result<TypedLog<AuditEntry>> {
        for (seq, (actor, action, allowed)) in actions.into_iter().enumerate() {
            log.append(&AuditEntry {
                actor: actor.into(),
                seq: seq as u64,
                action: action.into(),
                allowed,
            })?;
            log.fsync()?;
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(log)
    });

    let mut denied = Vec::new();
    for entry in follower.by_ref().take(actions.len()) {
        let entry = entry?;
        if !entry.value.allowed {
            println!("denied (txid {}): {:?}", entry.txid, entry.value);
            denied.push(entry.value);
        }
    }
    let mut log = writer
        .join()
        .map_err(|_| anyhow::anyhow!("writer panicked"))??;
    anyhow::ensure!(denied.len() == 2 && denied[0].actor == "bob" && denied[1].actor == "eve");

    // The newest record, read at its position without a scan.
    let last = log.last()?.ok_or_else(|| anyhow::anyhow!("empty log"))?;
    println!("last: txid {} at {:?}", last.txid, last.position());

    // The raw payload of the first record: 8 envelope bytes, then JSON.
    let raw = log.raw_mut().scan()?;
    let first = &raw[0];
    println!("envelope {:02x?}", &first.payload[..8]);
    println!("body     {}", String::from_utf8_lossy(&first.payload[8..]));
    println!("key      {:02x?}", first.key);
    Ok(())
}
