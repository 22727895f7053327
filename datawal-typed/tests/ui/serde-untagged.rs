use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "value", version = 1)]
#[serde(untagged)]
enum Value {
    Number(u64),
    Text(String),
}

fn main() {}
