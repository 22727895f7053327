//! Stage 4: code generation, from a model that passed every check: one
//! `impl Record`, plus compile-time checks of the `from`/`try_from` type.
//!
//! The fallback impl of a failed derive (`fallback.rs`) is generated here
//! too, from the same model, so that both impls have the same header.

use crate::ast::{Container, UpgradeKind};
use crate::check;
use crate::ctxt::Ctxt;
use crate::schema;
use crate::spans::respan;
use proc_macro2::{TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;
use syn::{DeriveInput, GenericParam, Ident, Type};

/// Check `input` and generate its `impl Record`.
///
/// # Errors
/// Every mistake in the input, combined into one `syn::Error`.
pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let mut cx = Ctxt::new();
    let cont = Container::from_ast(&mut cx, input);
    check::check(&mut cx, &cont);
    cx.check()?;
    Ok(impl_record(&cont, Bodies::Generated))
}

/// What the methods of the impl do.
#[derive(Clone, Copy)]
pub(crate) enum Bodies {
    /// The real impl: key extraction and the upgrade chain, with the checks
    /// and bounds of the `from`/`try_from` type.
    Generated,
    /// The fallback of a failed derive: the same header and constants,
    /// method bodies that never run (the build fails), and nothing about
    /// the `from`/`try_from` type, which may be the mistake.
    Unreachable,
}

/// The `impl Record` of `cont`.
pub(crate) fn impl_record(cont: &Container, bodies: Bodies) -> TokenStream {
    let krate = cont.krate();
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.generics.split_for_impl();
    let gen = Gen {
        cont,
        private: quote!(#krate::__private),
        krate,
        name: cont.name(),
        version: cont.version(),
        params: generic_params(cont),
    };
    let krate = &gen.krate;

    let mut predicates: Vec<TokenStream> = where_clause
        .map(|clause| {
            clause
                .predicates
                .iter()
                .map(ToTokens::to_token_stream)
                .collect()
        })
        .unwrap_or_default();
    let private = &gen.private;
    let (key_body, key_type, decode) = match bodies {
        Bodies::Generated => {
            if !cont.generics.params.is_empty() {
                // The derived serde impls carry their own bounds; `Record`
                // needs them.
                predicates.push(quote! {
                    #ident #ty_generics: #private::serde::Serialize + #private::serde::de::DeserializeOwned
                });
            }
            let key = gen.key(&mut predicates);
            (key.body, key.ty, gen.decode(&mut predicates))
        }
        Bodies::Unreachable => {
            let key = gen.key(&mut Vec::new());
            let key_type = &key.ty;
            // Every bound the impl needs, under a `for<'_>` so that the
            // compiler assumes it inside the impl instead of checking it:
            // the fallback reports nothing of its own (a union, a type
            // without serde derives, a key type that is not a `Key`). An
            // unmet bound shows where the type is used as a `Record`.
            predicates.push(quote! {
                for<'__datawal_fallback> #ident #ty_generics:
                    #private::serde::Serialize + #private::serde::de::DeserializeOwned
            });
            predicates.push(quote! {
                for<'__datawal_fallback> #key_type: #krate::Key
            });
            let unreachable = quote!(::core::unreachable!());
            (
                unreachable.clone(),
                key.ty,
                DecodeImpl {
                    body: unreachable,
                    module_check: TokenStream::new(),
                },
            )
        }
    };
    let DecodeImpl {
        body: decode_body,
        module_check,
    } = decode;
    let name = &gen.name;
    let version = gen.version;
    let schema = schema::schema(cont);
    let where_tokens = if predicates.is_empty() {
        TokenStream::new()
    } else {
        quote!(where #(#predicates,)*)
    };

    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::Record for #ident #ty_generics #where_tokens {
            const NAME: &'static ::core::primitive::str = #name;
            const VERSION: ::core::primitive::u16 = #version;
            const SCHEMA: &'static ::core::primitive::str = #schema;
            type Key = #key_type;

            #[inline]
            fn key(&self) -> Self::Key {
                #key_body
            }

            fn decode_version(
                __version: ::core::primitive::u16,
                __codec: #krate::Codec,
                __body: &[::core::primitive::u8]
            ) -> ::core::result::Result<Self, #krate::DecodeError> {
                #decode_body
            }
        }

        #module_check
    }
}

/// What the generators share.
struct Gen<'c, 'a> {
    cont: &'c Container<'a>,
    /// The path to `datawal_typed`.
    krate: syn::Path,
    /// `<crate>::__private`.
    private: TokenStream,
    /// `Record::NAME`.
    name: String,
    /// `Record::VERSION`.
    version: u16,
    /// The names of the type's type and const parameters.
    params: Vec<Ident>,
}

/// `type Key` and the body of `fn key`.
struct KeyImpl {
    ty: TokenStream,
    body: TokenStream,
}

/// The body of `fn decode_version`, and the free constant that checks the
/// `from` type (empty when there is none, or when it is checked inline).
struct DecodeImpl {
    body: TokenStream,
    module_check: TokenStream,
}

impl Gen<'_, '_> {
    /// The key type and expression: `()` with no key field, the field's type
    /// with one, a tuple in field order with several; clones of the fields.
    ///
    /// For a composite key, a `Key` check spanned on each key field: the
    /// tuple's own `Key` bound can only be reported on the derive. (One key
    /// field's type is `Self::Key` itself, and its bound is already reported
    /// on the field.) Key types that name a type parameter are bounded in the
    /// where clause.
    ///
    /// A description of a key's encoding (for a store's description of
    /// what it holds) belongs on the `Key` trait, which datawal-typed
    /// implements by hand for every key type: the derive implements no
    /// `Key`, and `Record` reaches it as `<Self::Key as Key>::...` in a
    /// provided item, so nothing is generated for it. Only a required item
    /// about the key *fields* (their names, say) would be generated, here,
    /// from `keys` (names and types in field order) beside `type Key`.
    fn key(&self, predicates: &mut Vec<TokenStream>) -> KeyImpl {
        let krate = &self.krate;
        let keys = self.cont.key_fields();
        let mut types = Vec::new();
        let mut exprs = Vec::new();
        let mut checks = Vec::new();
        for field in &keys {
            let ty = field.ty;
            let member = &field.member;
            let span = ty.span();
            if mentions_any(ty, &self.params) {
                predicates.push(quote_spanned!(span=> #ty: #krate::Key + ::core::clone::Clone));
            }
            if keys.len() > 1 {
                let private = respan(self.private.clone(), span);
                checks.push(quote_spanned!(span=> #private::assert_key::<#ty>();));
            }
            exprs.push(quote_spanned!(span=> ::core::clone::Clone::clone(&self.#member)));
            types.push(ty);
        }
        match keys.len() {
            // An empty body, not `()`: clippy's `unused_unit` fires on user code.
            0 => KeyImpl {
                ty: quote!(()),
                body: TokenStream::new(),
            },
            1 => KeyImpl {
                ty: types[0].to_token_stream(),
                body: exprs.remove(0),
            },
            _ => KeyImpl {
                ty: quote!((#(#types,)*)),
                body: quote!(#(#checks)* (#(#exprs,)*)),
            },
        }
    }

    /// `decode_version` through the helper that matches `from`, `try_from`
    /// or neither, and the checks of the previous version.
    fn decode(&self, predicates: &mut Vec<TokenStream>) -> DecodeImpl {
        let cont = self.cont;
        let private = &self.private;
        if cont.has_variant_history() {
            if let Some(history) = crate::history::expand(cont, &self.krate) {
                return DecodeImpl {
                    body: history.decode,
                    module_check: history.items,
                };
            }
        }
        let Some(upgrade) = cont.upgrade() else {
            return DecodeImpl {
                body: quote!(#private::decode_current::<Self>(__version, __codec, __body)),
                module_check: TokenStream::new(),
            };
        };
        let krate = &self.krate;
        let ident = cont.ident;
        let (_, ty_generics, _) = cont.generics.split_for_impl();
        let old = upgrade.ty;
        let span = old.span();
        let private_at = respan(private.clone(), span);
        let checks = self.upgrade_checks(upgrade.kind, old);

        // The whole call is spanned on `old`: a missing `From`/`TryFrom`
        // impl or `Display` bound is reported there.
        let call = match upgrade.kind {
            UpgradeKind::From => quote_spanned! {span=>
                #private_at::decode_from::<Self, #old>(__version, __codec, __body)
            },
            UpgradeKind::TryFrom => quote_spanned! {span=>
                #private_at::decode_try_from::<Self, #old>(__version, __codec, __body)
            },
        };
        if !mentions_any(old, &self.params) {
            return DecodeImpl {
                body: call,
                module_check: quote_spanned!(span=> const _: () = { #checks };),
            };
        }
        // A free constant cannot name the type's parameters: check in an
        // inline constant, at monomorphization, and require the conversion
        // in the where clause.
        predicates.push(quote_spanned!(span=> #old: #krate::Record));
        predicates.push(match upgrade.kind {
            UpgradeKind::From => {
                quote_spanned!(span=> #ident #ty_generics: ::core::convert::From<#old>)
            }
            UpgradeKind::TryFrom => quote_spanned! {span=>
                #ident #ty_generics: ::core::convert::TryFrom<#old>,
                <#ident #ty_generics as ::core::convert::TryFrom<#old>>::Error: ::core::fmt::Display
            },
        });
        DecodeImpl {
            body: quote_spanned!(span=> const { #checks } #call),
            module_check: TokenStream::new(),
        }
    }

    /// Constant-evaluated checks that `old` belongs to this record family and
    /// has a lower version; a failed check is a compile error spanned on `old`.
    fn upgrade_checks(&self, kind: UpgradeKind, old: &Type) -> TokenStream {
        let krate = &self.krate;
        let span = old.span();
        let str_eq = respan(quote!(#krate::__private::str_eq), span);
        let record = respan(quote!(#krate::Record), span);
        let name = &self.name;
        let version = self.version;
        let old_text = schema::tokens_text(old.to_token_stream());
        let this = self.cont.ident;
        let keyword = kind.keyword();
        let name_message = format!(
            "datawal: `{keyword} = {old_text}` must be an older version of record \"{name}\", but \
             `{old_text}` has a different record name; give `{old_text}` `#[record(name = \"{name}\")]` \
             or name the right previous type"
        );
        let version_message = format!(
            "datawal: `{keyword} = {old_text}` must be an older version of record \"{name}\", but its \
             version is not lower than {version} (the version of `{this}`); a record can only upgrade \
             from a lower version"
        );
        quote_spanned! {span=>
            if !#str_eq(<#old as #record>::NAME, #name) {
                ::core::panic!("{}", #name_message)
            }
            if <#old as #record>::VERSION >= #version {
                ::core::panic!("{}", #version_message)
            }
        }
    }
}

/// The names of the type's type and const parameters.
fn generic_params(cont: &Container) -> Vec<Ident> {
    cont.generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(ty) => Some(ty.ident.clone()),
            GenericParam::Const(c) => Some(c.ident.clone()),
            GenericParam::Lifetime(_) => None,
        })
        .collect()
}

/// Whether `ty` names one of `params` (then it cannot appear in a free
/// constant, and its bounds go in the where clause).
fn mentions_any(ty: &Type, params: &[Ident]) -> bool {
    fn visit(tokens: TokenStream, params: &[Ident]) -> bool {
        tokens.into_iter().any(|token| match token {
            TokenTree::Ident(ident) => params.contains(&ident),
            TokenTree::Group(group) => visit(group.stream(), params),
            _ => false,
        })
    }
    !params.is_empty() && visit(ty.to_token_stream(), params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    /// The expansion with all whitespace removed, for substring checks.
    fn expanded(input: DeriveInput) -> String {
        let tokens = expand(&input).unwrap();
        // Valid Rust items.
        syn::parse2::<syn::File>(tokens.clone()).unwrap();
        tokens.to_string().split_whitespace().collect()
    }

    fn errors(input: DeriveInput) -> Vec<String> {
        match expand(&input) {
            Ok(tokens) => panic!("expected errors, got {tokens}"),
            Err(err) => err.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    fn squash(s: &str) -> String {
        s.split_whitespace().collect()
    }

    fn assert_contains(haystack: &str, needle: &str) {
        let needle = squash(needle);
        assert!(
            haystack.contains(&needle),
            "missing `{needle}` in\n{haystack}"
        );
    }

    #[test]
    fn named_struct_with_one_key() {
        let out = expanded(parse_quote! {
            #[record(name = "order", version = 1)]
            struct OrderV1 { #[record(key)] id: u64, cents: u32 }
        });
        assert_contains(
            &out,
            "#[automatically_derived] impl ::datawal_typed::Record for OrderV1 {",
        );
        assert_contains(
            &out,
            r#"const NAME: &'static ::core::primitive::str = "order";"#,
        );
        assert_contains(&out, "const VERSION: ::core::primitive::u16 = 1u16;");
        assert_contains(
            &out,
            r#"const SCHEMA: &'static ::core::primitive::str = "struct order v1 { #[key] id: u64, cents: u32 }";"#,
        );
        assert_contains(&out, "type Key = u64;");
        assert_contains(
            &out,
            "fn key(&self) -> Self::Key { ::core::clone::Clone::clone(&self.id) }",
        );
        assert_contains(
            &out,
            "fn decode_version(__version: ::core::primitive::u16, __codec: ::datawal_typed::Codec, \
             __body: &[::core::primitive::u8]) \
             -> ::core::result::Result<Self, ::datawal_typed::DecodeError> { \
             ::datawal_typed::__private::decode_current::<Self>(__version, __codec, __body) }",
        );
        assert!(
            !out.contains("const_:()"),
            "no upgrade check without `from`"
        );
    }

    #[test]
    fn name_defaults_to_the_type_name_unraw() {
        let out = expanded(parse_quote!(
            #[record(version = 4)]
            struct r#Match;
        ));
        assert_contains(
            &out,
            r#"const NAME: &'static ::core::primitive::str = "Match";"#,
        );
        assert_contains(&out, "type Key = ();");
        assert_contains(&out, "fn key(&self) -> Self::Key {}");
    }

    #[test]
    fn tuple_struct_with_composite_key_in_field_order() {
        let out = expanded(parse_quote! {
            #[record(version = 2)]
            struct Row(#[record(key)] String, u8, #[record(key)] (u32, i64));
        });
        assert_contains(&out, "type Key = (String, (u32, i64),);");
        assert_contains(
            &out,
            "::datawal_typed::__private::assert_key::<String>(); \
             ::datawal_typed::__private::assert_key::<(u32, i64)>(); \
             (::core::clone::Clone::clone(&self.0), ::core::clone::Clone::clone(&self.2),)",
        );
    }

    #[test]
    fn enum_has_unit_key() {
        let out = expanded(parse_quote! {
            #[record(name = "event", version = 1)]
            enum Event { Created { id: u64 }, Deleted(u64), Reset }
        });
        assert_contains(&out, "impl ::datawal_typed::Record for Event {");
        assert_contains(&out, "type Key = ();");
        assert_contains(
            &out,
            r#"const SCHEMA: &'static ::core::primitive::str = "enum event v1 { Created { id: u64 }, Deleted(u64), Reset }";"#,
        );
    }

    #[test]
    fn from_decodes_through_the_older_type_and_checks_it() {
        let out = expanded(parse_quote! {
            #[record(name = "order", version = 2, from = OrderV1)]
            struct Order { #[record(key)] id: u64 }
        });
        assert_contains(
            &out,
            "::datawal_typed::__private::decode_from::<Self, OrderV1>(__version, __codec, __body)",
        );
        assert_contains(
            &out,
            r#"const _: () = { if !::datawal_typed::__private::str_eq(
                <OrderV1 as ::datawal_typed::Record>::NAME, "order") {
                ::core::panic!("{}", "datawal: `from = OrderV1` must be an older version of record \"order\", but"#,
        );
        assert_contains(
            &out,
            r#"if <OrderV1 as ::datawal_typed::Record>::VERSION >= 2u16 { ::core::panic!("{}", "datawal:"#,
        );
    }

    #[test]
    fn try_from_uses_the_try_from_helper() {
        let out = expanded(parse_quote! {
            #[record(version = 3, try_from = v2::Thing)]
            struct Thing;
        });
        assert_contains(
            &out,
            "::datawal_typed::__private::decode_try_from::<Self, v2::Thing>(__version, __codec, __body)",
        );
        assert_contains(&out, "`try_from = v2::Thing` must be an older version");
    }

    #[test]
    fn generics_get_serde_and_key_bounds() {
        let out = expanded(parse_quote! {
            #[record(version = 1)]
            struct Wrapper<'a, K: Ord, V, const N: usize> where V: Clone {
                #[record(key)] k: K,
                #[record(key)] n: u32,
                v: std::borrow::Cow<'a, V>,
                a: [u8; N],
            }
        });
        assert_contains(
            &out,
            "impl<'a, K: Ord, V, const N: usize> ::datawal_typed::Record for Wrapper<'a, K, V, N> \
             where V: Clone, \
             Wrapper<'a, K, V, N>: ::datawal_typed::__private::serde::Serialize \
                 + ::datawal_typed::__private::serde::de::DeserializeOwned, \
             K: ::datawal_typed::Key + ::core::clone::Clone, {",
        );
        assert_contains(&out, "type Key = (K, u32,);");
    }

    #[test]
    fn generic_from_type_is_checked_inline_and_bounded() {
        let out = expanded(parse_quote! {
            #[record(version = 2, try_from = Old<T>)]
            struct New<T> { t: T }
        });
        assert!(!out.contains("const_:()"));
        assert_contains(
            &out,
            "{ const { if !::datawal_typed::__private::str_eq(<Old<T> as ::datawal_typed::Record>::NAME, \"New\")",
        );
        assert_contains(&out, "Old<T>: ::datawal_typed::Record,");
        assert_contains(&out, "New<T>: ::core::convert::TryFrom<Old<T>>,");
        assert_contains(
            &out,
            "<New<T> as ::core::convert::TryFrom<Old<T>>>::Error: ::core::fmt::Display,",
        );
        assert_contains(
            &out,
            "::datawal_typed::__private::decode_try_from::<Self, Old<T>>(__version, __codec, __body)",
        );
    }

    #[test]
    fn generic_type_with_concrete_from_type_uses_a_free_constant() {
        let out = expanded(parse_quote! {
            #[record(version = 2, from = OldWrapper)]
            struct Wrapper<T> { t: T }
        });
        assert_contains(&out, "const _: () = {");
        assert!(!out.contains("OldWrapper:"));
    }

    #[test]
    fn crate_path_can_be_overridden() {
        let out = expanded(parse_quote! {
            #[record(version = 1, crate = "datawal::typed", from = A)]
            struct B;
        });
        assert_contains(&out, "impl datawal::typed::Record for B");
        assert_contains(&out, "datawal::typed::__private::decode_from::<Self, A>");
        assert!(!out.contains("::datawal_typed"));
    }

    #[test]
    fn all_mistakes_are_reported_together() {
        let found = errors(parse_quote! {
            #[record(verison = 2, from = A, try_from = B)]
            #[serde(tag = "type")]
            enum E {
                #[record(key)]
                A { #[record(key)] id: u64, #[serde(flatten)] rest: Rest },
                #[serde(untagged)]
                B(#[serde(skip_serializing_if = "Option::is_none")] Option<u8>),
            }
        });
        let starts: Vec<&str> = found
            .iter()
            .map(|m| m.split([';', ':']).next().unwrap())
            .collect();
        // Every single-attribute mistake, in source order, then every rule
        // of `check.rs`, each in source order.
        assert_eq!(
            starts,
            [
                "unknown record attribute `verison`",
                "`#[record(key)]` cannot be used in an enum",
                "use either `from` or `try_from`, not both",
                "`#[record(key)]` cannot be used in an enum",
                "`#[serde(tag = \"...\")]` (internal tagging) cannot be used on a Record",
                "`#[serde(untagged)]` cannot be used on a variant of a Record",
                "`#[serde(flatten)]` cannot be used in a Record",
                "`#[serde(skip_serializing_if = \"...\")]` cannot be used in a Record",
            ],
            "a misspelled `version` is not also reported missing"
        );
    }

    #[test]
    fn variant_history_makes_one_enum_per_run_of_older_versions() {
        let out = expanded(parse_quote! {
            #[record(name = "event", version = 4)]
            #[serde(rename_all = "snake_case")]
            enum Event {
                #[record(v1 = OpenedV1)]
                Opened { id: u64, #[serde(default)] currency: String },
                Deposited(u64),
                #[record(since = 2, v2 = ClosedV2)]
                Closed,
            }
        });
        // Version 1: `Opened` was `OpenedV1`, no `Closed`; version 2:
        // `Closed` was `ClosedV2`; version 3 is the current shape.
        assert_contains(
            &out,
            "#[serde(crate = \"::datawal_typed::__private::serde\")] \
             #[serde(rename_all = \"snake_case\")] \
             enum __DatawalHistoryOfEventV1 { Opened(OpenedV1), Deposited(u64,), }",
        );
        assert_contains(
            &out,
            "enum __DatawalHistoryOfEventV2 { \
             Opened { id: u64, #[serde(default)] currency: String, }, \
             Deposited(u64,), Closed(ClosedV2), }",
        );
        assert!(!out.contains("__DatawalHistoryOfEventV3"));
        assert_contains(&out, "const VERSION: ::core::primitive::u16 = 1u16;");
        assert_contains(
            &out,
            r#"const SCHEMA: &'static ::core::primitive::str = "enum event v1 { Opened(OpenedV1), Deposited(u64,) }";"#,
        );
        assert_contains(
            &out,
            "__DatawalHistoryOfEventV1::Opened(__old) => \
             <Event as ::core::convert::From<OpenedV1>>::from(__old)",
        );
        assert_contains(
            &out,
            "__DatawalHistoryOfEventV1::Deposited(__field0,) => Event::Deposited(__field0,)",
        );
        assert_contains(
            &out,
            "match __version { \
             1u16..=1u16 => ::core::result::Result::map(::core::result::Result::map_err(\
             ::datawal_typed::__private::decode_current::<__DatawalHistoryOfEventV1>(1u16, __codec, __body), __reported,), \
             __DatawalHistoryOfEventV1::__datawal_upgrade,), \
             2u16..=2u16 => ::core::result::Result::map(::core::result::Result::map_err(\
             ::datawal_typed::__private::decode_current::<__DatawalHistoryOfEventV2>(2u16, __codec, __body), __reported,), \
             __DatawalHistoryOfEventV2::__datawal_upgrade,), \
             3u16..=3u16 => ::core::result::Result::map_err(::datawal_typed::__private::decode_current::<Self>(\
             <Self as ::datawal_typed::Record>::VERSION, __codec, __body), __reported,), \
             _ => ::datawal_typed::__private::decode_current::<Self>(__version, __codec, __body), }",
        );
        // The current enum's own schema is unchanged by its history.
        assert_contains(
            &out,
            r##"const SCHEMA: &'static ::core::primitive::str = "#[serde(rename_all = \"snake_case\")] enum event v4 {"##,
        );
    }

    #[test]
    fn consecutive_versions_of_one_shape_share_an_enum() {
        let out = expanded(parse_quote! {
            #[record(version = 5)]
            enum E { #[record(v3 = AV3)] A(String), B }
        });
        assert_contains(&out, "enum __DatawalHistoryOfEV1 { A(AV3), B, }");
        assert!(!out.contains("__DatawalHistoryOfEV2") && !out.contains("__DatawalHistoryOfEV3"));
        assert_contains(
            &out,
            "1u16..=3u16 => ::core::result::Result::map(::core::result::Result::map_err(\
             ::datawal_typed::__private::decode_current::<__DatawalHistoryOfEV1>(3u16, __codec, __body)",
        );
        assert_contains(&out, "4u16..=4u16 => ::core::result::Result::map_err(");
    }

    #[test]
    fn variant_history_mistakes_are_reported_together() {
        let found = errors(parse_quote! {
            #[record(version = 2, from = Old)]
            enum E<T> {
                #[record(since = 2)]
                Added(T),
                #[record(v2 = A2, since = 3)]
                Late,
                Early,
                #[record(v1 = B1, since = 2)]
                Both,
            }
        });
        assert_eq!(
            found,
            [
                "per-variant history (`since`, `vN = ...`) is not supported on a generic enum: \
                 write the older versions as enums of their own and upgrade with `from = Older`",
                "use either per-variant history (`since`, `vN = ...` on the variants) or \
                 `from`/`try_from` on the enum, not both: the variants' history already describes \
                 every older version",
                "variant `Late` cannot be added in version 3: the enum is version 2; write \
                 `since = 2` or raise the enum's version",
                "`v2` must name a version older than the enum's version 2: in version 2 the \
                 payload of `Late` is its own fields",
                "variant `Early` (in the enum since version 1) must come before `Late`, added in \
                 version 3: bincode and postcard write a variant's position, so a variant added \
                 later must come after every older one; move `Late` down",
                "`v1`: variant `Both` did not exist in version 1, it was added in version 2",
                "variant `Both` (in the enum since version 2) must come before `Late`, added in \
                 version 3: bincode and postcard write a variant's position, so a variant added \
                 later must come after every older one; move `Late` down",
            ]
        );
    }
}
