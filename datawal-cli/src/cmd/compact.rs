//! `datawal compact DIR OUT_DIR`.

use std::io::Write as _;

use anyhow::{bail, Result};
use datawal_core::segment::list_segments;
use datawal_core::{DataWal, RecordType};

use crate::cli::CompactArgs;
use crate::exit::{Outcome, RawRecords};
use crate::progress;
use datawal_core::count_intact_frames;

use crate::store::require_dir;

/// Write the live projection as a new store, as `DataWal::compact_to` does,
/// unless the store holds raw records, which it would drop (then only with
/// `--drop-raw-records`).
///
/// # Errors
/// A missing or invalid directory, a directory with no segment files, a
/// locked store (exit 5), raw records without `--drop-raw-records`
/// ([`RawRecords`], exit 7), a non-empty target, corruption, I/O.
pub fn run(args: &CompactArgs) -> Result<Outcome> {
    require_dir(&args.dir)?;
    // Opening as a writer creates a store where there is none: refuse
    // rather than litter a directory that is not a store.
    if list_segments(&args.dir)?.is_empty() {
        bail!(
            "{} holds no segment files (*.dwal): not a datawal store",
            args.dir.display()
        );
    }
    let bar = progress::spinner("opening the store");
    let opened = DataWal::open(&args.dir);
    let db = match opened {
        Ok(db) => db,
        Err(e) => {
            bar.finish_and_clear();
            return Err(e.into());
        }
    };
    if let Some(t) = db.log().recovery_report()?.tail {
        let saved = match t.saved_to.as_deref() {
            // The side file starts with the damaged frame.
            Some(p) => match count_intact_frames(p, 0)? {
                0 => format!("moved to {}", p.display()),
                n => format!(
                    "moved to {} ({} after the damage went with it)",
                    p.display(),
                    super::count(n, "intact record")
                ),
            },
            None => "cut".into(),
        };
        bar.suspend(|| crate::exit::note(&format!("{}; {saved}", super::tail_text(&t))));
    }
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
    let compacted = db.compact_to(&args.out_dir);
    bar.finish_and_clear();
    let stats = compacted?;
    let mut out = std::io::stdout().lock();
    write!(
        out,
        "compacted {} into {}: {}, {}, {}",
        args.dir.display(),
        args.out_dir.display(),
        super::count(stats.live_keys, "live key"),
        super::count(stats.records_written, "record"),
        super::count(stats.bytes_written, "byte")
    )?;
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
