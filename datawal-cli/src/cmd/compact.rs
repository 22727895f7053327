//! `datawal compact DIR OUT_DIR` and `datawal compact --in-place DIR`.

use std::io::Write as _;

use anyhow::Result;
use datawal_core::{DataWal, RecordType};

use crate::cli::CompactArgs;
use crate::exit::{Outcome, RawRecords};

/// Write the live projection as a new store, as `DataWal::compact_to` does,
/// unless the store holds raw records, which it would drop (then only with
/// `--drop-raw-records`).
///
/// # Errors
/// A missing or invalid directory, a directory with no segment files, a
/// locked store (exit 5), raw records without `--drop-raw-records`
/// ([`RawRecords`], exit 7), a non-empty target, corruption, I/O.
pub fn run(args: &CompactArgs) -> Result<Outcome> {
    let (db, bar) = super::open_writer(&args.dir, |d| DataWal::open(d))?;
    bar.set_message("counting raw records");
    let raw = match raw_records(&db) {
        Ok(n) => n,
        Err(e) => {
            bar.finish_and_clear();
            return Err(e);
        }
    };
    if raw > 0 && !args.drop_raw_records {
        bar.finish_and_clear();
        return Err(RawRecords {
            dir: args.dir.clone(),
            count: raw,
        }
        .into());
    }
    bar.set_message("compacting");
    let (compacted, into) = match &args.out_dir {
        Some(out) => (db.compact_to(out), out.display().to_string()),
        None => {
            let mut db = db;
            (db.compact(), "place".to_owned())
        }
    };
    bar.finish_and_clear();
    let stats = compacted?;
    let mut out = std::io::stdout().lock();
    write!(
        out,
        "compacted {} in{}{into}: {}, {}, {}",
        args.dir.display(),
        if args.out_dir.is_some() { "to " } else { " " },
        super::count(stats.live_keys, "live key"),
        super::count(stats.records_written, "record"),
        super::count(stats.bytes_written, "byte")
    )?;
    if args.in_place {
        write!(
            out,
            "; removed {}",
            super::count(u64::from(stats.removed.segments_removed), "old segment")
        )?;
    }
    if args.drop_raw_records {
        write!(out, "; dropped {}", super::count(raw, "raw record"))?;
    }
    writeln!(out)?;
    out.flush()?;
    Ok(Outcome::Ok)
}

/// How many raw records (no key; compaction keeps none) the store holds:
/// one pass of the core's cursor over the log the writer opened, under its
/// lock, so nothing is appended meanwhile.
fn raw_records(db: &DataWal) -> Result<u64> {
    let mut raw = 0u64;
    db.log().cursor()?.for_each_view(|v| {
        if v.record_type == RecordType::Raw {
            raw += 1;
        }
    })?;
    Ok(raw)
}
