//! [`Record`] for common standard types, so `TypedWal<String, u64>` and
//! `TypedLog<String>` work without a wrapper struct.
//!
//! Each has `NAME` equal to its Rust spelling (`"u64"`, `"String"`,
//! `"Vec<u8>"`), `VERSION` 1, and key `()`.
//!
//! `serde_json::Value` is deliberately not one of them: it deserializes
//! through `deserialize_any`, which bincode and postcard cannot do, so its
//! records would be written and then fail to read.

use crate::{Codec, DecodeError, Record};

macro_rules! plain_record {
    ($($t:ty => $name:literal),* $(,)?) => {$(
        impl Record for $t {
            const NAME: &'static str = $name;
            const VERSION: u16 = 1;
            const SCHEMA: &'static str = $name;
            type Key = ();
            fn key(&self) {}
            fn decode_version(version: u16, codec: Codec, body: &[u8]) -> Result<Self, DecodeError> {
                crate::__private::decode_current::<Self>(version, codec, body)
            }
        }
    )*};
}

plain_record!(
    bool => "bool",
    char => "char",
    u8 => "u8",
    u16 => "u16",
    u32 => "u32",
    u64 => "u64",
    u128 => "u128",
    i8 => "i8",
    i16 => "i16",
    i32 => "i32",
    i64 => "i64",
    i128 => "i128",
    f32 => "f32",
    f64 => "f64",
    String => "String",
    Vec<u8> => "Vec<u8>",
    Vec<String> => "Vec<String>",
);
