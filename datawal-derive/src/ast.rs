//! Stage 2: the model of a `#[derive(Record)]` input, every attribute
//! parsed.
//!
//! The model is built whatever mistakes the attributes hold (they are
//! recorded in the [`Ctxt`]), so that `check.rs` can judge it as a whole and
//! a failed derive can still emit its fallback impl from what was readable.
//! Code is generated from it only once the [`Ctxt`] holds no error.

use crate::attr::{self, ContainerAttrs, FieldAttrs, SerdeAttrs, VariantAttrs};
use crate::ctxt::Ctxt;
use syn::ext::IdentExt;
use syn::{Data as SynData, DeriveInput, Fields, Generics, Ident, Member, Type};

/// A struct, enum or union with its parsed attributes.
pub(crate) struct Container<'a> {
    /// The type's identifier.
    pub(crate) ident: &'a Ident,
    /// The type's generics, as written.
    pub(crate) generics: &'a Generics,
    /// Its `#[record(...)]` options.
    pub(crate) attrs: ContainerAttrs,
    /// Its `#[serde(...)]` attributes.
    pub(crate) serde: SerdeAttrs<'a>,
    /// The fields or variants.
    pub(crate) data: Data<'a>,
}

/// The shape of the type.
pub(crate) enum Data<'a> {
    /// A struct and its fields.
    Struct(Style, Vec<Field<'a>>),
    /// An enum and its variants.
    Enum(Vec<Variant<'a>>),
    /// A union (refused by `check.rs`) and its fields.
    Union(&'a syn::token::Union, Vec<Field<'a>>),
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

/// A struct, variant or union field.
pub(crate) struct Field<'a> {
    /// How to reach the field from `self`.
    pub(crate) member: Member,
    /// The field's type.
    pub(crate) ty: &'a Type,
    /// Its `#[record(...)]` options.
    pub(crate) attrs: FieldAttrs,
    /// Its `#[serde(...)]` attributes.
    pub(crate) serde: SerdeAttrs<'a>,
}

/// An enum variant.
pub(crate) struct Variant<'a> {
    /// The variant's identifier.
    pub(crate) ident: &'a Ident,
    /// How its fields are written.
    pub(crate) style: Style,
    /// Its fields.
    pub(crate) fields: Vec<Field<'a>>,
    /// Its fields as written (copied into the enums of older versions).
    pub(crate) fields_ast: &'a Fields,
    /// Its `#[record(...)]` options: its history.
    pub(crate) attrs: VariantAttrs,
    /// Its `#[serde(...)]` attributes.
    pub(crate) serde: SerdeAttrs<'a>,
}

/// Whether the previous version is converted with `From` or `TryFrom`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UpgradeKind {
    /// `from = Older`: `impl From<Older> for Self`.
    From,
    /// `try_from = Older`: `impl TryFrom<Older> for Self`.
    TryFrom,
}

impl UpgradeKind {
    /// The option name as the user writes it.
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            UpgradeKind::From => "from",
            UpgradeKind::TryFrom => "try_from",
        }
    }
}

/// The previous version of the record family: `from = T` or `try_from = T`.
pub(crate) struct Upgrade<'c> {
    /// `from` or `try_from`.
    pub(crate) kind: UpgradeKind,
    /// The previous version's type.
    pub(crate) ty: &'c Type,
}

impl<'a> Container<'a> {
    /// Build the model of `input`, recording in `cx` every mistake found in
    /// a single attribute.
    pub(crate) fn from_ast(cx: &mut Ctxt, input: &'a DeriveInput) -> Self {
        let attrs = attr::parse_container(cx, &input.attrs);
        let data = match &input.data {
            SynData::Struct(data) => {
                Data::Struct(style(&data.fields), fields_from_ast(cx, &data.fields))
            }
            SynData::Enum(data) => Data::Enum(
                data.variants
                    .iter()
                    .map(|variant| Variant {
                        ident: &variant.ident,
                        style: style(&variant.fields),
                        fields: fields_from_ast(cx, &variant.fields),
                        fields_ast: &variant.fields,
                        attrs: attr::parse_variant(cx, &variant.attrs),
                        serde: SerdeAttrs::from_attrs(&variant.attrs),
                    })
                    .collect(),
            ),
            SynData::Union(data) => {
                Data::Union(&data.union_token, fields_from_ast(cx, &data.fields.named))
            }
        };
        Container {
            ident: &input.ident,
            generics: &input.generics,
            attrs,
            serde: SerdeAttrs::from_attrs(&input.attrs),
            data,
        }
    }

    /// `Record::NAME`: `#[record(name)]`, else the type's name (unraw).
    pub(crate) fn name(&self) -> String {
        self.attrs
            .name
            .get()
            .map_or_else(|| self.ident.unraw().to_string(), syn::LitStr::value)
    }

    /// `Record::VERSION`; 0 when the version is missing or invalid, which
    /// is an error (checked before any code but the fallback is generated).
    /// 0 is lower than every version, so a fallback impl never fails the
    /// version check of a newer type that names it in `from`.
    pub(crate) fn version(&self) -> u16 {
        self.attrs.version.get().copied().unwrap_or(0)
    }

    /// The previous version, if any. When both `from` and `try_from` are
    /// written (an error), `from`.
    pub(crate) fn upgrade(&self) -> Option<Upgrade<'_>> {
        let (kind, ty) = match (self.attrs.from.get(), self.attrs.try_from.get()) {
            (Some(ty), _) => (UpgradeKind::From, ty),
            (None, Some(ty)) => (UpgradeKind::TryFrom, ty),
            (None, None) => return None,
        };
        Some(Upgrade { kind, ty })
    }

    /// The path to the `datawal_typed` crate: `#[record(crate)]`, else
    /// found from the dependencies in the crate's manifest (`krate.rs`).
    pub(crate) fn krate(&self) -> syn::Path {
        self.attrs
            .krate
            .get()
            .cloned()
            .unwrap_or_else(crate::krate::typed_path)
    }

    /// The key fields of a struct, in field order (none for an enum or a
    /// union: an enum's key is `()`).
    pub(crate) fn key_fields(&self) -> Vec<&Field<'a>> {
        match &self.data {
            Data::Struct(_, fields) => fields.iter().filter(|field| field.is_key()).collect(),
            Data::Enum(_) | Data::Union(..) => Vec::new(),
        }
    }
}

impl Variant<'_> {
    /// The first version the variant exists in: `since`, else 1.
    pub(crate) fn since(&self) -> u16 {
        self.attrs.since.get().copied().unwrap_or(1)
    }

    /// In `version` (older than the current one, and not before
    /// [`Variant::since`]), the old payload type, if the variant's payload
    /// then was not its current fields: the `vN = Type` with the lowest
    /// `N >= version`.
    pub(crate) fn payload_in(&self, version: u16) -> Option<&attr::OldPayload> {
        self.attrs
            .history
            .iter()
            .filter(|old| old.version >= version)
            .min_by_key(|old| old.version)
    }
}

impl Container<'_> {
    /// Whether any variant has a history (`since` or `vN`).
    pub(crate) fn has_variant_history(&self) -> bool {
        match &self.data {
            Data::Enum(variants) => variants.iter().any(|variant| {
                variant.attrs.since.span().is_some() || !variant.attrs.history.is_empty()
            }),
            Data::Struct(..) | Data::Union(..) => false,
        }
    }
}

impl Field<'_> {
    /// Marked `#[record(key)]`.
    pub(crate) fn is_key(&self) -> bool {
        self.attrs.key.get().is_some()
    }
}

fn style(fields: &Fields) -> Style {
    match fields {
        Fields::Named(_) => Style::Named,
        Fields::Unnamed(_) => Style::Tuple,
        Fields::Unit => Style::Unit,
    }
}

fn fields_from_ast<'a>(
    cx: &mut Ctxt,
    fields: impl IntoIterator<Item = &'a syn::Field>,
) -> Vec<Field<'a>> {
    fields
        .into_iter()
        .enumerate()
        .map(|(index, field)| Field {
            member: match &field.ident {
                Some(ident) => Member::Named(ident.clone()),
                None => Member::Unnamed(syn::Index {
                    index: u32::try_from(index).unwrap_or(u32::MAX),
                    span: syn::spanned::Spanned::span(&field.ty),
                }),
            },
            ty: &field.ty,
            attrs: attr::parse_field(cx, &field.attrs),
            serde: SerdeAttrs::from_attrs(&field.attrs),
        })
        .collect()
}
