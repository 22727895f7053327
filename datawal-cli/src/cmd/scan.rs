//! `datawal scan DIR`.

use std::io::{BufWriter, Write as _};

use std::time::Duration;

use anyhow::Result;
use datawal_core::Follower;

use crate::cli::ScanArgs;
use crate::exit::Outcome;
use crate::lens::Lens;
use crate::render::{record_json, record_line};
use crate::store::open_reader;

/// Bytes of a key or payload shown on a text line without `--full`.
const TEXT_LIMIT: usize = 200;

/// Print the records of the store.
///
/// # Errors
/// Corruption (after the records before it are printed), a missing or
/// invalid directory, I/O.
pub fn run(args: &ScanArgs) -> Result<Outcome> {
    if args.follow {
        return follow(args);
    }
    let reader = open_reader(&args.dir)?;
    let mut cursor = reader.cursor();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let limit = (!args.full).then_some(TEXT_LIMIT);
    let names = Lens::load(&args.dir, &args.type_names);
    let mut printed = 0u64;
    let mut complete = true;
    loop {
        if args.limit.is_some_and(|l| printed >= l) {
            complete = false;
            break;
        }
        let view = match cursor.next_view() {
            Ok(Some(v)) => v,
            Ok(None) => break,
            Err(e) => {
                out.flush()?;
                return Err(e.into());
            }
        };
        if args.from_txid.is_some_and(|t| view.txid < t) {
            continue;
        }
        if args.json {
            writeln!(out, "{}", record_json(&view, &names))?;
        } else {
            writeln!(out, "{}", record_line(&view, limit, &names))?;
        }
        printed += 1;
    }
    out.flush()?;
    if complete {
        if let Some(t) = &cursor.report().tail {
            crate::exit::note(&format!(
                "the scan stopped at a torn tail: {}",
                super::tail_text(t)
            ));
        }
    }
    Ok(Outcome::Ok)
}

/// `scan --follow`: the records from `--from-txid` on, then each one as it
/// is appended, until `--limit` records were printed (or forever).
fn follow(args: &ScanArgs) -> Result<Outcome> {
    crate::store::require_dir(&args.dir)?;
    let mut follower = Follower::open(&args.dir, args.from_txid.unwrap_or(0))?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    let limit = (!args.full).then_some(TEXT_LIMIT);
    let names = Lens::load(&args.dir, &args.type_names);
    let mut printed = 0u64;
    while args.limit.is_none_or(|l| printed < l) {
        let record = match follower.try_next()? {
            Some(r) => r,
            None => {
                // Caught up: show what there is, then wait.
                out.flush()?;
                match follower.next_timeout(Duration::from_secs(3600))? {
                    Some(r) => r,
                    None => continue,
                }
            }
        };
        let view = record.view();
        if args.json {
            writeln!(out, "{}", record_json(&view, &names))?;
        } else {
            writeln!(out, "{}", record_line(&view, limit, &names))?;
        }
        printed += 1;
    }
    out.flush()?;
    Ok(Outcome::Ok)
}
