//! Test helpers for applications: freeze the shape of every record version
//! they have shipped.
//!
//! bincode and postcard store fields by position, so changing the fields of
//! a version that has written data makes that data unreadable (or worse,
//! readable as something else). [`Record::SCHEMA`] is a canonical text of a
//! version's shape; a test that pins it catches such a change at review:
//!
//! ```
//! use datawal_typed::testing::assert_schema;
//!
//! #[derive(serde::Serialize, serde::Deserialize, datawal_typed::Record)]
//! #[record(name = "order", version = 1)]
//! struct OrderV1 {
//!     #[record(key)]
//!     id: u64,
//!     cents: u32,
//! }
//!
//! assert_schema::<OrderV1>("struct order v1 { #[key] id: u64, cents: u32 }");
//! ```

use crate::Record;

/// `"<NAME> v<VERSION>\t<SCHEMA>"`: one line of a schema snapshot file.
#[must_use]
pub fn schema_line<T: Record>() -> String {
    format!("{} v{}\t{}", T::NAME, T::VERSION, T::SCHEMA)
}

/// Panic unless `T::SCHEMA` is `expected`, with a message that says what
/// changed and what to do instead.
///
/// # Panics
/// When the schema differs: this is a test assertion.
#[track_caller]
pub fn assert_schema<T: Record>(expected: &str) {
    assert!(
        T::SCHEMA == expected,
        "the shape of `{name}` version {version} changed\n  frozen: {expected}\n  now:    {now}\n\
         Stored records of a shipped version are read by field position: keep this version \
         as it was, and add version {next} with `from = ` the old type instead.",
        name = T::NAME,
        version = T::VERSION,
        now = T::SCHEMA,
        next = T::VERSION.saturating_add(1),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_assertions() {
        assert_eq!(schema_line::<u64>(), "u64 v1\tu64");
        assert_schema::<String>("String");
        let r = std::panic::catch_unwind(|| assert_schema::<u64>("u32"));
        let msg = *r.unwrap_err().downcast::<String>().unwrap();
        assert!(
            msg.contains("`u64` version 1 changed") && msg.contains("add version 2"),
            "{msg}"
        );
    }
}
