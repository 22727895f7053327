//! `datawal compact DIR OUT_DIR`.

use std::io::Write as _;

use anyhow::{bail, Result};
use datawal_core::segment::list_segments;
use datawal_core::DataWal;

use crate::cli::CompactArgs;
use crate::exit::Outcome;
use crate::progress;
use crate::store::{intact_frames_after, require_dir};

/// Write the live projection as a new store, as `DataWal::compact_to` does.
///
/// # Errors
/// A missing or invalid directory, a directory with no segment files, a
/// locked store (exit 5), a non-empty target, corruption, I/O.
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
            Some(p) => match intact_frames_after(p, 0)? {
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
    bar.set_message("compacting");
    let compacted = db.compact_to(&args.out_dir);
    bar.finish_and_clear();
    let stats = compacted?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "compacted {} into {}: {}, {}, {}",
        args.dir.display(),
        args.out_dir.display(),
        super::count(stats.live_keys, "live key"),
        super::count(stats.records_written, "record"),
        super::count(stats.bytes_written, "byte")
    )?;
    out.flush()?;
    Ok(Outcome::Ok)
}
