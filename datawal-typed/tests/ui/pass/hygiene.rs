// The generated code uses absolute paths only: no prelude, and local items
// named like the std ones it uses, do not disturb it.
#![no_implicit_prelude]
#![allow(dead_code, non_camel_case_types, non_upper_case_globals)]

mod shadows {
    pub struct Result;
    pub struct Ok;
    pub struct Clone;
    pub struct Codec;
    pub struct DecodeError;
    pub struct version;
    pub struct codec;
    pub struct body;
    pub const key: () = ();
    pub struct From;
}

mod records {
    #![allow(unused_imports)]
    use super::shadows::*;
    use ::datawal_typed::Record;
    use ::serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, Record)]
    #[record(name = "thing", version = 1)]
    pub struct ThingV1 {
        #[record(key)]
        pub id: ::std::string::String,
    }

    #[derive(Serialize, Deserialize, Record)]
    #[record(name = "thing", version = 2, try_from = ThingV1)]
    pub struct Thing {
        #[record(key)]
        pub id: ::std::string::String,
        #[record(key)]
        pub n: ::core::primitive::u32,
    }

    impl ::core::convert::TryFrom<ThingV1> for Thing {
        type Error = ::std::string::String;
        fn try_from(v1: ThingV1) -> ::core::result::Result<Self, ::std::string::String> {
            ::core::result::Result::Ok(Thing { id: v1.id, n: 0 })
        }
    }

    // Per-variant history: the hidden enums and upgrades use absolute
    // paths too. (A field named like a unit struct in scope is not tested:
    // serde's own derive matches it.)
    #[derive(Serialize, Deserialize)]
    pub struct CreatedV1 {
        pub n: ::core::primitive::u8,
    }

    #[derive(Serialize, Deserialize, Record)]
    #[record(name = "history", version = 2)]
    pub enum History {
        #[record(v1 = CreatedV1)]
        Created { id: ::core::primitive::u8 },
        Moved { id: ::core::primitive::u8, to: ::core::primitive::u8 },
        #[record(since = 2)]
        Reset,
    }

    impl ::core::convert::From<CreatedV1> for History {
        fn from(old: CreatedV1) -> Self {
            History::Created { id: old.n }
        }
    }
}

fn main() {
    use ::datawal_typed::Record;
    let thing = records::Thing {
        id: ::std::string::ToString::to_string("a"),
        n: 1,
    };
    let (id, n) = thing.key();
    ::std::assert_eq!((id.as_str(), n), ("a", 1));
    ::std::assert_eq!(<records::Thing as Record>::VERSION, 2);
    ::std::assert_eq!(<records::History as Record>::VERSION, 2);
}
