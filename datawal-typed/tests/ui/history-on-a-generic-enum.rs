use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "event", version = 2)]
enum Event<T> {
    Created(T),
    #[record(since = 2)]
    Reset,
}

fn main() {}
