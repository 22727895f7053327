//! The record types whose bytes are frozen in `tests/fixtures/`.
//!
//! Shared by the golden tests, the root `tests/typed_*.rs` and the
//! `gen_typed_fixtures` example. Never change a type here: a shipped
//! (type, version) is frozen. Add a new version instead.
#![allow(dead_code)]

use datawal_typed::Record;
use serde::{Deserialize, Serialize};

/// `order` v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "order", version = 1)]
pub struct OrderV1 {
    #[record(key)]
    pub id: u64,
    pub cents: u32,
}

/// `order` v2: wider amount, a currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "order", version = 2, from = OrderV1)]
pub struct OrderV2 {
    #[record(key)]
    pub id: u64,
    pub cents: u64,
    pub currency: String,
}

impl From<OrderV1> for OrderV2 {
    fn from(v1: OrderV1) -> OrderV2 {
        OrderV2 {
            id: v1.id,
            cents: v1.cents.into(),
            currency: "EUR".into(),
        }
    }
}

/// An amount of money (part of `order` v3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Money {
    pub cents: u64,
    pub currency: [u8; 3],
}

/// `order` v3, the latest: a checked currency code and tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "order", version = 3, try_from = OrderV2)]
pub struct Order {
    #[record(key)]
    pub id: u64,
    pub amount: Money,
    pub tags: Vec<String>,
    pub note: Option<String>,
}

impl TryFrom<OrderV2> for Order {
    type Error = String;
    fn try_from(v2: OrderV2) -> Result<Order, String> {
        let code: [u8; 3] = v2
            .currency
            .as_bytes()
            .try_into()
            .map_err(|_| format!("currency {:?} is not a 3-letter code", v2.currency))?;
        Ok(Order {
            id: v2.id,
            amount: Money {
                cents: v2.cents,
                currency: code,
            },
            tags: Vec::new(),
            note: None,
        })
    }
}

/// `event` v1: an enum with every variant shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "event", version = 1)]
pub enum Event {
    Opened,
    Deposited(u64),
    Moved {
        from: String,
        to: String,
        cents: i64,
    },
}

/// `audit` v1: a composite key of several fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "audit", version = 1)]
pub struct Audit {
    #[record(key)]
    pub actor: String,
    #[record(key)]
    pub seq: u64,
    pub action: String,
    pub ok: bool,
}

/// The canonical value of each frozen (type, version).
pub fn order_v1() -> OrderV1 {
    OrderV1 {
        id: 7,
        cents: 1_250,
    }
}
pub fn order_v2() -> OrderV2 {
    OrderV2 {
        id: 8,
        cents: 99_000,
        currency: "USD".into(),
    }
}
pub fn order_v3() -> Order {
    Order {
        id: 9,
        amount: Money {
            cents: 5,
            currency: *b"JPY",
        },
        tags: vec!["gift".into(), "\u{e9}t\u{e9}".into()],
        note: Some("leave at door".into()),
    }
}
pub fn events() -> Vec<Event> {
    vec![
        Event::Opened,
        Event::Deposited(300),
        Event::Moved {
            from: "a".into(),
            to: "b\0".into(),
            cents: -42,
        },
    ]
}
pub fn audit() -> Audit {
    Audit {
        actor: "ada".into(),
        seq: 3,
        action: "login".into(),
        ok: true,
    }
}

/// What `order_v1()` reads as the latest type.
pub fn order_v1_upgraded() -> Order {
    Order {
        id: 7,
        amount: Money {
            cents: 1_250,
            currency: *b"EUR",
        },
        tags: vec![],
        note: None,
    }
}
/// What `order_v2()` reads as the latest type.
pub fn order_v2_upgraded() -> Order {
    Order {
        id: 8,
        amount: Money {
            cents: 99_000,
            currency: *b"USD",
        },
        tags: vec![],
        note: None,
    }
}
