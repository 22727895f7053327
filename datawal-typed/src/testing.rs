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
//!
//! Or keep every shipped version in one committed lock file, one
//! [`schema_line`] per version, checked by [`assert_schema_lock`]:
//!
//! ```no_run
//! # #[derive(serde::Serialize, serde::Deserialize, datawal_typed::Record)]
//! # #[record(name = "order", version = 1)]
//! # struct OrderV1 { #[record(key)] id: u64, cents: u32 }
//! // tests/schema.rs; add new versions with DATAWAL_UPDATE_SCHEMA_LOCK=1.
//! datawal_typed::testing::assert_schema_lock::<OrderV1>("tests/schema.lock");
//! ```

use std::path::Path;

use crate::Record;

/// Set to `1` to let [`assert_schema_lock`] add versions missing from the
/// lock file (it never rewrites a line that is there).
pub const UPDATE_ENV: &str = "DATAWAL_UPDATE_SCHEMA_LOCK";

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

/// Check `T`'s shape against its line in the lock file `lock`.
///
/// A version whose line differs fails: a shipped version must not change.
/// A version with no line fails too, unless the environment variable
/// [`UPDATE_ENV`] is `1`: then the line is appended (commit the file). To
/// re-pin a version on purpose, edit its line by hand.
///
/// # Panics
/// When the shape differs from the lock file, when the version is missing
/// from it (and updating is off), or when the file cannot be read or written:
/// this is a test assertion.
#[track_caller]
pub fn assert_schema_lock<T: Record>(lock: impl AsRef<Path>) {
    let lock = lock.as_ref();
    let text = match std::fs::read_to_string(lock) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => panic!("cannot read schema lock {}: {e}", lock.display()),
    };
    let line = schema_line::<T>();
    let prefix = format!("{} v{}\t", T::NAME, T::VERSION);
    match text.lines().find(|l| l.starts_with(&prefix)) {
        Some(frozen) => assert!(
            frozen == line,
            "the shape of `{name}` version {version} differs from {file}\n  frozen: {frozen}\n  \
             now:    {line}\nStored records of a shipped version are read by field position: keep \
             this version as it was, and add version {next} with `from = ` the old type instead.",
            name = T::NAME,
            version = T::VERSION,
            file = lock.display(),
            next = T::VERSION.saturating_add(1),
        ),
        None if std::env::var(UPDATE_ENV).as_deref() == Ok("1") => {
            let mut out = text;
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&line);
            out.push('\n');
            if let Err(e) = std::fs::write(lock, out) {
                panic!("cannot write schema lock {}: {e}", lock.display());
            }
        }
        None => panic!(
            "`{name}` version {version} is not in the schema lock {file}; run the test with \
             {UPDATE_ENV}=1 to add it, then commit the file",
            name = T::NAME,
            version = T::VERSION,
            file = lock.display(),
        ),
    }
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

    #[test]
    fn lock_file_pins_each_version() {
        let td = tempfile::tempdir().unwrap();
        let lock = td.path().join("schema.lock");
        // Missing from the lock: refused (the update variable is not set in tests).
        assert!(std::panic::catch_unwind(|| assert_schema_lock::<u64>(&lock)).is_err());
        std::fs::write(&lock, "String v1\tString\nu64 v1\tu64\n").unwrap();
        assert_schema_lock::<u64>(&lock);
        assert_schema_lock::<String>(&lock);
        // A changed shape fails, naming both texts.
        std::fs::write(&lock, "u64 v1\tu32\n").unwrap();
        let r = std::panic::catch_unwind(|| assert_schema_lock::<u64>(&lock));
        let msg = *r.unwrap_err().downcast::<String>().unwrap();
        assert!(
            msg.contains("frozen: u64 v1\tu32") && msg.contains("now:    u64 v1\tu64"),
            "{msg}"
        );
    }
}
