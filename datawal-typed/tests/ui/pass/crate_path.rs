// Code that reaches datawal_typed through a re-export names it with
// `#[record(crate = "...")]`.
mod facade {
    pub use datawal_typed as typed;
}

use facade::typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(crate = "crate::facade::typed", name = "old", version = 1)]
struct Old {
    #[record(key)]
    id: u8,
}

#[derive(Serialize, Deserialize, Record)]
#[record(crate = "crate::facade::typed", name = "old", version = 2, from = Old)]
struct New {
    #[record(key)]
    id: u8,
}

impl From<Old> for New {
    fn from(old: Old) -> Self {
        New { id: old.id }
    }
}

fn main() {
    assert_eq!(New::NAME, "old");
    assert_eq!(New { id: 4 }.key(), 4);
}
