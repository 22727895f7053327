//! Stage 3: the rules that look at more than one attribute, or at an
//! attribute and the shape of the type. A rule about a single attribute's
//! own value is checked where it is parsed, in `attr.rs`.
//!
//! Each rule records its mistakes in the [`Ctxt`] and the next rule runs
//! anyway, so that every mistake is reported in the same build.

use crate::ast::{Container, Data, Field};
use crate::attr::SerdeAttrs;
use crate::ctxt::Ctxt;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

/// Why the bincode and postcard codecs cannot decode a self-describing-only
/// serde feature.
const NOT_SELF_DESCRIBING: &str =
    "the bincode and postcard codecs are not self-describing (they write values by position, \
     without field names or type tags) and cannot decode it";

/// Why writing and reading a different number of fields breaks decoding.
const POSITIONAL: &str =
    "the bincode and postcard codecs write fields by position, without names, \
     so every later field would be decoded from the wrong bytes";

/// Apply every rule to `cont`.
pub(crate) fn check(cx: &mut Ctxt, cont: &Container) {
    check_union(cx, cont);
    check_version_written(cx, cont);
    check_from_and_try_from(cx, cont);
    check_keys(cx, cont);
    check_serde(cx, cont);
    check_variant_history(cx, cont);
}

/// serde cannot encode a union.
fn check_union(cx: &mut Ctxt, cont: &Container) {
    if let Data::Union(token, _) = &cont.data {
        cx.error_spanned_by(
            token,
            "#[derive(Record)] cannot be used on a union: serde cannot encode unions; use a struct or an enum",
        );
    }
}

/// `version` is required. A version that was written but is invalid, or an
/// unknown option reported as a misspelling of `version`, has been reported
/// already: it is not reported missing too.
fn check_version_written(cx: &mut Ctxt, cont: &Container) {
    if cont.attrs.version.span().is_some() || cont.attrs.misspelled.contains(&"version") {
        return;
    }
    cx.error_spanned_by(
        cont.ident,
        format!(
            "missing record version: add `#[record(version = 1)]` to `{}` \
             (raise the version, and add `from = PreviousType`, whenever the shape changes)",
            cont.ident.unraw()
        ),
    );
}

/// A record has one previous version: `from` and `try_from` exclude each
/// other. Reported on `try_from`.
fn check_from_and_try_from(cx: &mut Ctxt, cont: &Container) {
    if let (Some(_), Some(try_from)) = (cont.attrs.from.span(), cont.attrs.try_from.span()) {
        cx.error_at(
            try_from,
            "use either `from` or `try_from`, not both: a record has one previous version; \
             `from` when the conversion cannot fail, `try_from` when it can",
        );
    }
}

/// An enum's key is `()`: no `#[record(key)]` on its variants' fields. A
/// struct's key field cannot be skipped by serde.
fn check_keys(cx: &mut Ctxt, cont: &Container) {
    match &cont.data {
        Data::Enum(variants) => {
            for field in variants.iter().flat_map(|variant| &variant.fields) {
                if let Some(key) = field.attrs.key.span() {
                    cx.error_at(
                        key,
                        "`#[record(key)]` cannot be used in an enum: the key of an enum record is `()`; \
                         to key by a value, put the enum in a struct with a key field",
                    );
                }
            }
        }
        Data::Struct(_, fields) => {
            for field in fields {
                check_key_not_skipped(cx, field);
            }
        }
        Data::Union(..) => {}
    }
}

fn check_key_not_skipped(cx: &mut Ctxt, field: &Field) {
    let Some(key) = field.attrs.key.span() else {
        return;
    };
    let serde = &field.serde;
    let skip = serde.get("skip");
    let skip_ser = serde.get("skip_serializing");
    let skip_de = serde.get("skip_deserializing");
    if skip.is_none() && (skip_ser.is_none() || skip_de.is_none()) {
        return;
    }
    let span = skip
        .or(skip_ser)
        .or(skip_de)
        .map_or(key, |meta| meta.path().span());
    cx.error_at(
        span,
        "a `#[record(key)]` field cannot be skipped by serde: the decoded value would lose its key; \
         remove the serde skip or the `#[record(key)]`",
    );
}

/// The history of an enum's variants (`since = N`, `vN = Type`): versions
/// within the enum's, variants added later after the older ones, and no
/// other way of upgrading beside it.
fn check_variant_history(cx: &mut Ctxt, cont: &Container) {
    let Data::Enum(variants) = &cont.data else {
        return;
    };
    if !cont.has_variant_history() {
        return;
    }
    if let Some(param) = cont.generics.params.first() {
        cx.error_spanned_by(
            param,
            "per-variant history (`since`, `vN = ...`) is not supported on a generic enum: \
             write the older versions as enums of their own and upgrade with `from = Older`",
        );
    }
    for span in [cont.attrs.from.span(), cont.attrs.try_from.span()]
        .into_iter()
        .flatten()
    {
        cx.error_at(
            span,
            "use either per-variant history (`since`, `vN = ...` on the variants) or \
             `from`/`try_from` on the enum, not both: the variants' history already describes \
             every older version",
        );
    }
    let Some(&current) = cont.attrs.version.get() else {
        return;
    };
    // The latest variant seen so far that was added after version 1.
    let mut latest: Option<(&syn::Ident, u16)> = None;
    for variant in variants {
        let since = variant.since();
        let name = variant.ident.unraw();
        if let (Some(span), true) = (variant.attrs.since.span(), since > current) {
            cx.error_at(
                span,
                format!(
                    "variant `{name}` cannot be added in version {since}: the enum is version \
                     {current}; write `since = {current}` or raise the enum's version"
                ),
            );
        }
        for old in &variant.attrs.history {
            let n = old.version;
            if n >= current {
                cx.error_at(
                    old.span,
                    format!(
                        "`v{n}` must name a version older than the enum's version {current}: \
                         in version {current} the payload of `{name}` is its own fields"
                    ),
                );
            } else if n < since {
                cx.error_at(
                    old.span,
                    format!(
                        "`v{n}`: variant `{name}` did not exist in version {n}, it was added in \
                         version {since}"
                    ),
                );
            }
        }
        match latest {
            Some((later, later_since)) if since < later_since => cx.error_spanned_by(
                variant.ident,
                format!(
                    "variant `{name}` (in the enum since version {since}) must come before \
                     `{}`, added in version {later_since}: bincode and postcard write a \
                     variant's position, so a variant added later must come after every \
                     older one; move `{}` down",
                    later.unraw(),
                    later.unraw()
                ),
            ),
            _ => {}
        }
        if since > 1 && latest.is_none_or(|(_, s)| since >= s) {
            latest = Some((variant.ident, since));
        }
    }
}

/// Refuse the serde options that need a self-describing format, or that
/// write a different number of fields than they read.
fn check_serde(cx: &mut Ctxt, cont: &Container) {
    check_serde_container(cx, &cont.serde);
    let fields: Vec<&Field> = match &cont.data {
        Data::Struct(_, fields) => fields.iter().collect(),
        Data::Enum(variants) => {
            for variant in variants {
                check_serde_variant(cx, &variant.serde);
            }
            variants
                .iter()
                .flat_map(|variant| &variant.fields)
                .collect()
        }
        Data::Union(..) => Vec::new(),
    };
    for field in fields {
        check_serde_field(cx, &field.serde);
    }
}

fn check_serde_container(cx: &mut Ctxt, serde: &SerdeAttrs) {
    let has_tag = serde.has("tag");
    let adjacent = has_tag && serde.has("content");
    for meta in serde.metas() {
        let path = meta.path();
        if path.is_ident("untagged") {
            cx.error_spanned_by(
                path,
                format!(
                    "`#[serde(untagged)]` cannot be used on a Record: an untagged enum is decoded by \
                     trying each variant through `deserialize_any`, and {NOT_SELF_DESCRIBING}; remove it \
                     (serde then writes the variant index)"
                ),
            );
        } else if path.is_ident("tag") {
            let what = if adjacent {
                "`#[serde(tag = \"...\", content = \"...\")]` (adjacent tagging)"
            } else {
                "`#[serde(tag = \"...\")]` (internal tagging)"
            };
            cx.error_spanned_by(
                meta,
                format!(
                    "{what} cannot be used on a Record: it is decoded through `deserialize_any`, and \
                     {NOT_SELF_DESCRIBING}; remove it (serde's default external tagging works with every codec)"
                ),
            );
        } else if path.is_ident("content") && !has_tag {
            cx.error_spanned_by(
                meta,
                format!(
                    "`#[serde(content = \"...\")]` (adjacent tagging) cannot be used on a Record: it is \
                     decoded through `deserialize_any`, and {NOT_SELF_DESCRIBING}; remove it"
                ),
            );
        }
    }
}

fn check_serde_variant(cx: &mut Ctxt, serde: &SerdeAttrs) {
    if let Some(meta) = serde.get("untagged") {
        cx.error_spanned_by(
            meta.path(),
            format!(
                "`#[serde(untagged)]` cannot be used on a variant of a Record: it is decoded through \
                 `deserialize_any`, and {NOT_SELF_DESCRIBING}; remove it"
            ),
        );
    }
}

fn check_serde_field(cx: &mut Ctxt, serde: &SerdeAttrs) {
    let skip = serde.has("skip");
    let skip_ser = serde.has("skip_serializing");
    let skip_de = serde.has("skip_deserializing");
    for meta in serde.metas() {
        let path = meta.path();
        if path.is_ident("flatten") {
            cx.error_spanned_by(
                path,
                format!(
                    "`#[serde(flatten)]` cannot be used in a Record: a flattened field is decoded through \
                     `deserialize_any`, and {NOT_SELF_DESCRIBING}; write the inner fields out in this type, \
                     or keep the inner value as an ordinary (not flattened) field"
                ),
            );
        } else if path.is_ident("skip_serializing_if") {
            cx.error_spanned_by(
                meta,
                format!(
                    "`#[serde(skip_serializing_if = \"...\")]` cannot be used in a Record: the field would \
                     sometimes be left out when writing but always expected when reading, and {POSITIONAL}; \
                     remove it (`#[serde(default)]` alone is fine)"
                ),
            );
        } else if path.is_ident("skip_serializing") && !skip_de && !skip {
            cx.error_spanned_by(
                path,
                format!(
                    "`#[serde(skip_serializing)]` without `skip_deserializing` cannot be used in a Record: \
                     the field would not be written but still be read, and {POSITIONAL}; use \
                     `#[serde(skip)]` to leave it out both ways"
                ),
            );
        } else if path.is_ident("skip_deserializing") && !skip_ser && !skip {
            cx.error_spanned_by(
                path,
                format!(
                    "`#[serde(skip_deserializing)]` without `skip_serializing` cannot be used in a Record: \
                     the field would be written but not read, and {POSITIONAL}; use `#[serde(skip)]` to \
                     leave it out both ways"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::{parse_quote, DeriveInput};

    /// The messages of every mistake in `input`, parse and check stages.
    fn mistakes(input: DeriveInput) -> Vec<String> {
        let mut cx = Ctxt::new();
        let cont = Container::from_ast(&mut cx, &input);
        check(&mut cx, &cont);
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(err) => err.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    /// The part of each message before its explanation.
    fn heads(messages: Vec<String>) -> Vec<String> {
        messages
            .into_iter()
            .map(|m| m.split(" cannot").next().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn allowed_serde_options_pass() {
        assert!(mistakes(parse_quote! {
            #[record(version = 1)]
            #[serde(rename_all = "snake_case", deny_unknown_fields, default)]
            struct S {
                #[serde(default, rename = "x", with = "m")]
                a: u8,
                #[serde(skip)]
                b: u8,
                #[serde(skip_serializing, skip_deserializing)]
                c: u8,
            }
        })
        .is_empty());
        assert!(mistakes(parse_quote! {
            #[record(version = 1)]
            enum E {
                #[serde(rename = "v")]
                V(#[serde(default)] u8),
            }
        })
        .is_empty());
    }

    #[test]
    fn serde_options_that_need_self_description_are_refused() {
        let mut found = Vec::new();
        for input in [
            parse_quote!(
                #[record(version = 1)]
                #[serde(untagged)]
                enum E {}
            ),
            parse_quote!(
                #[record(version = 1)]
                #[serde(tag = "t")]
                enum E {}
            ),
            parse_quote!(
                #[record(version = 1)]
                #[serde(tag = "t", content = "c")]
                enum E {}
            ),
            parse_quote!(
                #[record(version = 1)]
                #[serde(content = "c")]
                enum E {}
            ),
            parse_quote!(
                #[record(version = 1)]
                enum E {
                    #[serde(untagged)]
                    V,
                }
            ),
            parse_quote!(
                #[record(version = 1)]
                struct S {
                    #[serde(flatten)]
                    a: A,
                }
            ),
            parse_quote!(
                #[record(version = 1)]
                enum E {
                    V(#[serde(flatten)] A),
                }
            ),
            parse_quote! {
                #[record(version = 1)]
                struct S { #[serde(skip_serializing_if = "Option::is_none")] a: Option<u8> }
            },
            parse_quote!(
                #[record(version = 1)]
                struct S {
                    #[serde(skip_serializing)]
                    a: u8,
                }
            ),
            parse_quote!(
                #[record(version = 1)]
                struct S {
                    #[serde(skip_deserializing)]
                    a: u8,
                }
            ),
        ] {
            let input: DeriveInput = input;
            let one = mistakes(input);
            assert_eq!(one.len(), 1, "{one:?}");
            found.extend(one);
        }
        assert_eq!(
            heads(found),
            [
                "`#[serde(untagged)]`",
                "`#[serde(tag = \"...\")]` (internal tagging)",
                "`#[serde(tag = \"...\", content = \"...\")]` (adjacent tagging)",
                "`#[serde(content = \"...\")]` (adjacent tagging)",
                "`#[serde(untagged)]`",
                "`#[serde(flatten)]`",
                "`#[serde(flatten)]`",
                "`#[serde(skip_serializing_if = \"...\")]`",
                "`#[serde(skip_serializing)]` without `skip_deserializing`",
                "`#[serde(skip_deserializing)]` without `skip_serializing`",
            ]
        );
    }

    #[test]
    fn key_field_cannot_be_skipped_by_serde() {
        for input in [
            parse_quote!(
                #[record(version = 1)]
                struct S {
                    #[record(key)]
                    #[serde(skip)]
                    id: u64,
                }
            ),
            parse_quote! {
                #[record(version = 1)]
                struct S { #[serde(skip_deserializing, skip_serializing)] #[record(key)] id: u64 }
            },
        ] {
            let input: DeriveInput = input;
            let found = mistakes(input);
            assert_eq!(found.len(), 1, "{found:?}");
            assert!(found[0].starts_with("a `#[record(key)]` field cannot be skipped by serde"));
        }
        // Skipped one way only: that is the serde rule's mistake, not a lost key.
        let found = mistakes(parse_quote! {
            #[record(version = 1)]
            struct S { #[record(key)] #[serde(skip_serializing)] id: u64 }
        });
        assert_eq!(
            heads(found),
            ["`#[serde(skip_serializing)]` without `skip_deserializing`"]
        );
    }

    #[test]
    fn key_in_an_enum_is_refused_on_each_key() {
        let found = mistakes(parse_quote! {
            #[record(version = 1)]
            enum E { A { #[record(key)] id: u64 }, B(#[record(key)] u8, u8) }
        });
        assert_eq!(found.len(), 2);
        assert!(found
            .iter()
            .all(|m| m.starts_with("`#[record(key)]` cannot be used in an enum")));
    }

    #[test]
    fn from_and_try_from_exclude_each_other() {
        let found = mistakes(parse_quote! {
            #[record(version = 2, try_from = B, from = A)]
            struct S;
        });
        assert_eq!(
            found,
            [
                "use either `from` or `try_from`, not both: a record has one previous version; \
              `from` when the conversion cannot fail, `try_from` when it can"
            ]
        );
        // Also when one of them has an invalid value (two mistakes).
        assert_eq!(
            mistakes(parse_quote!(
                #[record(version = 2, from = "A", try_from = B)]
                struct S;
            ))
            .len(),
            2
        );
    }

    #[test]
    fn missing_version_is_reported_unless_written_or_misspelled() {
        let missing = "missing record version: add `#[record(version = 1)]` to `Match` \
                       (raise the version, and add `from = PreviousType`, whenever the shape changes)";
        assert_eq!(
            mistakes(parse_quote!(
                struct r#Match;
            )),
            [missing]
        );
        assert_eq!(
            mistakes(parse_quote!(
                #[record(nmae = "z")]
                struct r#Match;
            )),
            [
                "unknown record attribute `nmae`; did you mean `name`?",
                missing
            ]
        );
        assert_eq!(
            mistakes(parse_quote!(
                #[record(version = 0)]
                struct r#Match;
            )),
            ["record version 0 is not allowed: versions start at 1"]
        );
        assert_eq!(
            mistakes(parse_quote!(
                #[record(verison = 1)]
                struct r#Match;
            )),
            ["unknown record attribute `verison`; did you mean `version`?"]
        );
    }

    #[test]
    fn unions_are_refused() {
        assert_eq!(
            mistakes(parse_quote!(#[record(version = 1)] union U { a: u32 })),
            ["#[derive(Record)] cannot be used on a union: serde cannot encode unions; use a struct or an enum"]
        );
    }
}
