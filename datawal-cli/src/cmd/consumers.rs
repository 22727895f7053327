//! `datawal consumers DIR`.

use std::io::{BufWriter, Write as _};

use anyhow::Result;
use serde_json::json;

use crate::cli::ConsumersArgs;
use crate::exit::Outcome;
use crate::store::open_reader;

/// List the named consumers with their committed txids and lag.
///
/// # Errors
/// A missing or invalid directory, an unreadable offset file, I/O.
pub fn run(args: &ConsumersArgs) -> Result<Outcome> {
    let reader = open_reader(&args.dir)?;
    let list = datawal_core::consumers(&args.dir)?;
    let newest = reader.last()?.map_or(0, |r| r.txid);
    let mut out = BufWriter::new(std::io::stdout().lock());
    for c in &list {
        let behind = newest.saturating_sub(c.txid);
        let at = c.position.map(|p| (p.segment, p.offset));
        if args.json {
            let obj = json!({
                "name": c.name,
                "txid": c.txid,
                "behind": behind,
                "segment": at.map(|a| a.0),
                "offset": at.map(|a| a.1),
            });
            writeln!(out, "{obj}")?;
        } else {
            let position = at.map_or_else(
                || "nothing committed".to_owned(),
                |(s, o)| format!("{}@{o}", crate::render::segment_name(s)),
            );
            writeln!(out, "{} txid={} behind={behind} {position}", c.name, c.txid)?;
        }
    }
    out.flush()?;
    if list.is_empty() && !args.json {
        crate::exit::note("no named consumers");
    }
    Ok(Outcome::Ok)
}
