//! Model-based property test of hint files: `DataWal` against a `BTreeMap`
//! under random puts, deletes, fsyncs, rotations (explicit and automatic),
//! in-place compactions and reopens, with random damage to the hint files
//! between a close and the next open (torn, a byte changed, removed,
//! another segment's hint put in its place, grown).
//!
//! At every reopen the store must hold exactly the model's map, and the
//! open must give what an open of the same files without any hint gives:
//! the same keys at the same positions, the same next txid and the same
//! recovery counts.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use datawal_core::{DataWal, LogOptions, RecordRef};
use proptest::prelude::*;

mod reliability_support;
use reliability_support::{append_bytes, cases, truncate_to};

const KEYS: u8 = 40;

#[derive(Debug, Clone)]
enum HintDamage {
    /// Cut the hint to this fraction (in 256ths) of its length.
    Torn(u8),
    /// Flip a byte at this fraction of its length.
    Flip(u8),
    Remove,
    /// Put another segment's hint in its place.
    Swap,
    /// Append a byte.
    Grow,
}

#[derive(Debug, Clone)]
enum Op {
    Put {
        key: u8,
        len: u16,
        fill: u8,
    },
    Delete {
        key: u8,
    },
    Fsync,
    Rotate,
    Compact,
    /// Close (after an fsync when `sync`), damage hints, reopen.
    Reopen {
        sync: bool,
        damage: Vec<(u8, HintDamage)>,
    },
}

fn damage() -> impl Strategy<Value = HintDamage> {
    prop_oneof![
        any::<u8>().prop_map(HintDamage::Torn),
        any::<u8>().prop_map(HintDamage::Flip),
        Just(HintDamage::Remove),
        Just(HintDamage::Swap),
        Just(HintDamage::Grow),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        20 => (0..KEYS, 1000u16..4000, any::<u8>()).prop_map(|(key, len, fill)| Op::Put { key, len, fill }),
        5 => (0..KEYS).prop_map(|key| Op::Delete { key }),
        2 => Just(Op::Fsync),
        1 => Just(Op::Rotate),
        1 => Just(Op::Compact),
        2 => (prop::bool::weighted(0.75), prop::collection::vec((any::<u8>(), damage()), 0..3))
            .prop_map(|(sync, damage)| Op::Reopen { sync, damage }),
    ]
}

fn key(k: u8) -> Vec<u8> {
    format!("key-{k}").into_bytes()
}

/// The hint files of `dir`, by name.
fn hints(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".hint"))
        .collect();
    v.sort();
    v
}

fn spoil(dir: &Path, pick: u8, d: &HintDamage) {
    let names = hints(dir);
    if names.is_empty() {
        return;
    }
    let name = &names[pick as usize % names.len()];
    let path = dir.join(name);
    let len = fs::metadata(&path).unwrap().len();
    let at = |f: u8| len * u64::from(f) / 256;
    match *d {
        HintDamage::Torn(f) => truncate_to(&path, at(f)),
        HintDamage::Flip(f) => {
            let mut b = fs::read(&path).unwrap();
            if let Some(byte) = b.get_mut((at(f) as usize).min(len.saturating_sub(1) as usize)) {
                *byte ^= 0x04;
            }
            fs::write(&path, b).unwrap();
        }
        HintDamage::Remove => fs::remove_file(&path).unwrap(),
        HintDamage::Swap => {
            let other = &names[(pick as usize + 1) % names.len()];
            fs::copy(dir.join(other), &path).unwrap();
        }
        HintDamage::Grow => append_bytes(&path, &[0x5A]),
    }
}

/// Keys with positions and values, the next txid and the report's counts.
type Seen = (Vec<(Vec<u8>, RecordRef, Vec<u8>)>, u64, (u64, u64, u32));

fn seen(db: &DataWal) -> Seen {
    let report = db.log().recovery_report().unwrap();
    let entries = db
        .keys()
        .into_iter()
        .map(|k| {
            let r = db.ref_of(&k).unwrap();
            (k.clone(), r, db.get(&k).unwrap().unwrap())
        })
        .collect();
    (
        entries,
        db.log().next_txid(),
        (
            report.records_replayed,
            report.last_txid_seen,
            report.files_scanned,
        ),
    )
}

/// What an open of `dir`'s files without their hints gives.
fn without_hints(dir: &Path) -> Seen {
    let bare = tempfile::tempdir().unwrap();
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().unwrap().is_file() && !name.ends_with(".hint") {
            fs::copy(e.path(), bare.path().join(&name)).unwrap();
        }
    }
    let db = DataWal::open(bare.path()).unwrap();
    assert_eq!(db.log().recovery_report().unwrap().bytes_from_hints, 0);
    seen(&db)
}

fn options() -> LogOptions {
    LogOptions::default().max_segment_bytes(200 << 10)
}

/// Run `ops`; the bytes the reopens took from hints.
fn run(ops: Vec<Op>) -> Result<u64, TestCaseError> {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path();
    let mut db = Some(DataWal::open_with(dir, options()).unwrap());
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut used_hints = 0u64;
    for op in ops {
        let d = db.as_mut().unwrap();
        match op {
            Op::Put { key: k, len, fill } => {
                let v = vec![fill; len as usize];
                d.put(&key(k), &v).unwrap();
                model.insert(key(k), v);
            }
            Op::Delete { key: k } => {
                d.delete(&key(k)).unwrap();
                model.remove(&key(k));
            }
            Op::Fsync => d.fsync().unwrap(),
            Op::Rotate => d.rotate().unwrap(),
            Op::Compact => {
                d.compact().unwrap();
            }
            Op::Reopen { sync, damage } => {
                if sync {
                    d.fsync().unwrap();
                }
                drop(db.take());
                for (pick, how) in &damage {
                    spoil(dir, *pick, how);
                }
                let want = without_hints(dir);
                let reopened = DataWal::open_with(dir, options()).unwrap();
                used_hints += reopened.log().recovery_report().unwrap().bytes_from_hints;
                prop_assert_eq!(seen(&reopened), want);
                db = Some(reopened);
            }
        }
        let d = db.as_ref().unwrap();
        let got: BTreeMap<Vec<u8>, Vec<u8>> = d.items().unwrap().into_iter().collect();
        prop_assert_eq!(&got, &model);
    }
    Ok(used_hints)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(24), ..ProptestConfig::default() })]

    #[test]
    fn hinted_opens_match_the_model_and_a_full_replay(ops in prop::collection::vec(op(), 50..200)) {
        run(ops)?;
    }
}

/// A fixed sequence that writes several hinted segments and reopens, one
/// hint damaged: the reopens must have used hints, not only done without.
#[test]
fn hints_are_used_by_the_model_runs() {
    let mut ops = Vec::new();
    for round in 0..8u8 {
        for k in 0..KEYS {
            ops.push(Op::Put {
                key: k,
                len: 1500,
                fill: round,
            });
        }
        ops.push(Op::Delete { key: round });
        ops.push(Op::Reopen {
            sync: true,
            damage: if round == 2 {
                vec![(1, HintDamage::Flip(200))]
            } else {
                Vec::new()
            },
        });
    }
    let used = run(ops).unwrap();
    assert!(used > 4 * (200 << 10), "{used} bytes from hints");
}
