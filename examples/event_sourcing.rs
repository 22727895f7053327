//! Event sourcing: an enum event log is the source of truth; account
//! balances in a `TypedWal` are state folded from it, and can be rebuilt.
//!
//! ```text
//! cargo run --example event_sourcing
//! ```

use datawal::{Record, TypedLog, TypedWal};
use serde::{Deserialize, Serialize};

/// What happened to an account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(crate = "datawal::typed", name = "bank-event", version = 1)]
enum Event {
    Opened { account: String },
    Deposited { account: String, cents: u64 },
    Withdrew { account: String, cents: u64 },
    Closed { account: String },
}

/// The state of one account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(crate = "datawal::typed", name = "account", version = 1)]
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

fn main() -> anyhow::Result<()> {
    let dir = tempfile::TempDir::new()?;
    let events_dir = dir.path().join("events");

    let mut events = TypedLog::<Event>::open(&events_dir)?;
    let mut state = TypedWal::<String, Account>::open(dir.path().join("state"))?;
    let history = [
        Event::Opened {
            account: "ada".into(),
        },
        Event::Opened {
            account: "bob".into(),
        },
        Event::Deposited {
            account: "ada".into(),
            cents: 10_000,
        },
        Event::Withdrew {
            account: "ada".into(),
            cents: 2_500,
        },
        Event::Deposited {
            account: "bob".into(),
            cents: 300,
        },
        Event::Closed {
            account: "bob".into(),
        },
    ];
    for event in &history {
        events.append(event)?; // the event first: it is the truth
        apply(&mut state, event)?;
    }
    events.fsync()?;
    state.fsync()?;
    for (name, acc) in state.items()? {
        println!("{name}: {} cents after {} events", acc.balance, acc.events);
    }

    // Rebuild the state from the log alone and compare.
    let mut rebuilt = TypedWal::<String, Account>::open(dir.path().join("rebuilt"))?;
    for entry in events.iter()? {
        apply(&mut rebuilt, &entry?.value)?;
    }
    anyhow::ensure!(rebuilt.items()? == state.items()?, "rebuilt state differs");
    anyhow::ensure!(state.get(&"ada".to_string())?.map(|a| a.balance) == Some(7_500));
    anyhow::ensure!(!state.contains_key(&"bob".to_string()));
    println!("rebuilt state from {} events: identical", history.len());
    Ok(())
}
