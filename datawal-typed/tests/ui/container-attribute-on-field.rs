use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", version = 1)]
struct Order {
    #[record(key, version = 1)]
    id: u64,
}

fn main() {}
