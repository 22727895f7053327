use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", version = 1, bound = "T: Clone")]
struct Order {
    id: u64,
}

fn main() {}
