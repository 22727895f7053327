use datawal_typed::{Codec, Record};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "crate", version = 1)]
struct CrateV1<T> {
    item: T,
}

#[derive(Serialize, Deserialize, Record)]
#[record(name = "boxed", version = 2, from = CrateV1<T>)]
struct Boxed<T> {
    items: Vec<T>,
}

impl<T> From<CrateV1<T>> for Boxed<T> {
    fn from(v1: CrateV1<T>) -> Self {
        Boxed {
            items: vec![v1.item],
        }
    }
}

fn main() {
    // A generic `from` type is checked when the decoder is instantiated.
    let _ = Boxed::<u8>::decode_version(1, Codec::Json, b"");
}
