use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", verison = 1)]
struct Order {
    id: u64,
}

fn main() {}
