use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "reading", version = 1)]
struct Reading {
    #[record(key)]
    celsius: f64,
}

fn main() {}
