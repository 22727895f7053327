//! Stage 1: the attributes of one item, each read on its own.
//!
//! `#[record(...)]` is parsed by hand with `parse_nested_meta`; every
//! option goes through one [`Attr`] slot, which reports a second writing of
//! the option as a duplicate. `#[serde(...)]` options are collected, not
//! judged: which of them a record refuses, and every other rule that looks
//! at two attributes or at an attribute and the shape of the type, is in
//! `check.rs`.
//!
//! Every mistake is recorded in the [`Ctxt`] and parsing goes on, so that a
//! user sees all their mistakes in one build, and so that a failed derive
//! still has the name, version and key it could read for its fallback impl.

use crate::ctxt::Ctxt;
use proc_macro2::{Span, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Lit, LitStr, Meta, Token};

/// The options accepted in `#[record(...)]` on a struct or enum.
pub(crate) const CONTAINER_ATTRS: &[&str] = &["name", "version", "from", "try_from", "crate"];

/// The options accepted in `#[record(...)]` on a field.
pub(crate) const FIELD_ATTRS: &[&str] = &["key"];

/// One `#[record(...)]` option, which may be written once per item.
///
/// The slot remembers where the option was first written, valid or not, so
/// that a second writing is reported as a duplicate (and its value is not
/// parsed: one mistake, one error) and so that later rules can point at it.
pub(crate) struct Attr<T> {
    /// The option's name, for the duplicate message.
    name: &'static str,
    /// Where the option was first written.
    span: Option<Span>,
    /// Its value, when the value was valid.
    value: Option<T>,
}

impl<T> Attr<T> {
    /// A slot for the option `name`, not yet written.
    pub(crate) fn none(name: &'static str) -> Self {
        Attr {
            name,
            span: None,
            value: None,
        }
    }

    /// Read the option that `meta` names into this slot with `parse`, which
    /// returns `None` for a value it has reported as invalid. A second
    /// writing is reported as a duplicate and its value skipped.
    fn parse_with(
        &mut self,
        cx: &mut Ctxt,
        meta: &ParseNestedMeta,
        parse: impl FnOnce(&mut Ctxt, &ParseNestedMeta) -> syn::Result<Option<T>>,
    ) -> syn::Result<()> {
        if self.span.is_some() {
            cx.error_spanned_by(
                &meta.path,
                format!(
                    "duplicate `#[record({})]`: it is already written earlier; remove this one",
                    self.name
                ),
            );
            return skip_value(meta);
        }
        self.span = Some(meta.path.span());
        self.value = parse(cx, meta)?;
        Ok(())
    }

    /// Take `value` as the option's value without the option being
    /// written: for an unknown option reported as a misspelling of this one,
    /// so that the fallback impl has the value the user meant (a
    /// misspelling is an error: no real impl is generated from a guess). A
    /// later writing of the option replaces the guess, and is no duplicate.
    fn guess(&mut self, value: Option<T>) {
        if self.span.is_none() && self.value.is_none() {
            self.value = value;
        }
    }

    /// The value, if the option was written with a valid value (or, after
    /// an error, guessed from a misspelling).
    pub(crate) fn get(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// Where the option was first written, valid or not.
    pub(crate) fn span(&self) -> Option<Span> {
        self.span
    }
}

impl ContainerAttrs {
    /// Read `value`, written after an unknown option reported as a
    /// misspelling of `known`, as a guess of `known` (see [`Attr::guess`]).
    /// `from` and `try_from` are not guessed: the fallback impl does not
    /// use them.
    fn guess(&mut self, known: &str, value: Option<&Expr>) {
        let Some(value) = value else {
            return;
        };
        let string = match value {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(lit), ..
            }) => Some(lit),
            _ => None,
        };
        match known {
            "name" => self
                .name
                .guess(string.filter(|lit| !lit.value().is_empty()).cloned()),
            "version" => self.version.guess(parse_version(value).ok()),
            "crate" => self.krate.guess(string.and_then(|lit| lit.parse().ok())),
            _ => {}
        }
    }
}

/// The `#[record(...)]` options of a struct or enum.
pub(crate) struct ContainerAttrs {
    /// `name = "..."`.
    pub(crate) name: Attr<LitStr>,
    /// `version = N`, checked to be in `1..=u16::MAX`.
    pub(crate) version: Attr<u16>,
    /// `from = Older`.
    pub(crate) from: Attr<syn::Type>,
    /// `try_from = Older`.
    pub(crate) try_from: Attr<syn::Type>,
    /// `crate = "path"`.
    pub(crate) krate: Attr<syn::Path>,
    /// Known options that an unknown one was reported as a likely
    /// misspelling of (a misspelled `version` is not also missing).
    pub(crate) misspelled: Vec<&'static str>,
}

/// The `#[record(...)]` options of a field.
pub(crate) struct FieldAttrs {
    /// `key`.
    pub(crate) key: Attr<()>,
}

/// The `#[serde(...)]` attributes of one item and their options.
pub(crate) struct SerdeAttrs<'a> {
    /// The attributes as written (their text is part of `Record::SCHEMA`).
    pub(crate) attrs: Vec<&'a Attribute>,
    /// Their options, in order. An attribute that does not parse is left to
    /// serde_derive to report.
    metas: Vec<Meta>,
}

impl<'a> SerdeAttrs<'a> {
    /// Collect the `#[serde(...)]` attributes among `attrs`.
    pub(crate) fn from_attrs(attrs: &'a [Attribute]) -> Self {
        let attrs: Vec<&Attribute> = attrs
            .iter()
            .filter(|attr| attr.path().is_ident("serde"))
            .collect();
        let metas = attrs
            .iter()
            .filter_map(|attr| {
                attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                    .ok()
            })
            .flatten()
            .collect();
        SerdeAttrs { attrs, metas }
    }

    /// The options, in order.
    pub(crate) fn metas(&self) -> &[Meta] {
        &self.metas
    }

    /// The first option named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Meta> {
        self.metas.iter().find(|meta| meta.path().is_ident(name))
    }

    /// Whether an option named `name` is present.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

fn is_record(attr: &Attribute) -> bool {
    attr.path().is_ident("record")
}

/// Parse the `#[record(...)]` attributes of the derive input.
pub(crate) fn parse_container(cx: &mut Ctxt, attrs: &[Attribute]) -> ContainerAttrs {
    let mut out = ContainerAttrs {
        name: Attr::none("name"),
        version: Attr::none("version"),
        from: Attr::none("from"),
        try_from: Attr::none("try_from"),
        krate: Attr::none("crate"),
        misspelled: Vec::new(),
    };
    for attr in attrs.iter().filter(|attr| is_record(attr)) {
        let result = attr.parse_nested_meta(|meta| {
            let Some(attr_name) = meta_name(&meta) else {
                cx.error_spanned_by(&meta.path, "expected a record attribute name");
                return skip_value(&meta);
            };
            match attr_name.as_str() {
                "name" => out.name.parse_with(cx, &meta, parse_name),
                "version" => out.version.parse_with(cx, &meta, |cx, meta| {
                    let expr: Expr = meta.value()?.parse()?;
                    Ok(parse_version(&expr).map_err(|err| cx.syn_error(err)).ok())
                }),
                "from" => out.from.parse_with(cx, &meta, |cx, meta| parse_older(cx, meta, "from")),
                "try_from" => out
                    .try_from
                    .parse_with(cx, &meta, |cx, meta| parse_older(cx, meta, "try_from")),
                "crate" => out.krate.parse_with(cx, &meta, parse_crate),
                "key" => {
                    cx.error_spanned_by(
                        &meta.path,
                        "`key` is a field attribute: write `#[record(key)]` on the key field, not on the type",
                    );
                    skip_value(&meta)
                }
                other => {
                    cx.error_spanned_by(&meta.path, unknown_message(other, CONTAINER_ATTRS));
                    let value = skipped_value(&meta)?;
                    if let Some(known) = suggest(other, CONTAINER_ATTRS) {
                        out.misspelled.push(known);
                        out.guess(known, value.as_ref());
                    }
                    Ok(())
                }
            }
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
    out
}

/// `name = "..."`: a non-empty string literal.
fn parse_name(cx: &mut Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<LitStr>> {
    let expr: Expr = meta.value()?.parse()?;
    match &expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) if lit.value().is_empty() => {
            cx.error_spanned_by(
                lit,
                "the record name cannot be empty: write `name = \"order\"`, \
                 or leave `name` out to use the type's name",
            );
            Ok(None)
        }
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(Some(lit.clone())),
        _ => {
            cx.error_spanned_by(
                &expr,
                "expected a string literal for the record name, like `name = \"order\"`",
            );
            Ok(None)
        }
    }
}

/// `from = Older` or `try_from = Older`: a type, not a string.
fn parse_older(
    cx: &mut Ctxt,
    meta: &ParseNestedMeta,
    keyword: &str,
) -> syn::Result<Option<syn::Type>> {
    let value = meta.value()?;
    if value.peek(LitStr) {
        let lit: LitStr = value.parse()?;
        cx.error_spanned_by(
            &lit,
            format!(
                "expected a type, not a string: write `{keyword} = {}`",
                lit.value()
            ),
        );
        return Ok(None);
    }
    value.parse().map(Some)
}

/// `crate = "path"`: a string holding a path.
fn parse_crate(cx: &mut Ctxt, meta: &ParseNestedMeta) -> syn::Result<Option<syn::Path>> {
    let lit: LitStr = meta.value()?.parse()?;
    match lit.parse::<syn::Path>() {
        Ok(path) => Ok(Some(path)),
        Err(_) => {
            cx.error_spanned_by(
                &lit,
                "expected a path to the datawal_typed crate, like `crate = \"datawal::typed\"`",
            );
            Ok(None)
        }
    }
}

/// Parse the `#[record(...)]` attributes of a field.
pub(crate) fn parse_field(cx: &mut Ctxt, attrs: &[Attribute]) -> FieldAttrs {
    let mut out = FieldAttrs {
        key: Attr::none("key"),
    };
    for attr in attrs.iter().filter(|attr| is_record(attr)) {
        let result = attr.parse_nested_meta(|meta| {
            let Some(attr_name) = meta_name(&meta) else {
                cx.error_spanned_by(&meta.path, "expected a record attribute name");
                return skip_value(&meta);
            };
            match attr_name.as_str() {
                "key" => out.key.parse_with(cx, &meta, |cx, meta| {
                    if meta.input.is_empty() || meta.input.peek(Token![,]) {
                        return Ok(Some(()));
                    }
                    cx.error_spanned_by(&meta.path, "`key` takes no value: write `#[record(key)]`");
                    skip_value(meta)?;
                    Ok(None)
                }),
                other if CONTAINER_ATTRS.contains(&other) => {
                    cx.error_spanned_by(
                        &meta.path,
                        format!(
                            "`{other}` is a container attribute: write it in the `#[record(...)]` on the type, not on a field"
                        ),
                    );
                    skip_value(&meta)
                }
                other => {
                    cx.error_spanned_by(&meta.path, unknown_message(other, FIELD_ATTRS));
                    let value = skipped_value(&meta)?;
                    if suggest(other, FIELD_ATTRS) == Some("key") && value.is_none() {
                        out.key.guess(Some(()));
                    }
                    Ok(())
                }
            }
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
    out
}

/// The `#[record(...)]` options of an enum variant: its history.
pub(crate) struct VariantAttrs {
    /// `since = N`: the version the variant was added in.
    pub(crate) since: Attr<u16>,
    /// `vN = Type`, in the order written: through version `N` (back to the
    /// previous `vM`, or the variant's first version) the variant's payload
    /// was `Type`.
    pub(crate) history: Vec<OldPayload>,
}

/// One `vN = Type` option of a variant.
pub(crate) struct OldPayload {
    /// `N`.
    pub(crate) version: u16,
    /// Where `vN` is written.
    pub(crate) span: Span,
    /// `Type`.
    pub(crate) ty: syn::Type,
}

/// Parse the `#[record(...)]` attributes of an enum variant.
pub(crate) fn parse_variant(cx: &mut Ctxt, attrs: &[Attribute]) -> VariantAttrs {
    let mut out = VariantAttrs {
        since: Attr::none("since"),
        history: Vec::new(),
    };
    for attr in attrs.iter().filter(|attr| is_record(attr)) {
        let result = attr.parse_nested_meta(|meta| {
            let Some(attr_name) = meta_name(&meta) else {
                cx.error_spanned_by(&meta.path, "expected a record attribute name");
                return skip_value(&meta);
            };
            if attr_name == "since" {
                return out.since.parse_with(cx, &meta, |cx, meta| {
                    let expr: Expr = meta.value()?.parse()?;
                    Ok(parse_version(&expr).map_err(|err| cx.syn_error(err)).ok())
                });
            }
            if let Some(version) = history_version(&attr_name) {
                let span = meta.path.span();
                let version = match version {
                    Some(version) => version,
                    None => {
                        cx.error_spanned_by(
                            &meta.path,
                            format!(
                                "`{attr_name}` is not a version: write `v1 = OldPayload` to \
                                 `v65535 = OldPayload`"
                            ),
                        );
                        return skip_value(&meta);
                    }
                };
                if out.history.iter().any(|old| old.version == version) {
                    cx.error_spanned_by(
                        &meta.path,
                        format!(
                            "duplicate `#[record({attr_name})]`: it is already written earlier; \
                             remove this one"
                        ),
                    );
                    return skip_value(&meta);
                }
                if let Some(ty) = parse_older(cx, &meta, &attr_name)? {
                    out.history.push(OldPayload { version, span, ty });
                }
                return Ok(());
            }
            let message = if CONTAINER_ATTRS.contains(&attr_name.as_str()) {
                format!(
                    "`{attr_name}` is a container attribute: write it in the `#[record(...)]` on \
                     the enum, not on a variant"
                )
            } else if attr_name == "key" {
                "`#[record(key)]` cannot be used in an enum: the key of an enum record is `()`; \
                 to key by a value, put the enum in a struct with a key field"
                    .to_owned()
            } else {
                format!(
                    "unknown record attribute `{attr_name}` on a variant; expected \
                     `since = N` (the version that added the variant) or `vN = OldPayload` \
                     (its payload through version N)"
                )
            };
            cx.error_spanned_by(&meta.path, message);
            skip_value(&meta)
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
    out
}

/// For an option named `v` followed by digits, `Some` of its version
/// (`None` inside when it is 0 or too large); `None` for another name.
fn history_version(name: &str) -> Option<Option<u16>> {
    let digits = name.strip_prefix('v')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(digits.parse::<u16>().ok().filter(|&v| v > 0))
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

/// Consume whatever follows an option we report as wrong, so that parsing
/// carries on with the next one.
fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    skipped_value(meta).map(drop)
}

/// [`skip_value`], returning the value after `=`, if there is one.
fn skipped_value(meta: &ParseNestedMeta) -> syn::Result<Option<Expr>> {
    if meta.input.peek(Token![=]) {
        return meta.value()?.parse().map(Some);
    }
    if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
        meta.input.parse::<TokenTree>()?;
    }
    Ok(None)
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
        assert_eq!(parsed.name.get().unwrap().value(), "order");
        assert_eq!(parsed.version.get(), Some(&3));
        assert!(parsed.from.get().is_none() && parsed.from.span().is_none());
        let ty = parsed.try_from.get().unwrap();
        assert_eq!(
            quote::quote!(#ty).to_string(),
            quote::quote!(crate::v2::Order).to_string()
        );
        let krate = parsed.krate.get().unwrap();
        assert_eq!(quote::quote!(#krate).to_string(), "datawal :: typed");
        assert!(parsed.misspelled.is_empty());
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
            assert!(parsed.version.get().is_none());
            assert!(parsed.version.span().is_some(), "written, though invalid");
            let messages = messages(cx);
            assert_eq!(messages.len(), 1, "{messages:?}");
            assert!(messages[0].contains(expected), "{messages:?}");
        }
    }

    #[test]
    fn every_option_reports_its_duplicate_once_and_keeps_the_first() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[record(name = "a", version = 1, from = A, try_from = B, crate = "x")]),
            // Each second writing is a duplicate, across attributes too, and
            // its value is not read: the invalid `version = 0` adds nothing.
            parse_quote!(#[record(name = "b", version = 0, from = "C")]),
            parse_quote!(#[record(try_from = D, crate = "::")]),
        ];
        let mut cx = Ctxt::new();
        let parsed = parse_container(&mut cx, &attrs);
        assert_eq!(parsed.name.get().unwrap().value(), "a");
        assert_eq!(parsed.version.get(), Some(&1));
        assert_eq!(
            messages(cx),
            ["name", "version", "from", "try_from", "crate"].map(|name| format!(
                "duplicate `#[record({name})]`: it is already written earlier; remove this one"
            ))
        );

        let mut cx = Ctxt::new();
        let field = parse_field(
            &mut cx,
            &[parse_quote!(#[record(key)]), parse_quote!(#[record(key)])],
        );
        assert!(field.key.get().is_some());
        assert_eq!(
            messages(cx),
            ["duplicate `#[record(key)]`: it is already written earlier; remove this one"]
        );
    }

    #[test]
    fn an_invalid_first_writing_still_makes_the_second_a_duplicate() {
        let mut cx = Ctxt::new();
        let parsed = parse_container(
            &mut cx,
            &[parse_quote!(#[record(version = 0, version = 2, name = 5, name = "")])],
        );
        assert!(parsed.version.get().is_none() && parsed.name.get().is_none());
        let found = messages(cx);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(found[0].starts_with("record version 0 is not allowed"));
        assert!(found[1].starts_with("duplicate `#[record(version)]`"));
        assert!(found[2].starts_with("expected a string literal for the record name"));
        assert!(found[3].starts_with("duplicate `#[record(name)]`"));
    }

    #[test]
    fn all_container_mistakes_are_collected() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[record(verison = 1, nmae = "x", key)]),
            parse_quote!(#[record(version = 1, bound = "T: Clone")]),
            parse_quote!(#[record(from = "A", name = "")]),
            parse_quote!(#[record(crate = "a b")]),
        ];
        let mut cx = Ctxt::new();
        let parsed = parse_container(&mut cx, &attrs);
        assert_eq!(parsed.version.get(), Some(&1));
        assert_eq!(parsed.misspelled, ["version", "name"]);
        assert!(parsed.from.span().is_some() && parsed.from.get().is_none());
        assert_eq!(
            messages(cx),
            [
                "unknown record attribute `verison`; did you mean `version`?",
                "unknown record attribute `nmae`; did you mean `name`?",
                "`key` is a field attribute: write `#[record(key)]` on the key field, not on the type",
                "unknown record attribute `bound`; expected one of `name`, `version`, `from`, `try_from`, `crate`",
                "expected a type, not a string: write `from = A`",
                "the record name cannot be empty: write `name = \"order\"`, or leave `name` out to use the type's name",
                "expected a path to the datawal_typed crate, like `crate = \"datawal::typed\"`",
            ]
        );
    }

    #[test]
    fn a_misspelled_option_is_a_guess_for_the_fallback_only() {
        let mut cx = Ctxt::new();
        let parsed = parse_container(
            &mut cx,
            &[
                parse_quote!(#[record(nmae = "order", verison = 7, crat = "datawal::typed", form = A)]),
            ],
        );
        assert_eq!(messages(cx).len(), 4);
        assert_eq!(parsed.name.get().unwrap().value(), "order");
        assert_eq!(parsed.version.get(), Some(&7));
        let krate = parsed.krate.get().unwrap();
        assert_eq!(quote::quote!(#krate).to_string(), "datawal :: typed");
        assert!(parsed.from.get().is_none());
        // Not written: not reported missing, and no duplicate below.
        assert!(parsed.name.span().is_none() && parsed.version.span().is_none());
        assert_eq!(parsed.misspelled, ["name", "version", "crate", "from"]);

        // The option written for real replaces the guess, and is no duplicate;
        // an invalid guess is no guess.
        let mut cx = Ctxt::new();
        let parsed = parse_container(
            &mut cx,
            &[parse_quote!(#[record(nmae = "guess", name = "real", verison = 0)])],
        );
        assert_eq!(messages(cx).len(), 2);
        assert_eq!(parsed.name.get().unwrap().value(), "real");
        assert!(parsed.version.get().is_none());

        let mut cx = Ctxt::new();
        let field = parse_field(&mut cx, &[parse_quote!(#[record(kye)])]);
        assert!(field.key.get().is_some() && field.key.span().is_none());
        let field = parse_field(&mut cx, &[parse_quote!(#[record(kye = 1, primary)])]);
        assert!(field.key.get().is_none());
        assert_eq!(messages(cx).len(), 3);
    }

    #[test]
    fn field_attributes() {
        let mut cx = Ctxt::new();
        let key = parse_field(&mut cx, &[parse_quote!(#[record(key)])]);
        assert!(key.key.get().is_some());
        let none = parse_field(&mut cx, &[parse_quote!(#[serde(default)])]);
        assert!(none.key.get().is_none() && none.key.span().is_none());
        assert!(messages(cx).is_empty());

        let mut cx = Ctxt::new();
        let parsed = parse_field(
            &mut cx,
            &[
                parse_quote!(#[record(kye, key = true, version = 2)]),
                parse_quote!(#[record(primary)]),
            ],
        );
        assert!(parsed.key.get().is_none());
        assert_eq!(
            messages(cx),
            [
                "unknown record attribute `kye`; did you mean `key`?",
                "`key` takes no value: write `#[record(key)]`",
                "`version` is a container attribute: write it in the `#[record(...)]` on the type, not on a field",
                "unknown record attribute `primary`; expected `key`",
            ]
        );
    }

    #[test]
    fn serde_options_are_collected_in_order() {
        let attrs: Vec<Attribute> = vec![
            parse_quote!(#[serde(default, rename = "x")]),
            parse_quote!(#[record(key)]),
            parse_quote!(#[serde(skip_serializing_if = "Option::is_none")]),
            // Left to serde_derive to report.
            parse_quote!(#[serde(=)]),
        ];
        let serde = SerdeAttrs::from_attrs(&attrs);
        assert_eq!(serde.attrs.len(), 3);
        let names: Vec<String> = serde
            .metas()
            .iter()
            .map(|meta| meta.path().get_ident().unwrap().to_string())
            .collect();
        assert_eq!(names, ["default", "rename", "skip_serializing_if"]);
        assert!(serde.has("rename") && !serde.has("skip"));
        assert!(matches!(
            serde.get("skip_serializing_if"),
            Some(Meta::NameValue(_))
        ));
    }

    #[test]
    fn variant_history_parses_and_reports_its_mistakes() {
        let mut cx = Ctxt::new();
        let parsed = parse_variant(
            &mut cx,
            &[parse_quote!(#[record(v1 = OpenedV1, v3 = crate::OpenedV3, since = 1)])],
        );
        assert!(messages(cx).is_empty());
        assert_eq!(parsed.since.get(), Some(&1));
        let versions: Vec<u16> = parsed.history.iter().map(|old| old.version).collect();
        assert_eq!(versions, [1, 3]);

        let mut cx = Ctxt::new();
        let parsed = parse_variant(
            &mut cx,
            &[
                parse_quote!(#[record(v0 = A, v1 = B, v1 = C, v2 = "D", key, name = "x", sicne = 2)]),
            ],
        );
        assert_eq!(parsed.history.len(), 1);
        assert_eq!(
            messages(cx),
            [
                "`v0` is not a version: write `v1 = OldPayload` to `v65535 = OldPayload`",
                "duplicate `#[record(v1)]`: it is already written earlier; remove this one",
                "expected a type, not a string: write `v2 = D`",
                "`#[record(key)]` cannot be used in an enum: the key of an enum record is `()`; \
                 to key by a value, put the enum in a struct with a key field",
                "`name` is a container attribute: write it in the `#[record(...)]` on the enum, \
                 not on a variant",
                "unknown record attribute `sicne` on a variant; expected `since = N` (the version \
                 that added the variant) or `vN = OldPayload` (its payload through version N)",
            ]
        );
        assert_eq!(history_version("v12"), Some(Some(12)));
        assert_eq!(history_version("v70000"), Some(None));
        assert_eq!(history_version("version"), None);
        assert_eq!(history_version("v"), None);
    }
}
