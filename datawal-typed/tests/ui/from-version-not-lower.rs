use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", version = 2)]
struct OrderV2 {
    id: u64,
}

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", version = 2, from = OrderV2)]
struct Order {
    id: u64,
}

impl From<OrderV2> for Order {
    fn from(v2: OrderV2) -> Self {
        Order { id: v2.id }
    }
}

fn main() {}
