// One misspelled attribute on a record that other code relies on: the
// derive still implements `Record` (a fallback impl with the name, version
// and key it could read), so the uses below add no "trait bound not
// satisfied" error and the misspelling is the only error of the build.
use datawal_typed::{Record, TypedLog};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", verison = 1)]
struct OrderV1 {
    #[record(key)]
    id: u64,
}

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", version = 2, from = OrderV1)]
struct Order {
    #[record(key)]
    id: u64,
    cents: u64,
}

impl From<OrderV1> for Order {
    fn from(v1: OrderV1) -> Self {
        Order { id: v1.id, cents: 0 }
    }
}

fn main() -> Result<(), datawal_typed::Error> {
    let mut log = TypedLog::<OrderV1>::open("unused")?;
    log.append(&OrderV1 { id: 1 })?;
    let key: u64 = OrderV1 { id: 1 }.key();
    let _newer: Vec<Order> = TypedLog::<Order>::open("unused")?.scan()?;
    println!("{} v{} {key}", OrderV1::NAME, OrderV1::VERSION);
    Ok(())
}
