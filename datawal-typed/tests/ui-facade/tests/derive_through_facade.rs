//! `#[derive(Record)]` in a crate that depends on the facade `datawal`
//! only, with no `#[record(crate = "...")]`: this file compiles only when
//! the derive finds the typed layer as `::datawal::typed`.

use datawal::{Record, TypedLog, TypedWal};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "order", version = 1)]
struct OrderV1 {
    #[record(key)]
    id: u64,
    cents: u32,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "order", version = 2, from = OrderV1)]
struct Order {
    #[record(key)]
    id: u64,
    cents: u64,
}

impl From<OrderV1> for Order {
    fn from(v1: OrderV1) -> Self {
        Order {
            id: v1.id,
            cents: v1.cents.into(),
        }
    }
}

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "event", version = 1)]
enum Event {
    Opened { id: u64 },
    Closed(u64),
}

#[test]
fn derived_records_round_trip_through_the_facade() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let mut old = TypedLog::<OrderV1>::open(dir.path().join("orders"))?;
    old.append(&OrderV1 { id: 1, cents: 500 })?;
    old.fsync()?;
    drop(old);

    let log = TypedLog::<Order>::open(dir.path().join("orders"))?;
    assert_eq!(log.scan()?, [Order { id: 1, cents: 500 }]);

    let mut kv = TypedWal::<u64, Order>::open(dir.path().join("state"))?;
    kv.insert(&Order { id: 7, cents: 9 })?;
    assert_eq!(kv.get(&7)?, Some(Order { id: 7, cents: 9 }));

    let mut events = TypedLog::<Event>::open(dir.path().join("events"))?;
    events.append(&Event::Opened { id: 3 })?;
    events.append(&Event::Closed(3))?;
    assert_eq!(events.scan()?, [Event::Opened { id: 3 }, Event::Closed(3)]);

    assert_eq!(<Order as Record>::NAME, "order");
    assert_eq!(<Order as datawal::typed::Record>::VERSION, 2);
    Ok(())
}
