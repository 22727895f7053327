use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", version = 1)]
struct OrderV1 {
    id: u64,
}

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", version = 2, from = OrderV1, try_from = OrderV1)]
struct Order {
    id: u64,
}

impl From<OrderV1> for Order {
    fn from(v1: OrderV1) -> Self {
        Order { id: v1.id }
    }
}

fn main() {}
