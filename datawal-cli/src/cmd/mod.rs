//! One module per subcommand; each returns the [`Outcome`] to exit with.

mod compact;
mod export;
mod get;
mod scan;
mod stat;
mod verify;

use anyhow::Result;

use crate::cli::Command;
use crate::exit::Outcome;

/// Run `command`.
///
/// # Errors
/// Whatever the subcommand met; [`crate::exit::report`] turns it into a
/// message and an exit code.
pub fn run(command: Command) -> Result<Outcome> {
    match command {
        Command::Stat(a) => stat::run(&a),
        Command::Verify(a) => verify::run(&a),
        Command::Scan(a) => scan::run(&a),
        Command::Get(a) => get::run(&a),
        Command::Export(a) => export::run(&a),
        Command::Compact(a) => compact::run(&a),
    }
}

/// The tail damage of a report as one line of text.
fn tail_text(t: &datawal_core::TailDamage) -> String {
    format!(
        "segment {} at offset {}: {}; {} bytes after the valid prefix",
        crate::render::segment_name(t.segment),
        t.offset,
        t.kind,
        t.bytes
    )
}

/// `"1 record"`, `"2 records"`.
fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
