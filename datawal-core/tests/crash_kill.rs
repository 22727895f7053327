//! Crash injection: a child process writes through the real API and is
//! killed with SIGKILL, at named points and at random moments, some kills
//! followed by a simulated power cut (the unsynced end of the last segment
//! cut off or zero-filled). After every kill the parent checks that the store
//! opens, that every acknowledged (fsynced) record is there, in order, that
//! nothing appears twice, and that appending continues; then the next child
//! crashes the same store again.
//!
//! The child is this test binary re-executed (`current_exe`) with
//! `DATAWAL_RELIABILITY_CHILD` set, running the `child_entry` test, which
//! returns at once in a normal run. The child prints `ACK <seq> <segment>
//! <end>` after each fsync returns (everything it wrote up to `seq` is
//! durable, and the last segment is durable up to `end`), and `POINT <name>`
//! when it reaches a named point, where it sleeps until it is killed.
//!
//! Replay a run with `DATAWAL_SEED=<seed printed on stderr>`.

mod reliability_support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use datawal_core::format::frame_len;
use datawal_core::segment::segment_path;
use datawal_core::{DataWal, LogOptions, Record, RecordLog, RecordLogReader, RecordType};
use reliability_support::{
    child_log_options, child_start, env_u64, is_child, power_cut, say, sleep_until_killed,
    ChildProc, Kills, Rng,
};

/// Seqs of generation `g`'s child start at `g << 32`; the parent's own
/// record after generation `g` has seq `(g << 32) | PARENT_BIT`.
const PARENT_BIT: u64 = 1 << 31;

// ---------------------------------------------------------------- records

/// The payload of the Raw record with sequence number `seq`: the seq, then
/// a deterministic pad whose length and bytes depend on the seq.
fn log_payload(seq: u64) -> Vec<u8> {
    let mut p = seq.to_le_bytes().to_vec();
    let pad = (seq.wrapping_mul(0x9E37_79B9) >> 7) % 300;
    p.extend(std::iter::repeat_n(seq as u8, pad as usize));
    p
}

fn parse_log_payload(p: &[u8]) -> u64 {
    assert!(p.len() >= 8, "payload too short: {p:?}");
    let seq = u64::from_le_bytes(p[..8].try_into().unwrap());
    assert_eq!(p, &log_payload(seq)[..], "payload of seq {seq} is damaged");
    seq
}

/// The key/value operation with sequence number `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KvOp {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

fn is_run_start(seq: u64) -> bool {
    seq & 0xFFFF_FFFF == 0 || seq & 0xFFFF_FFFF == PARENT_BIT
}

fn kv_op(seq: u64) -> KvOp {
    let h = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) ^ seq;
    let key = format!("k{:02}", h % 40).into_bytes();
    if !is_run_start(seq) && (h >> 8).is_multiple_of(5) {
        KvOp::Delete(key)
    } else {
        let mut v = seq.to_le_bytes().to_vec();
        v.extend(std::iter::repeat_n(b'v', ((h >> 16) % 120) as usize));
        KvOp::Put(key, v)
    }
}

fn op_frame_len(op: &KvOp) -> u64 {
    match op {
        KvOp::Put(k, v) => frame_len(k.len(), v.len()),
        KvOp::Delete(k) => frame_len(k.len(), 0),
    }
}

fn apply(db: &mut DataWal, op: &KvOp) {
    match op {
        KvOp::Put(k, v) => db.put(k, v).unwrap(),
        KvOp::Delete(k) => db.delete(k).unwrap(),
    }
}

fn record_as_op(r: &Record) -> Option<KvOp> {
    match r.record_type {
        RecordType::Put => Some(KvOp::Put(r.key.clone(), r.payload.clone())),
        RecordType::Delete if r.payload.is_empty() => Some(KvOp::Delete(r.key.clone())),
        _ => None,
    }
}

// ---------------------------------------------------------------- child

/// Entry point of every child; a no-op in a normal test run.
#[test]
fn child_entry() {
    let Some((mode, dir)) = child_start() else {
        return;
    };
    let start = env_u64("DATAWAL_START");
    let mut rng = Rng::new(env_u64("DATAWAL_CHILD_SEED"));
    match mode.as_str() {
        "log_random" => child_log_random(&dir, start, &mut rng),
        "log_point" => child_log_point(&dir, start, &std::env::var("DATAWAL_POINT").unwrap()),
        "kv_random" => child_kv_random(&dir, start, &mut rng),
        "kv_compact" => child_kv_compact(&dir, start),
        "kv_export" => child_kv_export(&dir, start),
        other => panic!("unknown child mode {other}"),
    }
}

fn child_log_random(dir: &Path, start: u64, rng: &mut Rng) {
    let mut log = RecordLog::open_with(dir, child_log_options()).unwrap();
    say("READY");
    let mut seq = start;
    let mut pos = (log.active_segment(), 0);
    // Bounded work per child keeps the store (and each check) small.
    for _ in 0..rng.range(10, 80) {
        let n = rng.range(1, 6);
        if rng.one_in(3) {
            let payloads: Vec<Vec<u8>> = (0..n).map(|i| log_payload(seq + i)).collect();
            let refs = log
                .append_batch(payloads.iter().map(|p| (RecordType::Raw, &b""[..], &p[..])))
                .unwrap();
            let last = refs.last().unwrap();
            pos = (last.segment, last.offset + u64::from(last.len));
        } else {
            for i in 0..n {
                let r = log.append(&log_payload(seq + i)).unwrap();
                pos = (r.segment, r.offset + u64::from(r.len));
            }
        }
        seq += n;
        if rng.one_in(40) {
            log.rotate().unwrap();
            pos = (log.active_segment(), 0);
        }
        if !rng.one_in(4) {
            log.fsync().unwrap();
            say(&format!("ACK {} {} {}", seq - 1, pos.0, pos.1));
        }
    }
    say("IDLE");
    sleep_until_killed()
}

fn child_log_point(dir: &Path, start: u64, point: &str) {
    let mut log = RecordLog::open(dir).unwrap();
    let mut seq = start;
    let mut append = |log: &mut RecordLog, n: u64| {
        let mut pos = (0, 0);
        for _ in 0..n {
            let r = log.append(&log_payload(seq)).unwrap();
            pos = (r.segment, r.offset + u64::from(r.len));
            seq += 1;
        }
        (seq - 1, pos)
    };
    let ack = |log: &mut RecordLog, (s, (seg, end)): (u64, (u32, u64))| {
        log.fsync().unwrap();
        say(&format!("ACK {s} {seg} {end}"));
    };
    let acked = append(&mut log, 3);
    ack(&mut log, acked);
    match point {
        "after_append" => {
            append(&mut log, 3);
        }
        "after_fsync" => {
            let a = append(&mut log, 3);
            ack(&mut log, a);
        }
        "between_fsyncs" => {
            let a = append(&mut log, 2);
            ack(&mut log, a);
            append(&mut log, 2);
            say("POINT between_fsyncs");
            append(&mut log, 2);
        }
        "mid_batch" => {
            let payloads: Vec<Vec<u8>> = (0..40).map(|i| log_payload(seq + i)).collect();
            log.append_batch(payloads.iter().map(|p| (RecordType::Raw, &b""[..], &p[..])))
                .unwrap();
        }
        "after_rotate" => {
            append(&mut log, 2);
            log.rotate().unwrap();
        }
        "after_rotate_append" => {
            log.rotate().unwrap();
            append(&mut log, 2);
        }
        "after_rotate_fsync" => {
            log.rotate().unwrap();
            let a = append(&mut log, 2);
            ack(&mut log, a);
        }
        other => panic!("unknown point {other}"),
    }
    say(&format!("POINT {point}"));
    sleep_until_killed()
}

/// DataWal under random put/delete/fsync/rotate; tracks the durable end of
/// the active segment itself (deletes return no position).
fn child_kv_random(dir: &Path, start: u64, rng: &mut Rng) {
    let mut db = DataWal::open(dir).unwrap();
    let seg = db.log().active_segment();
    let mut pos = (seg, fs::metadata(segment_path(dir, seg)).unwrap().len());
    say("READY");
    let mut seq = start;
    for _ in 0..rng.range(10, 60) {
        for _ in 0..rng.range(1, 5) {
            let op = kv_op(seq);
            apply(&mut db, &op);
            pos.1 += op_frame_len(&op);
            if let KvOp::Put(k, _) = &op {
                let r = db.ref_of(k).unwrap();
                assert_eq!((r.segment, r.offset + u64::from(r.len)), pos);
            }
            seq += 1;
        }
        if rng.one_in(40) {
            db.rotate().unwrap();
            pos = (db.log().active_segment(), 0);
        }
        if !rng.one_in(4) {
            db.fsync().unwrap();
            say(&format!("ACK {} {} {}", seq - 1, pos.0, pos.1));
        }
    }
    say("IDLE");
    sleep_until_killed()
}

fn kv_fill(db: &mut DataWal, start: u64, n: u64) -> u64 {
    for i in 0..n {
        let k = format!("c{:05}", (start + i) % 4000);
        db.put(k.as_bytes(), &log_payload(start + i)).unwrap();
    }
    start + n
}

fn child_kv_compact(dir: &Path, start: u64) {
    let mut db = DataWal::open(dir).unwrap();
    let seq = kv_fill(&mut db, start, 300);
    db.fsync().unwrap();
    say(&format!("ACK {} 0 0", seq - 1));
    let target = PathBuf::from(std::env::var_os("DATAWAL_TARGET").unwrap());
    say("POINT compact_start");
    db.compact_to(&target).unwrap();
    say("DONE");
    sleep_until_killed()
}

fn child_kv_export(dir: &Path, start: u64) {
    let mut db = DataWal::open(dir).unwrap();
    let out = PathBuf::from(std::env::var_os("DATAWAL_TARGET").unwrap());
    db.export_jsonl(&out).unwrap();
    let seq = kv_fill(&mut db, start, 300);
    db.fsync().unwrap();
    say(&format!("ACK {} 0 0", seq - 1));
    say("POINT export_start");
    db.export_jsonl(&out).unwrap();
    say("DONE");
    sleep_until_killed()
}

// ---------------------------------------------------------------- parent

/// What the parent knows about one store across generations of children.
struct Store {
    dir: PathBuf,
    /// Every acknowledged seq.
    acked: BTreeSet<u64>,
    /// The durable end of the segment that was active at the last fsync.
    durable: (u32, u64),
    generation: u64,
    /// Kills and power cuts so far.
    k: Kills,
    /// Automatic rotation for the children (`LogOptions::max_segment_bytes`).
    max_segment_bytes: Option<u64>,
    /// Preallocated space for the children and the checking writer
    /// (`LogOptions::preallocate`).
    preallocate: Option<u64>,
    /// Kills after which the last segment ended with free space.
    free_after_kill: u32,
}

impl Store {
    fn new(dir: PathBuf) -> Self {
        Store {
            dir,
            acked: BTreeSet::new(),
            durable: (1, 0),
            generation: 0,
            k: Kills::default(),
            max_segment_bytes: None,
            preallocate: None,
            free_after_kill: 0,
        }
    }

    fn next_start(&mut self) -> u64 {
        self.generation += 1;
        self.generation << 32
    }

    fn spawn(&self, mode: &str, start: u64, seed: u64, extra: &[(&str, String)]) -> ChildProc {
        let mut env = vec![
            ("DATAWAL_START", start.to_string()),
            ("DATAWAL_CHILD_SEED", seed.to_string()),
        ];
        env.extend(extra.iter().cloned());
        if let Some(max) = self.max_segment_bytes {
            env.push(("DATAWAL_MAX_SEGMENT", max.to_string()));
        }
        if let Some(bytes) = self.preallocate {
            env.push(("DATAWAL_PREALLOCATE", bytes.to_string()));
        }
        ChildProc::spawn("child_entry", mode, &self.dir, &env)
    }

    /// Take in the protocol lines a child printed: ACKs become acknowledged
    /// seqs (everything from `start` up to the seq) and move the durable mark.
    fn take_lines(&mut self, start: u64, lines: &[String], from: &mut u64) {
        for line in lines {
            let parts: Vec<&str> = line.split_whitespace().collect();
            if parts.first() == Some(&"ACK") {
                let seq: u64 = parts[1].parse().unwrap();
                let seg: u32 = parts[2].parse().unwrap();
                let end: u64 = parts[3].parse().unwrap();
                self.acked.extend(*from..=seq);
                *from = seq + 1;
                if seg != 0 {
                    self.durable = (seg, end);
                }
                assert!(start <= seq);
            }
        }
    }

    /// Simulate a power cut after the kill: the last segment loses a random
    /// part of what was not fsynced (cut off, or zero-filled in place), or
    /// the whole last segment when it holds nothing acknowledged.
    fn power_cut(&mut self, rng: &mut Rng) {
        self.k.count(power_cut(&self.dir, self.durable, rng));
    }

    /// Open a RecordLog store after a crash and check it; append and fsync
    /// one record of the parent's own, which is acknowledged too.
    fn verify_log(&mut self) {
        let mut options = LogOptions::default();
        if let Some(bytes) = self.preallocate {
            options = options.preallocate(bytes);
        }
        let mut log = RecordLog::open_with(&self.dir, options)
            .unwrap_or_else(|e| panic!("store does not open after kill {}: {e}", self.k.kills));
        check_tail_saved(&log);
        let records = log.scan().unwrap();
        let mut seqs = Vec::with_capacity(records.len());
        let mut last_txid = 0;
        for r in &records {
            assert_eq!(r.record_type, RecordType::Raw);
            assert!(r.txid > last_txid, "txids out of order at {r:?}");
            last_txid = r.txid;
            seqs.push(parse_log_payload(&r.payload));
        }
        self.check_seqs(&seqs);
        let seq = (self.generation << 32) | PARENT_BIT;
        let r = log.append(&log_payload(seq)).unwrap();
        log.fsync().unwrap();
        assert_eq!(r.segment, log.active_segment());
        self.acked.insert(seq);
        self.durable = (r.segment, r.offset + u64::from(r.len));
        log.close().unwrap();
    }

    /// Every acknowledged seq is present; seqs strictly increase (in order,
    /// nothing twice).
    fn check_seqs(&self, seqs: &[u64]) {
        for w in seqs.windows(2) {
            assert!(
                w[0] < w[1],
                "after kill {}: seq {} followed by {} (reordered or duplicated)",
                self.k.kills,
                w[0],
                w[1]
            );
        }
        let present: BTreeSet<u64> = seqs.iter().copied().collect();
        let lost: Vec<u64> = self.acked.difference(&present).copied().collect();
        assert!(
            lost.is_empty(),
            "after kill {}: {} acknowledged records lost, first {:?}",
            self.k.kills,
            lost.len(),
            &lost[..lost.len().min(5)]
        );
    }

    /// Open a DataWal store after a crash: the raw log must be runs of the
    /// deterministic op sequence, containing every acknowledged op, and the
    /// projection must equal the model built from the recovered ops.
    fn verify_kv(&mut self) {
        let mut db = DataWal::open(&self.dir)
            .unwrap_or_else(|e| panic!("store does not open after kill {}: {e}", self.k.kills));
        check_tail_saved(db.log());
        let (records, report) = RecordLogReader::open(&self.dir).unwrap().scan().unwrap();
        assert!(report.tail.is_none(), "repaired store still has a tail");
        let mut seqs = Vec::with_capacity(records.len());
        let mut model = BTreeMap::new();
        let mut cur: Option<u64> = None;
        for r in &records {
            let op = record_as_op(r).unwrap_or_else(|| panic!("not a kv record: {r:?}"));
            let seq = match (&op, cur) {
                (KvOp::Put(_, v), _)
                    if v.len() >= 8
                        && is_run_start(u64::from_le_bytes(v[..8].try_into().unwrap()))
                        && kv_op(u64::from_le_bytes(v[..8].try_into().unwrap())) == op =>
                {
                    u64::from_le_bytes(v[..8].try_into().unwrap())
                }
                (_, Some(c)) => c,
                (_, None) => panic!("log does not start with a run: {r:?}"),
            };
            assert_eq!(op, kv_op(seq), "record {r:?} is not op {seq}");
            seqs.push(seq);
            cur = Some(seq + 1);
            match op {
                KvOp::Put(k, v) => model.insert(k, v),
                KvOp::Delete(k) => model.remove(&k),
            };
        }
        self.check_seqs(&seqs);
        let items: BTreeMap<Vec<u8>, Vec<u8>> = db.items().unwrap().into_iter().collect();
        assert_eq!(items, model, "projection differs from the recovered ops");
        let seq = (self.generation << 32) | PARENT_BIT;
        let op = kv_op(seq);
        apply(&mut db, &op);
        db.fsync().unwrap();
        let KvOp::Put(k, _) = &op else { unreachable!() };
        let r = db.ref_of(k).unwrap();
        self.acked.insert(seq);
        self.durable = (r.segment, r.offset + u64::from(r.len));
    }

    /// Kill a child of `mode` at a random moment (optionally power-cut),
    /// then verify.
    fn random_kill(&mut self, mode: &str, rng: &mut Rng, kv: bool) {
        let start = self.next_start();
        let child = self.spawn(mode, start, rng.next_u64(), &[]);
        let mut from = start;
        let mut seen = Vec::new();
        if !rng.one_in(6) {
            // Usually let it get past opening; sometimes kill during recovery.
            for line in child.lines.iter() {
                let ready = line == "READY";
                seen.push(line);
                if ready {
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_micros(rng.below(25_000)));
        seen.extend(child.kill());
        if !seen.iter().any(|l| l == "IDLE") {
            self.k.mid_run += 1;
        }
        self.take_lines(start, &seen, &mut from);
        self.k.kills += 1;
        let (_, found) = RecordLogReader::open(&self.dir).unwrap().scan().unwrap();
        self.free_after_kill += u32::from(found.free_bytes > 0);
        if rng.one_in(2) {
            self.power_cut(rng);
        }
        if kv {
            self.verify_kv();
        } else {
            self.verify_log();
        }
    }
}

fn check_tail_saved(log: &RecordLog) {
    if let Some(tail) = log.recovery_report().unwrap().tail {
        let saved = tail.saved_to.expect("the writer saves a torn tail");
        assert_eq!(fs::metadata(&saved).unwrap().len(), tail.bytes);
    }
}

fn wait_for(child: &ChildProc, prefix: &str, seen: &mut Vec<String>) {
    for line in child.lines.iter() {
        let hit = line.starts_with(prefix);
        seen.push(line);
        if hit {
            return;
        }
    }
    panic!("child ended before printing {prefix:?}: {seen:?}");
}

const POINTS: &[&str] = &[
    "after_append",
    "after_fsync",
    "between_fsyncs",
    "mid_batch",
    "after_rotate",
    "after_rotate_append",
    "after_rotate_fsync",
];

#[test]
fn kill_at_named_points_then_power_cut() {
    if is_child() {
        return;
    }
    let mut rng = Rng::new(reliability_support::seed("kill_at_named_points"));
    let td = tempfile::tempdir().unwrap();
    let rounds = 15;
    let mut total = Totals::default();
    for round in 0..rounds {
        // A fresh store per round (seven kills each) keeps segment counts low.
        let mut store = Store::new(td.path().join(format!("log-{round}")));
        RecordLog::open(&store.dir).unwrap();
        for point in POINTS {
            let start = store.next_start();
            let child = store.spawn(
                "log_point",
                start,
                0,
                &[("DATAWAL_POINT", point.to_string())],
            );
            let mut seen = Vec::new();
            wait_for(&child, &format!("POINT {point}"), &mut seen);
            seen.extend(child.kill());
            store.k.kills += 1;
            let mut from = start;
            store.take_lines(start, &seen, &mut from);
            // One round in three is a plain kill; the others add a power cut.
            if round % 3 != 0 {
                store.power_cut(&mut rng);
            }
            store.verify_log();
        }
        total.add(&store);
    }
    total.print("record log, named points");
    assert_eq!(total.k.kills as usize, rounds * POINTS.len());
}

#[test]
fn kill_record_log_at_random_moments() {
    if is_child() {
        return;
    }
    let mut rng = Rng::new(reliability_support::seed(
        "kill_record_log_at_random_moments",
    ));
    let td = tempfile::tempdir().unwrap();
    let mut total = Totals::default();
    for s in 0..8 {
        let mut store = Store::new(td.path().join(format!("log-{s}")));
        // Odd stores rotate automatically (a batch stays in one segment).
        if s % 2 == 1 {
            store.max_segment_bytes = Some(4_096);
        }
        RecordLog::open(&store.dir).unwrap();
        for _ in 0..20 {
            store.random_kill("log_random", &mut rng, false);
        }
        total.add(&store);
    }
    total.print("record log, random moments");
    assert!(total.acked > 70, "children acknowledged too little to test");
}

/// As [`kill_record_log_at_random_moments`] with `LogOptions::preallocate`:
/// children killed while zero-filled space follows their data (small
/// steps, so that kills land around extensions and rotations), then the
/// power cuts of the unsynced part (which cut or zero-fill the space too);
/// the checking writer reuses the space. Every acknowledged record is
/// found, in order.
#[test]
fn kill_preallocating_record_log_at_random_moments() {
    if is_child() {
        return;
    }
    let mut rng = Rng::new(reliability_support::seed(
        "kill_preallocating_record_log_at_random_moments",
    ));
    let td = tempfile::tempdir().unwrap();
    let mut total = Totals::default();
    let mut free_seen = 0;
    for s in 0..6 {
        let mut store = Store::new(td.path().join(format!("log-{s}")));
        store.preallocate = Some([700, 4_096, 65_536][s % 3]);
        if s % 2 == 1 {
            store.max_segment_bytes = Some(4_096);
        }
        RecordLog::open(&store.dir).unwrap();
        for _ in 0..20 {
            store.random_kill("log_random", &mut rng, false);
        }
        free_seen += store.free_after_kill;
        total.add(&store);
    }
    total.print("preallocating record log, random moments");
    println!(
        "{free_seen} of {} kills left zero-filled space after the data",
        total.k.kills
    );
    assert!(total.acked > 50, "children acknowledged too little to test");
    // Most kills leave zero-filled space behind (not those before the
    // child's first append, nor those in its open).
    assert!(
        free_seen > 40,
        "preallocated space left by {free_seen} kills"
    );
}

#[test]
fn kill_data_wal_at_random_moments() {
    if is_child() {
        return;
    }
    let mut rng = Rng::new(reliability_support::seed("kill_data_wal_at_random_moments"));
    let td = tempfile::tempdir().unwrap();
    let mut total = Totals::default();
    for s in 0..8 {
        let mut store = Store::new(td.path().join(format!("kv-{s}")));
        DataWal::open(&store.dir).unwrap();
        for _ in 0..15 {
            store.random_kill("kv_random", &mut rng, true);
        }
        total.add(&store);
    }
    total.print("data wal, random moments");
    assert!(total.acked > 60, "children acknowledged too little to test");
}

#[derive(Default)]
struct Totals {
    k: Kills,
    acked: u64,
}

impl Totals {
    fn add(&mut self, s: &Store) {
        self.k.add(&s.k);
        self.acked += s.acked.len() as u64;
    }

    fn print(&self, what: &str) {
        self.k.report(what, self.acked);
    }
}

/// Kill during `compact_to`: the source keeps everything acknowledged, and
/// the target is either absent or a complete store equal to the source.
#[test]
fn kill_during_compact_to() {
    if is_child() {
        return;
    }
    let mut rng = Rng::new(reliability_support::seed("kill_during_compact_to"));
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("kv");
    DataWal::open(&dir).unwrap();
    let (mut complete, mut absent) = (0, 0);
    for g in 1..=24u64 {
        let target = td.path().join(format!("compacted-{g}"));
        let child = ChildProc::spawn(
            "child_entry",
            "kv_compact",
            &dir,
            &[
                ("DATAWAL_START", (g << 32).to_string()),
                ("DATAWAL_CHILD_SEED", "0".into()),
                ("DATAWAL_TARGET", target.display().to_string()),
            ],
        );
        let mut seen = Vec::new();
        wait_for(&child, "POINT compact_start", &mut seen);
        std::thread::sleep(Duration::from_micros(rng.below(25_000)));
        seen.extend(child.kill());
        assert!(seen.iter().any(|l| l.starts_with("ACK")));
        let db = DataWal::open(&dir).unwrap();
        let items = db.items().unwrap();
        for i in 0..300 {
            let s = (g << 32) + i;
            let k = format!("c{:05}", s % 4000);
            assert!(db.contains_key(k.as_bytes()), "acknowledged key {k} lost");
        }
        if target.exists() {
            complete += 1;
            let out = DataWal::open(&target).unwrap();
            assert_eq!(
                out.items().unwrap(),
                items,
                "compacted store differs from source"
            );
        } else {
            absent += 1;
        }
        // A later compaction (this process) works.
        if g % 4 == 0 {
            let again = td.path().join(format!("again-{g}"));
            db.compact_to(&again).unwrap();
            assert_eq!(DataWal::open(&again).unwrap().items().unwrap(), items);
        }
    }
    eprintln!("compact_to: 24 kills, target complete {complete}, absent {absent}, never partial");
}

/// Kill during `export_jsonl`: the export file is either the previous one,
/// byte for byte, or the complete new one.
#[test]
fn kill_during_export_jsonl() {
    if is_child() {
        return;
    }
    let mut rng = Rng::new(reliability_support::seed("kill_during_export_jsonl"));
    let td = tempfile::tempdir().unwrap();
    let dir = td.path().join("kv");
    let out = td.path().join("export.jsonl");
    DataWal::open(&dir).unwrap();
    let (mut old_kept, mut new_done) = (0, 0);
    for g in 1..=24u64 {
        let child = ChildProc::spawn(
            "child_entry",
            "kv_export",
            &dir,
            &[
                ("DATAWAL_START", (g << 32).to_string()),
                ("DATAWAL_CHILD_SEED", "0".into()),
                ("DATAWAL_TARGET", out.display().to_string()),
            ],
        );
        let mut seen = Vec::new();
        wait_for(&child, "ACK", &mut seen);
        // The first export finished before the ACK: that is the old file.
        let old = fs::read(&out).unwrap();
        wait_for(&child, "POINT export_start", &mut seen);
        std::thread::sleep(Duration::from_micros(rng.below(80_000)));
        seen.extend(child.kill());
        let db = DataWal::open(&dir).unwrap();
        let fresh = td.path().join(format!("fresh-{g}.jsonl"));
        db.export_jsonl(&fresh).unwrap();
        let new = fs::read(&fresh).unwrap();
        let now = fs::read(&out).unwrap();
        if now == new {
            new_done += 1;
        } else {
            assert_eq!(now, old, "export file is neither the old nor the new one");
            old_kept += 1;
        }
    }
    eprintln!("export_jsonl: 24 kills, old file kept {old_kept}, new file complete {new_done}");
}
