// Not one mistake: this file checks that every mistake of one derive is
// reported in the same build.
use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", verison = 2)]
struct Order {
    #[record(kye)]
    id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

fn main() {}
