//! `datawal export DIR OUT.jsonl`.

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context as _, Result};
use datawal_core::AtomicFile;

use crate::cli::ExportArgs;
use crate::exit::Outcome;
use crate::progress;
use crate::render::base64;
use crate::store::{open_reader, Projection, Sizes, ValueReader};

/// Write the live pairs as JSON lines, byte for byte as
/// `DataWal::export_jsonl`, from a lock-free snapshot, through the same
/// `AtomicFile`.
///
/// # Errors
/// A missing or invalid directory, corruption, I/O.
pub fn run(args: &ExportArgs) -> Result<Outcome> {
    let reader = open_reader(&args.dir)?;
    let sizes = Sizes::of(&reader);
    let bar = progress::bytes(sizes.total(), "reading");
    let mut cursor = reader.cursor();
    let mut tracker = progress::Tracker::new(&sizes, &bar);
    let built = Projection::build(&mut cursor, true, |s, e| tracker.at(s, e));
    bar.finish_and_clear();
    let p = built?;

    if args.out.as_os_str() == "-" {
        let mut out = BufWriter::new(std::io::stdout().lock());
        write_rows(&args.dir, &p, &mut out)?;
        out.flush()?;
        return Ok(Outcome::Ok);
    }
    // Exclusively created under a random name, removed on any failure.
    let mut file = AtomicFile::create(&args.out)?;
    write_rows(&args.dir, &p, &mut file)
        .with_context(|| format!("write {}", file.temp_path().display()))?;
    file.commit()?;
    Ok(Outcome::Ok)
}

/// One `{"key_b64":"…","value_b64":"…"}` line per live key, sorted by key.
///
/// Standard base64 uses no character JSON escapes, so the line is written
/// directly: the same bytes `serde_json` gives the core's export.
fn write_rows(dir: &Path, p: &Projection, w: &mut impl Write) -> Result<()> {
    let bar = progress::count(p.live.len() as u64, "exporting");
    let mut values = ValueReader::new(dir);
    for (key, r) in &p.live {
        let value = values.read(key, *r)?;
        writeln!(
            w,
            "{{\"key_b64\":\"{}\",\"value_b64\":\"{}\"}}",
            base64(key),
            base64(&value)
        )?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(())
}
