//! `datawal backup DIR OUT`.

use std::io::Write as _;

use anyhow::Result;
use datawal_core::RecordLog;

use crate::cli::BackupArgs;
use crate::exit::Outcome;

/// Write a consistent copy of the store, as `RecordLog::backup_to`.
///
/// # Errors
/// As opening a writer (see `open_writer`), a non-empty target, I/O.
pub fn run(args: &BackupArgs) -> Result<Outcome> {
    let (log, bar) = super::open_writer(&args.dir, |d| RecordLog::open(d))?;
    bar.set_message("copying");
    let backed_up = log.backup_to(&args.out);
    bar.finish_and_clear();
    let stats = backed_up?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "backed up {} to {}: {} linked, {} copied ({}), up to txid {}",
        args.dir.display(),
        args.out.display(),
        super::count(u64::from(stats.segments_linked), "segment"),
        super::count(u64::from(stats.segments_copied), "segment"),
        super::count(stats.bytes_copied, "byte"),
        stats
            .last_txid
            .map_or_else(|| "none (empty log)".to_owned(), |t| t.to_string())
    )?;
    out.flush()?;
    Ok(Outcome::Ok)
}
