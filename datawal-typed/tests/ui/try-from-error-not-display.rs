use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", version = 1)]
struct OrderV1 {
    id: u64,
}

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", version = 2, try_from = OrderV1)]
struct Order {
    id: u64,
}

struct NoDisplay;

impl TryFrom<OrderV1> for Order {
    type Error = NoDisplay;
    fn try_from(v1: OrderV1) -> Result<Self, NoDisplay> {
        Ok(Order { id: v1.id })
    }
}

fn main() {}
