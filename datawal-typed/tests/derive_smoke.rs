//! The derive's generated code builds against this crate's helpers and
//! decodes through the whole chain.

#[path = "common/fixture_types.rs"]
mod fixture_types;

use datawal_typed::{from_payload, to_payload, Codec, Record};
use fixture_types::*;

#[test]
fn derived_constants() {
    assert_eq!((OrderV1::NAME, OrderV1::VERSION), ("order", 1));
    assert_eq!((Order::NAME, Order::VERSION), ("order", 3));
    assert_eq!((Event::NAME, Audit::NAME), ("event", "audit"));
    assert_eq!(order_v3().key(), 9);
    assert_eq!(audit().key(), ("ada".to_string(), 3));
    let () = Event::Opened.key();
}

#[test]
fn chain_through_derived_types() {
    for codec in Codec::ALL {
        let p1 = to_payload(&order_v1(), codec).unwrap();
        let p2 = to_payload(&order_v2(), codec).unwrap();
        assert_eq!(from_payload::<Order>(&p1).unwrap().0, order_v1_upgraded());
        assert_eq!(from_payload::<Order>(&p2).unwrap().0, order_v2_upgraded());
        let bad = to_payload(
            &OrderV2 {
                id: 1,
                cents: 1,
                currency: "EURO".into(),
            },
            codec,
        )
        .unwrap();
        let e = from_payload::<Order>(&bad).unwrap_err().to_string();
        assert!(e.contains("\"EURO\" is not a 3-letter code"), "{e}");
    }
}
