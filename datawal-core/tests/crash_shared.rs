//! Crash injection for the shared handles: a child process runs four
//! threads appending to one `SharedLog` (or putting into one `SharedWal`)
//! with `append_durable`, `append` + `sync`, `append_batch` + `sync`, and
//! plain appends, and is SIGKILLed at a random moment; half of the kills
//! are followed by a simulated power cut (the unsynced end of the last
//! segment cut off or zero-filled, or an unsynced last segment removed).
//! After every kill the parent checks that every record whose `sync` or
//! `append_durable` returned Ok is there, that each thread's records are a
//! prefix of what it appended, in its own order, and (for the key/value
//! store) that the projection is the last-write-wins fold of the log; then
//! it appends durably through a fresh shared handle, and the next child
//! crashes the same store again.
//!
//! The child is this test binary re-executed (see `crash_kill.rs`). It
//! prints `ACK <thread> <index> <segment> <end>` once a durable call
//! returned: every record that thread appended up to `index` is durable,
//! and the segment is durable up to `end`.
//!
//! Replay a run with `DATAWAL_SEED=<seed printed on stderr>`.

mod reliability_support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use datawal_core::{
    LogOptions, Record, RecordLog, RecordLogReader, RecordType, SharedLog, SharedWal,
};
use reliability_support::{
    child_log_options, child_start, env_u64, is_child, power_cut, say, sleep_until_killed,
    ChildProc, Kills, Rng,
};

/// Threads per child.
const THREADS: u64 = 4;
/// Operations per thread at most (a child is usually killed long before).
const OPS: u64 = 400;
/// The thread number the parent's own records carry.
const PARENT: u64 = 0xFF;

// ---------------------------------------------------------------- records

/// Sequence number of record `index` of thread `thread` of generation `generation`.
fn seq(generation: u64, thread: u64, index: u64) -> u64 {
    (generation << 32) | (thread << 24) | index
}

fn split(seq: u64) -> (u64, u64, u64) {
    (seq >> 32, (seq >> 24) & 0xFF, seq & 0xFF_FFFF)
}

/// The payload of record `seq`: the seq, then a pad whose length and bytes
/// depend on it.
fn payload(seq: u64) -> Vec<u8> {
    let mut p = seq.to_le_bytes().to_vec();
    let pad = (seq.wrapping_mul(0x9E37_79B9) >> 7) % 200;
    p.extend(std::iter::repeat_n(seq as u8, pad as usize));
    p
}

fn parse_payload(p: &[u8]) -> u64 {
    assert!(p.len() >= 8, "payload too short: {p:?}");
    let seq = u64::from_le_bytes(p[..8].try_into().unwrap());
    assert_eq!(p, &payload(seq)[..], "payload of seq {seq:#x} is damaged");
    seq
}

/// Whether key/value record `seq` is a delete (never a thread's first
/// record of a generation, so every tombstone follows a Put of its thread).
fn kv_is_delete(seq: u64) -> bool {
    let (_, _, index) = split(seq);
    index != 0 && (seq.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33).is_multiple_of(6)
}

/// The key key/value record `seq` writes: a key of its thread, or (Puts
/// only) a key every thread writes, where the last Put in the log must win.
/// A tombstone's key names its thread, which is how the parent finds the
/// seq of a record that carries no payload.
fn kv_key(seq: u64) -> Vec<u8> {
    let (_, thread, index) = split(seq);
    let h = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    if !kv_is_delete(seq) && h.is_multiple_of(3) {
        format!("shared-{}", index % 5).into_bytes()
    } else {
        format!("t{thread}-{}", h % 7).into_bytes()
    }
}

// ---------------------------------------------------------------- child

/// Entry point of every child; a no-op in a normal test run.
#[test]
fn child_entry() {
    let Some((mode, dir)) = child_start() else {
        return;
    };
    let generation = env_u64("DATAWAL_GENERATION");
    let seed = env_u64("DATAWAL_CHILD_SEED");
    let options = child_log_options();
    match mode.as_str() {
        "log" => child_log(
            SharedLog::open_with(&dir, options).unwrap(),
            generation,
            seed,
        ),
        "kv" => child_kv(
            SharedWal::open_with(&dir, options).unwrap(),
            generation,
            seed,
        ),
        other => panic!("unknown child mode {other}"),
    }
}

fn ack(thread: u64, index: u64, end: (u32, u64)) {
    say(&format!("ACK {thread} {index} {} {}", end.0, end.1));
}

fn child_log(log: SharedLog, generation: u64, seed: u64) {
    say("READY");
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let log = &log;
            s.spawn(move || {
                let mut rng = Rng::new(seed ^ (t << 40));
                let mut i = 0;
                while i < OPS {
                    let pick = rng.below(20);
                    if pick < 11 {
                        let r = log.append_durable(&payload(seq(generation, t, i))).unwrap();
                        ack(t, i, (r.segment, r.offset + u64::from(r.len)));
                        i += 1;
                    } else if pick < 14 {
                        log.append(&payload(seq(generation, t, i))).unwrap();
                        i += 1;
                    } else if pick < 17 {
                        let n = rng.range(1, 3);
                        let payloads: Vec<Vec<u8>> =
                            (i..i + n).map(|j| payload(seq(generation, t, j))).collect();
                        let refs = log
                            .append_batch(
                                payloads.iter().map(|p| (RecordType::Raw, &b""[..], &p[..])),
                            )
                            .unwrap();
                        log.sync().unwrap();
                        let r = refs.last().unwrap();
                        i += n;
                        ack(t, i - 1, (r.segment, r.offset + u64::from(r.len)));
                    } else {
                        let r = log.append(&payload(seq(generation, t, i))).unwrap();
                        log.sync().unwrap();
                        ack(t, i, (r.segment, r.offset + u64::from(r.len)));
                        i += 1;
                    }
                }
            });
        }
    });
    say("IDLE");
    sleep_until_killed()
}

fn child_kv(kv: SharedWal, generation: u64, seed: u64) {
    say("READY");
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let kv = &kv;
            s.spawn(move || {
                let mut rng = Rng::new(seed ^ (t << 40));
                for i in 0..OPS {
                    let sq = seq(generation, t, i);
                    let key = kv_key(sq);
                    let durable = !rng.one_in(4);
                    match (kv_is_delete(sq), durable) {
                        (true, true) => kv.delete_durable(&key).unwrap(),
                        (true, false) => kv.delete(&key).unwrap(),
                        (false, true) => kv.put_durable(&key, &payload(sq)).unwrap(),
                        (false, false) => kv.put(&key, &payload(sq)).unwrap(),
                    }
                    if durable {
                        ack(t, i, durable_end(kv, &key, sq));
                    }
                }
            });
        }
    });
    say("IDLE");
    sleep_until_killed()
}

/// A point up to which the store is durable once the durable write of
/// `seq` to `key` returned: the end of its Put (or of a later Put of the
/// same key), or, for a tombstone (whose position is not returned), the
/// end of the last record now, which is at or past it. (Not the segment's
/// length: with `LogOptions::preallocate` that counts zeros past the data,
/// which a later open trims, and the mark would lie past the file.)
fn durable_end(kv: &SharedWal, key: &[u8], seq: u64) -> (u32, u64) {
    match kv.ref_of(key) {
        Some(r) if !kv_is_delete(seq) => (r.segment, r.offset + u64::from(r.len)),
        _ => {
            let last = kv
                .reader()
                .unwrap()
                .last()
                .unwrap()
                .expect("the tombstone, at least");
            (last.segment, last.offset + u64::from(last.len))
        }
    }
}

// ---------------------------------------------------------------- parent

/// What the parent knows about one store across generations of children.
struct Store {
    dir: PathBuf,
    kv: bool,
    /// Per (generation, thread): the highest acknowledged index.
    acked: BTreeMap<(u64, u64), u64>,
    /// Where the store is known durable: (segment, end).
    durable: (u32, u64),
    generation: u64,
    /// Kills and power cuts so far.
    k: Kills,
    max_segment_bytes: Option<u64>,
    /// `LogOptions::preallocate` for the children and the checking handle.
    preallocate: Option<u64>,
}

impl Store {
    fn new(
        dir: PathBuf,
        kv: bool,
        max_segment_bytes: Option<u64>,
        preallocate: Option<u64>,
    ) -> Self {
        Store {
            dir,
            kv,
            acked: BTreeMap::new(),
            durable: (1, 0),
            generation: 0,
            k: Kills::default(),
            max_segment_bytes,
            preallocate,
        }
    }

    fn options(&self) -> LogOptions {
        let options = match self.max_segment_bytes {
            Some(max) => LogOptions::default().max_segment_bytes(max),
            None => LogOptions::default(),
        };
        match self.preallocate {
            Some(bytes) => options.preallocate(bytes),
            None => options,
        }
    }

    /// Spawn a child, kill it at a random moment, maybe cut the power,
    /// then verify the store and append to it.
    fn round(&mut self, rng: &mut Rng) {
        self.generation += 1;
        let mut env = vec![
            ("DATAWAL_GENERATION", self.generation.to_string()),
            ("DATAWAL_CHILD_SEED", rng.next_u64().to_string()),
        ];
        if let Some(max) = self.max_segment_bytes {
            env.push(("DATAWAL_MAX_SEGMENT", max.to_string()));
        }
        if let Some(bytes) = self.preallocate {
            env.push(("DATAWAL_PREALLOCATE", bytes.to_string()));
        }
        let mode = if self.kv { "kv" } else { "log" };
        let child = ChildProc::spawn("child_entry", mode, &self.dir, &env);
        let mut seen = Vec::new();
        if !rng.one_in(8) {
            // Usually let it get past opening; sometimes kill during it.
            for line in child.lines.iter() {
                let ready = line == "READY";
                seen.push(line);
                if ready {
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_micros(rng.below(30_000)));
        seen.extend(child.kill());
        self.k.kills += 1;
        if !seen.iter().any(|l| l == "IDLE") {
            self.k.mid_run += 1;
        }
        self.take_acks(&seen);
        if rng.one_in(2) {
            self.power_cut(rng);
        }
        self.verify();
        self.append_own();
    }

    fn take_acks(&mut self, lines: &[String]) {
        for line in lines {
            let parts: Vec<&str> = line.split_whitespace().collect();
            if parts.first() != Some(&"ACK") {
                continue;
            }
            let thread: u64 = parts[1].parse().unwrap();
            let index: u64 = parts[2].parse().unwrap();
            let end = (parts[3].parse().unwrap(), parts[4].parse().unwrap());
            let max = self.acked.entry((self.generation, thread)).or_insert(index);
            *max = (*max).max(index);
            if end.0 != 0 {
                self.durable = self.durable.max(end);
            }
        }
    }

    /// The last segment loses a random part of what is not known durable
    /// (cut off, or zero-filled in place), or, when it holds nothing known
    /// durable, the whole file (an unsynced directory entry).
    fn power_cut(&mut self, rng: &mut Rng) {
        self.k.count(power_cut(&self.dir, self.durable, rng));
    }

    /// Every acknowledged record is there; each (generation, thread) holds
    /// a prefix of its records, in order; nothing appears twice; for a
    /// key/value store, the projection is the last-write-wins fold.
    fn verify(&self) {
        // The writer's open repairs a torn tail; then read it back.
        RecordLog::open(&self.dir)
            .unwrap_or_else(|e| panic!("store does not open after kill {}: {e}", self.k.kills))
            .close()
            .unwrap();
        let (records, report) = RecordLogReader::open(&self.dir).unwrap().scan().unwrap();
        assert!(report.tail.is_none(), "repaired store still has a tail");
        let mut next: BTreeMap<(u64, u64), u64> = BTreeMap::new();
        // Per thread, the generation of its latest Put (key/value stores).
        let mut put_generation: BTreeMap<u64, u64> = BTreeMap::new();
        let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for r in &records {
            let sq = match r.record_type {
                RecordType::Raw if !self.kv => parse_payload(&r.payload),
                RecordType::Put if self.kv => {
                    let sq = parse_payload(&r.payload);
                    let (generation, thread, _) = split(sq);
                    if thread != PARENT {
                        assert_eq!(r.key, kv_key(sq), "key of {sq:#x}");
                        assert!(!kv_is_delete(sq), "{sq:#x} is a delete");
                    }
                    put_generation.insert(thread, generation);
                    model.insert(r.key.clone(), r.payload.clone());
                    sq
                }
                RecordType::Delete if self.kv => {
                    let sq = tombstone_seq(r, &put_generation, &next);
                    model.remove(&r.key);
                    sq
                }
                _ => panic!("unexpected record {r:?}"),
            };
            let (generation, thread, index) = split(sq);
            let expected = next.entry((generation, thread)).or_insert(0);
            assert_eq!(
                index, *expected,
                "after kill {}: generation {generation} thread {thread}: record {index} \
                 where {expected} was next (lost, reordered or repeated)",
                self.k.kills
            );
            *expected += 1;
        }
        for (&(generation, thread), &acked) in &self.acked {
            let found = next.get(&(generation, thread)).copied().unwrap_or(0);
            assert!(
                found > acked,
                "after kill {}: generation {generation} thread {thread}: record {acked} \
                 was acknowledged, only {found} recovered",
                self.k.kills
            );
        }
        if self.kv {
            let kv = SharedWal::open_with(&self.dir, self.options()).unwrap();
            assert_eq!(kv.len(), model.len(), "after kill {}", self.k.kills);
            for (k, v) in &model {
                assert_eq!(kv.get(k).unwrap().as_ref(), Some(v), "key {k:?}");
            }
        }
    }

    /// Append one durable record through a fresh shared handle (the open
    /// path that syncs what it found first); it is acknowledged too.
    fn append_own(&mut self) {
        let sq = seq(self.generation, PARENT, 0);
        if self.kv {
            let kv = SharedWal::open_with(&self.dir, self.options()).unwrap();
            let key = format!("parent-{}", self.generation % 3).into_bytes();
            kv.put_durable(&key, &payload(sq)).unwrap();
            let r = kv.ref_of(&key).unwrap();
            self.durable = (r.segment, r.offset + u64::from(r.len));
        } else {
            let log = SharedLog::open_with(&self.dir, self.options()).unwrap();
            let r = log.append_durable(&payload(sq)).unwrap();
            self.durable = (r.segment, r.offset + u64::from(r.len));
        }
        self.acked.insert((self.generation, PARENT), 0);
    }
}

/// The seq of a tombstone: its key names its thread, whose latest Put
/// names the generation, whose next record it must be.
fn tombstone_seq(
    r: &Record,
    put_generation: &BTreeMap<u64, u64>,
    next: &BTreeMap<(u64, u64), u64>,
) -> u64 {
    let key = String::from_utf8(r.key.clone()).expect("tombstone key is text");
    let thread: u64 = key
        .strip_prefix('t')
        .and_then(|k| k.split('-').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("tombstone of a key no thread deletes: {key}"));
    let generation = put_generation[&thread];
    let sq = seq(generation, thread, next[&(generation, thread)]);
    assert!(
        kv_is_delete(sq) && kv_key(sq) == r.key,
        "tombstone of {key} is not the next record of thread {thread} ({sq:#x})"
    );
    sq
}

#[derive(Default)]
struct Totals {
    k: Kills,
    acked: u64,
}

impl Totals {
    fn add(&mut self, s: &Store) {
        self.k.add(&s.k);
        self.acked += s.acked.values().map(|i| i + 1).sum::<u64>();
    }

    fn print(&self, what: &str) {
        self.k.report(what, self.acked);
    }
}

/// Run `kills` rounds over `stores` fresh stores (odd ones rotate
/// automatically; all with `preallocate` when given) and return the totals.
fn run(name: &str, kv: bool, stores: u32, kills_each: u32, preallocate: Option<u64>) -> Totals {
    let mut rng = Rng::new(reliability_support::seed(name));
    let td = tempfile::tempdir().unwrap();
    let mut total = Totals::default();
    for s in 0..stores {
        let max = (s % 2 == 1).then_some(8_192);
        let mut store = Store::new(td.path().join(format!("store-{s}")), kv, max, preallocate);
        for _ in 0..kills_each {
            store.round(&mut rng);
        }
        total.add(&store);
    }
    total
}

#[test]
fn kill_shared_log_threads_at_random_moments() {
    if is_child() {
        return;
    }
    let total = run(
        "kill_shared_log_threads_at_random_moments",
        false,
        6,
        20,
        None,
    );
    total.print("shared log, 4 threads");
    assert_eq!(total.k.kills, 120);
    assert!(total.k.power_cuts() > 30);
    assert!(
        total.acked > 500,
        "children acknowledged too little to test"
    );
}

#[test]
fn kill_shared_wal_threads_at_random_moments() {
    if is_child() {
        return;
    }
    let total = run(
        "kill_shared_wal_threads_at_random_moments",
        true,
        5,
        20,
        None,
    );
    total.print("shared wal, 4 threads");
    assert_eq!(total.k.kills, 100);
    assert!(total.k.power_cuts() > 25);
    assert!(
        total.acked > 400,
        "children acknowledged too little to test"
    );
}

/// The same with `LogOptions::preallocate` (4 KiB steps, so that kills
/// land around extensions and rotations): every record whose
/// `append_durable`/`put_durable` returned is found after each kill and
/// power cut, in each thread's order; the checking handles reuse the
/// zero-filled space the children left.
#[test]
fn kill_preallocating_shared_threads_at_random_moments() {
    if is_child() {
        return;
    }
    let name = "kill_preallocating_shared_threads_at_random_moments";
    let log = run(name, false, 4, 20, Some(4_096));
    log.print("shared log, 4 threads, preallocate 4 KiB");
    let kv = run(name, true, 2, 20, Some(4_096));
    kv.print("shared wal, 4 threads, preallocate 4 KiB");
    assert_eq!(log.k.kills + kv.k.kills, 120);
    assert!(
        log.acked > 300 && kv.acked > 150,
        "children acknowledged too little to test"
    );
}

/// A child killed before its open made the store's directory left nothing
/// to cut: the power cut that follows reports `PowerCut::Nothing` (it
/// listed the missing directory and failed at a clean-clone CI run).
#[test]
fn power_cut_before_the_store_exists_cuts_nothing() {
    if is_child() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("never-opened");
    let cut = power_cut(&dir, (1, 0), &mut Rng::new(7));
    assert_eq!(cut, reliability_support::PowerCut::Nothing);
    assert!(!dir.exists(), "the power cut made the directory");
}
