use datawal_typed::{from_payload, to_payload, Codec, Record};
use serde::{Deserialize, Serialize};

fn default_cents() -> u64 {
    99
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "order", version = 1)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Order {
    #[record(key)]
    #[serde(rename = "orderId")]
    order_id: u64,
    #[serde(default = "default_cents")]
    total_cents: u64,
    #[serde(skip)]
    cache: Option<String>,
    #[serde(skip_serializing, skip_deserializing)]
    scratch: u8,
    #[serde(default)]
    tags: Vec<String>,
}

fn main() {
    assert_eq!(
        Order::SCHEMA,
        "#[serde(rename_all = \"camelCase\", deny_unknown_fields)] struct order v1 { \
         #[key] #[serde(rename = \"orderId\")] order_id: u64, \
         #[serde(default = \"default_cents\")] total_cents: u64, \
         #[serde(skip)] cache: Option<String>, \
         #[serde(skip_serializing, skip_deserializing)] scratch: u8, \
         #[serde(default)] tags: Vec<String> }"
    );
    let order = Order {
        order_id: 1,
        total_cents: 5,
        cache: Some("not stored".into()),
        scratch: 7,
        tags: vec!["a".into()],
    };
    for codec in Codec::ALL {
        let payload = to_payload(&order, codec).unwrap();
        let back = from_payload::<Order>(&payload).unwrap().0;
        assert_eq!(
            back,
            Order {
                cache: None,
                scratch: 0,
                tags: vec!["a".into()],
                ..order.clone()
            }
        );
    }
}
