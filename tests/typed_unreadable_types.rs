//! A value whose type bincode and postcard cannot decode — one that needs
//! `deserialize_any` (`serde_json::Value`, `#[serde(flatten)]`, an untagged
//! enum, anywhere inside the record) — is refused before anything is
//! written, with an error that names the type and the codec and says to use
//! JSON; JSON writes and reads it back.

use std::fmt;
use std::path::Path;

use datawal::{to_payload, Codec, Error, Record, TypedLog, TypedWal};
use serde::de::{Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// A field of type `serde_json::Value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "with_value", version = 1)]
struct WithValue {
    #[record(key)]
    id: u64,
    extra: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Money {
    cents: u64,
}

/// `#[serde(flatten)]` in a field's type (the derive refuses it on the
/// record itself, but cannot see into other types).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Priced {
    name: String,
    #[serde(flatten)]
    money: Money,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "with_flatten", version = 1)]
struct WithFlatten {
    #[record(key)]
    id: u64,
    item: Priced,
}

/// An untagged enum, inside a `Vec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum Loose {
    Number(u64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "with_untagged", version = 1)]
struct WithUntagged {
    #[record(key)]
    id: u64,
    tags: Vec<Loose>,
}

/// A `Value` two structs down, behind an `Option`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Meta {
    labels: Vec<(String, Value)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Envelope {
    meta: Option<Meta>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "with_nested", version = 1)]
struct WithNested {
    #[record(key)]
    id: u64,
    env: Envelope,
}

/// A `Value` in the last variant of an enum whose other variants are fine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "event", version = 1)]
enum Event {
    Created { id: u64 },
    Renamed(u64, String),
    Custom { id: u64, body: Value },
}

/// A string type that refuses the empty string: the type-level check cannot
/// build every value of a type holding it from the minimal values it tries
/// first, and falls back to checking each value.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Label(String);

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Label, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Label;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a label of the form `x:...`")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Label, E> {
                if v.starts_with("x:") {
                    Ok(Label(v.to_owned()))
                } else {
                    Err(E::custom(format!("`{v}` is not a label")))
                }
            }
        }
        d.deserialize_str(V)
    }
}

/// A `Value` after a field the type-level check cannot build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "labelled_value", version = 1)]
struct LabelledValue {
    #[record(key)]
    id: u64,
    label: Label,
    extra: Value,
}

/// The same without the `Value`: readable, so it must be written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "labelled", version = 1)]
struct Labelled {
    #[record(key)]
    id: u64,
    label: Label,
    count: u32,
}

const POSITIONAL: [Codec; 2] = [Codec::Bincode, Codec::Postcard];

fn with_value() -> WithValue {
    WithValue {
        id: 1,
        extra: json!({"a": [1, 2], "b": null}),
    }
}

fn with_flatten() -> WithFlatten {
    WithFlatten {
        id: 2,
        item: Priced {
            name: "tea".into(),
            money: Money { cents: 250 },
        },
    }
}

fn with_untagged() -> WithUntagged {
    WithUntagged {
        id: 3,
        tags: vec![Loose::Number(1), Loose::Text("x".into())],
    }
}

fn with_nested() -> WithNested {
    WithNested {
        id: 4,
        env: Envelope {
            meta: Some(Meta {
                labels: vec![("k".into(), json!(true))],
            }),
        },
    }
}

fn custom_event() -> Event {
    Event::Custom {
        id: 5,
        body: json!("text"),
    }
}

fn labelled_value() -> LabelledValue {
    LabelledValue {
        id: 6,
        label: Label("x:six".into()),
        extra: json!(6),
    }
}

/// The refusal: the right variant, naming the family, the Rust type and
/// the codec, and saying to use JSON.
fn assert_refused<T: Record>(e: &Error, codec: Codec) {
    let Error::Unreadable {
        name,
        rust_type,
        codec: refused,
        ..
    } = e
    else {
        panic!("{codec}: expected Error::Unreadable, got {e:?}");
    };
    assert_eq!((*name, *refused), (T::NAME, codec), "{e}");
    assert_eq!(*rust_type, std::any::type_name::<T>(), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains(T::NAME) && msg.contains(codec.name()) && msg.contains("Codec::Json"),
        "{msg}"
    );
}

/// Nothing reached the log: no record, and a reopen replays none.
fn assert_log_empty(dir: &Path) {
    let mut raw = datawal::RecordLog::open(dir).unwrap();
    assert_eq!(raw.scan().unwrap().len(), 0);
    assert_eq!(raw.next_txid(), 1);
    assert_eq!(raw.recovery_report().unwrap().records_replayed, 0);
}

/// Under bincode and postcard, `append`, `append_batch`, `TypedWal::put`
/// and `to_payload` refuse `value`; nothing is written. Under JSON it is
/// written and read back.
fn check<T: Record + Clone + PartialEq + fmt::Debug>(value: &T) {
    for codec in POSITIONAL {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TypedLog::<T>::open_with(dir.path(), codec).unwrap();
        assert_refused::<T>(&log.append(value).unwrap_err(), codec);
        assert_refused::<T>(&log.append_batch([value, value]).unwrap_err(), codec);
        log.fsync().unwrap();
        log.close().unwrap();
        assert_log_empty(dir.path());

        let kv_dir = tempfile::tempdir().unwrap();
        let mut kv = TypedWal::<u64, T>::open_with(kv_dir.path(), codec).unwrap();
        assert_refused::<T>(&kv.put(&1, value).unwrap_err(), codec);
        assert!(kv.is_empty());
        kv.fsync().unwrap();
        drop(kv);
        assert_log_empty(kv_dir.path());

        assert_refused::<T>(&to_payload(value, codec).unwrap_err(), codec);
    }
    let dir = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<T>::open_with(dir.path(), Codec::Json).unwrap();
    log.append(value).unwrap();
    log.fsync().unwrap();
    assert_eq!(log.scan().unwrap(), std::slice::from_ref(value));
}

#[test]
fn a_json_value_field_is_refused_by_bincode_and_postcard() {
    check(&with_value());
}

#[test]
fn a_flattened_field_in_a_nested_type_is_refused() {
    check(&with_flatten());
}

#[test]
fn an_untagged_enum_in_a_vec_is_refused() {
    check(&with_untagged());
}

#[test]
fn a_value_inside_option_struct_and_tuple_is_refused() {
    check(&with_nested());
}

/// The check is of the type, not of the value: a variant without the
/// `Value` is refused too, because another variant holds one.
#[test]
fn every_variant_of_an_enum_is_checked() {
    check(&custom_event());
    check(&Event::Created { id: 9 });
    check(&Event::Renamed(9, "n".into()));
}

/// A `None` where the `Value` would be is refused as well: the next value
/// may be `Some`.
#[test]
fn the_check_does_not_depend_on_the_value() {
    check(&WithNested {
        id: 7,
        env: Envelope { meta: None },
    });
    check(&WithUntagged {
        id: 8,
        tags: vec![],
    });
}

/// A type the type-level check cannot build (a field refusing the values
/// it tries) is checked value by value instead: a value that does not
/// decode back is refused, one that does is written.
#[test]
fn types_the_check_cannot_build_are_checked_per_value() {
    check(&labelled_value());
    for codec in POSITIONAL {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TypedLog::<Labelled>::open_with(dir.path(), codec).unwrap();
        let v = Labelled {
            id: 1,
            label: Label("x:one".into()),
            count: 3,
        };
        log.append(&v).unwrap();
        log.append_batch([&v, &v]).unwrap();
        assert_eq!(log.scan().unwrap(), [v.clone(), v.clone(), v.clone()]);
        assert_eq!(
            datawal::from_payload::<Labelled>(&to_payload(&v, codec).unwrap())
                .unwrap()
                .0,
            v
        );
    }
}

/// A refused batch writes none of its values, even those before the bad
/// one; a good handle stays usable after a refusal.
#[test]
fn a_refused_value_leaves_the_handle_usable() {
    for codec in POSITIONAL {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TypedLog::<Event>::open_with(dir.path(), codec).unwrap();
        assert!(log.append(&Event::Created { id: 1 }).is_err());
        log.set_codec(Codec::Json);
        log.append(&Event::Created { id: 1 }).unwrap();
        log.append(&custom_event()).unwrap();
        log.set_codec(codec);
        assert_refused::<Event>(&log.append(&custom_event()).unwrap_err(), codec);
        assert_eq!(
            log.scan().unwrap(),
            [Event::Created { id: 1 }, custom_event()]
        );
        assert_eq!(log.raw().next_txid(), 3);
    }
}

/// A record with floats, for the non-finite values JSON cannot carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "reading", version = 1)]
struct Reading {
    #[record(key)]
    id: u64,
    celsius: f64,
    gain: Option<f32>,
}

/// Under JSON a NaN or infinite float would be written as `null` and never
/// read back as a float: refused before anything is written, naming the
/// codecs that keep it. bincode and postcard write and read every one back.
#[test]
fn a_non_finite_float_is_refused_by_json_and_kept_by_the_binary_codecs() {
    let values = [
        Reading {
            id: 1,
            celsius: f64::NAN,
            gain: None,
        },
        Reading {
            id: 2,
            celsius: 1.5,
            gain: Some(f32::INFINITY),
        },
        Reading {
            id: 3,
            celsius: f64::NEG_INFINITY,
            gain: Some(0.5),
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<Reading>::open_with(dir.path(), Codec::Json).unwrap();
    for v in &values {
        let e = log.append(v).unwrap_err();
        assert!(matches!(e, Error::Encode { .. }), "{e:?}");
        assert!(e.to_string().contains("NaN or infinite"), "{e}");
    }
    log.append(&Reading {
        id: 4,
        celsius: 20.0,
        gain: Some(1.0),
    })
    .unwrap();
    log.fsync().unwrap();
    log.close().unwrap();
    let mut raw = datawal::RecordLog::open(dir.path()).unwrap();
    assert_eq!(
        raw.scan().unwrap().len(),
        1,
        "only the finite reading was written"
    );
    for codec in POSITIONAL {
        let dir = tempfile::tempdir().unwrap();
        let mut log = TypedLog::<Reading>::open_with(dir.path(), codec).unwrap();
        for v in &values {
            log.append(v).unwrap();
        }
        let back = log.scan().unwrap();
        assert!(back[0].celsius.is_nan());
        assert_eq!(back[1].gain, Some(f32::INFINITY));
        assert_eq!(back[2].celsius, f64::NEG_INFINITY);
    }
}
