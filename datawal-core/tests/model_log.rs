//! Model-based property test: `RecordLog` against a `Vec` of records under
//! random sequences of append / append_batch / fsync / rotate / reopen and
//! tail damage (close, then damage the end of the last segment the way a
//! crash or power cut can, then reopen).
//!
//! The model knows where every record is and what is durable (everything
//! before the last fsync, and every segment closed by a rotation). Damage
//! only ever touches bytes that are not durable, and the model drops exactly
//! the records whose frames the damage reached. After every reopen the log
//! must equal the model, report the torn tail exactly, and keep the cut
//! bytes in the `*.torn` file it names.

use std::fs;
use std::path::Path;

use datawal_core::format::frame_len;
use datawal_core::segment::{list_segments, segment_path};
use datawal_core::{
    CorruptKind, Error, LogOptions, RecordLog, RecordLogReader, RecordRef, RecordType,
};
use proptest::prelude::*;

mod reliability_support;
use reliability_support::{append_bytes, cases, tail_or_free_space, truncate_to, zero_fill_from};

#[derive(Debug, Clone)]
enum Damage {
    /// Append the first `len` bytes (of a valid frame's) — a torn write.
    TornFrame { cut: u16 },
    /// Append a whole frame whose CRC is wrong.
    BadCrcFrame,
    /// Append zeros (a preallocated or zero-filled end).
    Zeros { n: u16 },
    /// Cut the last segment somewhere in its non-durable part.
    TruncateUnsynced { at: u16 },
    /// Zero-fill the last segment from somewhere in its non-durable part.
    ZeroFillUnsynced { at: u16 },
    /// Append bytes that no crash writes (non-zero bad magic): a hard error,
    /// which the test then clears by hand.
    Garbage { n: u8 },
}

#[derive(Debug, Clone)]
enum Op {
    Append { len: u16, fill: u8 },
    Batch { lens: Vec<u16>, fill: u8 },
    Fsync,
    Rotate,
    Reopen,
    Damage(Damage),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<u16>().prop_map(|cut| Damage::TornFrame { cut }),
        Just(Damage::BadCrcFrame),
        (1u16..200).prop_map(|n| Damage::Zeros { n }),
        any::<u16>().prop_map(|at| Damage::TruncateUnsynced { at }),
        any::<u16>().prop_map(|at| Damage::ZeroFillUnsynced { at }),
        (20u8..64).prop_map(|n| Damage::Garbage { n }),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u16..300, any::<u8>()).prop_map(|(len, fill)| Op::Append { len, fill }),
        2 => (prop::collection::vec(0u16..200, 0..6), any::<u8>())
            .prop_map(|(lens, fill)| Op::Batch { lens, fill }),
        3 => Just(Op::Fsync),
        1 => Just(Op::Rotate),
        1 => Just(Op::Reopen),
        2 => damage().prop_map(Op::Damage),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct MRec {
    txid: u64,
    payload: Vec<u8>,
    at: RecordRef,
}

struct Model {
    records: Vec<MRec>,
    /// Active segment and its size.
    active: (u32, u64),
    /// The segment active at the last fsync and its size then: bytes of that
    /// segment before `durable.1`, and all earlier segments, are durable.
    durable: (u32, u64),
    next_txid: u64,
    max_segment_bytes: Option<u64>,
}

impl Model {
    fn maybe_rotate(&mut self, incoming: u64) {
        if let Some(max) = self.max_segment_bytes {
            if self.active.1 > 0 && self.active.1 + incoming > max {
                self.active = (self.active.0 + 1, 0);
            }
        }
    }

    fn push(&mut self, payload: Vec<u8>, at: RecordRef) {
        self.records.push(MRec {
            txid: self.next_txid,
            payload,
            at,
        });
        self.next_txid += 1;
    }

    /// Where the valid prefix of the last segment ends, given the records left.
    fn prefix_end(&self, seg: u32) -> u64 {
        self.records
            .iter()
            .rev()
            .find(|r| r.at.segment == seg)
            .map_or(0, |r| r.at.offset + u64::from(r.at.len))
    }

    /// Drop records of segment `seg` that end beyond `cut`.
    fn cut(&mut self, seg: u32, cut: u64) {
        self.records
            .retain(|r| r.at.segment != seg || r.at.offset + u64::from(r.at.len) <= cut);
        self.next_txid = self.records.last().map_or(1, |r| r.txid + 1);
    }
}

fn payload(len: u16, fill: u8, txid: u64) -> Vec<u8> {
    let mut p = vec![fill; len as usize];
    for (i, b) in p.iter_mut().enumerate().take(8) {
        *b = txid.to_le_bytes()[i];
    }
    p
}

fn check_scan(log: &mut RecordLog, m: &Model) -> Result<(), TestCaseError> {
    let got = log.scan().unwrap();
    prop_assert_eq!(got.len(), m.records.len());
    for (g, w) in got.iter().zip(&m.records) {
        prop_assert_eq!(g.txid, w.txid);
        prop_assert_eq!(&g.payload, &w.payload);
        prop_assert_eq!(g.record_type, RecordType::Raw);
        prop_assert_eq!(
            (g.segment, g.offset, g.len),
            (w.at.segment, w.at.offset, w.at.len)
        );
    }
    prop_assert_eq!(log.next_txid(), m.next_txid);
    Ok(())
}

/// Apply a damage to the closed store; returns the tail the next open must
/// report (offset, bytes), or `None`; `Err(offset)` when the open must fail.
fn damage_store(dir: &Path, m: &mut Model, d: &Damage) -> Result<Option<(u64, u64)>, u64> {
    let last = *list_segments(dir).unwrap().last().unwrap();
    assert_eq!(last, m.active.0);
    let path = segment_path(dir, last);
    let len = fs::metadata(&path).unwrap().len();
    assert_eq!(len, m.active.1);
    let lo = if m.durable.0 == last { m.durable.1 } else { 0 };
    let tail = |m: &Model, file_len: u64| {
        let end = m.prefix_end(last);
        (file_len > end).then_some((end, file_len - end))
    };
    match *d {
        Damage::TornFrame { cut } => {
            let mut fr = Vec::new();
            datawal_core::format::encode_into(
                &mut fr,
                RecordType::Put,
                m.next_txid,
                b"key",
                &[7; 40],
            );
            let n = 1 + (cut as usize % (fr.len() - 1));
            append_bytes(&path, &fr[..n]);
            Ok(Some((len, n as u64)))
        }
        Damage::BadCrcFrame => {
            let mut fr = Vec::new();
            datawal_core::format::encode_into(&mut fr, RecordType::Raw, m.next_txid, b"", b"abc");
            let n = fr.len();
            fr[n - 1] ^= 0x40;
            append_bytes(&path, &fr);
            Ok(Some((len, n as u64)))
        }
        Damage::Zeros { n } => {
            append_bytes(&path, &vec![0; n as usize]);
            Ok(Some((len, u64::from(n))))
        }
        Damage::TruncateUnsynced { at } => {
            let cut = lo + u64::from(at) % (len - lo + 1);
            truncate_to(&path, cut);
            m.cut(last, cut);
            m.active.1 = m.prefix_end(last);
            Ok(tail(m, cut))
        }
        Damage::ZeroFillUnsynced { at } => {
            let cut = lo + u64::from(at) % (len - lo + 1);
            let cut = zero_fill_from(&path, cut, len);
            m.cut(last, cut);
            m.active.1 = m.prefix_end(last);
            Ok(tail(m, len))
        }
        Damage::Garbage { n } => {
            let mut g = vec![b'X'; 4];
            g.extend(std::iter::repeat_n(0x5a, n as usize));
            append_bytes(&path, &g);
            Err(len)
        }
    }
}

fn run(ops: Vec<Op>, max_segment_bytes: Option<u64>) -> Result<(), TestCaseError> {
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("log");
    let opts = || match max_segment_bytes {
        Some(b) => LogOptions::default().max_segment_bytes(b),
        None => LogOptions::default(),
    };
    let mut log = Some(RecordLog::open_with(&dir, opts()).unwrap());
    let mut m = Model {
        records: Vec::new(),
        active: (1, 0),
        durable: (1, 0),
        next_txid: 1,
        max_segment_bytes,
    };
    for op in ops {
        let l = log.as_mut().unwrap();
        match op {
            Op::Append { len, fill } => {
                let p = payload(len, fill, m.next_txid);
                let flen = frame_len(0, p.len());
                m.maybe_rotate(flen);
                let r = l.append(&p).unwrap();
                let want = RecordRef {
                    segment: m.active.0,
                    offset: m.active.1,
                    len: flen as u32,
                };
                prop_assert_eq!(r, want);
                m.active.1 += flen;
                m.push(p, r);
            }
            Op::Batch { lens, fill } => {
                let ps: Vec<Vec<u8>> = lens
                    .iter()
                    .enumerate()
                    .map(|(i, &n)| payload(n, fill, m.next_txid + i as u64))
                    .collect();
                let total: u64 = ps.iter().map(|p| frame_len(0, p.len())).sum();
                if total > 0 {
                    m.maybe_rotate(total);
                }
                let refs = l
                    .append_batch(ps.iter().map(|p| (RecordType::Raw, &b""[..], &p[..])))
                    .unwrap();
                prop_assert_eq!(refs.len(), ps.len());
                for (p, r) in ps.into_iter().zip(refs) {
                    prop_assert_eq!((r.segment, r.offset), m.active);
                    m.active.1 += u64::from(r.len);
                    m.push(p, r);
                }
            }
            Op::Fsync => {
                l.fsync().unwrap();
                m.durable = m.active;
            }
            Op::Rotate => {
                l.rotate().unwrap();
                m.active = (m.active.0 + 1, 0);
                prop_assert_eq!(l.active_segment(), m.active.0);
            }
            Op::Reopen => {
                drop(log.take());
                let mut l = RecordLog::open_with(&dir, opts()).unwrap();
                prop_assert!(l.recovery_report().unwrap().tail.is_none());
                check_scan(&mut l, &m)?;
                log = Some(l);
            }
            Op::Damage(d) => {
                drop(log.take());
                match damage_store(&dir, &mut m, &d) {
                    Ok(expect) => {
                        let (expect, free) =
                            tail_or_free_space(&segment_path(&dir, m.active.0), expect);
                        let mut l = RecordLog::open_with(&dir, opts()).unwrap();
                        prop_assert_eq!(l.recovery_report().unwrap().free_bytes, free);
                        let tail = l.recovery_report().unwrap().tail;
                        match (expect, tail) {
                            (None, None) => {}
                            (Some((offset, bytes)), Some(t)) => {
                                prop_assert_eq!(
                                    (t.segment, t.offset, t.bytes),
                                    (m.active.0, offset, bytes)
                                );
                                let saved = fs::read(t.saved_to.unwrap()).unwrap();
                                prop_assert_eq!(saved.len() as u64, bytes);
                            }
                            (e, t) => {
                                prop_assert!(false, "{:?}: expected tail {:?}, got {:?}", d, e, t)
                            }
                        }
                        // The repair is durable in the file: length = valid prefix.
                        let len = fs::metadata(segment_path(&dir, m.active.0)).unwrap().len();
                        prop_assert_eq!(len, m.active.1);
                        check_scan(&mut l, &m)?;
                        log = Some(l);
                    }
                    Err(offset) => {
                        match RecordLog::open_with(&dir, opts()) {
                            Err(Error::Corrupt {
                                segment,
                                offset: o,
                                kind: CorruptKind::BadMagic { .. },
                                ..
                            }) => {
                                prop_assert_eq!((segment, o), (m.active.0, offset));
                            }
                            other => prop_assert!(
                                false,
                                "garbage must be a hard error, got {:?}",
                                other.map(|_| ())
                            ),
                        }
                        // Readers fail the same way; then clear the garbage by hand.
                        prop_assert!(RecordLogReader::open(&dir).unwrap().scan().is_err());
                        let path = segment_path(&dir, m.active.0);
                        truncate_to(&path, offset);
                        let mut l = RecordLog::open_with(&dir, opts()).unwrap();
                        check_scan(&mut l, &m)?;
                        log = Some(l);
                    }
                }
            }
        }
    }
    let mut l = log.take().unwrap();
    check_scan(&mut l, &m)?;
    let (rs, report) = RecordLogReader::open(&dir).unwrap().scan().unwrap();
    prop_assert!(report.tail.is_none());
    prop_assert_eq!(rs.len(), m.records.len());
    // Appending after everything keeps working and survives a reopen.
    l.append(b"final").unwrap();
    l.fsync().unwrap();
    drop(l);
    let mut l = RecordLog::open(&dir).unwrap();
    let last = l.scan().unwrap().pop().unwrap();
    prop_assert_eq!(last.payload, b"final".to_vec());
    prop_assert_eq!(last.txid, m.next_txid);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(400), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn record_log_matches_vec_model(
        ops in prop::collection::vec(op(), 1..80),
        max in prop_oneof![Just(None), (600u64..4000).prop_map(Some)],
    ) {
        run(ops, max)?;
    }
}

/// Found by `record_log_matches_vec_model`: an empty batch writes nothing but
/// still rotates when the active segment is over `max_segment_bytes`.
#[test]
fn empty_batch_does_not_rotate() {
    let td = tempfile::tempdir().unwrap();
    let mut log =
        RecordLog::open_with(td.path(), LogOptions::default().max_segment_bytes(100)).unwrap();
    log.append(&[1; 200]).unwrap(); // one record over the limit: allowed, segment 1
    assert!(log.append_batch(std::iter::empty()).unwrap().is_empty());
    assert_eq!(log.active_segment(), 1, "an empty batch rotated");
    assert_eq!(list_segments(td.path()).unwrap(), vec![1]);
}
