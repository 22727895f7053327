//! Quick start: write a typed log, reopen it, read it back.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use datawal::{Record, TypedLog};
use serde::{Deserialize, Serialize};

/// An order, version 1 of the `order` record family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "order", version = 1)]
struct Order {
    #[record(key)]
    id: u64,
    customer: String,
    cents: u64,
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::TempDir::new()?;
    let path = dir.path().join("orders");

    let orders = [
        Order {
            id: 1,
            customer: "ada".into(),
            cents: 1_250,
        },
        Order {
            id: 2,
            customer: "grace".into(),
            cents: 990,
        },
        Order {
            id: 3,
            customer: "ada".into(),
            cents: 4_000,
        },
    ];

    // Write, and make it durable: fsync is the boundary.
    let mut log = TypedLog::<Order>::open(&path)?;
    log.append_batch(&orders)?;
    log.fsync()?;
    log.close()?;

    // Reopen (recovery runs on open) and read everything back.
    let log = TypedLog::<Order>::open(&path)?;
    println!("recovered: {:?}", log.recovery_report()?);
    let mut read = Vec::new();
    for entry in log.iter()? {
        let entry = entry?;
        println!(
            "txid {} at segment {} offset {}: {:?} (v{}, {})",
            entry.txid, entry.segment, entry.offset, entry.value, entry.version, entry.codec
        );
        read.push(entry.value);
    }
    anyhow::ensure!(read == orders, "read back {read:?}, wrote {orders:?}");

    let ada_cents: u64 = read
        .iter()
        .filter(|o| o.customer == "ada")
        .map(|o| o.cents)
        .sum();
    println!("{} orders; ada spent {ada_cents} cents", read.len());
    Ok(())
}
