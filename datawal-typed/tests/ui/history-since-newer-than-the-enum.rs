use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "event", version = 2)]
enum Event {
    Created { id: u64 },
    #[record(since = 3)]
    Reset,
}

fn main() {}
