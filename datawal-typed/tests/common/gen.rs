//! Writes every golden fixture of the typed layer into a directory.
//!
//! Used by the `gen_typed_fixtures` example (which writes into
//! `tests/fixtures/`) and by `tests/golden.rs` (which writes into a
//! temporary directory and compares byte for byte with the committed files).
#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::Context;
use datawal_core::{RecordLogReader, RecordType};
use datawal_typed::describe::{self, Description, FILE_NAME};
use datawal_typed::{
    key::encode_key_to_vec, to_payload, Codec, Key, Options, Record, TypedLog, TypedWal,
};

use super::fixture_types::*;

/// One key per line: `<label>\t<hex of the encoding>`.
pub fn keys_file() -> String {
    let mut out = String::new();
    let mut line = |label: &str, bytes: Vec<u8>| {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        writeln!(out, "{label}\t{hex}").unwrap();
    };
    fn k<K: Key>(k: K) -> Vec<u8> {
        encode_key_to_vec(&k)
    }
    line("()", k(()));
    line("bool false", k(false));
    line("bool true", k(true));
    line("u8 200", k(200u8));
    line("u16 258", k(258u16));
    line("u32 7", k(7u32));
    line("u64 7", k(7u64));
    line("u64 max", k(u64::MAX));
    line("u128 1", k(1u128));
    line("i8 -1", k(-1i8));
    line("i16 0", k(0i16));
    line("i32 -2", k(-2i32));
    line("i64 min", k(i64::MIN));
    line("i64 1", k(1i64));
    line("i128 -1", k(-1i128));
    line("char A", k('A'));
    line("char U+1F600", k('\u{1F600}'));
    line("String empty", k(String::new()));
    line("String ab", k(String::from("ab")));
    line("String a NUL b", k(String::from("a\0b")));
    line("String e-acute", k(String::from("\u{e9}")));
    line("Vec<u8> [0, 255, 0]", k(vec![0u8, 255, 0]));
    line("Option<u8> None", k(None::<u8>));
    line("Option<u8> Some(5)", k(Some(5u8)));
    line("(String, u64) (ada, 3)", k((String::from("ada"), 3u64)));
    line("(u32, i8, bool) (1, -1, true)", k((1u32, -1i8, true)));
    line(
        "(String, String) (a, bc)",
        k((String::from("a"), String::from("bc"))),
    );
    line(
        "(String, String) (ab, c)",
        k((String::from("ab"), String::from("c"))),
    );
    out
}

/// One type per line: `<family> v<version>\t<SCHEMA>`.
pub fn schemas_file() -> String {
    let mut out = String::new();
    fn s<T: Record>(out: &mut String) {
        writeln!(out, "{} v{}\t{}", T::NAME, T::VERSION, T::SCHEMA).unwrap();
    }
    s::<OrderV1>(&mut out);
    s::<OrderV2>(&mut out);
    s::<Order>(&mut out);
    s::<Event>(&mut out);
    s::<Audit>(&mut out);
    out
}

/// Every (type, version) and codec: `(file name, payload bytes)`.
pub fn envelopes() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    for codec in Codec::ALL {
        let c = codec.name();
        out.push((format!("order-v1.{c}.bin"), to_payload(&order_v1(), codec)?));
        out.push((format!("order-v2.{c}.bin"), to_payload(&order_v2(), codec)?));
        out.push((format!("order-v3.{c}.bin"), to_payload(&order_v3(), codec)?));
        for (i, e) in events().iter().enumerate() {
            out.push((format!("event-v1-{i}.{c}.bin"), to_payload(e, codec)?));
        }
        out.push((format!("audit-v1.{c}.bin"), to_payload(&audit(), codec)?));
        out.push((format!("u64-v1.{c}.bin"), to_payload(&300u64, codec)?));
        out.push((
            format!("String-v1.{c}.bin"),
            to_payload(&String::from("hi\0"), codec)?,
        ));
        out.push((format!("i32-v1.{c}.bin"), to_payload(&-7i32, codec)?));
    }
    Ok(out)
}

/// What `stores/order-log` reads as, in order, with the latest type.
pub fn order_log_expected() -> Vec<Order> {
    vec![
        order_v1_upgraded(),
        Order {
            id: 70,
            amount: Money {
                cents: 1,
                currency: *b"EUR",
            },
            tags: vec![],
            note: None,
        },
        order_v2_upgraded(),
        order_v3(),
    ]
}

/// `stores/order-log`: a typed log written by three program versions, each
/// with another codec, one segment each.
fn order_log(dir: &Path) -> anyhow::Result<()> {
    let mut v1 = TypedLog::<OrderV1>::open_with(dir, Codec::Bincode)?;
    v1.append_batch([&order_v1(), &OrderV1 { id: 70, cents: 1 }])?;
    v1.close()?;
    let mut v2 = TypedLog::<OrderV2>::open_with(dir, Codec::Postcard)?;
    v2.rotate()?;
    v2.append(&order_v2())?;
    v2.close()?;
    let mut v3 = TypedLog::<Order>::open_with(dir, Codec::Json)?;
    v3.rotate()?;
    v3.append(&order_v3())?;
    v3.close()?;
    Ok(())
}

/// What `stores/order-wal` holds, by key, with the latest type.
pub fn order_wal_expected() -> Vec<(u64, Order)> {
    let mut one = order_v1_upgraded();
    one.id = 1;
    vec![(1, one), (2, order_v2_upgraded()), (9, order_v3())]
}

/// `stores/order-wal`: a typed key/value store written by three program
/// versions: puts, an overwrite by a newer version, a delete.
fn order_wal(dir: &Path) -> anyhow::Result<()> {
    let mut v1 = TypedWal::<u64, OrderV1>::open(dir)?;
    v1.insert(&OrderV1 {
        id: 1,
        cents: 1_250,
    })?;
    v1.insert(&OrderV1 { id: 2, cents: 2 })?;
    v1.insert(&OrderV1 { id: 3, cents: 3 })?;
    v1.fsync()?;
    v1.into_raw().into_log().close()?;
    let mut v2 = TypedWal::<u64, OrderV2>::open_with(dir, Codec::Postcard)?;
    v2.put(&2, &order_v2())?;
    v2.delete(&3)?;
    v2.fsync()?;
    v2.into_raw().into_log().close()?;
    let mut v3 = TypedWal::<u64, Order>::open_with(dir, Codec::Json)?;
    v3.insert(&order_v3())?;
    v3.fsync()?;
    v3.into_raw().into_log().close()?;
    Ok(())
}

/// `stores/mixed-log`: an `event` log with, in between, a raw record, an
/// `audit` record, and an `event` from a future version 2.
fn mixed_log(dir: &Path) -> anyhow::Result<()> {
    let mut log = TypedLog::<Event>::open(dir)?;
    let evs = events();
    log.append(&evs[0])?;
    log.raw_mut().append(b"raw bytes, not a typed record")?;
    log.append(&evs[1])?;
    let mut other = to_payload(&audit(), Codec::Postcard)?;
    log.raw_mut().append(&other)?;
    // `event` v2, which this code does not know: the v1 envelope with
    // version 2.
    other = to_payload(&evs[2], Codec::Bincode)?;
    other[2..4].copy_from_slice(&2u16.to_le_bytes());
    log.raw_mut().append(&other)?;
    log.append(&evs[2])?;
    log.close()?;
    Ok(())
}

/// `stores/described-log`: as `order-log`, then the latest version in the
/// two other codecs, so every codec is decoded by a schema; with its
/// description.
fn described_log(dir: &Path) -> anyhow::Result<()> {
    order_log(dir)?;
    for codec in [Codec::Bincode, Codec::Postcard] {
        let mut v3 = TypedLog::<Order>::open_with(dir, codec)?;
        v3.append(&order_v3())?;
        v3.close()?;
    }
    Ok(())
}

/// `stores/described-wal`: as `order-wal`, then the latest version put
/// with bincode and postcard; with its description.
fn described_wal(dir: &Path) -> anyhow::Result<()> {
    order_wal(dir)?;
    let mut v3 = TypedWal::<u64, Order>::open_with(dir, Codec::Bincode)?;
    let mut o = order_v3();
    o.id = 10;
    v3.insert(&o)?;
    v3.set_codec(Codec::Postcard);
    o.id = 11;
    o.note = None;
    v3.insert(&o)?;
    v3.fsync()?;
    v3.into_raw().into_log().close()?;
    Ok(())
}

/// `stores/described-mixed`: a log opened for several types (`event` in
/// bincode, `audit` in postcard).
fn described_mixed(dir: &Path) -> anyhow::Result<()> {
    let mixed = Options::new().mixed_types();
    let mut log = TypedLog::<Event>::open_with(dir, mixed.codec(Codec::Bincode))?;
    log.append_batch(&events())?;
    log.close()?;
    let mut log = TypedLog::<Audit>::open_with(dir, mixed.codec(Codec::Postcard))?;
    log.append(&audit())?;
    log.close()?;
    Ok(())
}

/// `stores/described-audit`: key/value state keyed by `(String, u64)`.
fn described_audit(dir: &Path) -> anyhow::Result<()> {
    let mut kv = TypedWal::<(String, u64), Audit>::open_with(dir, Codec::Postcard)?;
    kv.insert(&audit())?;
    let mut a = audit();
    a.seq += 1;
    a.ok = !a.ok;
    kv.insert(&a)?;
    kv.fsync()?;
    kv.into_raw().into_log().close()?;
    Ok(())
}

/// The stores without a description (written before descriptions existed:
/// the generator removes the one today's handles write) and with one.
pub const UNDESCRIBED: [&str; 3] = ["order-log", "order-wal", "mixed-log"];
/// The stores with a description.
pub const DESCRIBED: [&str; 4] = [
    "described-log",
    "described-wal",
    "described-mixed",
    "described-audit",
];

/// Every record of the store in `dir`, decoded through the public decoding
/// API ([`datawal_typed::describe`]) read-only, one JSON object per line:
/// txid, core record type, key as text, and type, version, codec and value
/// (or the error that names why not).
pub fn decoded(dir: &Path) -> anyhow::Result<String> {
    let description = Description::load(dir)?;
    let reader = RecordLogReader::open(dir)?;
    let mut out = String::new();
    let mut cursor = reader.cursor();
    while let Some(view) = cursor.next_view()? {
        let mut line = serde_json::Map::new();
        line.insert("txid".into(), view.txid.into());
        let kind = match view.record_type {
            RecordType::Raw => "raw",
            RecordType::Put => "put",
            RecordType::Delete => "delete",
        };
        line.insert("record_type".into(), kind.into());
        let decoded = describe::decode_payload(description.as_ref(), view.payload);
        let key = description.as_ref().and_then(|d| {
            d.key.clone().or_else(|| {
                let fp = decoded.as_ref().ok()?.fingerprint;
                Some(d.type_by_fingerprint(fp)?.key.clone())
            })
        });
        if let Some(key) = key {
            line.insert(
                "key".into(),
                key.to_text(view.key)
                    .unwrap_or_else(|e| format!("error: {e}"))
                    .into(),
            );
        }
        if view.record_type != RecordType::Delete {
            match decoded {
                Ok(r) => {
                    line.insert("type".into(), r.name.into());
                    line.insert("version".into(), r.version.into());
                    line.insert("codec".into(), r.codec.name().into());
                    line.insert("value".into(), r.value);
                }
                Err(e) => {
                    line.insert("error".into(), e.to_string().into());
                }
            }
        }
        out.push_str(&serde_json::Value::Object(line).to_string());
        out.push('\n');
    }
    Ok(out)
}

/// Rust type names in a description start with the name of the crate that
/// wrote it (`golden::…` in the test, `gen_typed_fixtures::…` in the
/// generator): written as `app::…` so both write the same bytes.
fn same_type_names(dir: &Path) -> anyhow::Result<()> {
    let krate = module_path!().split("::").next().unwrap_or_default();
    let path = dir.join(FILE_NAME);
    let text = fs::read_to_string(&path)?;
    fs::write(&path, text.replace(&format!("{krate}::"), "app::"))?;
    Ok(())
}

/// Write every fixture under `out` (which must be empty or absent).
pub fn generate(out: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(out.join("envelopes"))?;
    fs::write(out.join("keys.txt"), keys_file())?;
    fs::write(out.join("schemas.txt"), schemas_file())?;
    for (name, bytes) in envelopes()? {
        fs::write(out.join("envelopes").join(name), bytes)?;
    }
    let stores = out.join("stores");
    order_log(&stores.join("order-log")).context("order-log")?;
    order_wal(&stores.join("order-wal")).context("order-wal")?;
    mixed_log(&stores.join("mixed-log")).context("mixed-log")?;
    described_log(&stores.join("described-log")).context("described-log")?;
    described_wal(&stores.join("described-wal")).context("described-wal")?;
    described_mixed(&stores.join("described-mixed")).context("described-mixed")?;
    described_audit(&stores.join("described-audit")).context("described-audit")?;
    for store in UNDESCRIBED {
        fs::remove_file(stores.join(store).join(FILE_NAME))?;
    }
    for store in DESCRIBED {
        same_type_names(&stores.join(store))?;
    }
    fs::create_dir_all(out.join("decoded"))?;
    for store in UNDESCRIBED.into_iter().chain(DESCRIBED) {
        // The lock sentinel is not part of a store's content.
        let lock = stores.join(store).join(datawal_core::LOCK_FILE);
        if lock.exists() {
            fs::remove_file(lock)?;
        }
        let text = decoded(&stores.join(store)).context(store)?;
        fs::write(out.join("decoded").join(format!("{store}.jsonl")), text)?;
    }
    Ok(())
}

/// Every file under `dir`, as `(relative path, bytes)`, sorted.
pub fn read_tree(dir: &Path) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).with_context(|| format!("read {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
                out.push((rel, fs::read(&path)?));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Copy the committed store `name` into a new temporary directory.
pub fn copy_store(fixtures: &Path, name: &str) -> anyhow::Result<tempfile::TempDir> {
    let tmp = tempfile::tempdir()?;
    for (rel, bytes) in read_tree(&fixtures.join("stores").join(name))? {
        fs::write(tmp.path().join(rel), bytes)?;
    }
    Ok(tmp)
}
