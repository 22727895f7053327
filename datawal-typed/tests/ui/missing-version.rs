use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order")]
struct Order {
    #[record(key)]
    id: u64,
}

fn main() {}
