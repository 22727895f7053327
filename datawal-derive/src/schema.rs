//! The canonical text of a record's shape, `Record::SCHEMA`.
//!
//! The text depends only on the tokens of the type definition, never on
//! how they were laid out in the source: tokens are printed with one fixed
//! spacing rule ([`tokens_text`]).
//!
//! ```text
//! struct order v2 { #[key] id: u64, cents: u64, #[serde(default)] currency: String }
//! struct point v1 (#[key] u32, u32)
//! struct marker v1
//! struct wrapper<T> v1 { inner: Vec<T> }
//! #[serde(rename_all = "snake_case")] enum shape v1 { Circle { r: f64 }, Square(f64), Empty }
//! ```

use crate::ast::{Container, Data, Field, Style};
use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::{Attribute, GenericParam, Member};

/// The schema text of a checked container.
pub(crate) fn schema(cont: &Container) -> String {
    let mut out = String::new();
    push_attrs(&mut out, &cont.serde.attrs);
    out.push_str(match cont.data {
        Data::Struct(..) => "struct ",
        Data::Enum(_) => "enum ",
        Data::Union(..) => "union ",
    });
    out.push_str(&cont.name());
    push_generics(&mut out, cont.generics);
    out.push_str(" v");
    out.push_str(&cont.version().to_string());
    match &cont.data {
        // Only a fallback impl has a union: the derive refuses them.
        Data::Union(_, fields) => push_fields(&mut out, Style::Named, fields),
        Data::Struct(style, fields) => {
            if *style == Style::Tuple {
                out.push(' ');
            }
            push_fields(&mut out, *style, fields);
        }
        Data::Enum(variants) => {
            out.push_str(" {");
            for (index, variant) in variants.iter().enumerate() {
                out.push_str(if index == 0 { " " } else { ", " });
                push_attrs(&mut out, &variant.serde.attrs);
                out.push_str(&variant.ident.unraw().to_string());
                push_fields(&mut out, variant.style, &variant.fields);
            }
            out.push_str(if variants.is_empty() { "}" } else { " }" });
        }
    }
    out
}

/// The generic parameters, without bounds (they do not change the shape).
fn push_generics(out: &mut String, generics: &syn::Generics) {
    if generics.params.is_empty() {
        return;
    }
    let params: Vec<String> = generics
        .params
        .iter()
        .map(|param| match param {
            GenericParam::Lifetime(lt) => lt.lifetime.to_string(),
            GenericParam::Type(ty) => ty.ident.unraw().to_string(),
            GenericParam::Const(c) => format!(
                "const {}: {}",
                c.ident.unraw(),
                tokens_text(c.ty.to_token_stream())
            ),
        })
        .collect();
    out.push('<');
    out.push_str(&params.join(", "));
    out.push('>');
}

fn push_fields(out: &mut String, style: Style, fields: &[Field]) {
    let (open, close) = match style {
        Style::Unit => return,
        Style::Named if fields.is_empty() => (" {", "}"),
        Style::Named => (" { ", " }"),
        Style::Tuple => ("(", ")"),
    };
    out.push_str(open);
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        if field.is_key() {
            out.push_str("#[key] ");
        }
        push_attrs(out, &field.serde.attrs);
        if let Member::Named(ident) = &field.member {
            out.push_str(&ident.unraw().to_string());
            out.push_str(": ");
        }
        out.push_str(&tokens_text(field.ty.to_token_stream()));
    }
    out.push_str(close);
}

fn push_attrs(out: &mut String, attrs: &[&Attribute]) {
    for attr in attrs {
        out.push_str(&tokens_text(attr.to_token_stream()));
        out.push(' ');
    }
}

/// One printed unit of a token stream.
enum Atom {
    /// An identifier, literal or lifetime.
    Word(String),
    /// Punctuation; `::`, `->` and `=>` are one atom.
    Op(String),
    /// An opening delimiter.
    Open(char),
    /// A closing delimiter.
    Close(char),
}

/// Operators printed with a space on both sides.
const SPACED: &[&str] = &["=", "+", "->", "=>"];

/// Print tokens with a fixed spacing rule: a space between two words, after
/// `,` and `;`, around `=`, `+`, `->` and `=>`, and between `>` and a word;
/// nowhere else. Source layout never shows.
pub(crate) fn tokens_text(tokens: TokenStream) -> String {
    let mut atoms = Vec::new();
    collect_atoms(tokens, &mut atoms);
    let mut out = String::new();
    let mut prev: Option<&Atom> = None;
    for atom in &atoms {
        let space = match (prev, atom) {
            (None, _) | (Some(Atom::Open(_)), _) | (_, Atom::Close(_)) => false,
            (Some(Atom::Op(op)), _) if SPACED.contains(&op.as_str()) || op == "," || op == ";" => {
                true
            }
            (_, Atom::Op(op)) if SPACED.contains(&op.as_str()) => true,
            (Some(Atom::Word(_)), Atom::Word(_)) => true,
            (Some(Atom::Op(op)), Atom::Word(_)) if op == ">" => true,
            _ => false,
        };
        if space {
            out.push(' ');
        }
        match atom {
            Atom::Word(text) | Atom::Op(text) => out.push_str(text),
            Atom::Open(c) | Atom::Close(c) => out.push(*c),
        }
        prev = Some(atom);
    }
    out
}

fn collect_atoms(tokens: TokenStream, atoms: &mut Vec<Atom>) {
    let mut iter = tokens.into_iter().peekable();
    while let Some(token) = iter.next() {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ('(', ')'),
                    Delimiter::Bracket => ('[', ']'),
                    Delimiter::Brace => ('{', '}'),
                    Delimiter::None => {
                        collect_atoms(group.stream(), atoms);
                        continue;
                    }
                };
                atoms.push(Atom::Open(open));
                collect_atoms(group.stream(), atoms);
                atoms.push(Atom::Close(close));
            }
            TokenTree::Ident(ident) => atoms.push(Atom::Word(ident.to_string())),
            TokenTree::Literal(lit) => atoms.push(Atom::Word(lit.to_string())),
            TokenTree::Punct(punct) => {
                let c = punct.as_char();
                let joint = punct.spacing() == Spacing::Joint;
                let next = match iter.peek() {
                    Some(TokenTree::Punct(next)) if joint => Some(next.as_char()),
                    _ => None,
                };
                if c == '\'' && joint {
                    if let Some(TokenTree::Ident(ident)) = iter.peek() {
                        atoms.push(Atom::Word(format!("'{ident}")));
                        iter.next();
                        continue;
                    }
                }
                let pair = match (c, next) {
                    (':', Some(':')) => Some("::"),
                    ('-', Some('>')) => Some("->"),
                    ('=', Some('>')) => Some("=>"),
                    _ => None,
                };
                if let Some(pair) = pair {
                    iter.next();
                    atoms.push(Atom::Op(pair.to_owned()));
                } else {
                    atoms.push(Atom::Op(c.to_string()));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;
    use std::str::FromStr;
    use syn::parse_quote;

    fn text_of_type(source: &str) -> String {
        // Through syn, as the derive sees field types.
        let ty: syn::Type = syn::parse_str(source).unwrap();
        tokens_text(ty.to_token_stream())
    }

    #[test]
    fn type_text_is_normalised() {
        for (source, expected) in [
            ("u64", "u64"),
            ("Vec < u8 >", "Vec<u8>"),
            (
                "std :: collections :: BTreeMap<String,Vec<Vec<u8>>>",
                "std::collections::BTreeMap<String, Vec<Vec<u8>>>",
            ),
            ("[ u8 ; 32 ]", "[u8; 32]"),
            ("( u64 , String , )", "(u64, String,)"),
            ("()", "()"),
            ("&'static   str", "&'static str"),
            ("Box<dyn Fn(u8)->u8+Send>", "Box<dyn Fn(u8) -> u8 + Send>"),
            ("<T as Iterator>::Item", "<T as Iterator>::Item"),
            (
                "Option<Box<dyn Iterator<Item=u8>>>",
                "Option<Box<dyn Iterator<Item = u8>>>",
            ),
            ("for<'a> fn(&'a u8)", "for<'a> fn(&'a u8)"),
            ("*const u8", "*const u8"),
            ("r#type", "r#type"),
        ] {
            assert_eq!(text_of_type(source), expected, "{source}");
        }
    }

    #[test]
    fn raw_source_spacing_does_not_show() {
        // Straight from source text (Punct spacing as written), as attributes
        // are kept.
        let a = TokenStream::from_str("#[serde(rename = \"x\",default)]").unwrap();
        let b = TokenStream::from_str("# [ serde ( rename=\"x\" , default ) ]").unwrap();
        assert_eq!(tokens_text(a.clone()), "#[serde(rename = \"x\", default)]");
        assert_eq!(tokens_text(a), tokens_text(b));
        let c = TokenStream::from_str("Vec<u8>,Vec<Vec<u8>>;Fn()->u8").unwrap();
        assert_eq!(tokens_text(c), "Vec<u8>, Vec<Vec<u8>>; Fn() -> u8");
    }

    fn schema_of(input: syn::DeriveInput) -> String {
        let mut cx = crate::ctxt::Ctxt::new();
        let cont = Container::from_ast(&mut cx, &input);
        crate::check::check(&mut cx, &cont);
        assert!(cx.check().is_ok());
        schema(&cont)
    }

    #[test]
    fn schema_of_every_shape() {
        assert_eq!(
            schema_of(parse_quote! {
                #[derive(Serialize)]
                #[record(name = "order", version = 2, from = OrderV1)]
                /// Docs are not part of the shape.
                struct Order {
                    #[record(key)]
                    id: u64,
                    cents: u64,
                    #[serde(default)]
                    currency: String,
                }
            }),
            "struct order v2 { #[key] id: u64, cents: u64, #[serde(default)] currency: String }"
        );
        assert_eq!(
            schema_of(parse_quote! {
                #[record(version = 1)]
                struct Point(#[record(key)] u32, pub u32);
            }),
            "struct Point v1 (#[key] u32, u32)"
        );
        assert_eq!(
            schema_of(parse_quote!(
                #[record(version = 7)]
                struct Marker;
            )),
            "struct Marker v7"
        );
        assert_eq!(
            schema_of(parse_quote!(
                #[record(version = 1)]
                struct Empty {}
            )),
            "struct Empty v1 {}"
        );
        assert_eq!(
            schema_of(parse_quote! {
                #[record(version = 1, name = "wrapper")]
                struct Wrapper<'a, T: Clone, const N: usize> where T: Send {
                    r#type: [T; N],
                    name: std::borrow::Cow<'a, str>,
                }
            }),
            "struct wrapper<'a, T, const N: usize> v1 { type: [T; N], name: std::borrow::Cow<'a, str> }"
        );
        assert_eq!(
            schema_of(parse_quote! {
                #[serde(rename_all = "snake_case")]
                #[record(version = 3, name = "shape")]
                enum Shape {
                    Circle { r: f64 },
                    Square(f64),
                    #[serde(rename = "nothing")]
                    Empty,
                }
            }),
            "#[serde(rename_all = \"snake_case\")] enum shape v3 { Circle { r: f64 }, Square(f64), #[serde(rename = \"nothing\")] Empty }"
        );
        assert_eq!(
            schema_of(parse_quote!(
                #[record(version = 1)]
                enum Never {}
            )),
            "enum Never v1 {}"
        );
    }

    #[test]
    fn schema_ignores_layout_and_other_attributes() {
        let tight: syn::DeriveInput = syn::parse_str(
            "#[record(version=1)]#[derive(Debug)]struct A{#[record(key)]id:Vec<u8>,x:(u8,u8)}",
        )
        .unwrap();
        let loose: syn::DeriveInput = parse_quote! {
            /// A.
            #[record( version = 1 )]
            struct A {
                /// The id.
                #[record(key)]
                id : Vec < u8 > ,
                x : ( u8 , u8 ) ,
            }
        };
        assert_eq!(schema_of(tight), schema_of(loose));
        let _ = quote!();
    }
}
