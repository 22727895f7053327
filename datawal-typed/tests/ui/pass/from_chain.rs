use datawal_typed::{from_payload, to_payload, Codec, Record};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "order", version = 1)]
struct OrderV1 {
    #[record(key)]
    id: u64,
    cents: u32,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "order", version = 2, from = OrderV1)]
struct OrderV2 {
    #[record(key)]
    id: u64,
    cents: u64,
}

impl From<OrderV1> for OrderV2 {
    fn from(v1: OrderV1) -> Self {
        OrderV2 {
            id: v1.id,
            cents: v1.cents.into(),
        }
    }
}

mod current {
    use super::OrderV2;
    use datawal_typed::Record;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
    #[record(name = "order", version = 5, from = super::OrderV2)]
    pub struct Order {
        #[record(key)]
        pub id: u64,
        pub cents: u64,
        pub currency: String,
    }

    impl From<OrderV2> for Order {
        fn from(v2: OrderV2) -> Self {
            Order {
                id: v2.id,
                cents: v2.cents,
                currency: "EUR".into(),
            }
        }
    }
}
use current::Order;

fn main() {
    for codec in Codec::ALL {
        let v1 = to_payload(&OrderV1 { id: 1, cents: 100 }, codec).unwrap();
        let v2 = to_payload(&OrderV2 { id: 2, cents: 200 }, codec).unwrap();
        let v5 = to_payload(
            &Order {
                id: 5,
                cents: 500,
                currency: "USD".into(),
            },
            codec,
        )
        .unwrap();

        // v1 -> v2 -> v5, v2 -> v5, and v5 as is.
        let (o, header) = from_payload::<Order>(&v1).unwrap();
        assert_eq!(header.version, 1);
        assert_eq!(
            o,
            Order {
                id: 1,
                cents: 100,
                currency: "EUR".into()
            }
        );
        assert_eq!(from_payload::<Order>(&v2).unwrap().0.cents, 200);
        assert_eq!(from_payload::<Order>(&v5).unwrap().0.currency, "USD");
        assert_eq!(
            from_payload::<OrderV2>(&v1).unwrap().0,
            OrderV2 { id: 1, cents: 100 }
        );

        // Newer than the code: an error, not garbage.
        let err = from_payload::<OrderV2>(&v5).unwrap_err().to_string();
        assert!(err.contains("latest is 2"), "{err}");
        // Version 3 is not in the chain: decoding it straight is an error.
        assert!(Order::decode_version(3, codec, &[]).is_err());
    }
}
