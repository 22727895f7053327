// A misspelled `name` on an older version: the fallback impl reads the
// misspelled value as the name that was meant, so the newer version's
// `from` check (same record name) adds no second error.
use datawal_typed::{Record, TypedLog};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(nmae = "order", version = 1)]
struct OrderV1 {
    #[record(key)]
    id: u64,
}

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", version = 2, from = OrderV1)]
struct Order {
    #[record(key)]
    id: u64,
}

impl From<OrderV1> for Order {
    fn from(v1: OrderV1) -> Self {
        Order { id: v1.id }
    }
}

fn main() -> Result<(), datawal_typed::Error> {
    let orders: Vec<Order> = TypedLog::<Order>::open("unused")?.scan()?;
    println!("{}", orders.len());
    Ok(())
}
