// Per-variant history: an older version's body, written by a hand-written
// enum of that version, decodes as the current enum.
use datawal_typed::{from_payload, to_payload, Codec, Record};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, Record)]
#[record(name = "event", version = 1)]
#[serde(rename_all = "kebab-case")]
enum EventV1 {
    CreatedAt { id: u64 },
    Deleted(u64),
}

#[derive(Debug, Serialize, Deserialize)]
struct CreatedV1 {
    id: u64,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "event", version = 2)]
#[serde(rename_all = "kebab-case")]
enum Event {
    #[record(v1 = CreatedV1)]
    CreatedAt {
        id: u64,
        #[serde(default)]
        by: String,
    },
    Deleted(u64),
    #[record(since = 2)]
    Reset,
}

impl From<CreatedV1> for Event {
    fn from(old: CreatedV1) -> Self {
        Event::CreatedAt {
            id: old.id,
            by: "unknown".into(),
        }
    }
}

fn main() {
    for codec in Codec::ALL {
        let read = |old: &EventV1| from_payload::<Event>(&to_payload(old, codec).unwrap()).unwrap().0;
        assert_eq!(
            read(&EventV1::CreatedAt { id: 1 }),
            Event::CreatedAt { id: 1, by: "unknown".into() }
        );
        assert_eq!(read(&EventV1::Deleted(2)), Event::Deleted(2));
    }
    assert_eq!(Event::VERSION, 2);
}
