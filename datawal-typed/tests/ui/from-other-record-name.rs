use datawal_typed::Record;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Record)]
#[record(name = "invoice", version = 1)]
struct InvoiceV1 {
    id: u64,
}

#[derive(Serialize, Deserialize, Record)]
#[record(name = "order", version = 2, from = InvoiceV1)]
struct Order {
    id: u64,
}

impl From<InvoiceV1> for Order {
    fn from(v1: InvoiceV1) -> Self {
        Order { id: v1.id }
    }
}

fn main() {}
