//! A serde [`Deserializer`] adapter that reads owned strings and byte
//! buffers as borrowed ones and copies them, for the bincode and postcard
//! bodies.
//!
//! bincode 2 decodes a `String` (`deserialize_string`) by allocating a
//! zeroed buffer (`calloc`), reading the bytes into it and checking them
//! as UTF-8; asked for a `&str` (`deserialize_str`) it checks the bytes in
//! the body and lends them. [`CopyStrings`] asks for the borrowed form and
//! hands the visitor `visit_string(text.to_owned())`: what bincode gave it,
//! with an equal value, and the codec's own UTF-8 check and error. A scan
//! of records with two short strings runs a tenth fewer instructions.
//! `deserialize_byte_buf` is served from borrowed bytes the same way.
//!
//! Postcard bodies go through it too: postcard already checks and lends,
//! but handed the visitor `visit_str`, which serde's `visit_string`
//! forwards to (only a visitor implementing `visit_string` alone, which
//! serde advises against, now accepts what it refused). What postcard
//! gains is the code layout: its scan is as fast through the adapter as
//! bincode's and faster than without it.
//!
//! Tried and dropped: asking for the bytes, copying them and checking the
//! copy, which starts word-aligned so std's UTF-8 check skips its
//! byte-at-a-time prologue: 5 % fewer instructions, but a bincode scan
//! took 20 % longer.
//!
//! The adapter has to wrap everything through which the inner deserializer
//! reaches nested values (visitors, sequence, map and enum accessors, seeds);
//! every other call is forwarded unchanged.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

/// Deserialize a `T` from `deserializer` through [`CopyStrings`].
pub(crate) struct Seed<T>(pub(crate) PhantomData<T>);

impl<'de, T: serde::Deserialize<'de>> DeserializeSeed<'de> for Seed<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        T::deserialize(CopyStrings(deserializer))
    }
}

/// The adapter around a deserializer (see the module documentation).
pub(crate) struct CopyStrings<D>(D);

/// A visitor, an accessor or a seed whose nested deserializers are wrapped
/// in [`CopyStrings`].
struct Wrap<X>(X);

/// A visitor given borrowed (or transient) text, which it hands on owned.
struct ToString<V>(V);

/// A visitor given borrowed (or transient) bytes, which it hands on owned.
struct ToByteBuf<V>(V);

macro_rules! forward_deserialize {
    ($($method:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(Wrap(visitor))
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for CopyStrings<D> {
    type Error = D::Error;

    forward_deserialize!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_bytes,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any,
    );

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_str(ToString(visitor))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_bytes(ToByteBuf(visitor))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, Wrap(visitor))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, Wrap(visitor))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, Wrap(visitor))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, Wrap(visitor))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, Wrap(visitor))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, Wrap(visitor))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        fn $method<E: serde::de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            self.0.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visit!(
        visit_bool(bool),
        visit_i8(i8),
        visit_i16(i16),
        visit_i32(i32),
        visit_i64(i64),
        visit_i128(i128),
        visit_u8(u8),
        visit_u16(u16),
        visit_u32(u32),
        visit_u64(u64),
        visit_u128(u128),
        visit_f32(f32),
        visit_f64(f64),
        visit_char(char),
        visit_str(&str),
        visit_borrowed_str(&'de str),
        visit_string(String),
        visit_bytes(&[u8]),
        visit_borrowed_bytes(&'de [u8]),
        visit_byte_buf(Vec<u8>),
    );

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_none()
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        self.0.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_some(CopyStrings(d))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.visit_newtype_struct(CopyStrings(d))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.visit_seq(Wrap(seq))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit_map(Wrap(map))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        self.0.visit_enum(Wrap(data))
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Wrap<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(CopyStrings(d))
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        self.0.next_element_seed(Wrap(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.0.next_key_seed(Wrap(seed))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.0.next_value_seed(Wrap(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Wrap<A> {
    type Error = A::Error;
    type Variant = Wrap<A::Variant>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), A::Error> {
        self.0
            .variant_seed(Wrap(seed))
            .map(|(value, variant)| (value, Wrap(variant)))
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.0.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        self.0.newtype_variant_seed(Wrap(seed))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        self.0.tuple_variant(len, Wrap(visitor))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        self.0.struct_variant(fields, Wrap(visitor))
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for ToString<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<V::Value, E> {
        self.0.visit_string(v.to_owned())
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<V::Value, E> {
        self.0.visit_string(v)
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for ToByteBuf<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<V::Value, E> {
        self.0.visit_byte_buf(v.to_vec())
    }

    fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<V::Value, E> {
        self.0.visit_byte_buf(v)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Serialize};

    use super::*;

    /// A type that wants an owned buffer and accepts nothing else.
    #[derive(Debug, PartialEq)]
    struct OnlyByteBuf(Vec<u8>);

    impl Serialize for OnlyByteBuf {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }

    impl<'de> Deserialize<'de> for OnlyByteBuf {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = OnlyByteBuf;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an owned byte buffer")
                }
                fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<OnlyByteBuf, E> {
                    Ok(OnlyByteBuf(v))
                }
            }
            d.deserialize_byte_buf(V)
        }
    }

    /// A type that wants an owned string and accepts nothing else.
    #[derive(Debug, PartialEq)]
    struct OnlyString(String);

    impl Serialize for OnlyString {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&self.0)
        }
    }

    impl<'de> Deserialize<'de> for OnlyString {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            // On purpose: the adapter must still hand it an owned string.
            #[allow(clippy::serde_api_misuse)]
            impl Visitor<'_> for V {
                type Value = OnlyString;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an owned string")
                }
                fn visit_string<E: serde::de::Error>(self, v: String) -> Result<OnlyString, E> {
                    Ok(OnlyString(v))
                }
            }
            d.deserialize_string(V)
        }
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Unit;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Newtype(String);

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Shape {
        Empty,
        Named(String),
        Pair(String, Option<String>),
        Full { label: String, tags: Vec<String> },
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Everything {
        text: String,
        maybe: Option<String>,
        none: Option<String>,
        list: Vec<String>,
        map: BTreeMap<String, Vec<u8>>,
        shapes: Vec<Shape>,
        tuple: (String, char, i128, u128),
        floats: (f32, f64),
        flags: (bool, i8, i16, i32, i64, u8, u16, u32, u64),
        unit: Unit,
        newtype: Newtype,
        nothing: (),
    }

    fn everything() -> Everything {
        Everything {
            text: "héllo".into(),
            maybe: Some(String::new()),
            none: None,
            list: vec!["a".into(), "bc".into(), "ünï".into()],
            map: [("k1".to_string(), vec![1, 2]), ("k2".into(), vec![])].into(),
            shapes: vec![
                Shape::Empty,
                Shape::Named("n".into()),
                Shape::Pair("p".into(), Some("q".into())),
                Shape::Full {
                    label: "l".into(),
                    tags: vec!["t".into()],
                },
            ],
            tuple: ("x".into(), 'é', -1 << 100, 1 << 100),
            floats: (1.5, -2.25),
            flags: (
                true,
                -1,
                -300,
                -70_000,
                -1 << 40,
                200,
                60_000,
                4_000_000_000,
                1 << 60,
            ),
            unit: Unit,
            newtype: Newtype("inner".into()),
            nothing: (),
        }
    }

    fn config() -> impl bincode::config::Config {
        bincode::config::standard().with_limit::<{ crate::codec::MAX_BODY_LEN }>()
    }

    /// The codecs the adapter serves: (name, encode, plain decode, decode
    /// through the adapter); a decode returns the value and the bytes used.
    type Decoded<T> = Result<(T, usize), String>;

    fn plain<T: serde::de::DeserializeOwned>(codec: &str, bytes: &[u8]) -> Decoded<T> {
        match codec {
            "bincode" => {
                bincode::serde::decode_from_slice(bytes, config()).map_err(|e| e.to_string())
            }
            _ => postcard::take_from_bytes(bytes)
                .map(|(v, rest)| (v, bytes.len() - rest.len()))
                .map_err(|e| e.to_string()),
        }
    }

    fn adapted<T: serde::de::DeserializeOwned>(codec: &str, bytes: &[u8]) -> Decoded<T> {
        let seed = Seed::<T>(PhantomData);
        match codec {
            "bincode" => bincode::serde::seed_decode_from_slice(seed, bytes, config())
                .map_err(|e| e.to_string()),
            _ => {
                let mut de = postcard::Deserializer::from_bytes(bytes);
                let value = seed.deserialize(&mut de).map_err(|e| e.to_string())?;
                let rest = de.finalize().map_err(|e| e.to_string())?;
                Ok((value, bytes.len() - rest.len()))
            }
        }
    }

    fn encode<T: Serialize>(codec: &str, value: &T) -> Vec<u8> {
        match codec {
            "bincode" => bincode::serde::encode_to_vec(value, config()).unwrap(),
            _ => postcard::to_allocvec(value).unwrap(),
        }
    }

    const CODECS: [&str; 2] = ["bincode", "postcard"];

    #[test]
    fn decodes_what_the_codec_decodes() {
        for codec in CODECS {
            let bytes = encode(codec, &everything());
            let (a, used_a) = adapted::<Everything>(codec, &bytes).unwrap();
            let (p, used_p) = plain::<Everything>(codec, &bytes).unwrap();
            assert_eq!(a, everything(), "{codec}");
            assert_eq!(a, p, "{codec}");
            assert_eq!((used_a, used_p), (bytes.len(), bytes.len()), "{codec}");
        }
    }

    /// Visitors that take only owned values get them (postcard itself
    /// offers them borrowed or transient ones, which they refuse).
    #[test]
    fn owned_values_are_handed_on_owned() {
        for codec in CODECS {
            let bytes = encode(codec, &OnlyString("é owned".into()));
            let (s, _) = adapted::<OnlyString>(codec, &bytes).unwrap();
            assert_eq!(s, OnlyString("é owned".into()), "{codec}");
            let bytes = encode(codec, &OnlyByteBuf(vec![0, 255, 7]));
            let (b, _) = adapted::<OnlyByteBuf>(codec, &bytes).unwrap();
            assert_eq!(b, OnlyByteBuf(vec![0, 255, 7]), "{codec}");
        }
        assert!(plain::<OnlyString>("bincode", b"\x01a").is_ok());
        assert!(plain::<OnlyString>("postcard", b"\x01a").is_err());
    }

    #[test]
    fn fails_where_the_codec_fails() {
        for codec in CODECS {
            let bytes = encode(codec, &everything());
            for cut in 0..bytes.len() {
                assert!(
                    adapted::<Everything>(codec, &bytes[..cut]).is_err(),
                    "{codec} cut at {cut}"
                );
                assert!(
                    plain::<Everything>(codec, &bytes[..cut]).is_err(),
                    "{codec} cut at {cut}"
                );
            }
        }
        // Invalid UTF-8 (a string of two bytes, C3 28), and a length far
        // past the end (bincode's u64 marker; postcard's 10-byte varint).
        let bad: [(&str, &[u8]); 4] = [
            ("bincode", b"\x02\xc3\x28"),
            ("postcard", b"\x02\xc3\x28"),
            ("bincode", b"\xfd\xff\xff\xff\xff\xff\xff\xff\x7f"),
            ("postcard", b"\xff\xff\xff\xff\xff\xff\xff\xff\x7f"),
        ];
        for (codec, bytes) in bad {
            assert!(plain::<String>(codec, bytes).is_err(), "{codec} {bytes:?}");
            assert!(
                adapted::<String>(codec, bytes).is_err(),
                "{codec} {bytes:?}"
            );
            assert!(
                adapted::<OnlyString>(codec, bytes).is_err(),
                "{codec} {bytes:?}"
            );
            assert!(
                adapted::<Newtype>(codec, bytes).is_err(),
                "{codec} {bytes:?}"
            );
        }
        // The codec's own check, and its own message.
        for codec in CODECS {
            let bytes = b"\x02\xc3\x28";
            let e = adapted::<String>(codec, bytes).unwrap_err();
            assert_eq!(e, plain::<String>(codec, bytes).unwrap_err(), "{codec}");
        }
    }
}
