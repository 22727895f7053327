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
//!
//! Being on every path to a nested value, the adapter also counts how deep
//! each value sits and refuses one deeper than
//! [`MAX_DEPTH`](crate::nesting::MAX_DEPTH) before the inner deserializer
//! recurses into it: the readers' side of the rule in
//! [`nesting`](crate::nesting), which says what counts as a level. The
//! wrappers carry the depth of the values they hand out, by value (no state
//! is shared or restored on the way out), and check it where a nested value
//! begins: when a visitor is handed a sequence, a map, a `Some`, a newtype
//! or the data of an enum variant.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};

use crate::nesting::{too_deep_de, MAX_DEPTH};

/// Deserialize a `T` from `deserializer` through [`CopyStrings`].
pub(crate) struct Seed<T>(pub(crate) PhantomData<T>);

impl<'de, T: serde::Deserialize<'de>> DeserializeSeed<'de> for Seed<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        T::deserialize(CopyStrings {
            inner: deserializer,
            depth: 1,
        })
    }
}

/// The adapter around a deserializer of a value at `depth` (see the module
/// documentation).
pub(crate) struct CopyStrings<D> {
    inner: D,
    depth: u32,
}

/// A visitor, an accessor or a seed whose nested deserializers are wrapped
/// in [`CopyStrings`], for values at `depth`.
struct Wrap<X> {
    inner: X,
    depth: u32,
}

impl<D> CopyStrings<D> {
    /// `x`, handing out values one level below this one.
    #[inline(always)]
    fn below<X>(&self, x: X) -> Wrap<X> {
        Wrap {
            inner: x,
            depth: self.depth + 1,
        }
    }
}

impl<X> Wrap<X> {
    /// A deserializer for the value `d` produces, at this wrapper's depth.
    #[inline(always)]
    fn wrap<D>(&self, d: D) -> CopyStrings<D> {
        CopyStrings {
            inner: d,
            depth: self.depth,
        }
    }

    /// `y`, handing out values at this wrapper's depth.
    #[inline(always)]
    fn same<Y>(&self, y: Y) -> Wrap<Y> {
        Wrap {
            inner: y,
            depth: self.depth,
        }
    }

    /// Whether the values this wrapper hands out are too deep.
    #[inline(always)]
    fn too_deep(&self) -> bool {
        self.depth > MAX_DEPTH
    }
}

/// A visitor given borrowed (or transient) text, which it hands on owned.
struct ToString<V>(V);

/// A visitor given borrowed (or transient) bytes, which it hands on owned.
struct ToByteBuf<V>(V);

macro_rules! forward_deserialize {
    ($($method:ident),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            let visitor = self.below(visitor);
            self.inner.$method(visitor)
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
        self.inner.deserialize_str(ToString(visitor))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.inner.deserialize_bytes(ToByteBuf(visitor))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = self.below(visitor);
        self.inner.deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = self.below(visitor);
        self.inner.deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = self.below(visitor);
        self.inner.deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = self.below(visitor);
        self.inner.deserialize_tuple_struct(name, len, visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = self.below(visitor);
        self.inner.deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let visitor = self.below(visitor);
        self.inner.deserialize_enum(name, variants, visitor)
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! forward_visit {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        fn $method<E: serde::de::Error>(self, v: $ty) -> Result<Self::Value, E> {
            self.inner.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
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
        self.inner.visit_none()
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        self.inner.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if self.too_deep() {
            return Err(too_deep_de());
        }
        let d = self.wrap(d);
        self.inner.visit_some(d)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if self.too_deep() {
            return Err(too_deep_de());
        }
        let d = self.wrap(d);
        self.inner.visit_newtype_struct(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        if self.too_deep() {
            return Err(too_deep_de());
        }
        let seq = self.same(seq);
        self.inner.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        if self.too_deep() {
            return Err(too_deep_de());
        }
        let map = self.same(map);
        self.inner.visit_map(map)
    }

    /// Not checked here: a unit variant holds nothing (see
    /// [`VariantAccess`] below for the others).
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Self::Value, A::Error> {
        let data = self.same(data);
        self.inner.visit_enum(data)
    }
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Wrap<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        let d = self.wrap(d);
        self.inner.deserialize(d)
    }
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, A::Error> {
        let seed = self.same(seed);
        self.inner.next_element_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        let seed = self.same(seed);
        self.inner.next_key_seed(seed)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        let seed = self.same(seed);
        self.inner.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

impl<'de, A: EnumAccess<'de>> EnumAccess<'de> for Wrap<A> {
    type Error = A::Error;
    type Variant = Wrap<A::Variant>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), A::Error> {
        let depth = self.depth;
        let seed = self.same(seed);
        self.inner.variant_seed(seed).map(|(value, variant)| {
            let variant = Wrap {
                inner: variant,
                depth,
            };
            (value, variant)
        })
    }
}

impl<'de, A: VariantAccess<'de>> VariantAccess<'de> for Wrap<A> {
    type Error = A::Error;

    fn unit_variant(self) -> Result<(), A::Error> {
        self.inner.unit_variant()
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, A::Error> {
        if self.too_deep() {
            return Err(too_deep_de());
        }
        let seed = self.same(seed);
        self.inner.newtype_variant_seed(seed)
    }

    /// The fields are a level below the variant's data (two below the enum
    /// value); the visitor's `visit_seq` checks them.
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, A::Error> {
        let visitor = Wrap {
            inner: visitor,
            depth: self.depth + 1,
        };
        self.inner.tuple_variant(len, visitor)
    }

    /// As [`tuple_variant`](Self::tuple_variant).
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        let visitor = Wrap {
            inner: visitor,
            depth: self.depth + 1,
        };
        self.inner.struct_variant(fields, visitor)
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
