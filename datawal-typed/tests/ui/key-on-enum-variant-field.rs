use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "event", version = 1)]
enum Event {
    Created {
        #[record(key)]
        id: u64,
    },
    Deleted(u64),
}

fn main() {}
