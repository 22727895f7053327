//! `datawal export DIR --parquet OUT.parquet` (cargo feature `parquet`):
//! every record of the log as one Parquet file, for DuckDB, Polars or
//! Spark. A store that describes itself gets its records' fields as
//! columns (`parquet_typed.rs`); any other store the columns below. Written with the parquet crate's low-level writer (no arrow, no
//! compression codecs), in row groups of [`ROW_GROUP`] records, so memory
//! is bounded by one row group.
//!
//! | column | Parquet type | value |
//! |---|---|---|
//! | `txid` | required INT64 | the txid |
//! | `type` | required BYTE_ARRAY (UTF8) | `raw`, `put` or `delete` |
//! | `key` | required BYTE_ARRAY | the key bytes (empty for raw records) |
//! | `payload` | required BYTE_ARRAY | the payload bytes, unchanged |
//! | `type_fingerprint` | optional INT64 | typed records: CRC-32C of the type's name |
//! | `type_version` | optional INT32 | typed records: the schema version |
//! | `codec` | optional BYTE_ARRAY (UTF8) | typed records: `bincode`, `postcard`, `json` |
//! | `value_json` | optional BYTE_ARRAY (UTF8) | JSON-codec records: the body's text |
//!
//! A payload is "typed" by its shape, as `scan` shows it
//! ([`crate::envelope::detect`]).

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use datawal_core::{AtomicFile, Record, RecordType};
use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use crate::envelope::detect;
use crate::exit::Outcome;

/// Records per row group.
const ROW_GROUP: usize = 65_536;

const SCHEMA: &str = "message datawal_record {
    REQUIRED INT64 txid;
    REQUIRED BYTE_ARRAY type (UTF8);
    REQUIRED BYTE_ARRAY key;
    REQUIRED BYTE_ARRAY payload;
    OPTIONAL INT64 type_fingerprint;
    OPTIONAL INT32 type_version;
    OPTIONAL BYTE_ARRAY codec (UTF8);
    OPTIONAL BYTE_ARRAY value_json (UTF8);
}";

/// One row group's columns.
#[derive(Default)]
struct Columns {
    txid: Vec<i64>,
    record_type: Vec<ByteArray>,
    key: Vec<ByteArray>,
    payload: Vec<ByteArray>,
    /// Definition level per row (1: typed) and the present values.
    typed: Vec<i16>,
    fingerprint: Vec<i64>,
    version: Vec<i32>,
    codec: Vec<ByteArray>,
    json: Vec<i16>,
    json_text: Vec<ByteArray>,
}

impl Columns {
    fn push(&mut self, r: &Record) -> Result<()> {
        let txid = i64::try_from(r.txid).context("txid above i64::MAX")?;
        self.txid.push(txid);
        let t = match r.record_type {
            RecordType::Raw => "raw",
            RecordType::Put => "put",
            RecordType::Delete => "delete",
        };
        self.record_type.push(t.into());
        self.key.push(r.key.clone().into());
        self.payload.push(r.payload.clone().into());
        match detect(&r.payload) {
            Some(typed) => {
                self.typed.push(1);
                self.fingerprint.push(i64::from(typed.fingerprint));
                self.version.push(i32::from(typed.schema_version));
                self.codec.push(typed.codec.name().into());
                let json_body = typed.codec == datawal_typed::Codec::Json
                    && serde_json::from_slice::<serde_json::Value>(typed.body).is_ok();
                if json_body {
                    self.json.push(1);
                    self.json_text.push(typed.body.to_vec().into());
                } else {
                    self.json.push(0);
                }
            }
            None => {
                self.typed.push(0);
                self.json.push(0);
            }
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.txid.len()
    }

    fn write<W: std::io::Write + Send>(&mut self, out: &mut SerializedFileWriter<W>) -> Result<()> {
        let mut group = out.next_row_group()?;
        let mut index = 0;
        while let Some(mut column) = group.next_column()? {
            match index {
                0 => column
                    .typed::<Int64Type>()
                    .write_batch(&self.txid, None, None)?,
                1 => column
                    .typed::<ByteArrayType>()
                    .write_batch(&self.record_type, None, None)?,
                2 => column
                    .typed::<ByteArrayType>()
                    .write_batch(&self.key, None, None)?,
                3 => column
                    .typed::<ByteArrayType>()
                    .write_batch(&self.payload, None, None)?,
                4 => column.typed::<Int64Type>().write_batch(
                    &self.fingerprint,
                    Some(&self.typed),
                    None,
                )?,
                5 => column.typed::<Int32Type>().write_batch(
                    &self.version,
                    Some(&self.typed),
                    None,
                )?,
                6 => column.typed::<ByteArrayType>().write_batch(
                    &self.codec,
                    Some(&self.typed),
                    None,
                )?,
                _ => column.typed::<ByteArrayType>().write_batch(
                    &self.json_text,
                    Some(&self.json),
                    None,
                )?,
            };
            column.close()?;
            index += 1;
        }
        group.close()?;
        *self = Columns::default();
        Ok(())
    }
}

/// Write every record of the store in `dir` to `out` as Parquet.
///
/// # Errors
/// A missing or invalid directory, corruption, I/O, a txid above
/// `i64::MAX` (Parquet has no unsigned 64-bit physical type).
pub fn run(dir: &Path, out: &Path) -> Result<Outcome> {
    let lens = crate::lens::Lens::load(dir, &[]);
    if lens.kind().is_some() {
        let records = super::parquet_typed::export(dir, &lens, out, ROW_GROUP)?;
        return exported(records, out);
    }
    let reader = crate::store::open_reader(dir)?;
    let schema = Arc::new(parse_message_type(SCHEMA)?);
    let file = AtomicFile::create(out)?;
    let mut writer =
        SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build()))?;
    let mut columns = Columns::default();
    let mut records = 0u64;
    for record in reader.scan_iter()? {
        columns.push(&record?)?;
        records += 1;
        if columns.len() == ROW_GROUP {
            columns.write(&mut writer)?;
        }
    }
    if columns.len() > 0 {
        columns.write(&mut writer)?;
    }
    writer.into_inner()?.commit()?;
    exported(records, out)
}

/// Say what was written.
fn exported(records: u64, out: &Path) -> Result<Outcome> {
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "exported {} to {}",
        super::count(records, "record"),
        out.display()
    )?;
    stdout.flush()?;
    Ok(Outcome::Ok)
}
