use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", version = 1, version = 2)]
struct Order {
    id: u64,
}

fn main() {}
