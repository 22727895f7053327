//! An audit log: readable JSON bodies, a composite key, and a lock-free
//! reader that follows the log while the writer holds it.
//!
//! ```text
//! cargo run --example typed_audit_log
//! ```

use datawal::{Codec, ReadPolicy, Record, TypedLog, TypedReader};
use serde::{Deserialize, Serialize};

/// One audited action. The key `(actor, seq)` is encoded so that records
/// sort by actor, then by sequence number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(crate = "datawal::typed", name = "audit", version = 1)]
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
    ];
    for (seq, (actor, action, allowed)) in actions.into_iter().enumerate() {
        log.append(&AuditEntry {
            actor: actor.into(),
            seq: seq as u64,
            action: action.into(),
            allowed,
        })?;
    }
    log.fsync()?;

    // A reader snapshot while the writer still holds the directory.
    let reader = TypedReader::<AuditEntry>::open(&path, ReadPolicy::Stop)?;
    let denied: Vec<AuditEntry> = reader
        .iter()
        .filter_map(|e| e.map(|e| e.value).ok())
        .filter(|e| !e.allowed)
        .collect();
    println!("denied: {denied:?}");
    anyhow::ensure!(denied.len() == 1 && denied[0].actor == "bob");

    // The raw payload of the first record: 8 envelope bytes, then JSON.
    let raw = log.raw_mut().scan()?;
    let first = &raw[0];
    println!("envelope {:02x?}", &first.payload[..8]);
    println!("body     {}", String::from_utf8_lossy(&first.payload[8..]));
    println!("key      {:02x?}", first.key);
    Ok(())
}
