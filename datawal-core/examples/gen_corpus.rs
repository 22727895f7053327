//! Regenerates the frozen corpus of segment fixtures in `tests/corpus/`.
//!
//! ```text
//! cargo run -p datawal-core --example gen_corpus -- datawal-core/tests/corpus
//! ```
//!
//! The corpus is committed and checked by `tests/corpus.rs`, which also
//! regenerates it into a temporary directory and requires the same bytes:
//! a change to what the writer produces fails that test instead of silently
//! changing the fixtures. Review `git diff` after regenerating.

use std::fs;
use std::path::Path;

use datawal_core::{DataWal, RecordLog, RecordType};

/// Writes one fixture into the directory given.
pub type Writer = fn(&Path) -> datawal_core::Result<()>;

/// Every fixture: its directory name and the function that writes it.
pub const CASES: &[(&str, Writer)] = &[
    ("valid_log", valid_log),
    ("truncated_tail", truncated_tail),
    ("crc_tail", crc_tail),
    ("zero_filled_tail", zero_filled_tail),
    ("bad_crc_closed_segment", bad_crc_closed_segment),
    ("unknown_version", unknown_version),
    ("tombstones", tombstones),
    ("compaction_output", compaction_output),
];

fn segment(dir: &Path, id: u32) -> std::path::PathBuf {
    datawal_core::segment::segment_path(dir, id)
}

fn edit(path: &Path, f: impl FnOnce(&mut Vec<u8>)) -> datawal_core::Result<()> {
    let io = |e| datawal_core::Error::Io {
        op: "edit fixture",
        path: path.to_path_buf(),
        source: e,
    };
    let mut bytes = fs::read(path).map_err(io)?;
    f(&mut bytes);
    fs::write(path, bytes).map_err(io)
}

/// Three segments: raw records, puts and a tombstone, spread by `rotate`.
fn valid_log(dir: &Path) -> datawal_core::Result<()> {
    let mut log = RecordLog::open(dir)?;
    log.append(b"alpha")?;
    log.append_record(RecordType::Put, b"k1", b"v1")?;
    log.rotate()?;
    log.append_record(RecordType::Delete, b"k1", b"")?;
    log.append(b"")?;
    log.rotate()?;
    log.append_record(RecordType::Put, &[0, 255, 7], &[1, 2, 3, 4])?;
    log.fsync()
}

fn three_records(dir: &Path) -> datawal_core::Result<()> {
    let mut log = RecordLog::open(dir)?;
    log.append(b"one")?;
    log.append(b"two")?;
    log.append(b"three: the record a crash tears")?;
    log.fsync()
}

/// The last record is cut in the middle of its payload.
fn truncated_tail(dir: &Path) -> datawal_core::Result<()> {
    three_records(dir)?;
    edit(&segment(dir, 1), |b| b.truncate(b.len() - 10))
}

/// The last record is complete but one payload byte differs from its CRC.
fn crc_tail(dir: &Path) -> datawal_core::Result<()> {
    three_records(dir)?;
    edit(&segment(dir, 1), |b| {
        let n = b.len();
        b[n - 6] ^= 0x01;
    })
}

/// 4 KiB of zeros after the last record (what ext4 can leave after a crash).
fn zero_filled_tail(dir: &Path) -> datawal_core::Result<()> {
    three_records(dir)?;
    edit(&segment(dir, 1), |b| b.extend_from_slice(&[0u8; 4096]))
}

/// Segment 1 of 2 has a flipped payload byte: hard corruption.
fn bad_crc_closed_segment(dir: &Path) -> datawal_core::Result<()> {
    let mut log = RecordLog::open(dir)?;
    log.append(b"closed segment record")?;
    log.rotate()?;
    log.append(b"active segment record")?;
    log.fsync()?;
    drop(log);
    edit(&segment(dir, 1), |b| b[30] ^= 0x40)
}

/// One record whose version field says 2, CRC recomputed.
fn unknown_version(dir: &Path) -> datawal_core::Result<()> {
    let mut log = RecordLog::open(dir)?;
    log.append(b"from the future")?;
    log.fsync()?;
    drop(log);
    edit(&segment(dir, 1), |b| {
        b[datawal_core::format::OFF_VERSION] = 2;
        let body = b.len() - 4;
        let crc = crc32c::crc32c(&b[..body]);
        b[body..].copy_from_slice(&crc.to_le_bytes());
    })
}

/// A key/value store with overwrites, deletes, and a delete of an absent key.
fn tombstones(dir: &Path) -> datawal_core::Result<()> {
    let mut kv = DataWal::open(dir)?;
    kv.put(b"a", b"1")?;
    kv.put(b"b", b"2")?;
    kv.delete(b"a")?;
    kv.put(b"c", b"3")?;
    kv.put(b"b", b"22")?;
    kv.delete(b"never-written")?;
    kv.fsync()
}

/// `compact_to` of the `tombstones` store.
fn compaction_output(dir: &Path) -> datawal_core::Result<()> {
    let src = dir.with_extension("src");
    let _ = fs::remove_dir_all(&src);
    tombstones(&src)?;
    let kv = DataWal::open(&src)?;
    kv.compact_to(dir)?;
    drop(kv);
    let _ = fs::remove_dir_all(&src);
    Ok(())
}

/// Write every case into `root/<case>/`, keeping only segment files.
pub fn generate(root: &Path) -> datawal_core::Result<()> {
    for (name, write) in CASES {
        let dir = root.join(name);
        let _ = fs::remove_dir_all(&dir);
        write(&dir)?;
        let lock = dir.join(datawal_core::LOCK_FILE);
        let _ = fs::remove_file(lock);
    }
    Ok(())
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(root) = std::env::args_os().nth(1) else {
        eprintln!(
            "usage: gen_corpus <output-dir>   (the committed corpus is datawal-core/tests/corpus)"
        );
        std::process::exit(2);
    };
    generate(Path::new(&root))?;
    println!(
        "wrote {} fixtures under {}",
        CASES.len(),
        Path::new(&root).display()
    );
    Ok(())
}
