//! Schema migration: data written by version 1 of a record is read as
//! version 2 (upgraded on the fly), then compacted so every record is stored
//! as version 2.
//!
//! ```text
//! cargo run --example schema_migration
//! ```

use datawal::{Codec, Record, TypedWal};
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
    Ok(())
}
