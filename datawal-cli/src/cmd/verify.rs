//! `datawal verify DIR`.

use std::io::Write as _;

use anyhow::Result;
use datawal_core::segment::segment_path;
use datawal_core::{CorruptKind, Error};

use crate::cli::VerifyArgs;
use crate::exit::Outcome;
use crate::progress;
use crate::store::{next_valid_frame, open_reader, Projection, Sizes};

/// Check every record of the store, judging its end as a writer's open would.
///
/// # Errors
/// Hard corruption (as [`Error::Corrupt`], exit 4), a missing or invalid
/// directory, I/O.
pub fn run(args: &VerifyArgs) -> Result<Outcome> {
    let reader = open_reader(&args.dir)?;
    let sizes = Sizes::of(&reader);
    let bar = progress::bytes(sizes.total(), "verifying");
    let mut cursor = reader.cursor();
    let mut tracker = progress::Tracker::new(&sizes, &bar);
    let built = Projection::build(&mut cursor, |s, e| tracker.at(s, e));
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
    // A writer refuses to cut damage that valid records follow: so does verify.
    let path = segment_path(&args.dir, tail.segment);
    if let Some(next) = next_valid_frame(&path, tail.offset)? {
        writeln!(out, "corrupt: {summary} before the damage")?;
        out.flush()?;
        return Err(Error::Corrupt {
            segment: tail.segment,
            offset: tail.offset,
            path,
            kind: CorruptKind::ValidRecordsFollow {
                damage: Box::new(tail.kind),
                next_valid_offset: next,
            },
        }
        .into());
    }
    writeln!(
        out,
        "torn tail: {}; a writer's next open moves these bytes to a *.torn file",
        super::tail_text(&tail)
    )?;
    writeln!(out, "intact: {summary}")?;
    out.flush()?;
    Ok(Outcome::TornTail)
}
