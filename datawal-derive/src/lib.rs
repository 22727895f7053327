//! `#[derive(Record)]` for [datawal](https://docs.rs/datawal-typed): key
//! extraction and versioned decoding for application structs and enums.
//!
//! This crate is an implementation detail of `datawal-typed`, which
//! re-exports the derive as `datawal_typed::Record` (the same name as the
//! trait). Use it from there (this example is compiled and run as a pass
//! test in `datawal-typed/tests/ui/pass/`; here it is text, since a
//! proc-macro crate cannot depend on the crate that re-exports it):
//!
//! ```text
//! use datawal_typed::Record;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Record)]
//! #[record(name = "order", version = 1)]
//! struct OrderV1 { #[record(key)] id: u64, cents: u32 }
//!
//! #[derive(Serialize, Deserialize, Record)]
//! #[record(name = "order", version = 2, from = OrderV1)]
//! struct Order { #[record(key)] id: u64, cents: u64 }
//!
//! impl From<OrderV1> for Order {
//!     fn from(v1: OrderV1) -> Self { Order { id: v1.id, cents: v1.cents.into() } }
//! }
//! ```
//!
//! # Container attributes: `#[record(...)]` on the type
//!
//! | attribute | meaning |
//! |---|---|
//! | `version = N` | **required**; the schema version, an integer from 1 to 65535 |
//! | `name = "..."` | the record family name (default: the type's name); every version of a family shares it |
//! | `from = Older` | `Older` is the previous version of this family; older bodies are decoded as `Older` and converted with `From<Older>` |
//! | `try_from = Older` | as `from`, converted with `TryFrom<Older>`; the conversion error is kept in the `DecodeError` |
//! | `crate = "path"` | where `datawal_typed` is found (default `::datawal_typed`), for code that reaches it through a re-export |
//!
//! Checked at compile time: `Older` must be a `Record` with the same `NAME`
//! and a lower `VERSION`, and the `From`/`TryFrom` impl must exist.
//!
//! # Field attributes
//!
//! `#[record(key)]` marks a key field. One key field gives that field's type
//! as `Record::Key`; several give a tuple of their types in field order; none
//! gives `()`. `key(&self)` returns clones of the key fields, so key field
//! types must implement `Key` and `Clone`. Enums always have the key `()`.
//! A key field cannot be skipped by serde (`#[serde(skip)]`): the decoded
//! value would lose its key.
//!
//! # Generics
//!
//! Generic structs and enums get an `impl Record` under the bounds the type
//! was written with, plus `Self: Serialize + DeserializeOwned` (serde's
//! derived bounds carry over), `K: Key + Clone` for each key field type `K`
//! that names a type parameter, and, when the `from`/`try_from` type names
//! a type parameter, `Older: Record` and `Self: From<Older>` (or
//! `TryFrom<Older>` with a `Display` error). The name and version of such a
//! generic `from` type are checked in an inline constant, that is when the
//! decoder is first used with concrete types.
//!
//! # Serde attributes that are refused
//!
//! The bincode and postcard codecs are not self-describing: they write
//! fields by position, without names or types. Serde attributes that depend
//! on a self-describing format (`flatten`, `untagged`, `tag`, `content`) or
//! that write a different number of fields than they read
//! (`skip_serializing_if`, `skip_serializing` or `skip_deserializing` alone)
//! would make records fail to decode or decode as garbage, so the derive
//! rejects them. `#[serde(default)]`, `rename`, `skip` and the others are fine.
//!
//! The derive sees the record's own attributes, not the types of its
//! fields, and does not know the codec. A field whose type needs a
//! self-describing format (a `serde_json::Value`, or a type of your own
//! with `flatten` or `untagged`) is caught at run time instead: the first
//! write with bincode or postcard returns `datawal_typed::Error::Unreadable`
//! and writes nothing; JSON stores such types.
//!
//! # Mistakes
//!
//! Every mistake of one derive is reported in the same build, each on the
//! offending token with what to write instead. A derive that fails still
//! implements `Record` for the type, with the name, version and key type it
//! could read (a misspelled option such as `nmae = "order"` counts as what
//! was meant) and methods that never run: so one mistake is one error, not
//! one more at every use of the type (`TypedLog::<T>`, `value.key()`, a
//! newer version's `from = T`).
//!
//! # `Record::SCHEMA`
//!
//! A canonical, whitespace-normalised text of the type's shape, for example
//! `struct order v2 { #[key] id: u64, cents: u64 }`. It lists the kind, the
//! record name, the version, generic parameters, every field name (unraw)
//! and type (token text as written), key markers, variants for enums, and
//! the `#[serde(...)]` attributes of the type, its variants and fields
//! (they change the encoding). Doc comments and other attributes are left
//! out.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

// The stages, in the order they run: `attr` reads each attribute on its
// own, `ast` builds the model, `check` applies the rules that span
// attributes, `expand` generates the impl; on error, `fallback` emits the
// errors and a stub impl. `ctxt` collects the errors of every stage.
mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;
mod fallback;
mod schema;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Derive `datawal_typed::Record`; see the [crate documentation](crate) for
/// the attributes.
#[proc_macro_derive(Record, attributes(record))]
pub fn derive_record(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::expand(&input)
        .unwrap_or_else(|errors| fallback::expand(&input, errors))
        .into()
}
