use datawal_typed::key::encode_key_to_vec;
use datawal_typed::{Codec, Record, TypedWal};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "stock", version = 1)]
struct Stock {
    #[record(key)]
    warehouse: String,
    count: u32,
    #[record(key)]
    shelf: u16,
    note: Option<String>,
    #[record(key)]
    bin: i64,
}

fn main() {
    assert_eq!(
        Stock::SCHEMA,
        "struct stock v1 { #[key] warehouse: String, count: u32, #[key] shelf: u16, \
         note: Option<String>, #[key] bin: i64 }"
    );
    let s = Stock {
        warehouse: "north".into(),
        count: 12,
        shelf: 3,
        note: None,
        bin: -1,
    };
    // Key fields in field order, as clones.
    let key: (String, u16, i64) = s.key();
    assert_eq!(key, ("north".to_string(), 3, -1));
    assert_eq!(
        encode_key_to_vec(&s.key()),
        encode_key_to_vec(&("north".to_string(), 3u16, -1i64))
    );
    let _ = Codec::Postcard;
    let _: Option<TypedWal<(String, u16, i64), Stock>> = None;
}
