//! The output of a failed derive: its errors, and an `impl Record` anyway.
//!
//! Without an impl, one mistake in `#[record(...)]` would be followed by an
//! error at every use of the type as a `Record` (`TypedLog::<T>`, `T::NAME`,
//! `value.key()`, a newer version's `from = T`), burying the one that
//! matters. The fallback impl has the header, name, version and key type
//! the derive could read, method bodies that never run (the build fails on
//! the reported errors), and nothing about the `from`/`try_from` type.
//!
//! An unknown option reported as a misspelling (`nmae = "order"`,
//! `#[record(kye)]`) counts as the option that was meant, so that a newer
//! type's `from = T` name check and the user's uses of the key agree with
//! what the user will write once the misspelling is fixed. The version is 0
//! when none could be read: lower than every version, so a newer type that
//! names this one in `from` does not fail its own check either. Every bound
//! is put in the where clause under a `for<'_>` (thiserror-impl's
//! `fallback.rs` is the model), so the fallback reports nothing itself.

use crate::ast::Container;
use crate::ctxt::Ctxt;
use crate::expand::{self, Bodies};
use proc_macro2::TokenStream;
use syn::DeriveInput;

/// `errors` as `compile_error!`s, followed by the fallback impl of `input`.
pub(crate) fn expand(input: &DeriveInput, errors: syn::Error) -> TokenStream {
    // The model again, as far as it could be read; its mistakes are among
    // `errors` already.
    let mut cx = Ctxt::new();
    let cont = Container::from_ast(&mut cx, input);
    let _already_in_errors = cx.check();
    let mut out = errors.into_compile_error();
    out.extend(expand::impl_record(&cont, Bodies::Unreachable));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    /// The output of the derive for `input`, which must fail, with all
    /// whitespace removed.
    fn failed(input: DeriveInput) -> String {
        let errors = expand::expand(&input).expect_err("the derive must fail");
        let tokens = expand(&input, errors);
        // Valid Rust items.
        syn::parse2::<syn::File>(tokens.clone()).unwrap();
        tokens.to_string().split_whitespace().collect()
    }

    fn squash(s: &str) -> String {
        s.split_whitespace().collect()
    }

    #[test]
    fn errors_then_an_impl_with_what_could_be_read() {
        let out = failed(parse_quote! {
            #[record(name = "order", version = 3, from = "OrderV2")]
            struct Order { #[record(key)] id: u64, #[record(primary)] cents: u64 }
        });
        let first_error = out.find("::core::compile_error!").unwrap();
        let second_error = out.rfind("::core::compile_error!").unwrap();
        let impl_at = out
            .find(&squash(
                "#[automatically_derived] impl ::datawal_typed::Record for Order where \
                 for<'__datawal_fallback> Order: ::datawal_typed::__private::serde::Serialize \
                     + ::datawal_typed::__private::serde::de::DeserializeOwned, \
                 for<'__datawal_fallback> u64: ::datawal_typed::Key, {",
            ))
            .unwrap();
        assert!(
            first_error < second_error && second_error < impl_at,
            "{out}"
        );
        for expected in [
            r#"const NAME: &'static ::core::primitive::str = "order";"#,
            "const VERSION: ::core::primitive::u16 = 3u16;",
            "type Key = u64;",
            "fn key(&self) -> Self::Key { ::core::unreachable!() }",
            "-> ::core::result::Result<Self, ::datawal_typed::DecodeError> { ::core::unreachable!() }",
        ] {
            assert!(out.contains(&squash(expected)), "missing `{expected}` in\n{out}");
        }
        assert!(
            !out.contains("decode_from") && !out.contains("OrderV2::"),
            "{out}"
        );
    }

    #[test]
    fn nothing_about_the_from_type_and_version_zero_when_invalid() {
        let out = failed(parse_quote! {
            #[record(version = "2", try_from = Old<T>, crate = "datawal::typed")]
            struct New<K, T> { #[record(key)] k: K, #[record(key)] n: u32, t: T }
        });
        for expected in [
            "impl<K, T> datawal::typed::Record for New<K, T> where \
             for<'__datawal_fallback> New<K, T>: datawal::typed::__private::serde::Serialize \
                 + datawal::typed::__private::serde::de::DeserializeOwned, \
             for<'__datawal_fallback> (K, u32,): datawal::typed::Key, {",
            r#"const NAME: &'static ::core::primitive::str = "New";"#,
            "const VERSION: ::core::primitive::u16 = 0u16;",
            "type Key = (K, u32,);",
        ] {
            assert!(
                out.contains(&squash(expected)),
                "missing `{expected}` in\n{out}"
            );
        }
        assert!(
            !out.contains("Old<T>:") && !out.contains("TryFrom"),
            "{out}"
        );
        assert!(!out.contains("const{"), "no inline upgrade check: {out}");
    }

    #[test]
    fn a_misspelled_option_is_read_as_what_was_meant() {
        let out = failed(parse_quote! {
            #[record(nmae = "order", verison = 2)]
            struct OrderV1 { #[record(kye)] id: u64 }
        });
        for expected in [
            r#"const NAME: &'static ::core::primitive::str = "order";"#,
            "const VERSION: ::core::primitive::u16 = 2u16;",
            "type Key = u64;",
        ] {
            assert!(
                out.contains(&squash(expected)),
                "missing `{expected}` in\n{out}"
            );
        }
    }

    #[test]
    fn an_enum_or_a_union_gets_a_fallback_with_the_unit_key() {
        for input in [
            parse_quote!(
                #[record(version = 1)]
                enum E {
                    A {
                        #[record(key)]
                        id: u64,
                    },
                }
            ),
            parse_quote!(#[record(version = 1)] union U { a: u32 }),
        ] {
            let out = failed(input);
            assert!(out.contains("typeKey=();"), "{out}");
        }
    }
}
