use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "event", version = 1)]
enum EventV1 {
    Created { id: u64 },
}

#[derive(Serialize, Deserialize, Record)]
#[record(name = "event", version = 2, from = EventV1)]
enum Event {
    Created { id: u64 },
    #[record(since = 2)]
    Reset,
}

impl From<EventV1> for Event {
    fn from(old: EventV1) -> Self {
        match old {
            EventV1::Created { id } => Event::Created { id },
        }
    }
}

fn main() {}
