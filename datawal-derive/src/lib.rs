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
//! The attribute reference below is also the documentation of the derive
//! itself, where `datawal::Record` and `datawal_typed::Record` link to.
//!
#![doc = include_str!("attributes.md")]
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
mod history;
mod krate;
mod schema;
mod spans;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Derive `datawal_typed::Record` (re-exported as `datawal::Record`): key
/// extraction and versioned decoding for a struct or an enum.
///
#[doc = include_str!("attributes.md")]
#[proc_macro_derive(Record, attributes(record))]
pub fn derive_record(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::expand(&input)
        .unwrap_or_else(|errors| fallback::expand(&input, errors))
        .into()
}
