//! Decoding a body to JSON from its [`Schema`], without the Rust type: a
//! serde `DeserializeSeed` that asks the codec's deserializer for what the
//! schema says comes next, so one implementation reads bincode and
//! postcard alike (JSON bodies describe themselves and are read as JSON).
//!
//! Hostile bytes cost bounded time and memory: a body may nest at most
//! [`MAX_DEPTH`](crate::nesting::MAX_DEPTH) levels, nothing is reserved
//! from a length the bytes claim, and at most `2 × body length + 64` values
//! are decoded (every value but a unit takes at least one byte, so a real
//! body stays far below; a sequence of a billion `()` in four bytes stops
//! there).

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess};
use serde::de::{VariantAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::schema::{Container, Field, Schema, Shape, VariantShape};
use crate::codec::MAX_BODY_LEN;
use crate::nesting::MAX_DEPTH;
use crate::Codec;

/// Names handed to `deserialize_struct` (bincode and postcard only count
/// them): a struct with more fields than this is not decoded.
static NO_NAMES: [&str; 1024] = [""; 1024];

/// Decode `body`, written with `codec`, to JSON by `schema` (`None`: only
/// JSON bodies decode).
pub(crate) fn body_to_json(
    schema: Option<&Schema>,
    codec: Codec,
    body: &[u8],
) -> Result<Value, String> {
    if body.len() > MAX_BODY_LEN {
        return Err(format!(
            "body of {} bytes is larger than the {MAX_BODY_LEN}-byte limit",
            body.len()
        ));
    }
    if codec == Codec::Json {
        // serde_json refuses nesting past 128 levels by itself.
        return serde_json::from_slice(body).map_err(|e| e.to_string());
    }
    let Some(schema) = schema else {
        return Err("no schema is recorded for this version".into());
    };
    let ctx = Ctx {
        schema,
        failure: RefCell::new(None),
        depth: Cell::new(0),
        budget: Cell::new(2 * body.len() as u64 + 64),
    };
    let seed = Seed {
        ctx: &ctx,
        shape: &schema.root,
    };
    match codec {
        Codec::Bincode => {
            let config = bincode::config::standard().with_limit::<MAX_BODY_LEN>();
            match bincode::serde::seed_decode_from_slice(seed, body, config) {
                Ok((value, used)) if used == body.len() => Ok(value),
                Ok((_, used)) => Err(trailing(body.len(), used)),
                Err(e) => Err(ctx.message(&e)),
            }
        }
        Codec::Postcard => {
            let mut de = postcard::Deserializer::from_bytes(body);
            let value = seed.deserialize(&mut de).map_err(|e| ctx.message(&e))?;
            match de.finalize() {
                Ok([]) => Ok(value),
                Ok(rest) => Err(trailing(body.len(), body.len() - rest.len())),
                Err(e) => Err(e.to_string()),
            }
        }
        Codec::Json => unreachable_json(),
    }
}

#[cold]
fn unreachable_json() -> Result<Value, String> {
    Err("JSON bodies are read without a schema".into())
}

fn trailing(len: usize, used: usize) -> String {
    format!(
        "{} trailing bytes after the value (body is {len} bytes, the value used {used})",
        len - used
    )
}

/// What every seed of one decode shares.
struct Ctx<'s> {
    schema: &'s Schema,
    /// The walk's own reason for failing (postcard replaces the message of
    /// every error raised by a visitor with a fixed one).
    failure: RefCell<Option<String>>,
    depth: Cell<u32>,
    budget: Cell<u64>,
}

impl Ctx<'_> {
    /// A failure of the walk, kept for the final message.
    #[cold]
    fn fail<E: de::Error>(&self, message: String) -> E {
        let e = E::custom(&message);
        *self.failure.borrow_mut() = Some(message);
        e
    }

    /// The message of the codec's error `e`, or the walk's own reason.
    fn message(&self, e: &dyn fmt::Display) -> String {
        self.failure
            .borrow_mut()
            .take()
            .unwrap_or_else(|| e.to_string())
    }

    fn enter<E: de::Error>(&self) -> Result<(), E> {
        let depth = self.depth.get() + 1;
        if depth > MAX_DEPTH {
            return Err(self.fail(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let Some(budget) = self.budget.get().checked_sub(1) else {
            return Err(self.fail("more values than a body of this length can hold".into()));
        };
        self.depth.set(depth);
        self.budget.set(budget);
        Ok(())
    }

    fn leave(&self) {
        self.depth.set(self.depth.get() - 1);
    }

    fn container<E: de::Error>(&self, name: &str) -> Result<&Container, E> {
        self.schema
            .types
            .get(name)
            .ok_or_else(|| self.fail(format!("the schema names `{name}` but does not define it")))
    }
}

#[derive(Clone, Copy)]
struct Seed<'c, 's> {
    ctx: &'c Ctx<'s>,
    shape: &'s Shape,
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.ctx.enter::<D::Error>()?;
        let value = self.shape_value(d);
        self.ctx.leave();
        value
    }
}

impl<'c, 's> Seed<'c, 's> {
    fn with(self, shape: &'s Shape) -> Seed<'c, 's> {
        Seed {
            ctx: self.ctx,
            shape,
        }
    }

    fn shape_value<'de, D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        let v = Leaf;
        match self.shape {
            Shape::Unit => d.deserialize_unit(v),
            Shape::Bool => d.deserialize_bool(v),
            Shape::I8 => d.deserialize_i8(v),
            Shape::I16 => d.deserialize_i16(v),
            Shape::I32 => d.deserialize_i32(v),
            Shape::I64 => d.deserialize_i64(v),
            Shape::I128 => d.deserialize_i128(v),
            Shape::U8 => d.deserialize_u8(v),
            Shape::U16 => d.deserialize_u16(v),
            Shape::U32 => d.deserialize_u32(v),
            Shape::U64 => d.deserialize_u64(v),
            Shape::U128 => d.deserialize_u128(v),
            Shape::F32 => d.deserialize_f32(v),
            Shape::F64 => d.deserialize_f64(v),
            Shape::Char => d.deserialize_char(v),
            Shape::Str => d.deserialize_str(v),
            Shape::Bytes => d.deserialize_bytes(v),
            Shape::Option(inner) => d.deserialize_option(OptionVisitor(self.with(inner))),
            Shape::Seq(inner) => d.deserialize_seq(SeqVisitor(self.with(inner))),
            Shape::Map { key, value } => d.deserialize_map(MapVisitor {
                key: self.with(key),
                value: self.with(value),
            }),
            Shape::Tuple(items) => d.deserialize_tuple(items.len(), TupleVisitor(self, items)),
            Shape::Array { content, size } => d.deserialize_tuple(
                *size,
                ArrayVisitor {
                    seed: self.with(content),
                    size: *size,
                },
            ),
            Shape::Named(name) => match self.ctx.container::<D::Error>(name)? {
                Container::UnitStruct => d.deserialize_unit_struct("", Leaf),
                Container::Newtype(inner) => {
                    d.deserialize_newtype_struct("", NewtypeVisitor(self.with(inner)))
                }
                Container::TupleStruct(items) => {
                    d.deserialize_tuple_struct("", items.len(), TupleVisitor(self, items))
                }
                Container::Struct(fields) => d.deserialize_struct(
                    "",
                    names(self.ctx, fields.len())?,
                    StructVisitor(self, fields),
                ),
                Container::Enum(variants) => {
                    d.deserialize_enum("", &[], EnumVisitor(self, variants))
                }
            },
        }
    }
}

fn names<E: de::Error>(ctx: &Ctx<'_>, n: usize) -> Result<&'static [&'static str], E> {
    NO_NAMES.get(..n).ok_or_else(|| {
        ctx.fail(format!(
            "a struct of {n} fields (more than {} are not decoded)",
            NO_NAMES.len()
        ))
    })
}

/// Primitive values.
struct Leaf;

impl<'de> Visitor<'de> for Leaf {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value of the schema's shape")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        // Beyond 64 bits: the decimal text, as JSON numbers lose precision.
        Ok(i64::try_from(v).map_or_else(|_| Value::String(v.to_string()), Value::from))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(u64::try_from(v).map_or_else(|_| Value::String(v.to_string()), Value::from))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // NaN and infinities have no JSON number: null, as serde_json writes.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_char<E>(self, v: char) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_bytes<E>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Array(v.iter().map(|&b| Value::from(b)).collect()))
    }
}

struct OptionVisitor<'c, 's>(Seed<'c, 's>);

impl<'de> Visitor<'de> for OptionVisitor<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an option")
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.0.deserialize(d)
    }
}

struct NewtypeVisitor<'c, 's>(Seed<'c, 's>);

impl<'de> Visitor<'de> for NewtypeVisitor<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a newtype struct")
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        self.0.deserialize(d)
    }
}

struct SeqVisitor<'c, 's>(Seed<'c, 's>);

impl<'de> Visitor<'de> for SeqVisitor<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // No capacity from the length the bytes claim.
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.0)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
}

/// A tuple or tuple struct: exactly one value per shape.
struct TupleVisitor<'c, 's>(Seed<'c, 's>, &'s [Shape]);

impl<'de> Visitor<'de> for TupleVisitor<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a tuple of {}", self.1.len())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        for (i, shape) in self.1.iter().enumerate() {
            match seq.next_element_seed(self.0.with(shape))? {
                Some(v) => out.push(v),
                None => return Err(de::Error::invalid_length(i, &self)),
            }
        }
        Ok(Value::Array(out))
    }
}

struct ArrayVisitor<'c, 's> {
    seed: Seed<'c, 's>,
    size: usize,
}

impl<'de> Visitor<'de> for ArrayVisitor<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of {}", self.size)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        for i in 0..self.size {
            match seq.next_element_seed(self.seed)? {
                Some(v) => out.push(v),
                None => return Err(de::Error::invalid_length(i, &self)),
            }
        }
        Ok(Value::Array(out))
    }
}

struct StructVisitor<'c, 's>(Seed<'c, 's>, &'s [Field]);

impl<'de> Visitor<'de> for StructVisitor<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a struct of {} fields", self.1.len())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        for (i, field) in self.1.iter().enumerate() {
            match seq.next_element_seed(self.0.with(&field.shape))? {
                Some(v) => {
                    out.insert(field.name.clone(), v);
                }
                None => return Err(de::Error::invalid_length(i, &self)),
            }
        }
        Ok(Value::Object(out))
    }
}

/// A map: a JSON object when every key decodes to a string, else an array
/// of `[key, value]` pairs.
struct MapVisitor<'c, 's> {
    key: Seed<'c, 's>,
    value: Seed<'c, 's>,
}

impl<'de> Visitor<'de> for MapVisitor<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut pairs = Vec::new();
        while let Some(k) = map.next_key_seed(self.key)? {
            let v = map.next_value_seed(self.value)?;
            pairs.push((k, v));
        }
        if pairs.iter().all(|(k, _)| k.is_string()) {
            let mut out = Map::new();
            for (k, v) in pairs {
                if let Value::String(k) = k {
                    out.insert(k, v);
                }
            }
            Ok(Value::Object(out))
        } else {
            Ok(Value::Array(
                pairs
                    .into_iter()
                    .map(|(k, v)| Value::Array(vec![k, v]))
                    .collect(),
            ))
        }
    }
}

struct EnumVisitor<'c, 's>(Seed<'c, 's>, &'s [super::schema::Variant]);

/// Reads a variant's index (bincode and postcard write it as an integer).
struct VariantIndex;

impl<'de> DeserializeSeed<'de> for VariantIndex {
    type Value = u64;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for VariantIndex {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a variant index")
    }
    fn visit_u64<E>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }
}

impl<'de> Visitor<'de> for EnumVisitor<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an enum")
    }
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (index, access) = data.variant_seed(VariantIndex)?;
        let Some(variant) = self.1.iter().find(|v| u64::from(v.index) == index) else {
            return Err(self
                .0
                .ctx
                .fail(format!("variant index {index} is not in the schema")));
        };
        let seed = self.0;
        let inner = match &variant.shape {
            VariantShape::Unit => {
                access.unit_variant()?;
                return Ok(Value::String(variant.name.clone()));
            }
            VariantShape::Newtype(shape) => access.newtype_variant_seed(seed.with(shape))?,
            VariantShape::Tuple(items) => {
                access.tuple_variant(items.len(), TupleVisitor(seed, items))?
            }
            VariantShape::Struct(fields) => access
                .struct_variant(names(seed.ctx, fields.len())?, StructVisitor(seed, fields))?,
        };
        // Externally tagged, as serde_json writes an enum.
        let mut out = Map::new();
        out.insert(variant.name.clone(), inner);
        Ok(Value::Object(out))
    }
}
