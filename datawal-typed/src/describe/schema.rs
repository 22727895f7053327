//! Schemas: the shape of a record body, detailed enough to decode it
//! without the Rust type; found by tracing the type through its
//! `Deserialize` with the `serde-reflection` crate.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_reflection::{ContainerFormat, Format, Samples, Tracer, TracerConfig, VariantFormat};

/// The shape of one value in a body, as serde sees it. In the description
/// file each is a JSON string (`"u64"`) or a one-key object
/// (`{"option": "str"}`); see `docs/canon-typed.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Shape {
    /// `()`.
    Unit,
    /// `bool`.
    Bool,
    /// `i8`.
    I8,
    /// `i16`.
    I16,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `i128`.
    I128,
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `u128`.
    U128,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `char`.
    Char,
    /// A string.
    Str,
    /// A byte string (`serde_bytes` and the like).
    Bytes,
    /// An `Option` of the shape.
    Option(Box<Shape>),
    /// A sequence (`Vec`, sets, …).
    Seq(Box<Shape>),
    /// A map.
    Map {
        /// The keys' shape.
        key: Box<Shape>,
        /// The values' shape.
        value: Box<Shape>,
    },
    /// A tuple.
    Tuple(Vec<Shape>),
    /// A fixed-size array `[content; size]`.
    Array {
        /// The elements' shape.
        content: Box<Shape>,
        /// The number of elements.
        size: usize,
    },
    /// A struct or enum, by its serde name in [`Schema::types`].
    Named(String),
}

/// The shape of a named struct or enum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Container {
    /// `struct S;`
    UnitStruct,
    /// `struct S(T);`
    Newtype(Shape),
    /// `struct S(A, B);`
    TupleStruct(Vec<Shape>),
    /// `struct S { a: A }`, fields in declaration order.
    Struct(Vec<Field>),
    /// An enum, variants by ascending index.
    Enum(Vec<Variant>),
}

/// A named field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Field {
    /// The field's serde name.
    pub name: String,
    /// Its shape.
    pub shape: Shape,
}

/// An enum variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Variant {
    /// The index bincode and postcard write.
    pub index: u32,
    /// The serde name JSON writes.
    pub name: String,
    /// What the variant holds.
    pub shape: VariantShape,
}

/// What an enum variant holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum VariantShape {
    /// Nothing.
    Unit,
    /// One value.
    Newtype(Shape),
    /// Several values by position.
    Tuple(Vec<Shape>),
    /// Named fields.
    Struct(Vec<Field>),
}

/// The schema of one (type, version): the body's root shape and every
/// struct or enum it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Schema {
    /// The shape of the whole body.
    pub root: Shape,
    /// Named containers, by serde name.
    pub types: BTreeMap<String, Container>,
}

/// How many times a type is traced before its enums count as incomplete,
/// once the first attempt (one pass: enough for a type without nested
/// enums) found nested enums.
const TRACE_PASSES: usize = 64;
/// How many fresh tracers are tried (each learns which nested enums the
/// last one left incomplete).
const TRACE_ATTEMPTS: usize = 8;

/// The schema of `T`, or why it has none (a type whose `Deserialize` needs
/// a self-describing format, such as `serde_json::Value` or an untagged
/// enum; a generic type used with two different parameters under one serde
/// name; more enum variants than the tracer explores).
pub(crate) fn trace<T: DeserializeOwned>() -> Result<Schema, String> {
    let samples = Samples::new();
    let mut incomplete: Vec<String> = Vec::new();
    for attempt in 0..TRACE_ATTEMPTS {
        let mut tracer = Tracer::new(TracerConfig::default());
        let mut root = Format::Unit;
        let passes = if attempt == 0 { 1 } else { TRACE_PASSES };
        for _ in 0..passes {
            // Each pass explores one more variant of every enum it meets;
            // forgetting that nested enums are incomplete lets the next pass
            // go past their first variant.
            root = tracer
                .trace_type::<T>(&samples)
                .map_err(|e| e.to_string())?
                .0;
            for name in &incomplete {
                tracer.check_incomplete_enum(name);
            }
        }
        match tracer.registry() {
            Ok(registry) => {
                let mut types = BTreeMap::new();
                for (name, container) in registry {
                    types.insert(name, container_of(&container)?);
                }
                return Ok(Schema {
                    root: shape_of(&root)?,
                    types,
                });
            }
            Err(serde_reflection::Error::MissingVariants(names)) => incomplete.extend(names),
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!(
        "enums not fully traced after {TRACE_ATTEMPTS} attempts: {}",
        incomplete.join(", ")
    ))
}

fn shape_of(format: &Format) -> Result<Shape, String> {
    Ok(match format {
        Format::Variable(_) => return Err("a shape the tracer could not determine".into()),
        Format::TypeName(name) => Shape::Named(name.clone()),
        Format::Unit => Shape::Unit,
        Format::Bool => Shape::Bool,
        Format::I8 => Shape::I8,
        Format::I16 => Shape::I16,
        Format::I32 => Shape::I32,
        Format::I64 => Shape::I64,
        Format::I128 => Shape::I128,
        Format::U8 => Shape::U8,
        Format::U16 => Shape::U16,
        Format::U32 => Shape::U32,
        Format::U64 => Shape::U64,
        Format::U128 => Shape::U128,
        Format::F32 => Shape::F32,
        Format::F64 => Shape::F64,
        Format::Char => Shape::Char,
        Format::Str => Shape::Str,
        Format::Bytes => Shape::Bytes,
        Format::Option(inner) => Shape::Option(Box::new(shape_of(inner)?)),
        Format::Seq(inner) => Shape::Seq(Box::new(shape_of(inner)?)),
        Format::Map { key, value } => Shape::Map {
            key: Box::new(shape_of(key)?),
            value: Box::new(shape_of(value)?),
        },
        Format::Tuple(items) => Shape::Tuple(shapes_of(items)?),
        Format::TupleArray { content, size } => Shape::Array {
            content: Box::new(shape_of(content)?),
            size: *size,
        },
    })
}

fn shapes_of(formats: &[Format]) -> Result<Vec<Shape>, String> {
    formats.iter().map(shape_of).collect()
}

fn fields_of(fields: &[serde_reflection::Named<Format>]) -> Result<Vec<Field>, String> {
    fields
        .iter()
        .map(|f| {
            Ok(Field {
                name: f.name.clone(),
                shape: shape_of(&f.value)?,
            })
        })
        .collect()
}

fn container_of(container: &ContainerFormat) -> Result<Container, String> {
    Ok(match container {
        ContainerFormat::UnitStruct => Container::UnitStruct,
        ContainerFormat::NewTypeStruct(inner) => Container::Newtype(shape_of(inner)?),
        ContainerFormat::TupleStruct(items) => Container::TupleStruct(shapes_of(items)?),
        ContainerFormat::Struct(fields) => Container::Struct(fields_of(fields)?),
        ContainerFormat::Enum(variants) => Container::Enum(
            variants
                .iter()
                .map(|(index, v)| {
                    Ok(Variant {
                        index: *index,
                        name: v.name.clone(),
                        shape: match &v.value {
                            VariantFormat::Variable(_) => {
                                return Err(format!("variant `{}` not traced", v.name))
                            }
                            VariantFormat::Unit => VariantShape::Unit,
                            VariantFormat::NewType(inner) => {
                                VariantShape::Newtype(shape_of(inner)?)
                            }
                            VariantFormat::Tuple(items) => VariantShape::Tuple(shapes_of(items)?),
                            VariantFormat::Struct(fields) => {
                                VariantShape::Struct(fields_of(fields)?)
                            }
                        },
                    })
                })
                .collect::<Result<_, String>>()?,
        ),
    })
}
