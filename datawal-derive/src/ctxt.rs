//! Collects every error found in one derive input so that all of them are
//! reported together, in one build.

use proc_macro2::Span;
use quote::ToTokens;
use std::fmt::Display;

/// A list of errors found so far.
#[derive(Default)]
#[must_use = "call `check` to report the collected errors"]
pub(crate) struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    /// An empty list.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Record an error spanned on the tokens of `obj` (first to last token).
    pub(crate) fn error_spanned_by<A: ToTokens, M: Display>(&mut self, obj: A, msg: M) {
        self.errors
            .push(syn::Error::new_spanned(obj.into_token_stream(), msg));
    }

    /// Record an error at `span`.
    pub(crate) fn error_at<M: Display>(&mut self, span: Span, msg: M) {
        self.errors.push(syn::Error::new(span, msg));
    }

    /// Record an error produced by syn.
    pub(crate) fn syn_error(&mut self, err: syn::Error) {
        self.errors.push(err);
    }

    /// `Ok` when no error was recorded, else every error combined into one.
    pub(crate) fn check(self) -> syn::Result<()> {
        let mut errors = self.errors.into_iter();
        match errors.next() {
            None => Ok(()),
            Some(mut first) => {
                for error in errors {
                    first.combine(error);
                }
                Err(first)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_ok_and_errors_are_combined_in_order() {
        assert!(Ctxt::new().check().is_ok());
        let mut cx = Ctxt::new();
        cx.error_at(Span::call_site(), "first");
        cx.error_at(Span::call_site(), "second");
        let err = cx.check().unwrap_err();
        let messages: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages, ["first", "second"]);
    }
}
