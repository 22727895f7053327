//! `datawal export DIR OUT.jsonl [--decoded]`.

use std::io::{BufWriter, Write};

use anyhow::Result;
use datawal_core::{AtomicFile, DataWalReader, RecordType};
use datawal_typed::describe::StoreKind;

use crate::cli::ExportArgs;
use crate::exit::Outcome;
use crate::lens::Lens;
use crate::store::open_kv_snapshot;

/// Write the live pairs as JSON lines from a lock-free snapshot: core's
/// `DataWalReader::export_jsonl`, the same bytes as `DataWal::export_jsonl`
/// (written whole or not at all), or its lines to standard output for `-`.
/// With `--decoded`, readable rows instead ([`write_decoded`]).
///
/// # Errors
/// A missing or invalid directory, corruption, I/O.
pub fn run(args: &ExportArgs) -> Result<Outcome> {
    #[cfg(feature = "parquet")]
    if let Some(out) = &args.parquet {
        return super::parquet::run(&args.dir, out);
    }
    let Some(out) = &args.out else {
        anyhow::bail!("no output file: give OUT.jsonl (or - for stdout)");
    };
    let (snapshot, _) = open_kv_snapshot(&args.dir)?;
    if args.decoded {
        let lens = Lens::load(&args.dir, &args.type_names);
        let undecoded = if out.as_os_str() == "-" {
            let mut out = BufWriter::new(std::io::stdout().lock());
            let n = write_decoded(&snapshot, &lens, &mut out)?;
            out.flush()?;
            n
        } else {
            let mut file = AtomicFile::create(out)?;
            let n = write_decoded(&snapshot, &lens, &mut file)?;
            file.commit()?;
            n
        };
        if undecoded > 0 {
            crate::exit::note(&format!(
                "{undecoded} typed record(s) did not decode; their rows say why in \"error\""
            ));
        }
    } else if out.as_os_str() == "-" {
        let mut out = BufWriter::new(std::io::stdout().lock());
        snapshot.write_jsonl(&mut out)?;
        out.flush()?;
    } else {
        snapshot.export_jsonl(out)?;
    }
    Ok(Outcome::Ok)
}

/// Write one readable row ([`Lens::decoded_row`]) per live key, in key
/// order, for key/value state (a store described as such, or one without a
/// description that holds puts or deletes); one per record, in txid order,
/// for a log. Returns how many typed records did not decode.
///
/// # Errors
/// Corruption, I/O.
fn write_decoded(snapshot: &DataWalReader, lens: &Lens, out: &mut impl Write) -> Result<u64> {
    let key_value = match lens.kind() {
        Some(kind) => kind == StoreKind::KeyValue,
        None => snapshot.stats().puts + snapshot.stats().deletes > 0,
    };
    let mut undecoded = 0;
    let mut row = |txid: u64, rt: RecordType, key: &[u8], payload: &[u8]| -> Result<()> {
        let row = lens.decoded_row(txid, rt.name(), key, payload);
        undecoded += u64::from(row.get("error").is_some());
        serde_json::to_writer(&mut *out, &row)?;
        out.write_all(b"\n")?;
        Ok(())
    };
    if key_value {
        for key in snapshot.keys() {
            if let Some(r) = snapshot.get_record(&key)? {
                row(r.txid, r.record_type, &r.key, &r.payload)?;
            }
        }
    } else {
        let mut cursor = snapshot.log().cursor();
        while let Some(v) = cursor.next_view()? {
            row(v.txid, v.record_type, v.key, v.payload)?;
        }
    }
    Ok(undecoded)
}
