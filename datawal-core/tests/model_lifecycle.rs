//! Model-based property test of the lifecycle operations: `DataWal` under
//! random put / delete / fsync / rotate / compact / truncate_before /
//! reopen, each case with its own automatic rotation, retention and
//! automatic compaction settings, against a `BTreeMap` — computed from a
//! model of the log as a list of segments with their records, since
//! `truncate_before` and retention remove whole segments and the store is
//! then the replay of the suffix that is left.
//!
//! After every step: the live state (`items`, `len`, `keys`, `get` of every
//! key), the segment ids on disk, every record (txid, type, key, value,
//! segment), `first_txid` and `next_txid` equal the model's; the stats of
//! `compact` and `truncate_before` equal what the model removed. After
//! every reopen the published 0.1.5 crate reads the same live state and
//! records.

use std::collections::BTreeMap;
use std::path::Path;

use datawal015 as published;
use datawal_core::format::frame_len;
use datawal_core::segment::list_segments;
use datawal_core::{DataWal, LogOptions, RecordType, TruncateStats};
use proptest::prelude::*;

mod reliability_support;
use reliability_support::cases;

const KEYS: u8 = 8;

#[derive(Debug, Clone, Copy)]
enum Retain {
    Off,
    Segments(u32),
    Bytes(u64),
}

#[derive(Debug, Clone, Copy)]
struct Config {
    max_segment: Option<u64>,
    retain: Retain,
    dead_percent: Option<u8>,
}

impl Config {
    fn options(&self) -> LogOptions {
        let mut o = LogOptions::default();
        if let Some(max) = self.max_segment {
            o = o.max_segment_bytes(max);
        }
        match self.retain {
            Retain::Off => {}
            Retain::Segments(n) => o = o.retain_segments(n),
            Retain::Bytes(b) => o = o.retain_bytes(b),
        }
        if let Some(p) = self.dead_percent {
            o = o.compact_dead_percent(p);
        }
        o
    }
}

fn config() -> impl Strategy<Value = Config> {
    let max = prop_oneof![Just(None), (150u64..1500).prop_map(Some)];
    let retain = prop_oneof![
        3 => Just(Retain::Off),
        1 => (1u32..5).prop_map(Retain::Segments),
        1 => (300u64..3000).prop_map(Retain::Bytes),
    ];
    let dead = prop_oneof![2 => Just(None), 1 => (20u8..90).prop_map(Some)];
    (max, retain, dead).prop_map(|(max_segment, retain, dead_percent)| Config {
        max_segment,
        retain,
        dead_percent,
    })
}

#[derive(Debug, Clone)]
enum Op {
    Put {
        key: u8,
        len: u8,
        fill: u8,
    },
    Delete {
        key: u8,
    },
    Fsync,
    Rotate,
    Compact,
    /// A txid picked in the log's range by `at`; `None`: `u64::MAX`.
    TruncateBefore {
        at: Option<u16>,
    },
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (0..KEYS, 0u8..120, any::<u8>()).prop_map(|(key, len, fill)| Op::Put { key, len, fill }),
        3 => (0..KEYS).prop_map(|key| Op::Delete { key }),
        1 => Just(Op::Fsync),
        2 => Just(Op::Rotate),
        2 => Just(Op::Compact),
        3 => any::<u16>().prop_map(|at| Op::TruncateBefore { at: Some(at) }),
        1 => Just(Op::TruncateBefore { at: None }),
        1 => Just(Op::Reopen),
    ]
}

fn key(k: u8) -> Vec<u8> {
    format!("key-{k}").into_bytes()
}

/// One record of the model: a Put (`Some` value) or a Delete.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rec {
    txid: u64,
    key: Vec<u8>,
    value: Option<Vec<u8>>,
}

impl Rec {
    fn len(&self) -> u64 {
        frame_len(self.key.len(), self.value.as_ref().map_or(0, Vec::len))
    }
}

#[derive(Debug, Clone)]
struct Seg {
    id: u32,
    recs: Vec<Rec>,
}

impl Seg {
    fn bytes(&self) -> u64 {
        self.recs.iter().map(Rec::len).sum()
    }
}

/// The log as segments (the last one active), and the rules that move it.
struct Model {
    cfg: Config,
    segs: Vec<Seg>,
    next_txid: u64,
    /// The active segment when the store last looked for a rotation (the
    /// automatic compaction check runs at the first write that finds
    /// another: after a rotation, or after a `compact`).
    seen: u32,
}

impl Model {
    fn new(cfg: Config) -> Self {
        Model {
            cfg,
            segs: vec![Seg {
                id: 1,
                recs: Vec::new(),
            }],
            next_txid: 1,
            seen: 1,
        }
    }

    fn active(&self) -> &Seg {
        self.segs.last().unwrap()
    }

    /// The last-write-wins replay of the log.
    fn live(&self) -> BTreeMap<Vec<u8>, Vec<u8>> {
        let mut m = BTreeMap::new();
        for r in self.segs.iter().flat_map(|s| &s.recs) {
            match &r.value {
                Some(v) => m.insert(r.key.clone(), v.clone()),
                None => m.remove(&r.key),
            };
        }
        m
    }

    fn first_txid(&self) -> Option<u64> {
        self.segs
            .iter()
            .flat_map(|s| &s.recs)
            .map(|r| r.txid)
            .next()
    }

    fn append(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        let rec = Rec {
            txid: self.next_txid,
            key,
            value,
        };
        let size = self.active().bytes();
        if self
            .cfg
            .max_segment
            .is_some_and(|max| size > 0 && size + rec.len() > max)
        {
            self.rotate(true);
        }
        self.next_txid += 1;
        self.segs.last_mut().unwrap().recs.push(rec);
    }

    fn rotate(&mut self, retention: bool) {
        let id = self.active().id + 1;
        self.segs.push(Seg {
            id,
            recs: Vec::new(),
        });
        if retention {
            self.retention();
        }
    }

    /// Remove the `n` oldest segments (never the active one).
    fn remove(&mut self, n: usize) -> TruncateStats {
        assert!(n < self.segs.len());
        let mut st = TruncateStats::default();
        for s in self.segs.drain(..n) {
            st.segments_removed += 1;
            st.records_removed += s.recs.len() as u64;
            st.bytes_removed += s.bytes();
        }
        st.first_available = self.first_txid();
        st
    }

    fn retention(&mut self) -> TruncateStats {
        let mut total: u64 = self.segs.iter().map(Seg::bytes).sum();
        let mut n = 0;
        while n + 1 < self.segs.len() {
            let too_many = match self.cfg.retain {
                Retain::Segments(max) => self.segs.len() - n > max.max(1) as usize,
                _ => false,
            };
            let too_big = matches!(self.cfg.retain, Retain::Bytes(max) if total > max);
            if !(too_many || too_big) {
                break;
            }
            total -= self.segs[n].bytes();
            n += 1;
        }
        self.remove(n)
    }

    fn truncate_before(&mut self, txid: u64) -> TruncateStats {
        let n = self.segs[..self.segs.len() - 1]
            .iter()
            .take_while(|s| s.recs.iter().all(|r| r.txid < txid))
            .count();
        self.remove(n)
    }

    /// Rotate (no retention), one Put per live key in key order into the
    /// new segment (one batch: it never rotates), remove every older
    /// segment, then retention once. Returns (live keys, removed).
    fn compact(&mut self) -> (u64, TruncateStats) {
        let live = self.live();
        self.rotate(false);
        let boundary = self.active().id;
        for (k, v) in &live {
            let txid = self.next_txid;
            self.next_txid += 1;
            self.segs.last_mut().unwrap().recs.push(Rec {
                txid,
                key: k.clone(),
                value: Some(v.clone()),
            });
        }
        let n = self.segs.iter().take_while(|s| s.id < boundary).count();
        let mut removed = self.remove(n);
        if !matches!(self.cfg.retain, Retain::Off) {
            let cut = self.retention();
            removed.segments_removed += cut.segments_removed;
            removed.records_removed += cut.records_removed;
            removed.bytes_removed += cut.bytes_removed;
            removed.first_available = cut.first_available;
        }
        (live.len() as u64, removed)
    }

    /// After a put, delete or rotate: the automatic compaction check.
    fn after_write(&mut self) {
        if self.active().id == self.seen {
            return;
        }
        if let Some(p) = self.cfg.dead_percent {
            let total: u64 = self.segs.iter().map(Seg::bytes).sum();
            let live: u64 = self
                .live()
                .iter()
                .map(|(k, v)| frame_len(k.len(), v.len()))
                .sum();
            if total > 0 && (total - live) * 100 > total * u64::from(p) {
                self.compact();
            }
        }
        self.seen = self.active().id;
    }
}

/// Everything the store shows equals the model.
fn check(db: &DataWal, m: &Model) -> Result<(), TestCaseError> {
    let live = m.live();
    let items: BTreeMap<Vec<u8>, Vec<u8>> = db.items().unwrap().into_iter().collect();
    prop_assert_eq!(&items, &live);
    prop_assert_eq!(db.len(), live.len());
    prop_assert_eq!(db.keys(), live.keys().cloned().collect::<Vec<_>>());
    for k in 0..KEYS {
        let k = key(k);
        prop_assert_eq!(db.get(&k).unwrap(), live.get(&k).cloned());
    }
    let ids: Vec<u32> = m.segs.iter().map(|s| s.id).collect();
    prop_assert_eq!(list_segments(db.dir()).unwrap(), ids);
    let want: Vec<(u32, Rec)> = m
        .segs
        .iter()
        .flat_map(|s| s.recs.iter().map(move |r| (s.id, r.clone())))
        .collect();
    let got: Vec<(u32, Rec)> = db
        .log()
        .scan_iter()
        .unwrap()
        .map(|r| {
            let r = r.unwrap();
            let value = match r.record_type {
                RecordType::Put => Some(r.payload),
                RecordType::Delete => None,
                RecordType::Raw => panic!("a Raw record: {r:?}"),
            };
            (
                r.segment,
                Rec {
                    txid: r.txid,
                    key: r.key,
                    value,
                },
            )
        })
        .collect();
    prop_assert_eq!(got, want);
    prop_assert_eq!(db.log().first_txid(), m.first_txid());
    prop_assert_eq!(db.log().next_txid(), m.next_txid);
    Ok(())
}

/// The published crate reads the closed store to the model's live state
/// and records.
fn check_published(dir: &Path, m: &Model) -> Result<(), TestCaseError> {
    let mut theirs = published::DataWal::open(dir).unwrap();
    let mut items = theirs.items().unwrap();
    items.sort();
    prop_assert_eq!(items, m.live().into_iter().collect::<Vec<_>>());
    drop(theirs);
    let mut log = published::RecordLog::open(dir).unwrap();
    let txids: Vec<u64> = log.scan().unwrap().iter().map(|r| r.txid).collect();
    let want: Vec<u64> = m
        .segs
        .iter()
        .flat_map(|s| &s.recs)
        .map(|r| r.txid)
        .collect();
    prop_assert_eq!(txids, want);
    Ok(())
}

fn run(cfg: Config, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("kv");
    let mut db = Some(DataWal::open_with(&dir, cfg.options()).unwrap());
    let mut m = Model::new(cfg);
    for op in ops {
        let d = db.as_mut().unwrap();
        match op {
            Op::Put { key: k, len, fill } => {
                let (k, v) = (key(k), vec![fill; len as usize]);
                d.put(&k, &v).unwrap();
                m.append(k, Some(v));
                m.after_write();
            }
            Op::Delete { key: k } => {
                d.delete(&key(k)).unwrap();
                m.append(key(k), None);
                m.after_write();
            }
            Op::Fsync => d.fsync().unwrap(),
            Op::Rotate => {
                d.rotate().unwrap();
                m.rotate(true);
                m.after_write();
            }
            Op::Compact => {
                let stats = d.compact().unwrap();
                let (live_keys, removed) = m.compact();
                prop_assert_eq!(stats.live_keys, live_keys);
                prop_assert_eq!(stats.records_written, live_keys);
                prop_assert_eq!(stats.removed, removed);
            }
            Op::TruncateBefore { at } => {
                let txid = match at {
                    Some(at) => {
                        let lo = m.first_txid().unwrap_or(m.next_txid).saturating_sub(1);
                        let hi = m.next_txid + 1;
                        lo + u64::from(at) % (hi - lo + 1)
                    }
                    None => u64::MAX,
                };
                let stats = d.truncate_before(txid).unwrap();
                prop_assert_eq!(stats, m.truncate_before(txid));
            }
            Op::Reopen => {
                drop(db.take());
                check_published(&dir, &m)?;
                db = Some(DataWal::open_with(&dir, cfg.options()).unwrap());
                m.seen = m.active().id;
            }
        }
        check(db.as_ref().unwrap(), &m)?;
    }
    drop(db.take());
    check_published(&dir, &m)?;
    let d = DataWal::open_with(&dir, cfg.options()).unwrap();
    check(&d, &m)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(64), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn data_wal_lifecycle_matches_the_segment_model(cfg in config(), ops in prop::collection::vec(op(), 1..120)) {
        run(cfg, ops)?;
    }
}

/// Found while writing the model below: compaction's own rotation applied retention,
/// which removed a segment whose live values were still to be copied (the
/// call failed with `Io` NotFound, and the handle kept pointing at the
/// removed segment).
#[test]
fn compaction_under_retention_keeps_the_live_state() {
    let td = tempfile::tempdir().unwrap();
    let opts = LogOptions::default().retain_segments(2);
    let mut db = DataWal::open_with(td.path(), opts).unwrap();
    db.put(b"a", b"1").unwrap();
    db.rotate().unwrap();
    db.put(b"b", b"2").unwrap();
    // (No read before: a read would leave segment 1 open in the handle's
    // file cache, and the removed file would still read.)
    let want = vec![
        (b"a".to_vec(), b"1".to_vec()),
        (b"b".to_vec(), b"2".to_vec()),
    ];
    let stats = db.compact().unwrap();
    assert_eq!(stats.live_keys, 2);
    assert_eq!(db.items().unwrap(), want);
    assert_eq!(list_segments(td.path()).unwrap(), vec![3]);
    drop(db);
    assert_eq!(DataWal::open(td.path()).unwrap().items().unwrap(), want);
}

/// The same with a live set of several copy batches (about 1 MiB each):
/// the rotation between two batches must not remove an old segment whose
/// values a later batch reads (keys written in descending order, so the
/// oldest segment holds the keys copied last).
#[test]
fn compaction_under_retention_keeps_a_live_set_of_several_batches() {
    let td = tempfile::tempdir().unwrap();
    let max = LogOptions::default().max_segment_bytes(64 << 10);
    let mut db = DataWal::open_with(td.path(), max).unwrap();
    let mut model = BTreeMap::new();
    for i in (0..2400u32).rev() {
        let key = format!("key{i:05}").into_bytes();
        let value = vec![i as u8; 1000];
        db.put(&key, &value).unwrap();
        model.insert(key, value);
    }
    db.fsync().unwrap();
    drop(db);
    // Room for every segment and the compaction's first: its second
    // rotation is over the limit.
    let n = list_segments(td.path()).unwrap().len() as u32;
    assert!(n > 30, "{n} segments");
    let mut db = DataWal::open_with(td.path(), max.retain_segments(n + 1)).unwrap();
    let stats = db.compact().unwrap();
    assert_eq!(stats.live_keys, 2400);
    let want: Vec<_> = model.into_iter().collect();
    assert_eq!(db.items().unwrap(), want);
    drop(db);
    assert_eq!(DataWal::open(td.path()).unwrap().items().unwrap(), want);
}
