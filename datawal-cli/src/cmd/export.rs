//! `datawal export DIR OUT.jsonl`.

use std::io::{BufWriter, Write};

use anyhow::Result;

use crate::cli::ExportArgs;
use crate::exit::Outcome;
use crate::store::open_kv_snapshot;

/// Write the live pairs as JSON lines from a lock-free snapshot: core's
/// `DataWalReader::export_jsonl`, the same bytes as `DataWal::export_jsonl`
/// (written whole or not at all), or its lines to standard output for `-`.
///
/// # Errors
/// A missing or invalid directory, corruption, I/O.
pub fn run(args: &ExportArgs) -> Result<Outcome> {
    #[cfg(feature = "parquet")]
    if let Some(out) = &args.parquet {
        return super::parquet::run(&args.dir, out);
    }
    let Some(out) = &args.out else {
        anyhow::bail!("no output file: give OUT.jsonl (or - for stdout)");
    };
    let (snapshot, _) = open_kv_snapshot(&args.dir)?;
    if out.as_os_str() == "-" {
        let mut out = BufWriter::new(std::io::stdout().lock());
        snapshot.write_jsonl(&mut out)?;
        out.flush()?;
    } else {
        snapshot.export_jsonl(out)?;
    }
    Ok(Outcome::Ok)
}
