use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct CreatedV2 {
    id: u64,
}

#[derive(Serialize, Deserialize, Record)]
#[record(name = "event", version = 2)]
enum Event {
    #[record(v2 = CreatedV2)]
    Created { id: u64, by: String },
}

impl From<CreatedV2> for Event {
    fn from(old: CreatedV2) -> Self {
        Event::Created { id: old.id, by: String::new() }
    }
}

fn main() {}
