use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct ResetV1;

#[derive(Serialize, Deserialize, Record)]
#[record(name = "event", version = 3)]
enum Event {
    Created { id: u64 },
    #[record(since = 2, v1 = ResetV1)]
    Reset { why: String },
}

impl From<ResetV1> for Event {
    fn from(_: ResetV1) -> Self {
        Event::Reset { why: String::new() }
    }
}

fn main() {}
