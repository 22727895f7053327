//! Model-based property test: `DataWal` against a `BTreeMap` under random
//! sequences of put / delete / fsync / rotate / reopen / compact and tail
//! damage (close, damage the non-durable end of the last segment, reopen).
//!
//! The model keeps the durable map (everything up to the last fsync or
//! rotation) and the operations written since, each with the end offset of
//! its frame. Damage that reaches a frame drops that operation and the ones
//! after it; nothing durable is ever touched, so nothing acknowledged may be
//! lost. `get` is checked after every step, the whole projection after every
//! reopen, compaction and at the end.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use datawal_core::format::{encode_into, frame_len};
use datawal_core::segment::{list_segments, segment_path};
use datawal_core::{DataWal, RecordType};
use proptest::prelude::*;

mod reliability_support;
use reliability_support::{append_bytes, cases, tail_or_free_space, truncate_to, zero_fill_from};

const KEYS: u8 = 10;

#[derive(Debug, Clone)]
enum Damage {
    TornFrame { cut: u16 },
    BadCrcFrame,
    Zeros { n: u16 },
    TruncateUnsynced { at: u16 },
    ZeroFillUnsynced { at: u16 },
}

#[derive(Debug, Clone)]
enum Op {
    Put { key: u8, len: u16, fill: u8 },
    Delete { key: u8 },
    Fsync,
    Rotate,
    Reopen,
    Compact { switch: bool },
    Damage(Damage),
}

fn op() -> impl Strategy<Value = Op> {
    let damage = prop_oneof![
        any::<u16>().prop_map(|cut| Damage::TornFrame { cut }),
        Just(Damage::BadCrcFrame),
        (1u16..100).prop_map(|n| Damage::Zeros { n }),
        any::<u16>().prop_map(|at| Damage::TruncateUnsynced { at }),
        any::<u16>().prop_map(|at| Damage::ZeroFillUnsynced { at }),
    ];
    prop_oneof![
        10 => (0..KEYS, 0u16..200, any::<u8>()).prop_map(|(key, len, fill)| Op::Put { key, len, fill }),
        3 => (0..KEYS).prop_map(|key| Op::Delete { key }),
        3 => Just(Op::Fsync),
        1 => Just(Op::Rotate),
        1 => Just(Op::Reopen),
        1 => any::<bool>().prop_map(|switch| Op::Compact { switch }),
        2 => damage.prop_map(Op::Damage),
    ]
}

fn key(k: u8) -> Vec<u8> {
    format!("key-{k}").into_bytes()
}

#[derive(Debug, Clone)]
enum Change {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

struct Model {
    /// The durable projection.
    base: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Writes since the last durable point, with their frame's end offset
    /// in the active segment.
    pending: Vec<(u64, Change)>,
    active: (u32, u64),
    /// Durable end of the active segment (0 after a rotation).
    durable_end: u64,
}

impl Model {
    fn current(&self) -> BTreeMap<Vec<u8>, Vec<u8>> {
        let mut m = self.base.clone();
        for (_, w) in &self.pending {
            match w {
                Change::Put(k, v) => m.insert(k.clone(), v.clone()),
                Change::Delete(k) => m.remove(k),
            };
        }
        m
    }

    fn settle(&mut self) {
        self.base = self.current();
        self.pending.clear();
        self.durable_end = self.active.1;
    }

    /// Drop pending writes whose frame ends beyond `cut`; the new prefix end.
    fn cut(&mut self, cut: u64) -> u64 {
        self.pending.retain(|(end, _)| *end <= cut);
        let end = self.pending.last().map_or(self.durable_end, |(e, _)| *e);
        self.active.1 = end;
        end
    }
}

fn check_all(db: &DataWal, m: &Model) -> Result<(), TestCaseError> {
    let want = m.current();
    let got: BTreeMap<Vec<u8>, Vec<u8>> = db.items().unwrap().into_iter().collect();
    prop_assert_eq!(&got, &want);
    prop_assert_eq!(db.len(), want.len());
    prop_assert_eq!(db.keys(), want.keys().cloned().collect::<Vec<_>>());
    Ok(())
}

/// Damage the closed store; returns the expected tail as (offset, bytes).
fn damage_store(dir: &Path, m: &mut Model, d: &Damage) -> Option<(u64, u64)> {
    let last = *list_segments(dir).unwrap().last().unwrap();
    assert_eq!(last, m.active.0);
    let path = segment_path(dir, last);
    let len = fs::metadata(&path).unwrap().len();
    assert_eq!(len, m.active.1, "segment length differs from the model");
    let lo = m.durable_end;
    match *d {
        Damage::TornFrame { cut } => {
            let mut fr = Vec::new();
            encode_into(&mut fr, RecordType::Put, 99, b"key-1", &[3; 30]);
            let n = 1 + cut as usize % (fr.len() - 1);
            append_bytes(&path, &fr[..n]);
            Some((len, n as u64))
        }
        Damage::BadCrcFrame => {
            let mut fr = Vec::new();
            encode_into(&mut fr, RecordType::Delete, 99, b"key-2", b"");
            fr[24] ^= 1;
            append_bytes(&path, &fr);
            Some((len, fr.len() as u64))
        }
        Damage::Zeros { n } => {
            append_bytes(&path, &vec![0; n as usize]);
            Some((len, u64::from(n)))
        }
        Damage::TruncateUnsynced { at } => {
            let cut = lo + u64::from(at) % (len - lo + 1);
            truncate_to(&path, cut);
            let end = m.cut(cut);
            (cut > end).then_some((end, cut - end))
        }
        Damage::ZeroFillUnsynced { at } => {
            let cut = lo + u64::from(at) % (len - lo + 1);
            let cut = zero_fill_from(&path, cut, len);
            let end = m.cut(cut);
            (len > end).then_some((end, len - end))
        }
    }
}

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let td = tempfile::tempdir().unwrap();
    let mut dir: PathBuf = td.path().join("kv");
    let mut db = Some(DataWal::open(&dir).unwrap());
    let mut m = Model {
        base: BTreeMap::new(),
        pending: Vec::new(),
        active: (1, 0),
        durable_end: 0,
    };
    let mut compactions = 0;
    for op in ops {
        let d = db.as_mut().unwrap();
        match op {
            Op::Put { key: k, len, fill } => {
                let (k, v) = (key(k), vec![fill; len as usize]);
                d.put(&k, &v).unwrap();
                m.active.1 += frame_len(k.len(), v.len());
                let r = d.ref_of(&k).unwrap();
                prop_assert_eq!((r.segment, r.offset + u64::from(r.len)), m.active);
                m.pending.push((m.active.1, Change::Put(k, v)));
            }
            Op::Delete { key: k } => {
                let k = key(k);
                d.delete(&k).unwrap();
                prop_assert!(!d.contains_key(&k));
                m.active.1 += frame_len(k.len(), 0);
                m.pending.push((m.active.1, Change::Delete(k)));
            }
            Op::Fsync => {
                d.fsync().unwrap();
                m.settle();
            }
            Op::Rotate => {
                d.rotate().unwrap();
                m.active = (m.active.0 + 1, 0);
                m.settle();
            }
            Op::Reopen => {
                drop(db.take());
                let d = DataWal::open(&dir).unwrap();
                prop_assert!(d.log().recovery_report().unwrap().tail.is_none());
                check_all(&d, &m)?;
                db = Some(d);
            }
            Op::Compact { switch } => {
                compactions += 1;
                let out = td.path().join(format!("compacted-{compactions}"));
                let stats = d.compact_to(&out).unwrap();
                let want = m.current();
                prop_assert_eq!(stats.live_keys, want.len() as u64);
                prop_assert_eq!(stats.records_written, want.len() as u64);
                let c = DataWal::open(&out).unwrap();
                check_all(&c, &m)?;
                if switch {
                    drop(db.take());
                    let seg_len = fs::metadata(segment_path(&out, 1)).unwrap().len();
                    prop_assert_eq!(seg_len, stats.bytes_written);
                    m.base = want;
                    m.pending.clear();
                    m.active = (1, seg_len);
                    m.durable_end = seg_len;
                    dir = out;
                    db = Some(c);
                }
            }
            Op::Damage(dmg) => {
                drop(db.take());
                let expect = damage_store(&dir, &mut m, &dmg);
                let (expect, free) = tail_or_free_space(&segment_path(&dir, m.active.0), expect);
                let d = DataWal::open(&dir).unwrap();
                prop_assert_eq!(d.log().recovery_report().unwrap().free_bytes, free);
                let tail = d.log().recovery_report().unwrap().tail;
                match (expect, tail) {
                    (None, None) => {}
                    (Some((offset, bytes)), Some(t)) => {
                        prop_assert_eq!(
                            (t.segment, t.offset, t.bytes),
                            (m.active.0, offset, bytes)
                        );
                        prop_assert!(t.saved_to.is_some());
                    }
                    (e, t) => prop_assert!(false, "{:?}: expected tail {:?}, got {:?}", dmg, e, t),
                }
                check_all(&d, &m)?;
                db = Some(d);
            }
        }
        let d = db.as_ref().unwrap();
        let cur = m.current();
        for k in 0..KEYS {
            let k = key(k);
            prop_assert_eq!(d.get(&k).unwrap(), cur.get(&k).cloned());
        }
    }
    let d = db.take().unwrap();
    check_all(&d, &m)?;
    drop(d);
    let d = DataWal::open(&dir).unwrap();
    check_all(&d, &m)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(300), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn data_wal_matches_btreemap_model(ops in prop::collection::vec(op(), 1..80)) {
        run(ops)?;
    }
}

/// Found by the property above: the frame's CRC ends in a zero byte, so a
/// zero-fill of that one byte changes nothing and the store has no tail.
#[test]
fn zero_filling_bytes_that_are_already_zero_is_no_damage() {
    let ops = vec![
        Op::Put {
            key: 7,
            len: 23,
            fill: 16,
        },
        Op::Damage(Damage::ZeroFillUnsynced { at: 25420 }),
    ];
    run(ops).unwrap();
}
