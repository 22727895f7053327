use datawal_typed::{from_payload, to_payload, Codec, Record};
use serde::{Deserialize, Serialize};

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "event", version = 4)]
#[serde(rename_all = "snake_case")]
enum Event {
    Created { id: u64, by: String },
    Deleted(u64),
    #[serde(rename = "reset_all")]
    Reset,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(version = 1)]
enum Never {}

fn main() {
    assert_eq!(Event::NAME, "event");
    assert_eq!(Event::VERSION, 4);
    assert_eq!(
        Event::SCHEMA,
        "#[serde(rename_all = \"snake_case\")] enum event v4 { Created { id: u64, by: String }, \
         Deleted(u64), #[serde(rename = \"reset_all\")] Reset }"
    );
    let events = [
        Event::Created {
            id: 1,
            by: "ann".into(),
        },
        Event::Deleted(1),
        Event::Reset,
    ];
    for event in &events {
        let unit: () = event.key();
        assert_eq!(unit, ());
        for codec in Codec::ALL {
            let payload = to_payload(event, codec).unwrap();
            assert_eq!(&from_payload::<Event>(&payload).unwrap().0, event);
        }
    }
    assert_eq!(Never::SCHEMA, "enum Never v1 {}");
}
