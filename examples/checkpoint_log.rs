//! A checkpoint log: a long computation appends its progress, and a restart
//! resumes from the last checkpoint that was made durable.
//!
//! ```text
//! cargo run --example checkpoint_log
//! ```

use datawal::{Codec, Record, TypedLog};
use serde::{Deserialize, Serialize};

/// Progress of a job: how far it got and what it has summed so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "checkpoint", version = 1)]
struct Checkpoint {
    next_item: u64,
    running_sum: u64,
}

const ITEMS: u64 = 1_000;

/// Process items from the last checkpoint on; stop after `budget` items
/// (a "crash") or at the end. Returns the final sum when done.
fn run(path: &std::path::Path, budget: u64) -> anyhow::Result<Option<u64>> {
    // Postcard: compact bodies, a frozen format.
    let mut log = TypedLog::<Checkpoint>::open_with(path, Codec::Postcard)?;
    let start = log.scan()?.pop().unwrap_or(Checkpoint {
        next_item: 0,
        running_sum: 0,
    });
    println!(
        "resuming at item {} (sum {})",
        start.next_item, start.running_sum
    );
    let mut cp = start;
    let mut done = 0;
    while cp.next_item < ITEMS {
        if done == budget {
            return Ok(None); // dropped without a final fsync, like a crash
        }
        cp.running_sum += cp.next_item;
        cp.next_item += 1;
        done += 1;
        if cp.next_item % 100 == 0 {
            log.append(&cp)?;
            log.fsync()?; // only fsynced checkpoints count
        }
    }
    log.append(&cp)?;
    log.fsync()?;
    Ok(Some(cp.running_sum))
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::TempDir::new()?;
    let path = dir.path().join("checkpoints");
    assert!(run(&path, 450)?.is_none());
    assert!(run(&path, 320)?.is_none());
    let sum = run(&path, u64::MAX)?.expect("finished");
    println!("sum of 0..{ITEMS} = {sum}");
    anyhow::ensure!(sum == ITEMS * (ITEMS - 1) / 2);
    Ok(())
}
