//! Compile-time behaviour of `#[derive(Record)]`, checked with trybuild.
//!
//! - `tests/ui/pass/*.rs` must compile and run: every supported shape, with
//!   assertions on the generated constants, keys and upgrades.
//! - `tests/ui/*.rs` must fail to compile, one mistake per file, with the
//!   error in the matching `.stderr` (regenerate with `TRYBUILD=overwrite`
//!   and review the diff: each error must point at the user's token).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/*.rs");
}
