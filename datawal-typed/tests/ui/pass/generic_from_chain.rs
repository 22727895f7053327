use datawal_typed::{from_payload, to_payload, Codec, Record};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "boxed", version = 1)]
struct BoxedV1<T> {
    #[record(key)]
    id: u32,
    item: T,
}

// The `from` type names the type parameter: the name/version check runs in
// an inline constant and the `From` impl is required in the where clause.
#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "boxed", version = 2, from = BoxedV1<T>)]
struct Boxed<T> {
    #[record(key)]
    id: u32,
    items: Vec<T>,
}

impl<T> From<BoxedV1<T>> for Boxed<T> {
    fn from(v1: BoxedV1<T>) -> Self {
        Boxed {
            id: v1.id,
            items: vec![v1.item],
        }
    }
}

fn main() {
    for codec in Codec::ALL {
        let v1 = to_payload(&BoxedV1 { id: 1, item: 'x' }, codec).unwrap();
        assert_eq!(
            from_payload::<Boxed<char>>(&v1).unwrap().0,
            Boxed {
                id: 1,
                items: vec!['x']
            }
        );
        let v2 = to_payload(
            &Boxed {
                id: 2,
                items: vec!["a".to_string(), "b".to_string()],
            },
            codec,
        )
        .unwrap();
        assert_eq!(from_payload::<Boxed<String>>(&v2).unwrap().0.items.len(), 2);
    }
}
