//! Where the generated code finds the typed layer, when the user did not
//! say with `#[record(crate = "...")]`.
//!
//! The derive reads the `Cargo.toml` of the crate being compiled (through
//! `proc-macro-crate`, as other derives do) and names the typed layer by
//! the dependency the user wrote:
//!
//! | the crate depends on | generated path |
//! |---|---|
//! | `datawal-typed`, under any name `t` | `::t` |
//! | `datawal` (the facade) but not `datawal-typed`, under any name `dw` | `::dw::typed` |
//! | neither (or the manifest cannot be read) | `::datawal_typed` |
//!
//! The typed layer wins when both are dependencies: the manifest names
//! packages, not versions, so a dependency on the published `datawal` 0.1
//! (which has no `typed` module; this workspace's interop tests depend on
//! it under another name) also reads as "the facade", and the typed layer,
//! when it is there, is the one name that is sure to be right. The crates
//! themselves are covered too: inside `datawal-typed` (`extern crate self
//! as datawal_typed;` in its `lib.rs`) and inside the facade (`extern
//! crate self as datawal;`), the generated absolute path names the crate
//! being compiled.

use proc_macro2::Span;
use proc_macro_crate::{crate_name, FoundCrate};
use syn::{Ident, Path};

/// The path to `datawal_typed` for the crate being compiled.
pub(crate) fn typed_path() -> Path {
    resolve(crate_name("datawal").ok(), crate_name("datawal-typed").ok())
}

/// The path given what the manifest names: the facade `datawal` and the
/// typed layer `datawal-typed`, each if it is a dependency or the crate
/// itself.
fn resolve(facade: Option<FoundCrate>, typed: Option<FoundCrate>) -> Path {
    match (facade, typed) {
        (_, Some(typed)) => {
            let name = ident(&typed, "datawal_typed");
            syn::parse_quote!(::#name)
        }
        (Some(facade), None) => {
            let name = ident(&facade, "datawal");
            syn::parse_quote!(::#name::typed)
        }
        (None, None) => syn::parse_quote!(::datawal_typed),
    }
}

/// The name the crate is reached by: the dependency's name (renamed or
/// not), or, for the crate itself, the name its `extern crate self`
/// declares.
fn ident(found: &FoundCrate, itself: &str) -> Ident {
    match found {
        FoundCrate::Itself => Ident::new(itself, Span::call_site()),
        FoundCrate::Name(name) => Ident::new(name, Span::call_site()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(path: &Path) -> String {
        quote::quote!(#path)
            .to_string()
            .split_whitespace()
            .collect()
    }

    #[test]
    fn the_typed_layer_wins_then_the_facade_then_the_default() {
        let name = |n: &str| Some(FoundCrate::Name(n.to_owned()));
        assert_eq!(text(&resolve(name("datawal"), None)), "::datawal::typed");
        assert_eq!(
            text(&resolve(name("datawal"), name("datawal_typed"))),
            "::datawal_typed"
        );
        assert_eq!(
            text(&resolve(name("datawal015"), Some(FoundCrate::Itself))),
            "::datawal_typed",
            "datawal-typed itself, with the published 0.1 as a renamed dev-dependency"
        );
        assert_eq!(text(&resolve(name("dw"), None)), "::dw::typed", "renamed");
        assert_eq!(
            text(&resolve(Some(FoundCrate::Itself), name("datawal_typed"))),
            "::datawal_typed",
            "the facade's own examples and doctests"
        );
        assert_eq!(
            text(&resolve(None, name("datawal_typed"))),
            "::datawal_typed"
        );
        assert_eq!(text(&resolve(None, name("typed"))), "::typed");
        assert_eq!(
            text(&resolve(None, Some(FoundCrate::Itself))),
            "::datawal_typed"
        );
        assert_eq!(text(&resolve(None, None)), "::datawal_typed");
    }
}
