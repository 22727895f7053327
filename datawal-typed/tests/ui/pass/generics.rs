use datawal_typed::{from_payload, to_payload, Codec, Key, Record};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt::Debug;

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "tagged", version = 1)]
struct Tagged<K, V>
where
    V: Debug,
{
    #[record(key)]
    key: K,
    values: Vec<V>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "note", version = 1)]
struct Note<'a, const N: usize> {
    #[record(key)]
    id: u32,
    text: Cow<'a, str>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "either", version = 2)]
enum Either<L, R> {
    Left(L),
    Right { value: R },
}

fn round_trip<T: Record + PartialEq + Debug>(value: &T) {
    for codec in Codec::ALL {
        let payload = to_payload(value, codec).unwrap();
        assert_eq!(&from_payload::<T>(&payload).unwrap().0, value);
    }
}

fn key_of<T: Record>(value: &T) -> T::Key
where
    T::Key: Key,
{
    value.key()
}

fn main() {
    assert_eq!(
        <Tagged<String, u8>>::SCHEMA,
        "struct tagged<K, V> v1 { #[key] key: K, values: Vec<V> }"
    );
    let t = Tagged {
        key: "k".to_string(),
        values: vec![1u8, 2],
    };
    let key: String = key_of(&t);
    assert_eq!(key, "k");
    round_trip(&t);
    let t2 = Tagged {
        key: (1u16, -3i64),
        values: vec!["x".to_string()],
    };
    assert_eq!(key_of(&t2), (1, -3));
    round_trip(&t2);

    assert_eq!(
        <Note<'static, 4>>::SCHEMA,
        "struct note<'a, const N: usize> v1 { #[key] id: u32, text: Cow<'a, str> }"
    );
    let n: Note<'_, 4> = Note {
        id: 9,
        text: Cow::Borrowed("hi"),
    };
    assert_eq!(n.key(), 9);
    round_trip(&n);

    assert_eq!(
        <Either<u8, String>>::SCHEMA,
        "enum either<L, R> v2 { Left(L), Right { value: R } }"
    );
    round_trip(&Either::<u8, String>::Left(3));
    round_trip(&Either::<u8, String>::Right {
        value: "r".into(),
    });
}
