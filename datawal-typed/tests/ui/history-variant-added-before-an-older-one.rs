use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "event", version = 2)]
enum Event {
    #[record(since = 2)]
    Reset,
    Created { id: u64 },
}

fn main() {}
