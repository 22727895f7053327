//! `datawal scan DIR`.

use std::io::{BufWriter, Write as _};

use anyhow::Result;

use crate::cli::ScanArgs;
use crate::exit::Outcome;
use crate::render::{record_json, record_line, TypeNames};
use crate::store::open_reader;

/// Bytes of a key or payload shown on a text line without `--full`.
const TEXT_LIMIT: usize = 200;

/// Print the records of the store.
///
/// # Errors
/// Corruption (after the records before it are printed), a missing or
/// invalid directory, I/O.
pub fn run(args: &ScanArgs) -> Result<Outcome> {
    let reader = open_reader(&args.dir)?;
    let mut cursor = reader.cursor();
    let mut out = BufWriter::new(std::io::stdout().lock());
    let limit = (!args.full).then_some(TEXT_LIMIT);
    let names = TypeNames::new(&args.type_names);
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
