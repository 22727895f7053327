use datawal_typed::{from_payload, to_payload, Codec, Record};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "point", version = 2)]
struct Point(i32, #[record(key)] String, i32);

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "tick", version = 1)]
struct Tick;

fn main() {
    assert_eq!(Point::SCHEMA, "struct point v2 (i32, #[key] String, i32)");
    let p = Point(1, "p1".into(), -2);
    let key: String = p.key();
    assert_eq!(key, "p1");
    for codec in Codec::ALL {
        let payload = to_payload(&p, codec).unwrap();
        assert_eq!(from_payload::<Point>(&payload).unwrap().0, p);
    }

    assert_eq!(Tick::NAME, "tick");
    assert_eq!(Tick::SCHEMA, "struct tick v1");
    let unit: () = Tick.key();
    assert_eq!(unit, ());
    for codec in Codec::ALL {
        let payload = to_payload(&Tick, codec).unwrap();
        assert_eq!(from_payload::<Tick>(&payload).unwrap().0, Tick);
    }
}
