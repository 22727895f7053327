//! Schema migration: data written by version 1 of a record is read as
//! version 2 (upgraded on the fly), then compacted so every record is stored
//! as version 2. Then an event enum whose variants changed one at a time,
//! kept as one enum with the history on its variants.
//!
//! ```text
//! cargo run --example schema_migration
//! ```

use datawal::{Codec, Record, TypedLog, TypedWal};
use serde::{Deserialize, Serialize};

/// `user` v1, as the previous release of the program wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "user", version = 1)]
struct UserV1 {
    #[record(key)]
    id: u64,
    name: String,
    age: u8,
}

/// `user` v2: a display name, an optional e-mail address, no age.
///
/// The key type stays `u64`: keys are stored in their own encoding, and a
/// store's key type cannot change in place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "user", version = 2, from = UserV1)]
struct User {
    #[record(key)]
    id: u64,
    display_name: String,
    email: Option<String>,
}

impl From<UserV1> for User {
    fn from(v1: UserV1) -> User {
        User {
            id: v1.id,
            display_name: v1.name,
            email: None,
        }
    }
}

/// The account events, as the release before the last wrote them
/// (version 1). Normally this is history: it lives only in the old
/// release's code; here it writes the old records.
mod previous_release {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, Record)]
    #[record(name = "account-event", version = 1)]
    #[serde(rename_all = "snake_case")]
    pub enum AccountEvent {
        Opened { id: u64, owner: String },
        Deposited { id: u64, cents: u64 },
        Withdrawn { id: u64, cents: u64 },
    }
}

/// The account events today, version 3. Version 2 gave `Opened` a currency
/// and added `Renamed`; version 3 gave `Withdrawn` a reason. Only what
/// changed is written down: the old payloads of `Opened` and `Withdrawn`,
/// and the version `Renamed` came in. The derive generates the enums of
/// versions 1 and 2 from it.
#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "account-event", version = 3)]
#[serde(rename_all = "snake_case")]
enum AccountEvent {
    /// Through version 1, without a currency.
    #[record(v1 = OpenedV1)]
    Opened {
        id: u64,
        owner: String,
        currency: String,
    },
    Deposited {
        id: u64,
        cents: u64,
    },
    /// Through version 2, without a reason.
    #[record(v2 = WithdrawnV2)]
    Withdrawn {
        id: u64,
        cents: u64,
        reason: String,
    },
    /// New in version 2: after every variant of version 1, so that their
    /// positions (what bincode and postcard write) stay the same.
    #[record(since = 2)]
    Renamed {
        id: u64,
        owner: String,
    },
}

/// `Opened`'s payload through version 1.
#[derive(Debug, Serialize, Deserialize)]
struct OpenedV1 {
    id: u64,
    owner: String,
}

/// `Withdrawn`'s payload through version 2.
#[derive(Debug, Serialize, Deserialize)]
struct WithdrawnV2 {
    id: u64,
    cents: u64,
}

impl From<OpenedV1> for AccountEvent {
    fn from(old: OpenedV1) -> Self {
        AccountEvent::Opened {
            id: old.id,
            owner: old.owner,
            currency: "EUR".into(),
        }
    }
}

impl From<WithdrawnV2> for AccountEvent {
    fn from(old: WithdrawnV2) -> Self {
        AccountEvent::Withdrawn {
            id: old.id,
            cents: old.cents,
            reason: "unknown".into(),
        }
    }
}

/// Events written by version 1 read back as version 3, beside new ones.
fn evolve_events(dir: &std::path::Path) -> anyhow::Result<()> {
    let mut old = TypedLog::<previous_release::AccountEvent>::open(dir)?;
    old.append(&previous_release::AccountEvent::Opened {
        id: 7,
        owner: "ada".into(),
    })?;
    old.append(&previous_release::AccountEvent::Withdrawn { id: 7, cents: 300 })?;
    old.fsync()?;
    drop(old);

    let mut log = TypedLog::<AccountEvent>::open(dir)?;
    log.append(&AccountEvent::Renamed {
        id: 7,
        owner: "ada l.".into(),
    })?;
    log.fsync()?;
    let events = log.scan()?;
    for event in &events {
        println!("event: {event:?}");
    }
    anyhow::ensure!(
        events
            == [
                AccountEvent::Opened {
                    id: 7,
                    owner: "ada".into(),
                    currency: "EUR".into()
                },
                AccountEvent::Withdrawn {
                    id: 7,
                    cents: 300,
                    reason: "unknown".into()
                },
                AccountEvent::Renamed {
                    id: 7,
                    owner: "ada l.".into()
                },
            ]
    );
    Ok(())
}

/// The schema version each stored value was written with, read from the
/// raw envelopes.
fn versions(db: &datawal::DataWal) -> anyhow::Result<Vec<u16>> {
    db.items()?
        .iter()
        .map(|(_, v)| Ok(datawal::typed::envelope::Header::parse(v)?.0.version))
        .collect()
}

fn main() -> anyhow::Result<()> {
    let dir = tempfile::TempDir::new()?;
    let old_dir = dir.path().join("users");

    // The previous release wrote v1 records.
    let mut v1 = TypedWal::<u64, UserV1>::open(&old_dir)?;
    v1.insert(&UserV1 {
        id: 1,
        name: "ada".into(),
        age: 36,
    })?;
    v1.insert(&UserV1 {
        id: 2,
        name: "grace".into(),
        age: 85,
    })?;
    v1.fsync()?;
    drop(v1);

    // This release reads them as v2, and writes v2 (with postcard).
    let mut users = TypedWal::<u64, User>::open_with(&old_dir, Codec::Postcard)?;
    println!("read as v2: {:?}", users.items()?);
    users.insert(&User {
        id: 3,
        display_name: "edsger".into(),
        email: Some("e@example.org".into()),
    })?;
    users.fsync()?;
    let before = versions(users.raw())?;
    println!("stored versions before compaction: {before:?}");
    anyhow::ensure!(before == [1, 1, 2]);

    // Compact into a new store, rewriting every value as v2.
    let new_dir = dir.path().join("users-v2");
    let stats = users.compact_upgraded_to(&new_dir)?;
    println!("compacted: {stats:?}");
    drop(users);

    let migrated = TypedWal::<u64, User>::open(&new_dir)?;
    let after = versions(migrated.raw())?;
    println!("stored versions after compaction: {after:?}");
    anyhow::ensure!(after == [2, 2, 2]);
    let all = migrated.items()?;
    anyhow::ensure!(
        all.len() == 3
            && all[0].1
                == User {
                    id: 1,
                    display_name: "ada".into(),
                    email: None
                }
    );

    evolve_events(&dir.path().join("events"))?;
    Ok(())
}
