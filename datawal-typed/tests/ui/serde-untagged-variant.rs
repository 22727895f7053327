use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "value", version = 1)]
enum Value {
    Number(u64),
    #[serde(untagged)]
    Other(String),
}

fn main() {}
