use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "event", version = 1)]
#[serde(tag = "t", content = "c")]
enum Event {
    Created(u64),
    Deleted(u64),
}

fn main() {}
