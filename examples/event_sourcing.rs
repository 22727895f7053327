//! Event sourcing: an enum event log is the source of truth; account
//! balances in a `TypedWal` are state folded from it, and can be rebuilt.
//!
//! The log is written by another thread (it could be another process);
//! the balances are a projection that follows it as the named consumer
//! `balances`, keeping its position in the event store's `consumers/`
//! directory: stopped and started again, it resumes with the first event
//! it had not committed.
//!
//! ```text
//! cargo run --example event_sourcing
//! ```

use std::time::Duration;

use datawal::{ReadPolicy, Record, TypedFollower, TypedLog, TypedReader, TypedWal};
use serde::{Deserialize, Serialize};

/// What happened to an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "bank-event", version = 1)]
enum Event {
    Opened { account: String },
    Deposited { account: String, cents: u64 },
    Withdrew { account: String, cents: u64 },
    Closed { account: String },
}

/// The state of one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "account", version = 1)]
struct Account {
    #[record(key)]
    name: String,
    balance: u64,
    events: u32,
}

/// Apply one event to the state store.
fn apply(state: &mut TypedWal<String, Account>, event: &Event) -> anyhow::Result<()> {
    let (name, change): (&String, i128) = match event {
        Event::Opened { account } => {
            state.insert(&Account {
                name: account.clone(),
                balance: 0,
                events: 1,
            })?;
            return Ok(());
        }
        Event::Closed { account } => {
            state.delete(account)?;
            return Ok(());
        }
        Event::Deposited { account, cents } => (account, i128::from(*cents)),
        Event::Withdrew { account, cents } => (account, -i128::from(*cents)),
    };
    let mut acc = state
        .get(name)?
        .ok_or_else(|| anyhow::anyhow!("no account {name}"))?;
    acc.balance = u64::try_from(i128::from(acc.balance) + change)?;
    acc.events += 1;
    state.insert(&acc).map_err(Into::into)
}

fn history() -> Vec<Event> {
    let deposit = |account: &str, cents| Event::Deposited {
        account: account.into(),
        cents,
    };
    vec![
        Event::Opened {
            account: "ada".into(),
        },
        Event::Opened {
            account: "bob".into(),
        },
        deposit("ada", 10_000),
        Event::Withdrew {
            account: "ada".into(),
            cents: 2_500,
        },
        deposit("bob", 300),
        Event::Closed {
            account: "bob".into(),
        },
    ]
}

/// Follow the events as the consumer `balances`, applying each one to the
/// state, until `stop_after` events were applied. The offset is committed
/// once the state is durable: a crash in between applies that one event
/// again on restart (keep the txid in the state to make that exactly once).
fn project(
    events_dir: &std::path::Path,
    state_dir: &std::path::Path,
    stop_after: usize,
) -> anyhow::Result<()> {
    let mut state = TypedWal::<String, Account>::open(state_dir)?;
    let mut follower =
        TypedFollower::<Event>::open_named(events_dir, "balances", ReadPolicy::Stop)?;
    for _ in 0..stop_after {
        let entry = follower
            .next_timeout(Duration::from_secs(10))?
            .ok_or_else(|| anyhow::anyhow!("no event within 10 s"))?;
        apply(&mut state, &entry.value)?;
        state.fsync()?;
        follower.commit(entry.txid)?;
        println!("projection: applied txid {} {:?}", entry.txid, entry.value);
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::TempDir::new()?;
    let events_dir = dir.path().join("events");
    let state_dir = dir.path().join("state");
    let history = history();

    // The writer: another thread, appending the events as they happen.
    let mut events = TypedLog::<Event>::open(&events_dir)?;
    let writer = {
        let history = history.clone();
        std::thread::spawn(move || -> anyhow::Result<()> {
            for event in &history {
                events.append(event)?; // the event is the truth
                events.fsync()?;
                std::thread::sleep(Duration::from_millis(5));
            }
            Ok(())
        })
    };

    // The projection runs, stops after four events, and starts again: the
    // second run resumes with the fifth.
    project(&events_dir, &state_dir, 4)?;
    println!("projection stopped; starting it again");
    project(&events_dir, &state_dir, history.len() - 4)?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("writer panicked"))??;

    let state = TypedWal::<String, Account>::open(&state_dir)?;
    for (name, acc) in state.items()? {
        println!("{name}: {} cents after {} events", acc.balance, acc.events);
    }

    // Rebuild the state from the log alone and compare.
    let mut rebuilt = TypedWal::<String, Account>::open(dir.path().join("rebuilt"))?;
    let log = TypedReader::<Event>::open(&events_dir, ReadPolicy::Stop)?;
    for entry in log.iter() {
        apply(&mut rebuilt, &entry?.value)?;
    }
    anyhow::ensure!(rebuilt.items()? == state.items()?, "rebuilt state differs");
    anyhow::ensure!(state.get(&"ada".to_string())?.map(|a| a.balance) == Some(7_500));
    anyhow::ensure!(!state.contains_key(&"bob".to_string()));
    let consumers = datawal::consumers(&events_dir)?;
    anyhow::ensure!(consumers.len() == 1 && consumers[0].txid == history.len() as u64);
    println!(
        "rebuilt state from {} events: identical; consumer {:?} at txid {}",
        history.len(),
        consumers[0].name,
        consumers[0].txid
    );
    Ok(())
}
