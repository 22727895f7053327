//! The checked model of a `#[derive(Record)]` input: every attribute parsed
//! and validated, every mistake collected before any code is generated.

use crate::attr::{self, Upgrade};
use crate::ctxt::Ctxt;
use syn::ext::IdentExt;
use syn::{Attribute, Data as SynData, DeriveInput, Fields, Generics, Ident, Member, Type};

/// A struct or enum that passed every check.
pub(crate) struct Container<'a> {
    /// The type's identifier.
    pub(crate) ident: &'a Ident,
    /// The type's generics, as written.
    pub(crate) generics: &'a Generics,
    /// `Record::NAME`: `#[record(name)]` or the type's name.
    pub(crate) name: String,
    /// `Record::VERSION`.
    pub(crate) version: u16,
    /// `from = T` or `try_from = T`.
    pub(crate) upgrade: Option<Upgrade>,
    /// Path to the `datawal_typed` crate.
    pub(crate) krate: syn::Path,
    /// The type's `#[serde(...)]` attributes (part of the schema text).
    pub(crate) serde_attrs: Vec<&'a Attribute>,
    /// The fields or variants.
    pub(crate) data: Data<'a>,
}

/// The shape of the type.
pub(crate) enum Data<'a> {
    /// A struct and its fields.
    Struct(Style, Vec<Field<'a>>),
    /// An enum and its variants.
    Enum(Vec<Variant<'a>>),
}

/// How fields are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// `{ a: A, b: B }`
    Named,
    /// `(A, B)`
    Tuple,
    /// No fields.
    Unit,
}

/// A struct or variant field.
pub(crate) struct Field<'a> {
    /// How to reach the field from `self`.
    pub(crate) member: Member,
    /// The field's type.
    pub(crate) ty: &'a Type,
    /// Marked `#[record(key)]`.
    pub(crate) key: bool,
    /// The field's `#[serde(...)]` attributes (part of the schema text).
    pub(crate) serde_attrs: Vec<&'a Attribute>,
}

/// An enum variant.
pub(crate) struct Variant<'a> {
    /// The variant's identifier.
    pub(crate) ident: &'a Ident,
    /// How its fields are written.
    pub(crate) style: Style,
    /// Its fields.
    pub(crate) fields: Vec<Field<'a>>,
    /// The variant's `#[serde(...)]` attributes (part of the schema text).
    pub(crate) serde_attrs: Vec<&'a Attribute>,
}

impl<'a> Container<'a> {
    /// Check `input` and build the model.
    ///
    /// # Errors
    /// Every mistake found, combined into one `syn::Error`, each spanned on
    /// the user's offending tokens.
    pub(crate) fn from_ast(input: &'a DeriveInput) -> syn::Result<Self> {
        let mut cx = Ctxt::new();
        let attrs = attr::parse_container(&mut cx, &input.attrs);
        attr::check_serde_container(&mut cx, &input.attrs);

        let data = match &input.data {
            SynData::Struct(data) => {
                let (style, fields) = fields_from_ast(&mut cx, &data.fields, false);
                Some(Data::Struct(style, fields))
            }
            SynData::Enum(data) => {
                let variants = data
                    .variants
                    .iter()
                    .map(|variant| {
                        attr::reject_variant_attrs(&mut cx, &variant.attrs);
                        attr::check_serde_variant(&mut cx, &variant.attrs);
                        let (style, fields) = fields_from_ast(&mut cx, &variant.fields, true);
                        Variant {
                            ident: &variant.ident,
                            style,
                            fields,
                            serde_attrs: attr::serde_attrs(&variant.attrs).collect(),
                        }
                    })
                    .collect();
                Some(Data::Enum(variants))
            }
            SynData::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "#[derive(Record)] cannot be used on a union: serde cannot encode unions; use a struct or an enum",
                );
                None
            }
        };

        if attrs.version.is_none() && !attrs.version_reported {
            cx.error_spanned_by(
                &input.ident,
                format!(
                    "missing record version: add `#[record(version = 1)]` to `{}` \
                     (raise the version, and add `from = PreviousType`, whenever the shape changes)",
                    input.ident.unraw()
                ),
            );
        }

        cx.check()?;
        let (Some(data), Some(version)) = (data, attrs.version) else {
            // Unreachable: both are only missing when an error was recorded.
            return Err(syn::Error::new_spanned(
                &input.ident,
                "#[derive(Record)]: invalid input",
            ));
        };
        Ok(Container {
            ident: &input.ident,
            generics: &input.generics,
            name: attrs
                .name
                .map_or_else(|| input.ident.unraw().to_string(), |lit| lit.value()),
            version,
            upgrade: attrs.upgrade,
            krate: attrs
                .krate
                .unwrap_or_else(|| syn::parse_quote!(::datawal_typed)),
            serde_attrs: attr::serde_attrs(&input.attrs).collect(),
            data,
        })
    }

    /// The key fields of a struct, in field order (none for an enum).
    pub(crate) fn key_fields(&self) -> Vec<&Field<'a>> {
        match &self.data {
            Data::Struct(_, fields) => fields.iter().filter(|field| field.key).collect(),
            Data::Enum(_) => Vec::new(),
        }
    }
}

fn fields_from_ast<'a>(
    cx: &mut Ctxt,
    fields: &'a Fields,
    in_enum: bool,
) -> (Style, Vec<Field<'a>>) {
    let style = match fields {
        Fields::Named(_) => Style::Named,
        Fields::Unnamed(_) => Style::Tuple,
        Fields::Unit => Style::Unit,
    };
    let fields = fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let attrs = attr::parse_field(cx, &field.attrs, in_enum);
            let serde = attr::check_serde_field(cx, &field.attrs);
            if let (Some(key), true) = (&attrs.key, serde.skipped) {
                let span = attr::serde_skip_span(&field.attrs).unwrap_or_else(|| {
                    syn::spanned::Spanned::span(key)
                });
                cx.error_at(
                    span,
                    "a `#[record(key)]` field cannot be skipped by serde: the decoded value would lose its key; \
                     remove the serde skip or the `#[record(key)]`",
                );
            }
            Field {
                member: match &field.ident {
                    Some(ident) => Member::Named(ident.clone()),
                    None => Member::Unnamed(syn::Index {
                        index: u32::try_from(index).unwrap_or(u32::MAX),
                        span: syn::spanned::Spanned::span(&field.ty),
                    }),
                },
                ty: &field.ty,
                key: attrs.key.is_some(),
                serde_attrs: attr::serde_attrs(&field.attrs).collect(),
            }
        })
        .collect();
    (style, fields)
}
