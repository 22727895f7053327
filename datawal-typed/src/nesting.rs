//! How deep a record body may nest: the rule, and the writers' side of it.
//!
//! Decoders recurse once per level of nesting, so a body that nests a
//! recursive type deep enough overflows the reading thread's stack and
//! aborts the process: a bincode body of 100,000 bytes `01` followed by a
//! `00` is `enum Nest { Leaf, Node(Box<Nest>) }` 100,000 levels deep, and
//! overflowed the test harness's 2 MiB threads. So a body may nest at most
//! [`MAX_DEPTH`] levels:
//!
//! - the top-level value is at depth 1;
//! - an element of a sequence, tuple or tuple struct, a field of a struct,
//!   a key or value of a map, and the value in a `Some`, a newtype struct
//!   or a newtype variant are one level deeper than the value holding them;
//! - the fields of a tuple or struct variant are two levels deeper than the
//!   enum value (JSON writes them as an array or object inside an object);
//! - a sequence, tuple, map or struct, even an empty one, counts as holding
//!   values one level deeper (a JSON reader refuses an empty array as it
//!   refuses a full one).
//!
//! Readers: the bincode and postcard decoders count through
//! [`copy_strings`](crate::copy_strings), the adapter every such body is
//! decoded through. JSON is read with `serde_json`'s own limit, which
//! refuses the 128th nested array or object; every array or object adds at
//! least one level to the count above, so a JSON body that keeps to
//! [`MAX_DEPTH`] stays within it. A body beyond the limit is a
//! [`DecodeError::Body`](crate::DecodeError::Body), which
//! [`ReadPolicy::Skip`](crate::ReadPolicy::Skip) skips.
//!
//! Writers: every codec encodes through [`Bounded`], which counts the same
//! way around the serializer and refuses a value deeper than the limit with
//! [`Error::Encode`](crate::Error::Encode) before it is written, so no
//! reader refuses what a writer wrote.
//!
//! 128 is serde_json's limit, and far more than record types nest unless
//! they are recursive. The cost is one comparison per nested value, on the
//! way in and on the way out; the scans of `benches/typed_compare.rs` did
//! not move (see `docs/technical-decisions.md`).

use std::cell::Cell;
use std::fmt;

use serde::ser::{
    SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant, Serializer,
};
use serde::Serialize;

/// The deepest a value may sit in a record body (see the module
/// documentation for what counts as a level).
pub(crate) const MAX_DEPTH: u32 = 128;

thread_local! {
    /// Set when the limit refuses a value on this thread: postcard replaces
    /// the message of every serde error by a fixed one, and the codec reads
    /// this flag (in cold code, after a failure) to say what happened.
    static EXCEEDED: Cell<bool> = const { Cell::new(false) };
}

/// The message of a refusal.
pub(crate) const TOO_DEEP: &str =
    "the value nests deeper than 128 levels, datawal's limit for a record body";

/// A decoder's error for a value deeper than [`MAX_DEPTH`].
#[cold]
pub(crate) fn too_deep_de<E: serde::de::Error>() -> E {
    EXCEEDED.with(|flag| flag.set(true));
    E::custom(TOO_DEEP)
}

/// An encoder's error for a value deeper than [`MAX_DEPTH`].
#[cold]
fn too_deep_ser<E: serde::ser::Error>() -> E {
    EXCEEDED.with(|flag| flag.set(true));
    E::custom(TOO_DEEP)
}

/// Whether the limit refused a value on this thread since the last call;
/// clears the flag. Called after a codec failed, to name the cause.
#[cold]
pub(crate) fn take_exceeded() -> bool {
    EXCEEDED.with(|flag| flag.replace(false))
}

/// `value`, serialized with its depth counted (see the module
/// documentation); what every codec encodes.
pub(crate) struct Bounded<'a, T: ?Sized>(pub(crate) &'a T);

impl<T: Serialize + ?Sized> Serialize for Bounded<'_, T> {
    #[inline]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Counting {
            inner: serializer,
            depth: 1,
        })
    }
}

/// A serializer for a value at `depth`.
struct Counting<S> {
    inner: S,
    depth: u32,
}

/// A value to serialize at `depth`.
struct At<'a, T: ?Sized> {
    value: &'a T,
    depth: u32,
}

/// A sequence, tuple, map or struct being serialized, whose values are at
/// `depth`.
struct Compound<C> {
    inner: C,
    depth: u32,
}

impl<T: Serialize + ?Sized> Serialize for At<'_, T> {
    #[inline]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(Counting {
            inner: serializer,
            depth: self.depth,
        })
    }
}

/// The depth `levels` below `depth`, or the refusal past the limit.
#[inline]
fn below<E: serde::ser::Error>(depth: u32, levels: u32) -> Result<u32, E> {
    let below = depth + levels;
    if below > MAX_DEPTH {
        return Err(too_deep_ser());
    }
    Ok(below)
}

macro_rules! forward_serialize {
    ($($method:ident($ty:ty)),* $(,)?) => {$(
        #[inline]
        fn $method(self, v: $ty) -> Result<S::Ok, S::Error> {
            self.inner.$method(v)
        }
    )*};
}

/// What a text codec would write for a NaN or infinite float: JSON has no
/// such numbers and `serde_json` writes `null`, which no reader can take
/// back as a float.
pub(crate) const NON_FINITE: &str = "a NaN or infinite float cannot be written as JSON (it would \
     read back as null, never as the float): use Codec::Bincode or Codec::Postcard, or store \
     the value as a string";

/// Refuse a float a text codec cannot write back; the binary codecs (not
/// human-readable) keep every bit pattern.
#[inline]
fn finite_or_refused<E: serde::ser::Error>(finite: bool, human_readable: bool) -> Result<(), E> {
    if finite || !human_readable {
        Ok(())
    } else {
        Err(E::custom(NON_FINITE))
    }
}

impl<S: Serializer> Serializer for Counting<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Compound<S::SerializeSeq>;
    type SerializeTuple = Compound<S::SerializeTuple>;
    type SerializeTupleStruct = Compound<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Compound<S::SerializeTupleVariant>;
    type SerializeMap = Compound<S::SerializeMap>;
    type SerializeStruct = Compound<S::SerializeStruct>;
    type SerializeStructVariant = Compound<S::SerializeStructVariant>;

    forward_serialize!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    // JSON is the only human-readable codec datawal writes.
    #[inline]
    fn serialize_f32(self, v: f32) -> Result<S::Ok, S::Error> {
        finite_or_refused(v.is_finite(), self.inner.is_human_readable())?;
        self.inner.serialize_f32(v)
    }

    #[inline]
    fn serialize_f64(self, v: f64) -> Result<S::Ok, S::Error> {
        finite_or_refused(v.is_finite(), self.inner.is_human_readable())?;
        self.inner.serialize_f64(v)
    }

    #[inline]
    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_none()
    }

    #[inline]
    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit()
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        let depth = below(self.depth, 1)?;
        self.inner.serialize_some(&At { value, depth })
    }

    #[inline]
    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.inner.serialize_unit_variant(name, index, variant)
    }

    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let depth = below(self.depth, 1)?;
        self.inner
            .serialize_newtype_struct(name, &At { value, depth })
    }

    #[inline]
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let depth = below(self.depth, 1)?;
        self.inner
            .serialize_newtype_variant(name, index, variant, &At { value, depth })
    }

    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        let depth = below(self.depth, 1)?;
        let inner = self.inner.serialize_seq(len)?;
        Ok(Compound { inner, depth })
    }

    #[inline]
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        let depth = below(self.depth, 1)?;
        let inner = self.inner.serialize_tuple(len)?;
        Ok(Compound { inner, depth })
    }

    #[inline]
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        let depth = below(self.depth, 1)?;
        let inner = self.inner.serialize_tuple_struct(name, len)?;
        Ok(Compound { inner, depth })
    }

    #[inline]
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        let depth = below(self.depth, 2)?;
        let inner = self
            .inner
            .serialize_tuple_variant(name, index, variant, len)?;
        Ok(Compound { inner, depth })
    }

    #[inline]
    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        let depth = below(self.depth, 1)?;
        let inner = self.inner.serialize_map(len)?;
        Ok(Compound { inner, depth })
    }

    #[inline]
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        let depth = below(self.depth, 1)?;
        let inner = self.inner.serialize_struct(name, len)?;
        Ok(Compound { inner, depth })
    }

    #[inline]
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        let depth = below(self.depth, 2)?;
        let inner = self
            .inner
            .serialize_struct_variant(name, index, variant, len)?;
        Ok(Compound { inner, depth })
    }

    #[inline]
    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.inner.collect_str(value)
    }

    #[inline]
    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

impl<C: SerializeSeq> SerializeSeq for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        let depth = self.depth;
        self.inner.serialize_element(&At { value, depth })
    }

    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: SerializeTuple> SerializeTuple for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        let depth = self.depth;
        self.inner.serialize_element(&At { value, depth })
    }

    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: SerializeTupleStruct> SerializeTupleStruct for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        let depth = self.depth;
        self.inner.serialize_field(&At { value, depth })
    }

    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: SerializeTupleVariant> SerializeTupleVariant for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        let depth = self.depth;
        self.inner.serialize_field(&At { value, depth })
    }

    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: SerializeMap> SerializeMap for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        let depth = self.depth;
        self.inner.serialize_key(&At { value: key, depth })
    }

    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        let depth = self.depth;
        self.inner.serialize_value(&At { value, depth })
    }

    #[inline]
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), C::Error> {
        let depth = self.depth;
        self.inner
            .serialize_entry(&At { value: key, depth }, &At { value, depth })
    }

    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: SerializeStruct> SerializeStruct for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        let depth = self.depth;
        self.inner.serialize_field(key, &At { value, depth })
    }

    #[inline]
    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        self.inner.skip_field(key)
    }

    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

impl<C: SerializeStructVariant> SerializeStructVariant for Compound<C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), C::Error> {
        let depth = self.depth;
        self.inner.serialize_field(key, &At { value, depth })
    }

    #[inline]
    fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
        self.inner.skip_field(key)
    }

    #[inline]
    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::de::DeserializeOwned;
    use serde::Deserialize;

    use super::*;
    use crate::Codec;

    #[derive(Serialize, Deserialize)]
    enum Newtype {
        Leaf,
        Node(Box<Newtype>),
    }

    #[derive(Serialize, Deserialize)]
    enum Tuple {
        Leaf,
        Node(u8, Box<Tuple>),
    }

    #[derive(Serialize, Deserialize)]
    enum Struct {
        Leaf,
        Node { next: Box<Struct> },
    }

    #[derive(Serialize, Deserialize)]
    struct Link {
        next: Option<Box<Link>>,
    }

    #[derive(Serialize, Deserialize)]
    struct Wrapper(Option<Box<Wrapper>>);

    #[derive(Serialize, Deserialize)]
    struct Rose(Vec<Rose>);

    #[derive(Serialize, Deserialize)]
    struct Map(BTreeMap<u8, Map>);

    /// `leaf` wrapped `levels - 1` times in `node`.
    fn build<T>(levels: usize, leaf: T, node: impl Fn(T) -> T) -> T {
        (1..levels).fold(leaf, |inner, _| node(inner))
    }

    /// The bytes of the codec itself, without [`Bounded`].
    fn plain(codec: Codec, value: &impl Serialize) -> Vec<u8> {
        match codec {
            Codec::Bincode => {
                bincode::serde::encode_to_vec(value, bincode::config::standard()).unwrap()
            }
            Codec::Postcard => postcard::to_allocvec(value).unwrap(),
            Codec::Json => serde_json::to_vec(value).unwrap(),
        }
    }

    /// For values of 1 to 140 levels made by `make`: the writer refuses
    /// exactly what the reader refuses (JSON, whose reader counts fewer
    /// levels, reads everything the writer writes), both say why, and
    /// the limit changes no byte of what is written.
    fn agree<T: Serialize + DeserializeOwned>(make: impl Fn(usize) -> T) {
        for codec in Codec::ALL {
            let mut refused = 0;
            for levels in 1..=140 {
                let value = make(levels);
                let bytes = plain(codec, &value);
                let mut ours = Vec::new();
                let written = codec.encode_into(&value, &mut ours);
                let read = codec.decode::<T>(&bytes).map(drop);
                match (&written, &read, codec) {
                    (Ok(()), Ok(_), _) => assert_eq!(ours, bytes, "{codec} {levels}"),
                    (Err(w), Ok(_), Codec::Json) => assert_eq!(w, TOO_DEEP),
                    (Err(w), Err(r), Codec::Json) => {
                        assert_eq!(w, TOO_DEEP);
                        assert!(r.contains("recursion limit"), "{r}");
                    }
                    (Err(w), Err(r), _) => assert_eq!((w, r), (&TOO_DEEP.into(), &TOO_DEEP.into())),
                    _ => panic!("{codec} at {levels} levels: wrote {written:?}, read {read:?}"),
                }
                refused += usize::from(written.is_err());
            }
            assert!(refused > 0, "{codec}: the limit was never reached");
        }
    }

    #[test]
    fn writers_and_readers_count_alike() {
        agree(|n| build(n, Newtype::Leaf, |x| Newtype::Node(Box::new(x))));
        agree(|n| build(n, Tuple::Leaf, |x| Tuple::Node(7, Box::new(x))));
        agree(|n| build(n, Struct::Leaf, |x| Struct::Node { next: Box::new(x) }));
        agree(|n| {
            build(n, Link { next: None }, |x| Link {
                next: Some(Box::new(x)),
            })
        });
        agree(|n| build(n, Wrapper(None), |x| Wrapper(Some(Box::new(x)))));
        agree(|n| build(n, Rose(vec![]), |x| Rose(vec![x])));
        agree(|n| build(n, Map(BTreeMap::new()), |x| Map([(1, x)].into())));
    }

    /// The exact limit: the deepest value of `Newtype` has 128 levels.
    #[test]
    fn the_limit_is_128_levels() {
        assert!(TOO_DEEP.contains(&MAX_DEPTH.to_string()));
        let make = |n| build(n, Newtype::Leaf, |x| Newtype::Node(Box::new(x)));
        for codec in Codec::ALL {
            let mut out = Vec::new();
            assert!(codec.encode_into(&make(128), &mut out).is_ok(), "{codec}");
            assert!(codec.decode::<Newtype>(&out).is_ok(), "{codec}");
            assert!(codec.encode_into(&make(129), &mut out).is_err(), "{codec}");
        }
    }
}
