//! Parsing of `#[record(...)]` attributes, by hand with `parse_nested_meta`,
//! and the scan of `#[serde(...)]` attributes for options that a
//! non-self-describing codec cannot decode.
//!
//! Every mistake is recorded in the [`Ctxt`] and parsing goes on, so that a
//! user sees all their mistakes in one build.

use crate::ctxt::Ctxt;
use proc_macro2::{Span, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Lit, LitStr, Meta, Token};

/// The attributes accepted in `#[record(...)]` on a struct or enum.
pub(crate) const CONTAINER_ATTRS: &[&str] = &["name", "version", "from", "try_from", "crate"];

/// The attributes accepted in `#[record(...)]` on a field.
pub(crate) const FIELD_ATTRS: &[&str] = &["key"];

/// Whether a `from` type is converted with `From` or `TryFrom`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UpgradeKind {
    /// `from = Older`: `impl From<Older> for Self`.
    From,
    /// `try_from = Older`: `impl TryFrom<Older> for Self`.
    TryFrom,
}

impl UpgradeKind {
    /// The attribute name as the user writes it.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            UpgradeKind::From => "from",
            UpgradeKind::TryFrom => "try_from",
        }
    }
}

/// A `from = Older` or `try_from = Older` container attribute.
pub(crate) struct Upgrade {
    /// `from` or `try_from`.
    pub(crate) kind: UpgradeKind,
    /// The previous version of the record family.
    pub(crate) ty: syn::Type,
}

/// The parsed `#[record(...)]` attributes of a struct or enum.
#[derive(Default)]
pub(crate) struct ContainerAttrs {
    /// `name = "..."`.
    pub(crate) name: Option<LitStr>,
    /// `version = N`, checked to be in `1..=u16::MAX`.
    pub(crate) version: Option<u16>,
    /// A `version` was written but was invalid or misspelled (already
    /// reported: do not report it missing too).
    pub(crate) version_reported: bool,
    /// A `version = ...` was seen, valid or not (a second one is a duplicate).
    version_seen: bool,
    /// `from = T` or `try_from = T`.
    pub(crate) upgrade: Option<Upgrade>,
    /// `crate = "path"`.
    pub(crate) krate: Option<syn::Path>,
}

/// The parsed `#[record(...)]` attributes of a field.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    /// The `key` token of `#[record(key)]`, if present.
    pub(crate) key: Option<syn::Path>,
}

/// What the serde attributes of a field mean for the derive.
#[derive(Default)]
pub(crate) struct SerdeField {
    /// `#[serde(skip)]`, or both `skip_serializing` and `skip_deserializing`.
    pub(crate) skipped: bool,
}

fn is_record(attr: &Attribute) -> bool {
    attr.path().is_ident("record")
}

fn is_serde(attr: &Attribute) -> bool {
    attr.path().is_ident("serde")
}

/// The attributes whose text goes into `Record::SCHEMA`.
pub(crate) fn serde_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|attr| is_serde(attr))
}

/// Parse the `#[record(...)]` attributes of the derive input.
pub(crate) fn parse_container(cx: &mut Ctxt, attrs: &[Attribute]) -> ContainerAttrs {
    let mut out = ContainerAttrs::default();
    for attr in attrs.iter().filter(|attr| is_record(attr)) {
        let result = attr.parse_nested_meta(|meta| {
            let Some(attr_name) = meta_name(&meta) else {
                cx.error_spanned_by(&meta.path, "expected a record attribute name");
                return skip_value(&meta);
            };
            match attr_name.as_str() {
                "name" => {
                    let expr: Expr = meta.value()?.parse()?;
                    match &expr {
                        Expr::Lit(syn::ExprLit {
                            lit: Lit::Str(lit), ..
                        }) => {
                            if out.name.is_some() {
                                cx.error_spanned_by(&meta.path, "duplicate record attribute `name`");
                            } else if lit.value().is_empty() {
                                cx.error_spanned_by(lit, "the record name cannot be empty");
                            } else {
                                out.name = Some(lit.clone());
                            }
                        }
                        _ => cx.error_spanned_by(
                            &expr,
                            "expected a string literal for the record name, like `name = \"order\"`",
                        ),
                    }
                }
                "version" => {
                    let expr: Expr = meta.value()?.parse()?;
                    let duplicate = out.version_seen;
                    out.version_seen = true;
                    match parse_version(&expr) {
                        Ok(_) if duplicate => {
                            cx.error_spanned_by(&meta.path, "duplicate record attribute `version`")
                        }
                        Ok(version) => out.version = Some(version),
                        Err(err) => {
                            out.version_reported = true;
                            cx.syn_error(err);
                        }
                    }
                }
                "from" | "try_from" => {
                    let kind = if attr_name == "from" {
                        UpgradeKind::From
                    } else {
                        UpgradeKind::TryFrom
                    };
                    let value = meta.value()?;
                    if value.peek(LitStr) {
                        let lit: LitStr = value.parse()?;
                        cx.error_spanned_by(
                            &lit,
                            format!(
                                "expected a type, not a string: write `{} = {}`",
                                kind.keyword(),
                                lit.value()
                            ),
                        );
                        return Ok(());
                    }
                    let ty: syn::Type = value.parse()?;
                    match &out.upgrade {
                        Some(previous) if previous.kind == kind => cx.error_spanned_by(
                            &meta.path,
                            format!("duplicate record attribute `{}`", kind.keyword()),
                        ),
                        Some(_) => cx.error_spanned_by(
                            &meta.path,
                            "use either `from` or `try_from`, not both: a record has one previous version",
                        ),
                        None => out.upgrade = Some(Upgrade { kind, ty }),
                    }
                }
                "crate" => {
                    let lit: LitStr = meta.value()?.parse()?;
                    match lit.parse::<syn::Path>() {
                        Ok(path) if out.krate.is_none() => out.krate = Some(path),
                        Ok(_) => cx.error_spanned_by(&meta.path, "duplicate record attribute `crate`"),
                        Err(_) => cx.error_spanned_by(
                            &lit,
                            "expected a path to the datawal_typed crate, like `crate = \"datawal::typed\"`",
                        ),
                    }
                }
                "key" => {
                    cx.error_spanned_by(
                        &meta.path,
                        "`key` is a field attribute: write `#[record(key)]` on the key field, not on the type",
                    );
                    return skip_value(&meta);
                }
                other => {
                    if suggest(other, CONTAINER_ATTRS) == Some("version") {
                        out.version_reported = true;
                    }
                    cx.error_spanned_by(&meta.path, unknown_message(other, CONTAINER_ATTRS));
                    return skip_value(&meta);
                }
            }
            Ok(())
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
    out
}

/// Parse the `#[record(...)]` attributes of a field. `in_enum` makes `key`
/// an error: the key of an enum is `()`.
pub(crate) fn parse_field(cx: &mut Ctxt, attrs: &[Attribute], in_enum: bool) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    for attr in attrs.iter().filter(|attr| is_record(attr)) {
        let result = attr.parse_nested_meta(|meta| {
            let Some(attr_name) = meta_name(&meta) else {
                cx.error_spanned_by(&meta.path, "expected a record attribute name");
                return skip_value(&meta);
            };
            match attr_name.as_str() {
                "key" => {
                    if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                        cx.error_spanned_by(&meta.path, "`key` takes no value: write `#[record(key)]`");
                        return skip_value(&meta);
                    }
                    if in_enum {
                        cx.error_spanned_by(
                            &meta.path,
                            "`#[record(key)]` cannot be used in an enum: the key of an enum record is `()`; \
                             to key by a value, put the enum in a struct with a key field",
                        );
                    } else if out.key.is_some() {
                        cx.error_spanned_by(&meta.path, "duplicate record attribute `key`");
                    } else {
                        out.key = Some(meta.path.clone());
                    }
                }
                other if CONTAINER_ATTRS.contains(&other) => {
                    cx.error_spanned_by(
                        &meta.path,
                        format!(
                            "`{other}` is a container attribute: write it in the `#[record(...)]` on the type, not on a field"
                        ),
                    );
                    return skip_value(&meta);
                }
                other => {
                    cx.error_spanned_by(&meta.path, unknown_message(other, FIELD_ATTRS));
                    return skip_value(&meta);
                }
            }
            Ok(())
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
    out
}

/// Enum variants take no `#[record(...)]` attribute.
pub(crate) fn reject_variant_attrs(cx: &mut Ctxt, attrs: &[Attribute]) {
    for attr in attrs.iter().filter(|attr| is_record(attr)) {
        cx.error_spanned_by(
            attr,
            "`#[record(...)]` is not allowed on an enum variant: put `name`/`version` on the enum; \
             enums have no key fields",
        );
    }
}

/// The name of a nested meta: one identifier, keywords included.
fn meta_name(meta: &ParseNestedMeta) -> Option<String> {
    if meta.path.leading_colon.is_some() || meta.path.segments.len() != 1 {
        return None;
    }
    let segment = &meta.path.segments[0];
    match segment.arguments {
        syn::PathArguments::None => Some(segment.ident.to_string()),
        _ => None,
    }
}

/// Consume whatever follows an attribute name we report as wrong, so that
/// parsing carries on with the next one.
fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
        meta.input.parse::<TokenTree>()?;
    }
    Ok(())
}

/// Check `version = N`: an integer literal in `1..=65535`.
fn parse_version(expr: &Expr) -> syn::Result<u16> {
    const HINT: &str = "write an integer from 1 to 65535, like `version = 1`";
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(int), ..
        }) => match int.base10_parse::<u64>() {
            Ok(0) => Err(syn::Error::new_spanned(
                int,
                "record version 0 is not allowed: versions start at 1",
            )),
            Ok(n) => u16::try_from(n).map_err(|_| {
                syn::Error::new_spanned(
                    int,
                    format!("record version {n} does not fit in a u16: {HINT}"),
                )
            }),
            Err(_) => Err(syn::Error::new_spanned(
                int,
                format!("record version does not fit in a u16: {HINT}"),
            )),
        },
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            ..
        }) => Err(syn::Error::new_spanned(
            expr,
            format!("record version cannot be negative: {HINT}"),
        )),
        _ => Err(syn::Error::new_spanned(
            expr,
            format!("expected an integer literal for the record version: {HINT}"),
        )),
    }
}

/// The message for an unknown attribute name, with a suggestion when one of
/// `known` is a likely misspelling.
pub(crate) fn unknown_message(unknown: &str, known: &[&str]) -> String {
    match suggest(unknown, known) {
        Some(candidate) => {
            format!("unknown record attribute `{unknown}`; did you mean `{candidate}`?")
        }
        None => {
            let list: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
            format!(
                "unknown record attribute `{unknown}`; expected {}{}",
                if known.len() > 1 { "one of " } else { "" },
                list.join(", ")
            )
        }
    }
}

/// The candidate closest to `unknown`, if it is close enough to be a typo:
/// at most two edits (a swap of neighbours counts as one) and fewer edits
/// than half its length.
fn suggest<'k>(unknown: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|candidate| (edit_distance(unknown, candidate), *candidate))
        .filter(|(distance, candidate)| *distance <= 2 && distance * 2 < candidate.len())
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance: insertions, deletions, substitutions
/// and swaps of two neighbouring characters each cost one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

/// Why the bincode and postcard codecs cannot decode a self-describing-only
/// serde feature.
const NOT_SELF_DESCRIBING: &str =
    "the bincode and postcard codecs are not self-describing (they write values by position, \
     without field names or type tags) and cannot decode it";

/// Why writing and reading a different number of fields breaks decoding.
const POSITIONAL: &str =
    "the bincode and postcard codecs write fields by position, without names, \
     so every later field would be decoded from the wrong bytes";

/// The metas inside the `#[serde(...)]` attributes, flattened. Attributes
/// that do not parse are left to serde_derive to report.
fn serde_metas(attrs: &[Attribute]) -> Vec<Meta> {
    serde_attrs(attrs)
        .filter_map(|attr| {
            attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                .ok()
        })
        .flatten()
        .collect()
}

/// Reject serde container attributes that need a self-describing format.
pub(crate) fn check_serde_container(cx: &mut Ctxt, attrs: &[Attribute]) {
    let metas = serde_metas(attrs);
    let has = |name: &str| metas.iter().any(|meta| meta.path().is_ident(name));
    let adjacent = has("tag") && has("content");
    for meta in &metas {
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
        } else if path.is_ident("content") && !has("tag") {
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

/// Reject serde variant attributes that need a self-describing format.
pub(crate) fn check_serde_variant(cx: &mut Ctxt, attrs: &[Attribute]) {
    for meta in serde_metas(attrs) {
        if meta.path().is_ident("untagged") {
            cx.error_spanned_by(
                meta.path(),
                format!(
                    "`#[serde(untagged)]` cannot be used on a variant of a Record: it is decoded through \
                     `deserialize_any`, and {NOT_SELF_DESCRIBING}; remove it"
                ),
            );
        }
    }
}

/// Reject serde field attributes that need a self-describing format or that
/// write a different number of fields than they read, and tell whether the
/// field is skipped both ways.
pub(crate) fn check_serde_field(cx: &mut Ctxt, attrs: &[Attribute]) -> SerdeField {
    let metas = serde_metas(attrs);
    let has = |name: &str| metas.iter().any(|meta| meta.path().is_ident(name));
    let skip = has("skip");
    let skip_ser = has("skip_serializing");
    let skip_de = has("skip_deserializing");
    for meta in &metas {
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
    SerdeField {
        skipped: skip || (skip_ser && skip_de),
    }
}

/// The span of the first `#[serde(skip...)]` path, to point at when a key
/// field is skipped.
pub(crate) fn serde_skip_span(attrs: &[Attribute]) -> Option<Span> {
    serde_metas(attrs)
        .iter()
        .map(Meta::path)
        .find(|path| {
            path.is_ident("skip")
                || path.is_ident("skip_serializing")
                || path.is_ident("skip_deserializing")
        })
        .map(|path| path.span())
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn messages(cx: Ctxt) -> Vec<String> {
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(err) => err.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn edit_distance_counts_swaps_as_one_edit() {
        assert_eq!(edit_distance("version", "version"), 0);
        assert_eq!(edit_distance("verison", "version"), 1);
        assert_eq!(edit_distance("vresion", "version"), 1);
        assert_eq!(edit_distance("nmae", "name"), 1);
        assert_eq!(edit_distance("", "key"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn suggestions_only_for_likely_typos() {
        assert_eq!(suggest("verison", CONTAINER_ATTRS), Some("version"));
        assert_eq!(suggest("tryfrom", CONTAINER_ATTRS), Some("try_from"));
        assert_eq!(suggest("nam", CONTAINER_ATTRS), Some("name"));
        assert_eq!(suggest("kye", FIELD_ATTRS), Some("key"));
        assert_eq!(suggest("bound", CONTAINER_ATTRS), None);
        assert_eq!(suggest("x", FIELD_ATTRS), None);
        assert_eq!(
            unknown_message("verison", CONTAINER_ATTRS),
            "unknown record attribute `verison`; did you mean `version`?"
        );
        assert_eq!(
            unknown_message("bound", CONTAINER_ATTRS),
            "unknown record attribute `bound`; expected one of `name`, `version`, `from`, `try_from`, `crate`"
        );
        assert_eq!(
            unknown_message("primary", FIELD_ATTRS),
            "unknown record attribute `primary`; expected `key`"
        );
    }

    #[test]
    fn container_attributes_parse() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[record(name = "order", version = 3)]),
            parse_quote!(#[record(try_from = crate::v2::Order, crate = "datawal::typed")]),
        ];
        let mut cx = Ctxt::new();
        let parsed = parse_container(&mut cx, &attrs);
        assert!(messages(cx).is_empty());
        assert_eq!(parsed.name.unwrap().value(), "order");
        assert_eq!(parsed.version, Some(3));
        let upgrade = parsed.upgrade.unwrap();
        assert_eq!(upgrade.kind, UpgradeKind::TryFrom);
        let ty = &upgrade.ty;
        assert_eq!(
            quote::quote!(#ty).to_string(),
            quote::quote!(crate::v2::Order).to_string()
        );
        let krate = parsed.krate.unwrap();
        assert_eq!(quote::quote!(#krate).to_string(), "datawal :: typed");
    }

    #[test]
    fn every_version_mistake_is_reported() {
        for (attr, expected) in [
            (
                parse_quote!(#[record(version = 0)]),
                "record version 0 is not allowed",
            ),
            (
                parse_quote!(#[record(version = 65536)]),
                "record version 65536 does not fit in a u16",
            ),
            (
                parse_quote!(#[record(version = 99999999999999999999999)]),
                "record version does not fit in a u16",
            ),
            (
                parse_quote!(#[record(version = -1)]),
                "record version cannot be negative",
            ),
            (
                parse_quote!(#[record(version = "2")]),
                "expected an integer literal",
            ),
            (
                parse_quote!(#[record(version = 1.5)]),
                "expected an integer literal",
            ),
            (
                parse_quote!(#[record(version = VERSION)]),
                "expected an integer literal",
            ),
        ] {
            let attr: Attribute = attr;
            let mut cx = Ctxt::new();
            let parsed = parse_container(&mut cx, std::slice::from_ref(&attr));
            assert!(parsed.version.is_none());
            assert!(parsed.version_reported);
            let messages = messages(cx);
            assert_eq!(messages.len(), 1, "{messages:?}");
            assert!(messages[0].contains(expected), "{messages:?}");
        }
    }

    #[test]
    fn all_container_mistakes_are_collected() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[record(verison = 1, nmae = "x", key)]),
            parse_quote!(#[record(version = 1, version = 2, from = A, try_from = B)]),
            parse_quote!(#[record(from = "A", name = 5, name = "")]),
        ];
        let mut cx = Ctxt::new();
        let parsed = parse_container(&mut cx, &attrs);
        assert_eq!(parsed.version, Some(1));
        assert_eq!(
            messages(cx),
            [
                "unknown record attribute `verison`; did you mean `version`?",
                "unknown record attribute `nmae`; did you mean `name`?",
                "`key` is a field attribute: write `#[record(key)]` on the key field, not on the type",
                "duplicate record attribute `version`",
                "use either `from` or `try_from`, not both: a record has one previous version",
                "expected a type, not a string: write `from = A`",
                "expected a string literal for the record name, like `name = \"order\"`",
                "the record name cannot be empty",
            ]
        );
    }

    #[test]
    fn field_attributes() {
        let mut cx = Ctxt::new();
        let key = parse_field(&mut cx, &[parse_quote!(#[record(key)])], false);
        assert!(key.key.is_some());
        let none = parse_field(&mut cx, &[parse_quote!(#[serde(default)])], false);
        assert!(none.key.is_none());
        assert!(messages(cx).is_empty());

        let mut cx = Ctxt::new();
        parse_field(
            &mut cx,
            &[
                parse_quote!(#[record(kye, key, key, key = true, version = 2)]),
                parse_quote!(#[record(primary)]),
            ],
            false,
        );
        parse_field(&mut cx, &[parse_quote!(#[record(key)])], true);
        assert_eq!(
            messages(cx),
            [
                "unknown record attribute `kye`; did you mean `key`?",
                "duplicate record attribute `key`",
                "`key` takes no value: write `#[record(key)]`",
                "`version` is a container attribute: write it in the `#[record(...)]` on the type, not on a field",
                "unknown record attribute `primary`; expected `key`",
                "`#[record(key)]` cannot be used in an enum: the key of an enum record is `()`; \
                 to key by a value, put the enum in a struct with a key field",
            ]
        );
    }

    #[test]
    fn serde_attributes_that_need_self_description_are_rejected() {
        let mut cx = Ctxt::new();
        check_serde_container(
            &mut cx,
            &[parse_quote!(#[serde(rename_all = "snake_case", deny_unknown_fields, default)])],
        );
        let field = check_serde_field(
            &mut cx,
            &[parse_quote!(#[serde(default, rename = "x", with = "m")])],
        );
        assert!(!field.skipped);
        assert!(check_serde_field(&mut cx, &[parse_quote!(#[serde(skip)])]).skipped);
        assert!(
            check_serde_field(
                &mut cx,
                &[parse_quote!(#[serde(skip_serializing, skip_deserializing)])]
            )
            .skipped
        );
        check_serde_variant(&mut cx, &[parse_quote!(#[serde(rename = "v")])]);
        assert!(messages(cx).is_empty());

        let mut cx = Ctxt::new();
        check_serde_container(&mut cx, &[parse_quote!(#[serde(untagged)])]);
        check_serde_container(&mut cx, &[parse_quote!(#[serde(tag = "t")])]);
        check_serde_container(&mut cx, &[parse_quote!(#[serde(tag = "t", content = "c")])]);
        check_serde_container(&mut cx, &[parse_quote!(#[serde(content = "c")])]);
        check_serde_variant(&mut cx, &[parse_quote!(#[serde(untagged)])]);
        check_serde_field(&mut cx, &[parse_quote!(#[serde(flatten)])]);
        check_serde_field(
            &mut cx,
            &[parse_quote!(#[serde(skip_serializing_if = "Option::is_none")])],
        );
        check_serde_field(&mut cx, &[parse_quote!(#[serde(skip_serializing)])]);
        check_serde_field(&mut cx, &[parse_quote!(#[serde(skip_deserializing)])]);
        let found: Vec<String> = messages(cx)
            .into_iter()
            .map(|m| m.split(" cannot").next().unwrap().to_owned())
            .collect();
        assert_eq!(
            found,
            [
                "`#[serde(untagged)]`",
                "`#[serde(tag = \"...\")]` (internal tagging)",
                "`#[serde(tag = \"...\", content = \"...\")]` (adjacent tagging)",
                "`#[serde(content = \"...\")]` (adjacent tagging)",
                "`#[serde(untagged)]`",
                "`#[serde(flatten)]`",
                "`#[serde(skip_serializing_if = \"...\")]`",
                "`#[serde(skip_serializing)]` without `skip_deserializing`",
                "`#[serde(skip_deserializing)]` without `skip_serializing`",
            ]
        );
    }

    #[test]
    fn variant_attributes_are_rejected() {
        let mut cx = Ctxt::new();
        reject_variant_attrs(&mut cx, &[parse_quote!(#[record(key)])]);
        assert_eq!(messages(cx).len(), 1);
    }
}
