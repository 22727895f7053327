//! Per-variant history: the older versions of an enum, generated from
//! `#[record(since = N)]` and `#[record(vN = OldPayload)]` on its variants,
//! so that changing one variant does not mean copying the whole enum.
//!
//! For each run of older versions that share one shape (which variants
//! existed, and which payload each had), the derive writes a hidden enum
//! with the same variant names, order and serde attributes as the current
//! one: bincode and postcard write a variant's position, JSON its name, so
//! the hidden enum reads exactly what the older code wrote. A variant whose
//! payload was `OldPayload` is `Variant(OldPayload)` there (serde encodes a
//! newtype variant holding a struct or tuple struct with the same bytes as
//! a struct or tuple variant with those fields, in every codec), and it is
//! upgraded with `From<OldPayload>` for the current enum; every other
//! variant has its current fields and is moved over as it is. Runs whose
//! shape is the current one are decoded as the current enum directly.
//!
//! Each hidden enum implements `Record` (with the family's name and the
//! last version of its run), so it is decoded by the same helper as every
//! other record; a decode error is then reported with the version the
//! record holds and the current enum's Rust type.

use crate::ast::{Container, Data, Variant};
use crate::schema::tokens_text;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::{Fields, Ident};

/// The payload a variant had in one older version.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Payload {
    /// The variant did not exist yet.
    Absent,
    /// Its current fields.
    Current,
    /// The old payload of its `vN` option, by `N`.
    Old(u16),
}

/// A run of versions `first..=last` whose variants had the payloads
/// `shape` (one per variant, in order).
struct Run {
    first: u16,
    last: u16,
    shape: Vec<Payload>,
}

/// The shape of the enum in `version`.
fn shape(variants: &[Variant], version: u16) -> Vec<Payload> {
    variants
        .iter()
        .map(|variant| {
            if version < variant.since() {
                Payload::Absent
            } else {
                variant
                    .payload_in(version)
                    .map_or(Payload::Current, |old| Payload::Old(old.version))
            }
        })
        .collect()
}

/// Versions `1..current`, grouped into runs of one shape.
fn runs(variants: &[Variant], current: u16) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for version in 1..current {
        let shape = shape(variants, version);
        match runs.last_mut() {
            Some(run) if run.shape == shape => run.last = version,
            _ => runs.push(Run {
                first: version,
                last: version,
                shape,
            }),
        }
    }
    runs
}

/// What the history adds to the impl: the body of `decode_version`, and
/// the hidden enums with their impls (items beside the impl).
pub(crate) struct History {
    pub(crate) decode: TokenStream,
    pub(crate) items: TokenStream,
}

/// The history of `cont`, an enum that passed every check, whose
/// `Record` impl is reached through `krate`; `None` for a struct.
pub(crate) fn expand(cont: &Container, krate: &syn::Path) -> Option<History> {
    let Data::Enum(variants) = &cont.data else {
        return None;
    };
    let private = quote!(#krate::__private);
    let current = cont.version();
    let ident = cont.ident;
    let name = cont.name();
    let serde_path =
        format!("{}::__private::serde", tokens_text(krate.to_token_stream())).replace(' ', "");
    let serde_crate = if cont.serde.has("crate") {
        TokenStream::new()
    } else {
        quote!(#[serde(crate = #serde_path)])
    };
    let container_serde = &cont.serde.attrs;

    let mut arms = Vec::new();
    let mut items = Vec::new();
    for run in runs(variants, current) {
        let (first, last) = (run.first, run.last);
        if run.shape.iter().all(|payload| *payload == Payload::Current) {
            arms.push(quote! {
                #first..=#last => ::core::result::Result::map_err(
                    #private::decode_current::<Self>(<Self as #krate::Record>::VERSION, __codec, __body),
                    __reported,
                ),
            });
            continue;
        }
        let hidden = format_ident!("__DatawalHistoryOf{}V{}", ident, first);
        let mut hidden_variants = Vec::new();
        let mut upgrades = Vec::new();
        let mut schema_variants = Vec::new();
        for (variant, payload) in variants.iter().zip(&run.shape) {
            let v = variant.ident;
            let serde = &variant.serde.attrs;
            match payload {
                Payload::Absent => {}
                Payload::Old(n) => {
                    // Always found: the shape was made from this history.
                    let Some(old) = variant
                        .attrs
                        .history
                        .iter()
                        .find(|old| old.version == *n)
                        .map(|old| &old.ty)
                    else {
                        continue;
                    };
                    let span = old_span(old);
                    // Spanned on the old payload, where a missing `From`
                    // impl is reported.
                    let target = crate::spans::respan(quote!(#ident), span);
                    hidden_variants.push(quote!(#(#serde)* #v(#old)));
                    upgrades.push(quote_spanned! {span=>
                        #hidden::#v(__old) => <#target as ::core::convert::From<#old>>::from(__old)
                    });
                    schema_variants.push(format!("{}({})", v, tokens_text(old.to_token_stream())));
                }
                Payload::Current => {
                    let (fields, pattern) = current_fields(variant.fields_ast);
                    hidden_variants.push(quote!(#(#serde)* #v #fields));
                    upgrades.push(quote!(#hidden::#v #pattern => #ident::#v #pattern));
                    schema_variants.push(format!("{}{}", v, tokens_text(fields.clone())));
                }
            }
        }
        let schema = format!("enum {name} v{last} {{ {} }}", schema_variants.join(", "));
        items.push(quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types, dead_code)]
            #[derive(#private::serde::Serialize, #private::serde::Deserialize)]
            #serde_crate
            #(#container_serde)*
            enum #hidden {
                #(#hidden_variants,)*
            }

            #[automatically_derived]
            impl #krate::Record for #hidden {
                const NAME: &'static ::core::primitive::str = #name;
                const VERSION: ::core::primitive::u16 = #last;
                const SCHEMA: &'static ::core::primitive::str = #schema;
                type Key = ();

                #[inline]
                fn key(&self) -> Self::Key {}

                fn decode_version(
                    __version: ::core::primitive::u16,
                    __codec: #krate::Codec,
                    __body: &[::core::primitive::u8]
                ) -> ::core::result::Result<Self, #krate::DecodeError> {
                    #private::decode_current::<Self>(__version, __codec, __body)
                }
            }

            #[automatically_derived]
            impl #hidden {
                fn __datawal_upgrade(self) -> #ident {
                    match self {
                        #(#upgrades,)*
                    }
                }
            }
        });
        arms.push(quote! {
            #first..=#last => ::core::result::Result::map(
                ::core::result::Result::map_err(
                    #private::decode_current::<#hidden>(#last, __codec, __body),
                    __reported,
                ),
                #hidden::__datawal_upgrade,
            ),
        });
    }

    let decode = quote! {
        // A body of an older version is decoded as the enum of its run,
        // under that run's last version: report the version the record
        // holds, and the type the caller asked for.
        let __reported = |mut __error: #krate::DecodeError| {
            if let #krate::DecodeError::Body { version: __v, rust_type: __t, .. } = &mut __error {
                *__v = __version;
                *__t = ::core::any::type_name::<Self>();
            }
            __error
        };
        match __version {
            #(#arms)*
            _ => #private::decode_current::<Self>(__version, __codec, __body),
        }
    };
    Some(History {
        decode,
        items: quote!(#(#items)*),
    })
}

/// The variant's current fields with their serde attributes only (the
/// hidden enum derives no `Record`, and must not see `#[record(...)]`),
/// and the pattern that binds them, which also rebuilds the variant.
fn current_fields(fields: &Fields) -> (TokenStream, TokenStream) {
    let serde_attrs = |attrs: &[syn::Attribute]| -> Vec<syn::Attribute> {
        attrs
            .iter()
            .filter(|attr| attr.path().is_ident("serde"))
            .cloned()
            .collect()
    };
    match fields {
        Fields::Named(named) => {
            let decls = named.named.iter().map(|field| {
                let attrs = serde_attrs(&field.attrs);
                let name = &field.ident;
                let ty = &field.ty;
                quote!(#(#attrs)* #name: #ty)
            });
            // Bound to names of the derive's own: a field's name could be
            // a unit struct or a constant in scope, which a pattern matches.
            let names = named.named.iter().enumerate().map(|(i, field)| {
                let name = &field.ident;
                let binding = format_ident!("__field{}", i);
                quote!(#name: #binding)
            });
            (quote!({ #(#decls,)* }), quote!({ #(#names,)* }))
        }
        Fields::Unnamed(unnamed) => {
            let decls = unnamed.unnamed.iter().map(|field| {
                let attrs = serde_attrs(&field.attrs);
                let ty = &field.ty;
                quote!(#(#attrs)* #ty)
            });
            let names: Vec<Ident> = (0..unnamed.unnamed.len())
                .map(|i| format_ident!("__field{}", i))
                .collect();
            (quote!((#(#decls,)*)), quote!((#(#names,)*)))
        }
        Fields::Unit => (TokenStream::new(), TokenStream::new()),
    }
}

/// Where an old payload type is written, for the `From` error.
fn old_span(ty: &syn::Type) -> Span {
    syn::spanned::Spanned::span(ty)
}
