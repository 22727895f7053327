use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", version = 1)]
struct Order {
    #[record(key)]
    id: u64,
    #[serde(skip_serializing)]
    cache: u64,
    cents: u64,
}

fn main() {}
