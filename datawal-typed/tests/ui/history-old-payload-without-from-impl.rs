use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct CreatedV1 {
    id: u64,
}

#[derive(Serialize, Deserialize, Record)]
#[record(name = "event", version = 2)]
enum Event {
    #[record(v1 = CreatedV1)]
    Created { id: u64, by: String },
}

fn main() {}
