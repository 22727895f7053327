use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Money {
    cents: u64,
    currency: String,
}

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", version = 1)]
struct Order {
    #[record(key)]
    id: u64,
    #[serde(flatten)]
    price: Money,
}

fn main() {}
