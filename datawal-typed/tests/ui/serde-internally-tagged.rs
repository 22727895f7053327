use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "event", version = 1)]
#[serde(tag = "type")]
enum Event {
    Created { id: u64 },
    Deleted { id: u64 },
}

fn main() {}
