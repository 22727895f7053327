//! Spans of generated tokens: where the compiler reports an error in code
//! the derive wrote.

use proc_macro2::{Group, Span, TokenStream, TokenTree};

/// `tokens` with every span set to `span`, so that an error in the
/// generated path points at the user's token.
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn respan_sets_every_span() {
        let span = Span::call_site();
        let tokens = respan(quote!(a::b(c)), span);
        assert_eq!(tokens.to_string(), quote!(a::b(c)).to_string());
    }
}
