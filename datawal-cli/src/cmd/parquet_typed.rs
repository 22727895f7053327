//! `datawal export DIR --parquet OUT` for a store that describes itself
//! (`datawal_typed::describe`): one row per record, its fields as columns.
//!
//! | column | Parquet type | value |
//! |---|---|---|
//! | `txid` | required INT64 | the txid |
//! | `record_type` | required BYTE_ARRAY (UTF8) | `raw`, `put` or `delete` |
//! | `key` | optional BYTE_ARRAY (UTF8) | the key's text form (`docs/canon-typed.md`) |
//! | `type` | optional BYTE_ARRAY (UTF8) | the record type's name |
//! | `version` | optional INT32 | the version it was written as |
//! | `codec` | optional BYTE_ARRAY (UTF8) | `bincode`, `postcard` or `json` |
//! | `error` | optional BYTE_ARRAY (UTF8) | why the record did not decode |
//! | one per top-level field | optional INT64, DOUBLE, BOOLEAN or BYTE_ARRAY (UTF8) | the field's value |
//!
//! The fields are those of the decoded values (the same JSON as `export
//! --decoded`), by name within a record and in the order first seen
//! across records, over every type and version of the store: a field a
//! record lacks is null. A field's column is INT64
//! when every value is an integer that fits, DOUBLE when every value is a
//! number, BOOLEAN when every value is one, else text: strings as they are,
//! nested values (structs, lists, maps, enums) as their JSON text. A value
//! that is not a struct is one column, `value`. A field named like one of
//! the fixed columns is prefixed `field_`. Two passes over the log: the
//! first finds the columns, the second writes row groups of
//! [`ROW_GROUP`](super::parquet) records.

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context as _, Result};
use datawal_core::{AtomicFile, RecordLogReader, RecordView};
use parquet::basic::{ConvertedType, Repetition, Type as PhysicalType};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;
use serde_json::Value;

use crate::lens::Lens;

/// The most field columns a store may have (a bound on memory and on the
/// file's width, whatever the values say).
const MAX_FIELDS: usize = 1024;

/// The fixed columns, in order.
const FIXED: [&str; 7] = [
    "txid",
    "record_type",
    "key",
    "type",
    "version",
    "codec",
    "error",
];

/// What a field's values have been so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Float,
    Bool,
    Text,
}

impl Kind {
    fn of(v: &Value) -> Option<Kind> {
        Some(match v {
            Value::Null => return None,
            Value::Bool(_) => Kind::Bool,
            Value::Number(n) if n.as_i64().is_some() => Kind::Int,
            Value::Number(_) => Kind::Float,
            _ => Kind::Text,
        })
    }

    fn merge(self, other: Kind) -> Kind {
        match (self, other) {
            (a, b) if a == b => a,
            (Kind::Int, Kind::Float) | (Kind::Float, Kind::Int) => Kind::Float,
            _ => Kind::Text,
        }
    }
}

/// The decoded value of a record as (field, value) pairs.
fn fields(value: Value) -> Vec<(String, Value)> {
    match value {
        Value::Object(map) => map.into_iter().collect(),
        other => vec![("value".to_owned(), other)],
    }
}

/// The column name of field `name`.
fn column_name(name: &str) -> String {
    if FIXED.contains(&name) {
        format!("field_{name}")
    } else {
        name.to_owned()
    }
}

/// The field columns of the store: names (first seen first) and kinds.
fn plan(reader: &RecordLogReader, lens: &Lens) -> Result<Vec<(String, Option<Kind>)>> {
    let mut columns: Vec<(String, Option<Kind>)> = Vec::new();
    let mut cursor = reader.cursor();
    while let Some(v) = cursor.next_view()? {
        let Some(Ok(record)) = lens.decode(v.payload) else {
            continue;
        };
        for (name, value) in fields(record.value) {
            let name = column_name(&name);
            let kind = Kind::of(&value);
            match columns.iter_mut().find(|(n, _)| *n == name) {
                Some((_, k)) => {
                    *k = match (*k, kind) {
                        (Some(a), Some(b)) => Some(a.merge(b)),
                        (a, b) => a.or(b),
                    }
                }
                None => {
                    if columns.len() == MAX_FIELDS {
                        bail!(
                            "the records have more than {MAX_FIELDS} distinct fields; \
                             export them with --decoded (JSON lines) instead"
                        );
                    }
                    columns.push((name, kind));
                }
            }
        }
    }
    Ok(columns)
}

/// One column's values in a row group, with definition levels.
enum Values {
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
    Text(Vec<ByteArray>),
}

struct Column {
    values: Values,
    defined: Vec<i16>,
}

impl Column {
    fn new(kind: Kind) -> Column {
        let values = match kind {
            Kind::Int => Values::Int(Vec::new()),
            Kind::Float => Values::Float(Vec::new()),
            Kind::Bool => Values::Bool(Vec::new()),
            Kind::Text => Values::Text(Vec::new()),
        };
        Column {
            values,
            defined: Vec::new(),
        }
    }

    fn text(s: Option<&str>, col: &mut Column) {
        match (s, &mut col.values) {
            (Some(s), Values::Text(v)) => {
                v.push(s.as_bytes().to_vec().into());
                col.defined.push(1);
            }
            _ => col.defined.push(0),
        }
    }

    fn push(&mut self, value: Option<&Value>) {
        let pushed = match (value, &mut self.values) {
            (None | Some(Value::Null), _) => false,
            (Some(v), Values::Int(out)) => v.as_i64().map(|i| out.push(i)).is_some(),
            (Some(v), Values::Float(out)) => v.as_f64().map(|f| out.push(f)).is_some(),
            (Some(v), Values::Bool(out)) => v.as_bool().map(|b| out.push(b)).is_some(),
            (Some(Value::String(s)), Values::Text(out)) => {
                out.push(s.as_bytes().to_vec().into());
                true
            }
            (Some(v), Values::Text(out)) => {
                out.push(v.to_string().into_bytes().into());
                true
            }
        };
        self.defined.push(i16::from(pushed));
    }

    fn physical(kind: Kind) -> (PhysicalType, Option<ConvertedType>) {
        match kind {
            Kind::Int => (PhysicalType::INT64, None),
            Kind::Float => (PhysicalType::DOUBLE, None),
            Kind::Bool => (PhysicalType::BOOLEAN, None),
            Kind::Text => (PhysicalType::BYTE_ARRAY, Some(ConvertedType::UTF8)),
        }
    }
}

/// The schema: the fixed columns, then one per field.
fn schema(fields: &[(String, Kind)]) -> Result<Type> {
    let column = |name: &str, kind: Kind, repetition: Repetition| -> Result<Arc<Type>> {
        let (physical, converted) = Column::physical(kind);
        let mut b = Type::primitive_type_builder(name, physical).with_repetition(repetition);
        if let Some(c) = converted {
            b = b.with_converted_type(c);
        }
        Ok(Arc::new(b.build()?))
    };
    let mut columns = vec![
        column("txid", Kind::Int, Repetition::REQUIRED)?,
        column("record_type", Kind::Text, Repetition::REQUIRED)?,
        column("key", Kind::Text, Repetition::OPTIONAL)?,
        column("type", Kind::Text, Repetition::OPTIONAL)?,
        Arc::new(
            Type::primitive_type_builder("version", PhysicalType::INT32)
                .with_repetition(Repetition::OPTIONAL)
                .build()?,
        ),
        column("codec", Kind::Text, Repetition::OPTIONAL)?,
        column("error", Kind::Text, Repetition::OPTIONAL)?,
    ];
    for (name, kind) in fields {
        columns.push(column(name, *kind, Repetition::OPTIONAL)?);
    }
    Ok(Type::group_type_builder("datawal_record")
        .with_fields(columns)
        .build()?)
}

/// A row group being filled.
struct Group {
    txid: Vec<i64>,
    record_type: Vec<ByteArray>,
    key: Column,
    name: Column,
    version: (Vec<i32>, Vec<i16>),
    codec: Column,
    error: Column,
    fields: Vec<Column>,
}

impl Group {
    fn new(kinds: &[(String, Kind)]) -> Group {
        Group {
            txid: Vec::new(),
            record_type: Vec::new(),
            key: Column::new(Kind::Text),
            name: Column::new(Kind::Text),
            version: (Vec::new(), Vec::new()),
            codec: Column::new(Kind::Text),
            error: Column::new(Kind::Text),
            fields: kinds.iter().map(|(_, k)| Column::new(*k)).collect(),
        }
    }

    fn push(&mut self, v: &RecordView<'_>, lens: &Lens, names: &[(String, Kind)]) -> Result<()> {
        self.txid
            .push(i64::try_from(v.txid).context("txid above i64::MAX")?);
        self.record_type
            .push(v.record_type.name().as_bytes().to_vec().into());
        let key = lens.key_text(v.key, v.payload);
        Column::text(key.as_deref(), &mut self.key);
        let mut values: Vec<(String, Value)> = Vec::new();
        match lens.decode(v.payload) {
            Some(Ok(record)) => {
                let name = lens.type_name(record.fingerprint).map(str::to_owned);
                Column::text(name.as_deref(), &mut self.name);
                self.version.0.push(i32::from(record.version));
                self.version.1.push(1);
                Column::text(Some(record.codec.name()), &mut self.codec);
                Column::text(None, &mut self.error);
                values = fields(record.value)
                    .into_iter()
                    .map(|(n, v)| (column_name(&n), v))
                    .collect();
            }
            Some(Err(e)) => {
                for c in [&mut self.name, &mut self.codec] {
                    Column::text(None, c);
                }
                self.version.1.push(0);
                Column::text(Some(&e.to_string()), &mut self.error);
            }
            None => {
                for c in [&mut self.name, &mut self.codec, &mut self.error] {
                    Column::text(None, c);
                }
                self.version.1.push(0);
            }
        }
        for ((name, _), column) in names.iter().zip(&mut self.fields) {
            column.push(values.iter().find(|(n, _)| n == name).map(|(_, v)| v));
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.txid.len()
    }

    fn write<W: std::io::Write + Send>(&self, out: &mut SerializedFileWriter<W>) -> Result<()> {
        let mut group = out.next_row_group()?;
        let optional = [&self.key, &self.name];
        let mut index = 0;
        while let Some(mut column) = group.next_column()? {
            match index {
                0 => {
                    column
                        .typed::<Int64Type>()
                        .write_batch(&self.txid, None, None)?;
                }
                1 => {
                    column
                        .typed::<ByteArrayType>()
                        .write_batch(&self.record_type, None, None)?;
                }
                2 | 3 => write_column(&mut column, optional[index - 2])?,
                4 => {
                    column.typed::<Int32Type>().write_batch(
                        &self.version.0,
                        Some(&self.version.1),
                        None,
                    )?;
                }
                5 => write_column(&mut column, &self.codec)?,
                6 => write_column(&mut column, &self.error)?,
                i => write_column(&mut column, &self.fields[i - FIXED.len()])?,
            }
            column.close()?;
            index += 1;
        }
        group.close()?;
        Ok(())
    }
}

fn write_column(
    column: &mut parquet::file::writer::SerializedColumnWriter<'_>,
    c: &Column,
) -> Result<()> {
    let def = Some(&c.defined[..]);
    match &c.values {
        Values::Int(v) => column.typed::<Int64Type>().write_batch(v, def, None)?,
        Values::Float(v) => column.typed::<DoubleType>().write_batch(v, def, None)?,
        Values::Bool(v) => column.typed::<BoolType>().write_batch(v, def, None)?,
        Values::Text(v) => column.typed::<ByteArrayType>().write_batch(v, def, None)?,
    };
    Ok(())
}

/// Write every record of the described store in `dir` to `out`; the
/// number of records.
///
/// # Errors
/// Corruption, I/O, more than [`MAX_FIELDS`] fields, a txid above
/// `i64::MAX`.
pub fn export(dir: &Path, lens: &Lens, out: &Path, row_group: usize) -> Result<u64> {
    let reader = crate::store::open_reader(dir)?;
    let kinds: Vec<(String, Kind)> = plan(&reader, lens)?
        .into_iter()
        .map(|(n, k)| (n, k.unwrap_or(Kind::Text)))
        .collect();
    let file = AtomicFile::create(out)?;
    let mut writer = SerializedFileWriter::new(
        file,
        Arc::new(schema(&kinds)?),
        Arc::new(WriterProperties::builder().build()),
    )?;
    let mut group = Group::new(&kinds);
    let mut records = 0u64;
    let mut cursor = reader.cursor();
    while let Some(v) = cursor.next_view()? {
        group.push(&v, lens, &kinds)?;
        records += 1;
        if group.len() == row_group {
            group.write(&mut writer)?;
            group = Group::new(&kinds);
        }
    }
    if group.len() > 0 {
        group.write(&mut writer)?;
    }
    writer.into_inner()?.commit()?;
    Ok(records)
}
