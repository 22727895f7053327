//! Whether bincode and postcard can read a type back: a check of the type,
//! not of a value, made before a typed handle first writes with either.
//!
//! bincode and postcard write values by position, without field names or
//! type tags, so they cannot serve the serde calls with which a type looks
//! at its input to learn what it holds: `deserialize_any` (used by
//! `serde_json::Value`, `#[serde(flatten)]`, untagged and internally tagged
//! enums), `deserialize_ignored_any` and `deserialize_identifier`. They
//! encode such values without complaint (flatten aside), and every later
//! read fails. `#[derive(Record)]` refuses the serde attributes it sees on
//! the record itself; the types of its fields are out of its sight.
//!
//! [`shape_of`] decodes the type from a [`Probe`]: a deserializer that
//! behaves as bincode's and postcard's do — not human-readable, structs and
//! tuples read as sequences, enums by variant index, the same three calls
//! unsupported — over input it makes up: a small value for each number,
//! string and byte string, one element for each sequence and map, `Some`
//! for each option. A call it does not support, reached this way, is
//! reached by some input of the real codecs too: [`Shape::SelfDescribing`].
//! Decoding is repeated, with other enum variants, until every variant of
//! every enum reached has been decoded to the end (each enum, at each place
//! in the value, tries its variants in order; a variant is done when
//! nothing below it has variants left to try).
//!
//! Recursive types would make that endless. Below a type that already
//! encloses itself twice (types are known by their serde names), or below
//! [`EXPAND_DEPTH`] levels, the probe makes the smallest choices instead:
//! `None`, empty sequences and maps, and the first variant not known to
//! recurse without end. A variant found to recurse past [`MAX_PROBE_DEPTH`]
//! is marked so and the pass repeated.
//!
//! The probe offers few values, so a `Deserialize` written by hand that
//! decides what to read next from a value it read (a tag byte of its own,
//! say) is explored only along the values offered.
//!
//! What the probe cannot tell is [`Shape::Unknown`]: a `Deserialize` that
//! refuses every value the probe offers at some field (it tries a few:
//! 0 and 1, empty and 16-byte byte strings, strings such as `""`, `"0"`, a
//! date, a UUID) stops the pass there, and what follows that field is not
//! seen; so does a type too large to explore. The writer then checks each
//! value instead, by decoding it back before writing it (see
//! `payload.rs`). Two instances of one generic type share their serde name,
//! so the limit on a type enclosing itself also applies to, say,
//! `Wrapper<Wrapper<Wrapper<T>>>`: the third level sees `None` and empty
//! sequences only.

use std::collections::HashMap;
use std::fmt;

use serde::de::value::U32Deserializer;
use serde::de::{
    DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess,
    SeqAccess, VariantAccess, Visitor,
};

/// What [`shape_of`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    /// bincode and postcard decode every part of the type the probe
    /// reached.
    Positional,
    /// Decoding calls this method, which bincode and postcard do not have.
    SelfDescribing(&'static str),
    /// The probe could not explore the type, for this reason.
    Unknown(String),
}

/// Below this depth, or below a type enclosing itself [`SAME_NAME`] times,
/// the probe makes the smallest choices.
const EXPAND_DEPTH: u32 = 32;

/// A type already enclosing itself this many times is not expanded further.
const SAME_NAME: usize = 2;

/// A pass deeper than this has recursed without end.
const MAX_PROBE_DEPTH: u32 = 96;

/// Calls one pass may make, and all passes together.
const PASS_CALLS: usize = 100_000;
const TOTAL_CALLS: usize = 1_000_000;

/// Passes at most (each tries at least one new variant).
const MAX_PASSES: usize = 1_000;

/// The values offered, in order, until one is accepted.
const NUMBERS: [u8; 2] = [0, 1];
const BOOLS: [bool; 2] = [false, true];
const CHARS: [char; 2] = ['a', '0'];
const STRS: [&str; 6] = [
    "",
    "0",
    "1970-01-01T00:00:00Z",
    "1970-01-01T00:00:00",
    "1970-01-01",
    "00000000-0000-0000-0000-000000000000",
];
const BYTES: [&[u8]; 2] = [&[], &[0; 16]];

/// The place of the top-level value (places below it are hashed from their
/// parent's and their index: see [`place_of`]).
const ROOT: u64 = 0x6461_7461_7761_6c31;

/// Find out whether bincode and postcard can decode every value of `T`.
///
/// A `Deserialize` that panics on the made-up input makes the answer
/// [`Shape::Unknown`] (the panic is caught, and its message printed by the
/// panic hook as usual), so that the check never panics a writer.
pub(crate) fn shape_of<T: DeserializeOwned>() -> Shape {
    std::panic::catch_unwind(explore::<T>).unwrap_or_else(|_| {
        Shape::Unknown("its `Deserialize` panicked during the check".to_owned())
    })
}

fn explore<T: DeserializeOwned>() -> Shape {
    let mut ex = Explorer::default();
    for _ in 0..MAX_PASSES {
        ex.start_pass();
        let result = T::deserialize(Probe::new(&mut ex, 1, ROOT, false)).map(drop);
        if let Some(method) = ex.found {
            return Shape::SelfDescribing(method);
        }
        match result {
            Ok(()) if ex.open == 0 => return Shape::Positional,
            Ok(()) => {}
            Err(ProbeError::TooDeep) => match ex.blame.take() {
                Some((id, variant)) => ex.mark_endless(id, variant),
                None => {
                    return Shape::Unknown(format!(
                        "the check found no value of it within {MAX_PROBE_DEPTH} levels"
                    ))
                }
            },
            Err(ProbeError::Refused(message)) => {
                if !ex.next_candidate() {
                    return Shape::Unknown(format!(
                        "the check could not build a value of it ({message})"
                    ));
                }
            }
            Err(ProbeError::Budget) => {
                return Shape::Unknown("it is too large for the check to explore".to_owned())
            }
            Err(ProbeError::Unsupported(method)) => return Shape::SelfDescribing(method),
        }
        if ex.total_calls > TOTAL_CALLS {
            break;
        }
    }
    Shape::Unknown("it is too large for the check to explore".to_owned())
}

/// An enum, by serde name and variant names.
type EnumId = (&'static str, &'static [&'static str]);

/// What the passes learn, and the state of the current one.
#[derive(Default)]
struct Explorer {
    /// The enums met, by place: which variants were tried, which done.
    places: HashMap<u64, Variants>,
    /// Variants that recursed without end when chosen as the smallest.
    endless: HashMap<EnumId, Vec<bool>>,
    /// Which offered value to use at a place (after refusals).
    candidates: HashMap<u64, usize>,
    total_calls: usize,

    // The current pass:
    /// The unsupported method reached, if any.
    found: Option<&'static str>,
    /// Enums met with variants left to try or not done.
    open: usize,
    calls: usize,
    /// The named types being decoded, outermost first.
    names: Vec<&'static str>,
    /// The smallest-choice variants being decoded, outermost first.
    smallest: Vec<(EnumId, usize)>,
    /// The innermost smallest choice when the pass went too deep.
    blame: Option<(EnumId, usize)>,
    /// The first place whose value was refused, and how many values it has.
    refused: Option<(u64, usize)>,
    /// The last place a value was offered, and how many values it has: the
    /// likeliest cause of a refusal that came later (a length or a
    /// conversion checked once the value was read).
    last_offer: Option<(u64, usize)>,
}

impl Explorer {
    fn start_pass(&mut self) {
        self.found = None;
        self.open = 0;
        self.calls = 0;
        self.names.clear();
        self.smallest.clear();
        self.blame = None;
        self.refused = None;
        self.last_offer = None;
    }

    /// Offer the next value where the last pass was refused (or, if no
    /// value was refused as it was offered, at the last place offered one);
    /// `false` when there is none left.
    fn next_candidate(&mut self) -> bool {
        let Some((place, count)) = self.refused.or(self.last_offer) else {
            return false;
        };
        let index = self.candidates.entry(place).or_insert(0);
        if *index + 1 >= count {
            return false;
        }
        *index += 1;
        true
    }

    fn mark_endless(&mut self, id: EnumId, variant: usize) {
        let marks = self
            .endless
            .entry(id)
            .or_insert_with(|| vec![false; id.1.len()]);
        marks[variant] = true;
    }

    /// The first variant of `id` not known to recurse without end.
    fn smallest_variant(&self, id: EnumId) -> Option<usize> {
        match self.endless.get(&id) {
            Some(marks) => marks.iter().position(|endless| !endless),
            None => Some(0),
        }
    }
}

/// The variants of an enum at one place.
struct Variants {
    tried: Vec<bool>,
    done: Vec<bool>,
}

impl Variants {
    fn new(count: usize) -> Variants {
        Variants {
            tried: vec![false; count],
            done: vec![false; count],
        }
    }

    /// The next variant to decode: one not tried, else one not done.
    fn choose(&mut self) -> usize {
        let choice = (self.tried.iter().position(|t| !t))
            .or_else(|| self.done.iter().position(|d| !d))
            .unwrap_or(0);
        self.tried[choice] = true;
        choice
    }

    fn all_done(&self) -> bool {
        self.done.iter().all(|d| *d)
    }
}

/// The place of the `index`th value below the value at `parent`.
fn place_of(parent: u64, index: u64) -> u64 {
    // splitmix64's finalizer over the pair.
    let mut z = parent ^ index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Why a pass stopped.
#[derive(Debug)]
enum ProbeError {
    /// A method bincode and postcard do not have.
    Unsupported(&'static str),
    /// Deeper than [`MAX_PROBE_DEPTH`].
    TooDeep,
    /// More calls than [`PASS_CALLS`].
    Budget,
    /// The type refused a value (its message).
    Refused(String),
}

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeError::Unsupported(method) => write!(f, "`{method}` is not supported"),
            ProbeError::TooDeep => f.write_str("too deep"),
            ProbeError::Budget => f.write_str("too many calls"),
            ProbeError::Refused(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ProbeError {}

impl serde::de::Error for ProbeError {
    fn custom<M: fmt::Display>(message: M) -> ProbeError {
        ProbeError::Refused(message.to_string())
    }
}

/// The deserializer of the value at `place`, `depth` levels down.
struct Probe<'a> {
    ex: &'a mut Explorer,
    depth: u32,
    place: u64,
    /// Make the smallest choices.
    smallest: bool,
}

impl<'a> Probe<'a> {
    fn new(ex: &'a mut Explorer, depth: u32, place: u64, smallest: bool) -> Probe<'a> {
        Probe {
            ex,
            depth,
            place,
            smallest: smallest || depth > EXPAND_DEPTH,
        }
    }

    /// Count the call; stop a pass that is too deep or too long.
    fn enter(&mut self) -> Result<(), ProbeError> {
        self.ex.calls += 1;
        self.ex.total_calls += 1;
        if self.ex.calls > PASS_CALLS {
            return Err(ProbeError::Budget);
        }
        if self.depth > MAX_PROBE_DEPTH {
            if self.ex.blame.is_none() {
                self.ex.blame = self.ex.smallest.last().copied();
            }
            return Err(ProbeError::TooDeep);
        }
        Ok(())
    }

    /// Enter the named type `name` (left with `self.ex.names.pop()`).
    fn enter_named(&mut self, name: &'static str) -> Result<(), ProbeError> {
        self.enter()?;
        if self.ex.names.iter().filter(|n| **n == name).count() >= SAME_NAME {
            self.smallest = true;
        }
        self.ex.names.push(name);
        Ok(())
    }

    /// The deserializer of the `index`th value below this one.
    fn below(&mut self, index: u64) -> Probe<'_> {
        Probe::new(
            self.ex,
            self.depth + 1,
            place_of(self.place, index),
            self.smallest,
        )
    }

    /// `len` values below this one, `levels` down.
    fn elements(&mut self, len: usize, levels: u32) -> Elements<'_> {
        Elements {
            ex: self.ex,
            depth: self.depth + levels,
            place: self.place,
            smallest: self.smallest,
            len,
            next: 0,
        }
    }

    /// Which of `count` offered values to use here.
    fn pick(&self, count: usize) -> usize {
        let index = self.ex.candidates.get(&self.place).copied().unwrap_or(0);
        index.min(count - 1)
    }

    /// Note where a value was refused, so the next pass offers another.
    fn offered<V>(self, count: usize, result: Result<V, ProbeError>) -> Result<V, ProbeError> {
        self.ex.last_offer = Some((self.place, count));
        if result.is_err() && self.ex.refused.is_none() {
            self.ex.refused = Some((self.place, count));
        }
        result
    }

    fn unsupported<V>(self, method: &'static str) -> Result<V, ProbeError> {
        self.ex.found.get_or_insert(method);
        Err(ProbeError::Unsupported(method))
    }

    /// The enum `id` at this place: the variant to decode.
    fn choose(&mut self, id: EnumId) -> Result<usize, ProbeError> {
        if self.smallest {
            return self.ex.smallest_variant(id).ok_or_else(|| {
                ProbeError::Refused(format!("every variant of `{}` recurses", id.0))
            });
        }
        let count = id.1.len();
        let variants = (self.ex.places)
            .entry(self.place)
            .or_insert_with(|| Variants::new(count));
        if variants.tried.len() != count {
            // Another enum at this place than in an earlier pass.
            *variants = Variants::new(count);
        }
        Ok(variants.choose())
    }
}

macro_rules! offer {
    ($($method:ident => $visit:ident($values:ident as $ty:ty)),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ProbeError> {
            self.enter()?;
            let i = self.pick($values.len());
            let result = visitor.$visit($values[i] as $ty);
            self.offered($values.len(), result)
        }
    )*};
}

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = ProbeError;

    offer!(
        deserialize_bool => visit_bool(BOOLS as bool),
        deserialize_i8 => visit_i8(NUMBERS as i8),
        deserialize_i16 => visit_i16(NUMBERS as i16),
        deserialize_i32 => visit_i32(NUMBERS as i32),
        deserialize_i64 => visit_i64(NUMBERS as i64),
        deserialize_i128 => visit_i128(NUMBERS as i128),
        deserialize_u8 => visit_u8(NUMBERS as u8),
        deserialize_u16 => visit_u16(NUMBERS as u16),
        deserialize_u32 => visit_u32(NUMBERS as u32),
        deserialize_u64 => visit_u64(NUMBERS as u64),
        deserialize_u128 => visit_u128(NUMBERS as u128),
        deserialize_f32 => visit_f32(NUMBERS as f32),
        deserialize_f64 => visit_f64(NUMBERS as f64),
        deserialize_char => visit_char(CHARS as char),
        deserialize_str => visit_borrowed_str(STRS as &'de str),
        deserialize_bytes => visit_borrowed_bytes(BYTES as &'de [u8]),
    );

    fn deserialize_string<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ProbeError> {
        self.enter()?;
        let i = self.pick(STRS.len());
        let result = visitor.visit_string(STRS[i].to_owned());
        self.offered(STRS.len(), result)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ProbeError> {
        self.enter()?;
        let i = self.pick(BYTES.len());
        let result = visitor.visit_byte_buf(BYTES[i].to_vec());
        self.offered(BYTES.len(), result)
    }

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, ProbeError> {
        self.unsupported("deserialize_any")
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, ProbeError> {
        self.unsupported("deserialize_ignored_any")
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, _: V) -> Result<V::Value, ProbeError> {
        self.unsupported("deserialize_identifier")
    }

    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ProbeError> {
        self.enter()?;
        if self.smallest {
            visitor.visit_none()
        } else {
            visitor.visit_some(self.below(0))
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ProbeError> {
        self.enter()?;
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        mut self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.enter()?;
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.enter_named(name)?;
        let result = visitor.visit_newtype_struct(self.below(0));
        self.ex.names.pop();
        result
    }

    fn deserialize_seq<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ProbeError> {
        self.enter()?;
        let len = usize::from(!self.smallest);
        visitor.visit_seq(self.elements(len, 1))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        mut self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.enter()?;
        visitor.visit_seq(self.elements(len, 1))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.enter_named(name)?;
        let result = visitor.visit_seq(self.elements(len, 1));
        self.ex.names.pop();
        result
    }

    fn deserialize_map<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, ProbeError> {
        self.enter()?;
        let len = usize::from(!self.smallest);
        visitor.visit_map(self.elements(len, 1))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        self.enter_named(name)?;
        let result = visitor.visit_seq(self.elements(fields.len(), 1));
        self.ex.names.pop();
        result
    }

    fn deserialize_enum<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        if variants.is_empty() {
            return Err(ProbeError::Refused(format!("`{name}` has no variants")));
        }
        self.enter_named(name)?;
        let id = (name, variants);
        let result = match self.choose(id) {
            Ok(choice) => self.decode_variant(id, choice, visitor),
            Err(e) => Err(e),
        };
        self.ex.names.pop();
        result
    }

    fn is_human_readable(&self) -> bool {
        false
    }
}

impl Probe<'_> {
    /// Decode variant `choice` of the enum `id` at this place, and record
    /// what that taught.
    fn decode_variant<'de, V: Visitor<'de>>(
        &mut self,
        id: EnumId,
        choice: usize,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        if self.smallest {
            self.ex.smallest.push((id, choice));
        }
        let open = self.ex.open;
        let variant = VariantProbe {
            probe: Probe {
                ex: &mut *self.ex,
                depth: self.depth,
                place: place_of(self.place, choice as u64),
                smallest: self.smallest,
            },
            index: choice,
        };
        let result = visitor.visit_enum(variant);
        if self.smallest {
            self.ex.smallest.pop();
            return result;
        }
        let nothing_left_below = self.ex.open == open;
        if let Some(variants) = self.ex.places.get_mut(&self.place) {
            if result.is_ok() && nothing_left_below {
                variants.done[choice] = true;
            }
            if !variants.all_done() {
                self.ex.open += 1;
            }
        }
        result
    }
}

/// The values of a sequence, tuple, struct or map (keys and values
/// alternate), at `depth`.
struct Elements<'a> {
    ex: &'a mut Explorer,
    depth: u32,
    place: u64,
    smallest: bool,
    len: usize,
    next: usize,
}

impl Elements<'_> {
    fn probe(&mut self, index: usize) -> Probe<'_> {
        Probe::new(
            self.ex,
            self.depth,
            place_of(self.place, index as u64),
            self.smallest,
        )
    }
}

impl<'de> SeqAccess<'de> for Elements<'_> {
    type Error = ProbeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ProbeError> {
        if self.next == self.len {
            return Ok(None);
        }
        self.next += 1;
        seed.deserialize(self.probe(self.next - 1)).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len - self.next)
    }
}

impl<'de> MapAccess<'de> for Elements<'_> {
    type Error = ProbeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ProbeError> {
        if self.next == self.len {
            return Ok(None);
        }
        self.next += 1;
        seed.deserialize(self.probe(2 * self.next - 2)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ProbeError> {
        seed.deserialize(self.probe(2 * self.next.max(1) - 1))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len - self.next)
    }
}

/// The variant `index` of an enum, whose data is below `probe`'s place.
struct VariantProbe<'a> {
    probe: Probe<'a>,
    index: usize,
}

impl<'de, 'a> EnumAccess<'de> for VariantProbe<'a> {
    type Error = ProbeError;
    type Variant = Probe<'a>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Probe<'a>), ProbeError> {
        let index = u32::try_from(self.index)
            .map_err(|_| ProbeError::Refused("too many variants".to_owned()))?;
        let index: U32Deserializer<ProbeError> = index.into_deserializer();
        Ok((seed.deserialize(index)?, self.probe))
    }
}

impl<'de> VariantAccess<'de> for Probe<'_> {
    type Error = ProbeError;

    fn unit_variant(self) -> Result<(), ProbeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        mut self,
        seed: T,
    ) -> Result<T::Value, ProbeError> {
        seed.deserialize(self.below(0))
    }

    fn tuple_variant<V: Visitor<'de>>(
        mut self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        visitor.visit_seq(self.elements(len, 2))
    }

    fn struct_variant<V: Visitor<'de>>(
        mut self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ProbeError> {
        visitor.visit_seq(self.elements(fields.len(), 2))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};
    use std::marker::PhantomData;
    use std::net::IpAddr;
    use std::num::NonZeroU32;
    use std::time::{Duration, SystemTime};

    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    use super::*;

    fn positional<T: DeserializeOwned>() {
        assert_eq!(
            shape_of::<T>(),
            Shape::Positional,
            "{}",
            std::any::type_name::<T>()
        );
    }

    fn needs<T: DeserializeOwned>(method: &str) {
        assert_eq!(
            shape_of::<T>(),
            Shape::SelfDescribing(match method {
                "deserialize_any" => "deserialize_any",
                "deserialize_identifier" => "deserialize_identifier",
                _ => "deserialize_ignored_any",
            }),
            "{}",
            std::any::type_name::<T>()
        );
    }

    fn unknown<T: DeserializeOwned>() -> String {
        match shape_of::<T>() {
            Shape::Unknown(reason) => reason,
            other => panic!("{}: {other:?}", std::any::type_name::<T>()),
        }
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Plain {
        id: u64,
        name: String,
        tags: Vec<String>,
        map: HashMap<String, (u8, i128)>,
        maybe: Option<Box<str>>,
        bytes: [u8; 4],
        at: Duration,
        when: SystemTime,
        ip: IpAddr,
        unit: (),
        marker: PhantomData<u8>,
        floats: (f32, f64, char, bool),
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    enum Shapes {
        Unit,
        Newtype(u32),
        Tuple(u8, String),
        Struct { a: Option<Vec<Shapes>> },
    }

    /// Recursive through a variant, an option and a sequence; mutually
    /// recursive; recursive through its first variant.
    #[derive(Deserialize)]
    #[allow(dead_code)]
    enum Nest {
        Leaf,
        Node(Box<Nest>),
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Link {
        next: Option<Box<Link>>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Tree {
        left: Option<Box<Tree>>,
        right: Option<Box<Tree>>,
        children: Vec<Tree>,
        by_name: BTreeMap<String, Tree>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    enum Expr {
        Neg(Box<Expr>),
        Add(Box<Expr>, Box<Term>),
        Lit(i64),
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    enum Term {
        Paren(Box<Expr>),
        Num(u8),
    }

    #[derive(Deserialize)]
    #[serde(transparent)]
    #[allow(dead_code)]
    struct Rose(Vec<Rose>);

    #[test]
    fn positional_types_are_positional() {
        positional::<u64>();
        positional::<String>();
        positional::<Plain>();
        positional::<Shapes>();
        positional::<Vec<Option<Shapes>>>();
        positional::<Nest>();
        positional::<Link>();
        positional::<Tree>();
        positional::<Expr>();
        positional::<Rose>();
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct WithValue {
        id: u64,
        v: Value,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        a: u8,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Flat {
        #[serde(flatten)]
        inner: Inner,
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    #[allow(dead_code)]
    enum Untagged {
        A(u8),
    }

    #[derive(Deserialize)]
    #[serde(tag = "t")]
    #[allow(dead_code)]
    enum Internal {
        A { x: u8 },
    }

    #[derive(Deserialize)]
    #[serde(tag = "t", content = "c")]
    #[allow(dead_code)]
    enum Adjacent {
        A(u8),
    }

    /// The `Value` is in the third variant of an enum two levels down, in a
    /// recursive type, behind a sequence and an option.
    #[derive(Deserialize)]
    #[allow(dead_code)]
    enum Deep {
        Stop,
        More(Vec<Option<Deep>>),
        Odd { v: Value },
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct HoldsDeep {
        a: u8,
        b: Box<Deep>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Ignores {
        skipped: serde::de::IgnoredAny,
    }

    #[test]
    fn types_needing_a_self_describing_format_are_found() {
        needs::<Value>("deserialize_any");
        needs::<WithValue>("deserialize_any");
        needs::<Flat>("deserialize_identifier");
        needs::<Untagged>("deserialize_any");
        needs::<Internal>("deserialize_any");
        needs::<Adjacent>("deserialize_identifier");
        needs::<Vec<Option<Untagged>>>("deserialize_any");
        needs::<HashMap<String, Value>>("deserialize_any");
        needs::<HoldsDeep>("deserialize_any");
        needs::<Ignores>("deserialize_ignored_any");
    }

    /// Types that refuse the first value offered: the next ones are tried.
    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Picky {
        n: NonZeroU32,
        uuid: SixteenBytes,
        at: Rfc3339,
        then: Value,
    }

    struct SixteenBytes;

    impl<'de> Deserialize<'de> for SixteenBytes {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let bytes = <&[u8]>::deserialize(d)?;
            if bytes.len() == 16 {
                Ok(SixteenBytes)
            } else {
                Err(serde::de::Error::invalid_length(bytes.len(), &"16 bytes"))
            }
        }
    }

    struct Rfc3339;

    impl<'de> Deserialize<'de> for Rfc3339 {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let s = <&str>::deserialize(d)?;
            if s.len() == 20 && s.ends_with('Z') {
                Ok(Rfc3339)
            } else {
                Err(serde::de::Error::custom("not a timestamp"))
            }
        }
    }

    #[test]
    fn refused_values_are_replaced_by_the_next_ones() {
        needs::<Picky>("deserialize_any");
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Endless {
        next: Box<Endless>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code)]
    enum AllEndless {
        A(Box<AllEndless>),
        B(Box<AllEndless>, u8),
    }

    #[derive(Deserialize)]
    enum Never {}

    #[derive(Deserialize)]
    #[serde(try_from = "String")]
    #[allow(dead_code)]
    struct Email(String);

    impl TryFrom<String> for Email {
        type Error = String;
        fn try_from(s: String) -> Result<Email, String> {
            if s.contains('@') {
                Ok(Email(s))
            } else {
                Err(format!("`{s}` is not an e-mail address"))
            }
        }
    }

    /// A `Deserialize` that panics on a value the probe offers.
    struct Panicky;

    impl<'de> Deserialize<'de> for Panicky {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let n = u8::deserialize(d)?;
            assert!(n != 0, "zero");
            Ok(Panicky)
        }
    }

    #[test]
    fn what_the_probe_cannot_build_is_unknown() {
        assert!(unknown::<Panicky>().contains("panicked"));
        assert!(unknown::<Endless>().contains("no value"));
        assert!(unknown::<AllEndless>().contains("recurses"));
        let reason = unknown::<Email>();
        assert!(reason.contains("not an e-mail address"), "{reason}");
        assert!(unknown::<Never>().contains("no variants"));
    }

    /// The probe's own recursion stays shallow: a thread of 256 KiB (an
    /// eighth of a test thread's) probes recursive types.
    #[test]
    fn the_probe_fits_in_a_small_stack() {
        std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| {
                positional::<Expr>();
                positional::<Tree>();
                unknown::<Endless>();
                needs::<HoldsDeep>("deserialize_any");
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
