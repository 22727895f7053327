//! `datawal stat DIR`.

use std::io::Write as _;

use anyhow::Result;
use serde_json::json;

use crate::cli::StatArgs;
use crate::exit::Outcome;
use crate::render::segment_name;

use crate::store::open_kv_snapshot;

/// Summarise the store.
///
/// # Errors
/// A missing or invalid directory, corruption, I/O.
pub fn run(args: &StatArgs) -> Result<Outcome> {
    let (snapshot, sizes) = open_kv_snapshot(&args.dir)?;
    let (p, report) = (snapshot.stats(), snapshot.recovery_report());
    let live_keys = snapshot.len();
    let torn_files = torn_files(&args.dir);
    let segments = snapshot.log().segments();

    let mut out = std::io::stdout().lock();
    if args.json {
        let tail = report.tail.as_ref().map(|t| {
            json!({
                "segment": t.segment,
                "file": segment_name(t.segment),
                "offset": t.offset,
                "bytes": t.bytes,
                "kind": t.kind.to_string(),
            })
        });
        let v = json!({
            "dir": args.dir.display().to_string(),
            "segments": segments.len(),
            "segment_files": segments.iter().map(|&s| segment_name(s)).collect::<Vec<_>>(),
            "records": p.records,
            "puts": p.puts,
            "deletes": p.deletes,
            "raws": p.raws,
            "bytes": sizes.total(),
            "record_bytes": p.frame_bytes,
            "live_keys": live_keys,
            "tombstones": p.deletes,
            "first_txid": p.first_txid,
            "last_txid": p.last_txid,
            "tail": tail,
            "torn_files": torn_files,
        });
        writeln!(out, "{v}")?;
    } else {
        let seg_range = match (segments.first(), segments.last()) {
            (Some(&a), Some(&b)) if a != b => {
                format!(" ({} .. {})", segment_name(a), segment_name(b))
            }
            (Some(&a), _) => format!(" ({})", segment_name(a)),
            _ => " (no segment files: not a datawal store, or an empty one)".into(),
        };
        writeln!(out, "store        {}", args.dir.display())?;
        writeln!(out, "segments     {}{seg_range}", segments.len())?;
        writeln!(
            out,
            "records      {} ({} put, {} delete, {} raw)",
            p.records, p.puts, p.deletes, p.raws
        )?;
        writeln!(
            out,
            "bytes        {} in segment files, {} in valid records",
            sizes.total(),
            p.frame_bytes
        )?;
        writeln!(out, "live keys    {live_keys}")?;
        writeln!(out, "tombstones   {}", p.deletes)?;
        match (p.first_txid, p.last_txid) {
            (Some(a), Some(b)) => writeln!(out, "txid range   {a}..{b}")?,
            _ => writeln!(out, "txid range   none")?,
        }
        match &report.tail {
            Some(t) => writeln!(out, "tail damage  {}", super::tail_text(t))?,
            None => writeln!(out, "tail damage  none")?,
        }
        if !torn_files.is_empty() {
            writeln!(
                out,
                "torn files   {} (tails a writer moved aside: {})",
                torn_files.len(),
                torn_files.join(", ")
            )?;
        }
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

/// Names of the `*.torn` side files in `dir` (tails cut by a writer), sorted.
fn torn_files(dir: &std::path::Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".torn"))
        .collect();
    names.sort();
    names
}
