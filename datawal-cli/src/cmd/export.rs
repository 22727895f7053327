//! `datawal export DIR OUT.jsonl`.

use std::io::{BufWriter, Write};

use anyhow::Result;
use datawal_core::DataWalReader;

use crate::cli::ExportArgs;
use crate::exit::Outcome;
use crate::progress;
use crate::store::{open_reader, Sizes};

/// Write the live pairs as JSON lines from a lock-free snapshot: core's
/// `DataWalReader::export_jsonl`, the same bytes as `DataWal::export_jsonl`
/// (written whole or not at all), or its lines to standard output for `-`.
///
/// # Errors
/// A missing or invalid directory, corruption, I/O.
pub fn run(args: &ExportArgs) -> Result<Outcome> {
    let sizes = Sizes::of(&open_reader(&args.dir)?);
    let bar = progress::bytes(sizes.total(), "reading");
    let mut tracker = progress::Tracker::new(&sizes, &bar);
    let opened = DataWalReader::open_visit(&args.dir, |v| {
        tracker.at(v.segment, v.offset + u64::from(v.len))
    });
    bar.finish_and_clear();
    let snapshot = opened?;
    if args.out.as_os_str() == "-" {
        let mut out = BufWriter::new(std::io::stdout().lock());
        snapshot.write_jsonl(&mut out)?;
        out.flush()?;
    } else {
        snapshot.export_jsonl(&args.out)?;
    }
    Ok(Outcome::Ok)
}
