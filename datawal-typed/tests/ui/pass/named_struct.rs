use datawal_typed::{from_payload, to_payload, Codec, Record};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "order", version = 1)]
struct Order {
    #[record(key)]
    id: u64,
    cents: u32,
    r#type: String,
}

/// A doc comment and other attributes are not part of the schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(version = 3)]
struct r#Match {
    score: Vec<Option<(u8, String)>>,
}

fn main() {
    assert_eq!(Order::NAME, "order");
    assert_eq!(Order::VERSION, 1);
    assert_eq!(
        Order::SCHEMA,
        "struct order v1 { #[key] id: u64, cents: u32, type: String }"
    );
    let order = Order {
        id: 7,
        cents: 250,
        r#type: "book".into(),
    };
    let key: u64 = order.key();
    assert_eq!(key, 7);
    for codec in Codec::ALL {
        let payload = to_payload(&order, codec).unwrap();
        let (back, header) = from_payload::<Order>(&payload).unwrap();
        assert_eq!(back, order);
        assert_eq!(header.version, 1);
    }

    // The name defaults to the type's name, without `r#`; no key field: `()`.
    assert_eq!(r#Match::NAME, "Match");
    assert_eq!(r#Match::VERSION, 3);
    assert_eq!(
        r#Match::SCHEMA,
        "struct Match v3 { score: Vec<Option<(u8, String)>> }"
    );
    let m = r#Match {
        score: vec![Some((1, "a".into())), None],
    };
    let unit: () = m.key();
    assert_eq!(unit, ());
    let payload = to_payload(&m, Codec::Bincode).unwrap();
    assert_eq!(from_payload::<r#Match>(&payload).unwrap().0, m);
}
