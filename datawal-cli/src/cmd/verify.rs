//! `datawal verify DIR`.

use std::io::Write as _;

use anyhow::Result;
use datawal_core::segment::segment_path;

use crate::cli::VerifyArgs;
use crate::exit::Outcome;
use crate::progress;
use datawal_core::count_intact_frames;

use crate::store::{open_reader, Projection, Sizes};

/// Check every record of the store, judging its end as a writer's open would.
///
/// # Errors
/// Hard corruption (as `datawal_core::Error::Corrupt`, exit 4), a missing
/// or invalid directory, I/O.
pub fn run(args: &VerifyArgs) -> Result<Outcome> {
    let reader = open_reader(&args.dir)?;
    let sizes = Sizes::of(&reader);
    let bar = progress::bytes(sizes.total(), "verifying");
    let mut cursor = reader.cursor();
    let mut tracker = progress::Tracker::new(&sizes, &bar);
    let built = Projection::build(&mut cursor, false, |s, e| tracker.at(s, e));
    bar.finish_and_clear();
    let mut out = std::io::stdout().lock();
    let p = match built {
        Ok(p) => p,
        Err(e) => {
            writeln!(
                out,
                "corrupt: {} intact before the damage",
                super::count(cursor.report().records_replayed, "record")
            )?;
            out.flush()?;
            return Err(e);
        }
    };
    let summary = format!(
        "{} in {}, txids {}, {}",
        super::count(p.records(), "record"),
        super::count(reader.segments().len() as u64, "segment"),
        match (p.first_txid, p.last_txid) {
            (Some(a), Some(b)) => format!("{a}..{b}"),
            _ => "none".into(),
        },
        super::count(p.frame_bytes, "byte")
    );
    let Some(tail) = cursor.report().tail.clone() else {
        writeln!(out, "ok: {summary}")?;
        out.flush()?;
        return Ok(Outcome::Ok);
    };
    writeln!(
        out,
        "torn tail: {}; a writer's next open moves these bytes to a *.torn file",
        super::tail_text(&tail)
    )?;
    // Records after the damage go with the tail: say so, they may matter.
    let path = segment_path(&args.dir, tail.segment);
    let after = count_intact_frames(&path, tail.offset)?;
    if after > 0 {
        writeln!(
            out,
            "warning: {} after the damage; they are cut with the tail",
            super::count(after, "intact record")
        )?;
    }
    writeln!(out, "intact: {summary}")?;
    out.flush()?;
    Ok(Outcome::TornTail)
}
