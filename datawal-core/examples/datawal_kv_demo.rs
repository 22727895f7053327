//! The key/value projection: put, delete, get, reopen, compact and export.
//!
//! `cargo run -p datawal-core --example datawal_kv_demo`

use datawal_core::DataWal;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = dir.path().join("state");

    let mut kv = DataWal::open(&store)?;
    kv.put(b"user:1", b"ada")?;
    kv.put(b"user:2", b"grace")?;
    kv.put(b"user:1", b"ada lovelace")?; // last write wins
    kv.delete(b"user:2")?; // a tombstone
    kv.fsync()?;
    drop(kv);

    let kv = DataWal::open(&store)?; // the key directory is rebuilt in one pass
    println!("{} live key(s)", kv.len());
    for (k, v) in kv.items()? {
        println!(
            "{} = {}",
            String::from_utf8_lossy(&k),
            String::from_utf8_lossy(&v)
        );
    }

    let stats = kv.compact_to(dir.path().join("compacted"))?;
    println!("compacted: {stats:?}");
    kv.export_jsonl(dir.path().join("state.jsonl"))?;
    print!(
        "{}",
        std::fs::read_to_string(dir.path().join("state.jsonl"))?
    );
    Ok(())
}
