//! `datawal export DIR OUT.jsonl`.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::cli::ExportArgs;
use crate::exit::Outcome;
use crate::progress;
use crate::render::base64;
use crate::store::{open_reader, Projection, Sizes, ValueReader};

/// Write the live pairs as JSON lines, byte for byte as
/// `DataWal::export_jsonl`, from a lock-free snapshot.
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
    let (parent, tmp) = temp_sibling(&args.out)?;
    let written = (|| -> Result<()> {
        let file = File::create(&tmp).with_context(|| format!("create {}", tmp.display()))?;
        let mut w = BufWriter::new(file);
        write_rows(&args.dir, &p, &mut w).with_context(|| format!("write {}", tmp.display()))?;
        let file = w
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("write {}", tmp.display()))?;
        file.sync_all()
            .with_context(|| format!("fsync {}", tmp.display()))?;
        fs::rename(&tmp, &args.out)
            .with_context(|| format!("rename the export into place at {}", args.out.display()))
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    File::open(&parent)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("fsync directory {}", parent.display()))?;
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

/// The parent directory of `out` (created when missing) and a temporary
/// sibling `.{name}.tmp-{pid}` to write in.
fn temp_sibling(out: &Path) -> Result<(PathBuf, PathBuf)> {
    let name = out
        .file_name()
        .with_context(|| format!("{} does not name a file", out.display()))?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent)
        .with_context(|| format!("create directory {}", parent.display()))?;
    let tmp = parent.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    Ok((parent, tmp))
}
