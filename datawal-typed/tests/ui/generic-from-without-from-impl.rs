use datawal_typed::{Codec, Record};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "boxed", version = 1)]
struct BoxedV1<T> {
    item: T,
}

#[derive(Serialize, Deserialize, Record)]
#[record(name = "boxed", version = 2, from = BoxedV1<T>)]
struct Boxed<T> {
    items: Vec<T>,
}

fn main() {
    let _ = Boxed::<u8>::decode_version(1, Codec::Json, b"");
}
