//! `datawal verify DIR`.

use std::io::Write as _;

use anyhow::Result;

use crate::cli::VerifyArgs;
use crate::exit::Outcome;
use crate::progress;
use crate::progress::Sizes;
use crate::store::open_reader;

/// Check every record of the store, judging its end as a writer's open would.
///
/// # Errors
/// Hard corruption (as `datawal_core::Error::Corrupt`, exit 4), a missing
/// or invalid directory, I/O.
pub fn run(args: &VerifyArgs) -> Result<Outcome> {
    let reader = open_reader(&args.dir)?;
    let sizes = Sizes::of(&reader);
    let bar = progress::bytes(sizes.total(), "verifying");
    let mut tracker = progress::Tracker::new(&sizes, &bar);
    let verified = reader.verify_with(|v| tracker.at(v.segment, v.offset + u64::from(v.len)));
    bar.finish_and_clear();
    let v = verified?;
    let mut out = std::io::stdout().lock();
    if let Some(first) = v.damage.first() {
        writeln!(
            out,
            "corrupt: {} intact before the damage",
            super::count(first.records_before, "record")
        )?;
        for later in &v.damage[1..] {
            writeln!(
                out,
                "also corrupt: segment {} at offset {}: {}",
                later.segment, later.offset, later.kind
            )?;
        }
        out.flush()?;
        return Err(first.to_error().into());
    }
    let p = &v.stats;
    let summary = format!(
        "{} in {}, txids {}, {}",
        super::count(p.records, "record"),
        super::count(v.segments as u64, "segment"),
        match (p.first_txid, p.last_txid) {
            (Some(a), Some(b)) => format!("{a}..{b}"),
            _ => "none".into(),
        },
        super::count(p.frame_bytes, "byte")
    );
    let Some(tail) = v.tail else {
        if v.free_bytes > 0 {
            // Preallocated space (or zeros a crash left): not damage.
            writeln!(
                out,
                "ok: {summary}; {} of free space (zeros) after the last record",
                super::count(v.free_bytes, "byte")
            )?;
            out.flush()?;
            return Ok(Outcome::Ok);
        }
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
    let after = tail.intact_frames_cut.unwrap_or(0);
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
