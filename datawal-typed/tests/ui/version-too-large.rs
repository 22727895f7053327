use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", version = 65536)]
struct Order {
    id: u64,
}

fn main() {}
