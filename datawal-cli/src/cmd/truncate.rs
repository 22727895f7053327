//! `datawal truncate DIR --before TXID`.

use std::io::Write as _;

use anyhow::Result;
use datawal_core::RecordLog;

use crate::cli::TruncateArgs;
use crate::exit::Outcome;

/// Remove whole closed segments below a txid, as `RecordLog::truncate_before`.
///
/// # Errors
/// As opening a writer (see `open_writer`), I/O.
pub fn run(args: &TruncateArgs) -> Result<Outcome> {
    let (mut log, bar) = super::open_writer(&args.dir, |d| RecordLog::open(d))?;
    bar.set_message("removing segments");
    let truncated = log.truncate_before(args.before);
    bar.finish_and_clear();
    let stats = truncated?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "removed {} ({}, {}) from {}; first txid now {}",
        super::count(u64::from(stats.segments_removed), "segment"),
        super::count(stats.records_removed, "record"),
        super::count(stats.bytes_removed, "byte"),
        args.dir.display(),
        stats
            .first_available
            .map_or_else(|| "none (no record left)".to_owned(), |t| t.to_string())
    )?;
    out.flush()?;
    Ok(Outcome::Ok)
}
