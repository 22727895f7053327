use datawal_typed::{Key, KeyError, Record};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Sku(u32);

impl Key for Sku {
    fn encode_key(&self, out: &mut Vec<u8>) {
        self.0.encode_key(out);
    }
    fn decode_key(bytes: &[u8]) -> Result<(Self, usize), KeyError> {
        u32::decode_key(bytes).map(|(n, used)| (Sku(n), used))
    }
}

#[derive(Serialize, Deserialize, Record)]
#[record(name = "item", version = 1)]
struct Item {
    #[record(key)]
    sku: Sku,
}

fn main() {}
