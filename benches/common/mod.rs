//! The record type both typed benches write.

use datawal_typed::Record;
use serde::{Deserialize, Serialize};

/// A typical event: a key, two short strings and three numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "bench_order", version = 1)]
pub struct Order {
    #[record(key)]
    pub id: u64,
    pub customer: String,
    pub cents: u64,
    pub items: u16,
    pub note: String,
}

/// The `i`-th order of a workload.
pub fn order(i: u64) -> Order {
    Order {
        id: i,
        customer: format!("customer-{:05}", i % 10_000),
        cents: i * 7 + 99,
        items: (i % 9) as u16,
        note: "two day shipping".to_string(),
    }
}
