//! Per-variant history (`#[record(since = N)]`, `#[record(vN = Old)]`):
//! bodies written by hand-written older enums, as older code wrote them,
//! decode as the one current enum, with every codec.

use datawal::{from_payload, to_payload, Codec, DecodeError, Error, Record};
use serde::{Deserialize, Serialize};

// What the code of version 1 and version 2 wrote: whole enums, by hand.
mod v1 {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, Record)]
    #[record(name = "account-event", version = 1)]
    #[serde(rename_all = "snake_case")]
    pub enum AccountEvent {
        Opened { id: u64, owner: String },
        Deposited { cents: u64 },
        Withdrawn { cents: u64 },
    }
}

mod v2 {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, Record)]
    #[record(name = "account-event", version = 2)]
    #[serde(rename_all = "snake_case")]
    pub enum AccountEvent {
        Opened {
            id: u64,
            owner: String,
            currency: String,
        },
        Deposited {
            cents: u64,
        },
        Withdrawn {
            cents: u64,
        },
        Renamed {
            owner: String,
        },
    }
}

/// `Opened` before version 2 had no currency.
#[derive(Debug, Serialize, Deserialize)]
struct OpenedV1 {
    id: u64,
    owner: String,
}

/// `Withdrawn` before version 3 had no reason.
#[derive(Debug, Serialize, Deserialize)]
struct WithdrawnV2 {
    cents: u64,
}

// Today's code: one enum, with the history of the variants that changed.
#[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "account-event", version = 3)]
#[serde(rename_all = "snake_case")]
enum AccountEvent {
    #[record(v1 = OpenedV1)]
    Opened {
        id: u64,
        owner: String,
        currency: String,
    },
    Deposited {
        cents: u64,
    },
    #[record(v2 = WithdrawnV2)]
    Withdrawn {
        cents: u64,
        reason: String,
    },
    #[record(since = 2)]
    Renamed {
        owner: String,
    },
}

impl From<OpenedV1> for AccountEvent {
    fn from(old: OpenedV1) -> Self {
        AccountEvent::Opened {
            id: old.id,
            owner: old.owner,
            currency: "EUR".into(),
        }
    }
}

impl From<WithdrawnV2> for AccountEvent {
    fn from(old: WithdrawnV2) -> Self {
        AccountEvent::Withdrawn {
            cents: old.cents,
            reason: String::new(),
        }
    }
}

fn decoded(payload: &[u8]) -> AccountEvent {
    from_payload::<AccountEvent>(payload).unwrap().0
}

#[test]
fn every_older_variant_decodes_as_the_current_enum_with_every_codec() {
    for codec in Codec::ALL {
        let v1_events = [
            v1::AccountEvent::Opened {
                id: 1,
                owner: "ada".into(),
            },
            v1::AccountEvent::Deposited { cents: 500 },
            v1::AccountEvent::Withdrawn { cents: 200 },
        ];
        let read: Vec<AccountEvent> = v1_events
            .iter()
            .map(|e| decoded(&to_payload(e, codec).unwrap()))
            .collect();
        assert_eq!(
            read,
            [
                AccountEvent::Opened {
                    id: 1,
                    owner: "ada".into(),
                    currency: "EUR".into()
                },
                AccountEvent::Deposited { cents: 500 },
                AccountEvent::Withdrawn {
                    cents: 200,
                    reason: String::new()
                },
            ],
            "{codec:?}"
        );

        let v2_events = [
            v2::AccountEvent::Opened {
                id: 2,
                owner: "bob".into(),
                currency: "USD".into(),
            },
            v2::AccountEvent::Deposited { cents: 7 },
            v2::AccountEvent::Withdrawn { cents: 3 },
            v2::AccountEvent::Renamed {
                owner: "robert".into(),
            },
        ];
        let read: Vec<AccountEvent> = v2_events
            .iter()
            .map(|e| decoded(&to_payload(e, codec).unwrap()))
            .collect();
        assert_eq!(
            read,
            [
                AccountEvent::Opened {
                    id: 2,
                    owner: "bob".into(),
                    currency: "USD".into()
                },
                AccountEvent::Deposited { cents: 7 },
                AccountEvent::Withdrawn {
                    cents: 3,
                    reason: String::new()
                },
                AccountEvent::Renamed {
                    owner: "robert".into()
                },
            ],
            "{codec:?}"
        );

        let now = AccountEvent::Withdrawn {
            cents: 9,
            reason: "rent".into(),
        };
        assert_eq!(decoded(&to_payload(&now, codec).unwrap()), now, "{codec:?}");
    }
}

/// A version bump that changed no variant: version 2 bodies have the
/// current shape and decode as the current enum.
mod ping {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, Record)]
    #[record(name = "ping", version = 1)]
    pub enum PingV1 {
        A(u8),
        B { n: u32 },
    }

    #[derive(Debug, Serialize, Deserialize, Record)]
    #[record(name = "ping", version = 2)]
    pub enum PingV2 {
        A(u8, u8),
        B { n: u32 },
    }

    #[derive(Debug, Serialize, Deserialize)]
    pub struct AV1(pub u8);

    #[derive(Debug, PartialEq, Serialize, Deserialize, Record)]
    #[record(name = "ping", version = 3)]
    pub enum Ping {
        #[record(v1 = AV1)]
        A(u8, u8),
        B {
            n: u32,
        },
    }

    impl From<AV1> for Ping {
        fn from(old: AV1) -> Self {
            Ping::A(old.0, 0)
        }
    }
}

#[test]
fn a_version_of_the_current_shape_decodes_as_the_current_enum() {
    use ping::*;
    for codec in Codec::ALL {
        let read = |payload: Vec<u8>| from_payload::<Ping>(&payload).unwrap().0;
        assert_eq!(
            read(to_payload(&PingV1::A(4), codec).unwrap()),
            Ping::A(4, 0)
        );
        assert_eq!(
            read(to_payload(&PingV1::B { n: 5 }, codec).unwrap()),
            Ping::B { n: 5 }
        );
        assert_eq!(
            read(to_payload(&PingV2::A(1, 2), codec).unwrap()),
            Ping::A(1, 2)
        );
        assert_eq!(
            read(to_payload(&PingV2::B { n: 6 }, codec).unwrap()),
            Ping::B { n: 6 }
        );
    }
}

#[test]
fn a_bad_old_body_is_reported_with_its_version_and_the_current_type() {
    // A version-1 envelope around a body no version-1 event has: variant
    // index 3 (`Renamed` came in version 2).
    for codec in [Codec::Bincode, Codec::Postcard] {
        let good = to_payload(&v2::AccountEvent::Deposited { cents: 1 }, codec).unwrap();
        let mut payload = good[..8].to_vec();
        payload[2..4].copy_from_slice(&1u16.to_le_bytes());
        payload.extend_from_slice(&[3, 0]);
        let Err(Error::Decode { source, .. }) = from_payload::<AccountEvent>(&payload) else {
            panic!("{codec:?}: expected a decode error");
        };
        match *source {
            DecodeError::Body {
                version, rust_type, ..
            } => {
                assert_eq!(version, 1, "{codec:?}");
                assert!(rust_type.ends_with("AccountEvent"), "{rust_type}");
            }
            other => panic!("{codec:?}: expected a body error, got {other:?}"),
        }
    }
    // Newer than the code: refused as before.
    let v4 = {
        let mut p = to_payload(&AccountEvent::Deposited { cents: 1 }, Codec::Json).unwrap();
        p[2..4].copy_from_slice(&4u16.to_le_bytes());
        p
    };
    let Err(Error::Decode { source, .. }) = from_payload::<AccountEvent>(&v4) else {
        panic!("expected a decode error");
    };
    assert!(matches!(*source, DecodeError::TooNew { version: 4, .. }));
}
