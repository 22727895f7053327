//! Crash injection into the lifecycle operations: a child process runs
//! `DataWal::compact` (in-place compaction; on odd stores automatic
//! compaction inside the writes too) or `RecordLog::truncate_before` (on odd
//! stores retention on every rotation too) in a loop, on the second half
//! of the stores through the shared handles (`SharedWal::compact`,
//! `SharedLog::truncate_before`, under the group commit's sync token), and
//! is killed with
//! SIGKILL, two times in three aimed at the lifecycle call from its
//! measured duration, else at a random moment; about half the kills are
//! followed by a simulated power cut of what was not yet durable. After
//! every kill the store is opened by the published 0.1.5 crate and by this
//! one and checked against what the child acknowledged; then the next child
//! crashes the same store again.
//!
//! The child is this test binary re-executed in a child mode (see
//! `crash_kill.rs`). What it prints, and what the parent makes of it:
//!
//! * in-place compaction: `BATCH <seq> <n>` before writing the `n` puts and
//!   deletes `kv_op(seq..seq + n)`, `ACK <last seq> <first> <segment> <end>`
//!   once they are fsynced (the segments `first..=segment` are durable, the
//!   last up to `end`), `KEPT` once it has hard-linked every segment into a
//!   side directory, then `COMPACTED <first> <segment> <end>` when `compact`
//!   returns. Compaction changes no live state, so the store must open to
//!   the model as of the last `ACK` plus a prefix of the batch printed after
//!   it (exactly the model when none was).
//! * truncation: `BATCH <txid> <n>` before appending `n` records (payload a
//!   function of the txid), `ACK <last txid> <first> <segment> <end>` after
//!   the fsync, `KEPT`, then `TRUNCATE <txid>` before `truncate_before` and
//!   `TRUNCATED <segments removed>` after. The store must hold, with
//!   increasing txids and intact payloads, a suffix of the log that contains
//!   every acknowledged record at or above the lowest txid it holds (and at
//!   or above every truncation bound asked, without retention), and the next
//!   txid must be above every acknowledged one.
//!
//! A simulated power cut only undoes what was not durable:
//!
//! * the newest segment loses a random part of its bytes past the durable
//!   end (cut off or zero-filled), or vanishes when it was created after the
//!   durable point. In-place compaction fsyncs its copies before it removes
//!   anything, so there this is only done while every segment of the
//!   durable point is still present (whatever is cut of the copies, the
//!   old segments still hold the live state); truncation and retention
//!   never sync the active segment, so there always;
//! * the latest removal since `KEPT` may be undone: each unlink is made
//!   durable (directory fsync) before the next, so only the last one can
//!   be lost, and the segment just below the oldest present comes back
//!   (from the side directory's links), leaving a suffix of the log.
//!
//! The published crate reads the store as the crash left it, except after
//! a zero-filled tail, which 0.1.5 refuses (zeros where a header should
//! be: a hard error there, a torn tail here): it reads that store once this
//! crate's writer has repaired it.
//!
//! Replay a run with `DATAWAL_SEED=<seed printed on stderr>`.

mod reliability_support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use datawal015 as published;
use datawal_core::segment::{list_segments, segment_path};
use datawal_core::{DataWal, LogOptions, RecordLog, RecordType, SharedLog, SharedWal};
use reliability_support::{
    child_start, env_u64, is_child, power_cut, say, sleep_until_killed, ChildProc, PowerCut, Rng,
};

/// Segment size for the compaction children: a round of writes fills one
/// or two segments, the live set (40 keys) about two.
const KV_SEGMENT_BYTES: u64 = 2048;
/// Segment size for the truncation children: a few records each.
const LOG_SEGMENT_BYTES: u64 = 1024;
/// Kills per store, stores per test.
const KILLS_PER_STORE: u32 = 20;
const STORES: u32 = 6;

// ---------------------------------------------------------------- records

type State = BTreeMap<Vec<u8>, Vec<u8>>;

/// The put or delete with sequence number `seq`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KvOp {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
}

fn kv_op(seq: u64) -> KvOp {
    let h = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) ^ seq;
    let key = format!("k{:02}", h % 40).into_bytes();
    if (h >> 8).is_multiple_of(5) {
        KvOp::Delete(key)
    } else {
        let mut v = seq.to_le_bytes().to_vec();
        v.extend(std::iter::repeat_n(b'v', ((h >> 16) % 100) as usize));
        KvOp::Put(key, v)
    }
}

fn apply_model(m: &mut State, op: &KvOp) {
    match op {
        KvOp::Put(k, v) => m.insert(k.clone(), v.clone()),
        KvOp::Delete(k) => m.remove(k),
    };
}

/// The payload of the record with txid `txid` in the truncation children.
fn log_payload(txid: u64) -> Vec<u8> {
    let mut p = txid.to_le_bytes().to_vec();
    let pad = (txid.wrapping_mul(0x9E37_79B9) >> 7) % 200;
    p.extend(std::iter::repeat_n(txid as u8, pad as usize));
    p
}

// ---------------------------------------------------------------- child

/// Entry point of every child; a no-op in a normal test run.
#[test]
fn child_entry() {
    let Some((mode, dir)) = child_start() else {
        return;
    };
    let keep = PathBuf::from(std::env::var_os("DATAWAL_KEEP").expect("DATAWAL_KEEP"));
    let mut rng = Rng::new(env_u64("DATAWAL_CHILD_SEED"));
    let rounds = env_u64("DATAWAL_ROUNDS");
    let variant = std::env::var("DATAWAL_VARIANT").is_ok();
    let shared = std::env::var("DATAWAL_SHARED").is_ok();
    match mode.as_str() {
        "compact" => child_compact(&dir, &keep, &mut rng, rounds, variant, shared),
        "truncate" => child_truncate(&dir, &keep, &mut rng, rounds, variant, shared),
        other => panic!("unknown child mode {other}"),
    }
}

/// `<first segment> <active segment> <its length>`, after an fsync (by
/// the only thread that writes).
fn durable_point(dir: &Path) -> String {
    let ids = list_segments(dir).unwrap();
    let seg = *ids.last().unwrap();
    let end = fs::metadata(segment_path(dir, seg)).unwrap().len();
    format!("{} {seg} {end}", ids[0])
}

/// The store a compaction child writes: its own handle, or a shared one.
enum Kv {
    Own(Box<DataWal>),
    Shared(SharedWal),
}

impl Kv {
    fn apply(&mut self, op: KvOp) {
        match (self, op) {
            (Kv::Own(db), KvOp::Put(k, v)) => db.put(&k, &v).unwrap(),
            (Kv::Own(db), KvOp::Delete(k)) => db.delete(&k).unwrap(),
            (Kv::Shared(kv), KvOp::Put(k, v)) => kv.put(&k, &v).unwrap(),
            (Kv::Shared(kv), KvOp::Delete(k)) => kv.delete(&k).unwrap(),
        }
    }

    fn fsync(&mut self) {
        match self {
            Kv::Own(db) => db.fsync().unwrap(),
            Kv::Shared(kv) => kv.sync().unwrap(),
        }
    }

    fn compact(&mut self) {
        match self {
            Kv::Own(db) => db.compact().map(drop).unwrap(),
            Kv::Shared(kv) => kv.compact().map(drop).unwrap(),
        }
    }
}

/// Make `keep` hold a hard link to every segment of `dir`, and nothing else.
fn refresh_keep(dir: &Path, keep: &Path) {
    let ids = list_segments(dir).unwrap();
    for e in fs::read_dir(keep).unwrap() {
        let e = e.unwrap();
        if !ids.iter().any(|&id| segment_path(keep, id) == e.path()) {
            fs::remove_file(e.path()).unwrap();
        }
    }
    for id in ids {
        let to = segment_path(keep, id);
        if !to.exists() {
            fs::hard_link(segment_path(dir, id), to).unwrap();
        }
    }
}

/// Write, fsync, acknowledge, compact; again. `auto`: automatic compaction
/// too (`compact_dead_percent`), inside the writes. `shared`: through a
/// [`SharedWal`].
fn child_compact(dir: &Path, keep: &Path, rng: &mut Rng, rounds: u64, auto: bool, shared: bool) {
    let mut opts = LogOptions::default().max_segment_bytes(KV_SEGMENT_BYTES);
    if auto {
        opts = opts.compact_dead_percent(60);
    }
    let mut db = if shared {
        Kv::Shared(SharedWal::open_with(dir, opts).unwrap())
    } else {
        Kv::Own(Box::new(DataWal::open_with(dir, opts).unwrap()))
    };
    say("READY");
    let mut seq = env_u64("DATAWAL_START");
    for _ in 0..rounds {
        let n = rng.range(5, 40);
        say(&format!("BATCH {seq} {n}"));
        for s in seq..seq + n {
            db.apply(kv_op(s));
        }
        seq += n;
        db.fsync();
        say(&format!("ACK {} {}", seq - 1, durable_point(dir)));
        refresh_keep(dir, keep);
        say("KEPT");
        db.compact();
        say(&format!("COMPACTED {}", durable_point(dir)));
    }
    say("IDLE");
    sleep_until_killed()
}

/// The log a truncation child writes: its own handle, or a shared one.
enum Log {
    Own(Box<RecordLog>),
    Shared(SharedLog),
}

impl Log {
    fn next_txid(&self) -> u64 {
        match self {
            Log::Own(log) => log.next_txid(),
            Log::Shared(log) => log.next_txid(),
        }
    }

    fn first_txid(&self) -> Option<u64> {
        match self {
            Log::Own(log) => log.first_txid(),
            Log::Shared(log) => log.scan_iter().unwrap().next().map(|r| r.unwrap().txid),
        }
    }

    fn append_batch(&mut self, payloads: &[Vec<u8>]) {
        let records = payloads.iter().map(|p| (RecordType::Raw, &b""[..], &p[..]));
        match self {
            Log::Own(log) if payloads.len() == 1 => log.append(&payloads[0]).map(drop),
            Log::Own(log) => log.append_batch(records).map(drop),
            Log::Shared(log) if payloads.len() == 1 => log.append(&payloads[0]).map(drop),
            Log::Shared(log) => log.append_batch(records).map(drop),
        }
        .unwrap()
    }

    fn rotate(&mut self) {
        match self {
            Log::Own(log) => log.rotate().unwrap(),
            Log::Shared(log) => log.rotate().unwrap(),
        }
    }

    fn fsync(&mut self) {
        match self {
            Log::Own(log) => log.fsync().unwrap(),
            Log::Shared(log) => log.sync().unwrap(),
        }
    }

    fn truncate_before(&mut self, txid: u64) -> u32 {
        match self {
            Log::Own(log) => log.truncate_before(txid),
            Log::Shared(log) => log.truncate_before(txid),
        }
        .unwrap()
        .segments_removed
    }
}

/// Append (single records and batches, some explicit rotations), fsync,
/// acknowledge, truncate before a random txid; again. `retain`: retention
/// on rotation too (`retain_segments(3)`). `shared`: through a
/// [`SharedLog`].
fn child_truncate(dir: &Path, keep: &Path, rng: &mut Rng, rounds: u64, retain: bool, shared: bool) {
    let mut opts = LogOptions::default().max_segment_bytes(LOG_SEGMENT_BYTES);
    if retain {
        opts = opts.retain_segments(3);
    }
    let mut log = if shared {
        Log::Shared(SharedLog::open_with(dir, opts).unwrap())
    } else {
        Log::Own(Box::new(RecordLog::open_with(dir, opts).unwrap()))
    };
    say("READY");
    for _ in 0..rounds {
        let n = rng.range(3, 24);
        say(&format!("BATCH {} {n}", log.next_txid()));
        let mut left = n;
        while left > 0 {
            let k = rng.range(1, left.min(4));
            let txid = log.next_txid();
            let payloads: Vec<Vec<u8>> = (txid..txid + k).map(log_payload).collect();
            log.append_batch(&payloads);
            left -= k;
            // Sometimes after the last record too: the active segment is
            // then empty, and a truncation can remove every record.
            if rng.one_in(5) {
                log.rotate();
            }
        }
        log.fsync();
        say(&format!(
            "ACK {} {}",
            log.next_txid() - 1,
            durable_point(dir)
        ));
        refresh_keep(dir, keep);
        say("KEPT");
        let next = log.next_txid();
        let txid = if rng.one_in(5) {
            u64::MAX
        } else {
            rng.range(log.first_txid().unwrap_or(next), next)
        };
        say(&format!("TRUNCATE {txid}"));
        let removed = log.truncate_before(txid);
        say(&format!("TRUNCATED {removed}"));
    }
    say("IDLE");
    sleep_until_killed()
}

// ---------------------------------------------------------------- parent

/// What is durable: the segments `first..=seg`, the last up to `end`.
#[derive(Debug, Clone, Copy)]
struct Durable {
    first: u32,
    seg: u32,
    end: u64,
}

impl Durable {
    fn parse(parts: &[&str]) -> Self {
        Durable {
            first: parts[0].parse().unwrap(),
            seg: parts[1].parse().unwrap(),
            end: parts[2].parse().unwrap(),
        }
    }

    /// After the parent's own fsync of a reopened store.
    fn of(log: &RecordLog) -> Self {
        let p = durable_point(log.dir());
        Durable::parse(&p.split_whitespace().collect::<Vec<_>>())
    }
}

#[derive(Debug, Default)]
struct Figures {
    kills: u32,
    /// Kills followed by a simulated power cut.
    power_cuts: u32,
    /// Unsynced bytes the power cuts cut off or zero-filled.
    bytes_lost: u64,
    /// Newest segments that vanished.
    vanished: u32,
    /// Removed segments that came back.
    restored: u32,
    /// Reopened stores checked (each by both crates).
    stores_checked: u32,
    /// Of those, read by the published crate only after this crate's
    /// writer repaired a zero-filled tail (0.1.5 refuses zeros where a
    /// header should be).
    published_after_repair: u32,
    /// Where the kills landed, by the child's last line.
    phases: BTreeMap<&'static str, u32>,
}

impl Figures {
    fn print(&self, what: &str, took: Duration) {
        eprintln!(
            "{what}: {} kills, {} power cuts ({} unsynced bytes lost, {} newest segments \
             vanished, {} removed segments restored), {} reopened stores checked by both \
             crates ({} by the published one after the repair of a zero-filled tail), \
             kills by phase {:?}, {:.1} s",
            self.kills,
            self.power_cuts,
            self.bytes_lost,
            self.vanished,
            self.restored,
            self.stores_checked,
            self.published_after_repair,
            self.phases,
            took.as_secs_f64()
        );
    }
}

/// A power cut's effect on the newest segment: lose a random part of what
/// is past the durable end (cut off or zero-filled), or, when it was
/// created after the durable point, sometimes the whole file. Returns
/// `true` when it zero-filled bytes that were not zero.
fn cut_unsynced(dir: &Path, durable: Durable, rng: &mut Rng, fig: &mut Figures) -> bool {
    let cut = power_cut(dir, (durable.seg, durable.end), rng);
    fig.bytes_lost += cut.bytes_lost();
    match cut {
        PowerCut::Vanished(_) => {
            fig.vanished += 1;
            false
        }
        PowerCut::Nothing | PowerCut::Truncated { .. } => false,
        PowerCut::ZeroFilled { from, len } => from < len,
    }
}

/// A power cut's effect on removals since `KEPT`: the most recent one,
/// whose directory fsync may not have completed, is undone (the segment
/// just below the oldest present comes back from the side directory's
/// links).
fn restore_removed(dir: &Path, keep: &Path, fig: &mut Figures) {
    let first = list_segments(dir).unwrap()[0];
    let Some(id) = first.checked_sub(1) else {
        return;
    };
    if segment_path(keep, id).exists() {
        fs::copy(segment_path(keep, id), segment_path(dir, id)).unwrap();
        fig.restored += 1;
    }
}

/// One store crashed again and again by children of one mode.
struct Store {
    dir: PathBuf,
    keep: PathBuf,
    /// The children's variant (automatic compaction, or retention).
    variant: bool,
    /// The children write through a shared handle.
    shared: bool,
    generation: u64,
    durable: Durable,
}

/// What a child printed, as the parent reads it.
#[derive(Debug, Default)]
struct Heard {
    ready: bool,
    /// The last `BATCH` after the last `ACK`: (first seq or txid, n).
    pending: Option<(u64, u64)>,
    /// Every acknowledged batch: (first, last).
    acked: Vec<(u64, u64)>,
    /// `KEPT` after the last `ACK`.
    kept: bool,
    /// The durable point of the last `ACK` or `COMPACTED`.
    durable: Option<Durable>,
    truncate_bounds: Vec<u64>,
    last: Option<&'static str>,
}

impl Heard {
    fn take(lines: &[String]) -> Self {
        let mut h = Heard::default();
        for line in lines {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let num = |i: usize| -> u64 { parts[i].parse().unwrap() };
            match parts.first().copied() {
                Some("READY") => {
                    h.ready = true;
                    h.last = Some("opened");
                }
                Some("BATCH") => {
                    h.pending = Some((num(1), num(2)));
                    h.last = Some("writing");
                }
                Some("ACK") => {
                    let (first, n) = h.pending.take().expect("ACK without BATCH");
                    assert_eq!(num(1), first + n - 1, "{line}");
                    h.acked.push((first, num(1)));
                    h.durable = Some(Durable::parse(&parts[2..]));
                    h.kept = false;
                    h.last = Some("acked");
                }
                Some("KEPT") => {
                    h.kept = true;
                    h.last = Some("removing");
                }
                Some("COMPACTED") => {
                    h.durable = Some(Durable::parse(&parts[1..]));
                    h.last = Some("compacted");
                }
                Some("TRUNCATE") => h.truncate_bounds.push(num(1)),
                Some("TRUNCATED") => h.last = Some("truncated"),
                Some("IDLE") => panic!("a child ran out of rounds before it was killed"),
                _ => {}
            }
        }
        h
    }
}

impl Store {
    fn new(root: &Path, name: &str, variant: bool, shared: bool) -> Self {
        let dir = root.join(name);
        let keep = root.join(format!("{name}.keep"));
        fs::create_dir_all(&keep).unwrap();
        Store {
            dir,
            keep,
            variant,
            shared,
            generation: 0,
            durable: Durable {
                first: 1,
                seg: 1,
                end: 0,
            },
        }
    }

    fn spawn(&mut self, mode: &str, rng: &mut Rng, rounds: u64) -> ChildProc {
        self.generation += 1;
        let mut env = vec![
            ("DATAWAL_START", (self.generation << 32).to_string()),
            ("DATAWAL_CHILD_SEED", rng.next_u64().to_string()),
            ("DATAWAL_ROUNDS", rounds.to_string()),
            ("DATAWAL_KEEP", self.keep.display().to_string()),
        ];
        if self.variant {
            env.push(("DATAWAL_VARIANT", "1".into()));
        }
        if self.shared {
            env.push(("DATAWAL_SHARED", "1".into()));
        }
        ChildProc::spawn("child_entry", mode, &self.dir, &env)
    }

    /// Run a child and kill it: two times in three aimed at the lifecycle
    /// call (0.2 to 1.2 times its measured duration after the child's
    /// first, second or third `KEPT`), else at a random moment of its first
    /// three rounds (one time in eight while it opens the store). Returns
    /// what it printed.
    fn kill_one(&mut self, mode: &str, timing: Timing, rng: &mut Rng) -> Heard {
        let child = self.spawn(mode, rng, 1_000_000);
        let mut seen = Vec::new();
        // (wait for the `keeps`-th line `wait_for`, then sleep `from + x`,
        // `x` uniform in `0..span`)
        let (wait_for, keeps, from, span) = if !rng.one_in(3) {
            // Its first fifth rotates and copies or picks segments, fast;
            // then come the fsyncs (of the copies, of the floor, of the
            // directory after the removals).
            ("KEPT", rng.range(1, 3), timing.call / 5, timing.call)
        } else if rng.one_in(8) {
            ("", 0, Duration::ZERO, timing.round * 3)
        } else {
            ("READY", 1, Duration::ZERO, timing.round * 3)
        };
        let mut left = keeps;
        while left > 0 {
            let line = child.lines.recv().expect("the child ended");
            left -= u64::from(line == wait_for);
            seen.push(line);
        }
        std::thread::sleep(from + span.mul_f64(rng.below(1000) as f64 / 1000.0));
        seen.extend(child.kill());
        Heard::take(&seen)
    }

    /// Simulate a power cut after a kill. `compaction`: in-place
    /// compaction syncs its copies before it removes anything, so the newest
    /// segment may only lose bytes while no segment of the durable point is
    /// gone. Returns `true` when it left zeros in place of bytes.
    fn power_cut(&self, heard: &Heard, compaction: bool, rng: &mut Rng, fig: &mut Figures) -> bool {
        let durable = heard.durable.unwrap_or(self.durable);
        let first_now = list_segments(&self.dir).unwrap()[0];
        fig.power_cuts += 1;
        if heard.kept && first_now > durable.first {
            restore_removed(&self.dir, &self.keep, fig);
            if compaction {
                return false;
            }
        }
        (!compaction || first_now == durable.first) && cut_unsynced(&self.dir, durable, rng, fig)
    }
}

/// How long a child's round and its lifecycle call take.
#[derive(Debug, Clone, Copy)]
struct Timing {
    round: Duration,
    call: Duration,
}

/// Measure, with a child of `mode` on a scratch store, how long a round
/// takes, and its lifecycle call (from `KEPT` to the line after it).
fn measure(root: &Path, mode: &str, rng: &mut Rng) -> Timing {
    let mut s = Store::new(root, &format!("measure-{mode}"), false, false);
    let rounds = 6;
    let child = s.spawn(mode, rng, rounds);
    let (mut start, mut kept) = (None, None);
    let mut call = Duration::ZERO;
    for line in child.lines.iter() {
        let now = Instant::now();
        match line.split_whitespace().next() {
            Some("READY") => start = Some(now),
            Some("KEPT") => kept = Some(now),
            Some("COMPACTED" | "TRUNCATED") => call += now - kept.take().unwrap(),
            Some("IDLE") => break,
            _ => {}
        }
    }
    let round = start.expect("the child opened").elapsed() / rounds as u32;
    child.kill();
    let timing = Timing {
        round,
        call: call / rounds as u32,
    };
    eprintln!("{mode}: {timing:?}");
    timing
}

/// SIGKILL during in-place compaction (and the writes between two), half
/// the kills followed by a power cut: every reopen, by this crate and the
/// published one, gives exactly the acknowledged live state (plus a prefix
/// of the batch being written).
#[test]
fn kill_during_in_place_compaction() {
    if is_child() {
        return;
    }
    let mut rng = Rng::new(reliability_support::seed("kill_during_in_place_compaction"));
    let td = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let timing = measure(td.path(), "compact", &mut rng);
    let mut fig = Figures::default();
    for s in 0..STORES {
        // Odd stores also compact automatically, inside the writes; the
        // second half go through a `SharedWal`.
        let shared = s >= STORES / 2;
        let mut store = Store::new(td.path(), &format!("kv-{s}"), s % 2 == 1, shared);
        DataWal::open(&store.dir).unwrap();
        let mut model = State::new();
        for _ in 0..KILLS_PER_STORE {
            let heard = store.kill_one("compact", timing, &mut rng);
            fig.kills += 1;
            let phase = match heard.last {
                Some("removing") => {
                    let first_now = list_segments(&store.dir).unwrap()[0];
                    let durable = heard.durable.unwrap_or(store.durable);
                    if first_now == durable.first {
                        "compacting (nothing removed yet)"
                    } else {
                        "compacting (removing old segments)"
                    }
                }
                Some(p) => p,
                None => "opening",
            };
            *fig.phases.entry(phase).or_default() += 1;
            for &(first, last) in &heard.acked {
                for seq in first..=last {
                    apply_model(&mut model, &kv_op(seq));
                }
            }
            let zeros = rng.one_in(2) && store.power_cut(&heard, true, &mut rng, &mut fig);
            model = check_kv(&mut store, &model, heard.pending, zeros, &mut fig);
        }
    }
    fig.print("in-place compaction", started.elapsed());
    assert_eq!(fig.kills, STORES * KILLS_PER_STORE);
    assert!(fig.power_cuts >= fig.kills / 3, "{fig:?}");
    assert!(
        fig.phases
            .get("compacting (removing old segments)")
            .copied()
            .unwrap_or(0)
            + fig
                .phases
                .get("compacting (nothing removed yet)")
                .copied()
                .unwrap_or(0)
            >= fig.kills / 5,
        "too few kills landed in a compaction: {fig:?}"
    );
}

/// `open()`, retried for a while when the store is locked: the two tests
/// of this file run at once, and a child that the other one forks holds
/// copies of this process's descriptors, a store's lock among them, until
/// it execs (this crate retries for 200 ms, the published one not at all).
fn open_unlocked<T, E: std::fmt::Display>(k: u32, who: &str, open: impl Fn() -> Result<T, E>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match open() {
            Ok(t) => return t,
            Err(e) if e.to_string().contains("locked") && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("kill {k}: {who} does not open the store: {e}"),
        }
    }
}

/// The live state as the published crate reads it.
fn published_state(dir: &Path, k: u32) -> State {
    let mut db = open_unlocked(k, "the published crate", || published::DataWal::open(dir));
    db.items().unwrap().into_iter().collect()
}

/// Open the crashed store with both crates (the published one after this
/// one's repair when `zeros`): the live state is `model` after a prefix of
/// the pending batch; returns that state, made durable.
fn check_kv(
    store: &mut Store,
    model: &State,
    pending: Option<(u64, u64)>,
    zeros: bool,
    fig: &mut Figures,
) -> State {
    let k = fig.kills;
    let before = (!zeros).then(|| published_state(&store.dir, k));
    let mut db = open_unlocked(k, "this crate", || DataWal::open(&store.dir));
    let ours: State = db.items().unwrap().into_iter().collect();
    let mut want = model.clone();
    let mut matched = ours == want;
    if let Some((from, n)) = pending {
        for seq in from..from + n {
            if matched {
                break;
            }
            apply_model(&mut want, &kv_op(seq));
            matched = ours == want;
        }
    }
    assert!(
        matched,
        "kill {k}: the live state is not the acknowledged one (plus a prefix of batch \
         {pending:?}): {} keys, acknowledged {}",
        ours.len(),
        model.len()
    );
    let txids: Vec<u64> = db
        .log()
        .scan_iter()
        .unwrap()
        .map(|r| r.unwrap().txid)
        .collect();
    assert!(
        txids.windows(2).all(|w| w[0] < w[1]),
        "kill {k}: txids {txids:?}"
    );
    assert!(txids.last().is_none_or(|&t| t < db.log().next_txid()));
    db.fsync().unwrap();
    store.durable = Durable::of(db.log());
    drop(db);
    let theirs = before.unwrap_or_else(|| {
        fig.published_after_repair += 1;
        published_state(&store.dir, k)
    });
    assert_eq!(
        theirs, ours,
        "kill {k}: the published crate reads another state"
    );
    fig.stores_checked += 1;
    ours
}

/// SIGKILL during `truncate_before` (and retention on rotation, and the
/// appends between), half the kills followed by a power cut: every reopen
/// holds a suffix of the log with every acknowledged record from its first
/// on, and txids never go back.
#[test]
fn kill_during_truncation() {
    if is_child() {
        return;
    }
    let mut rng = Rng::new(reliability_support::seed("kill_during_truncation"));
    let td = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let timing = measure(td.path(), "truncate", &mut rng);
    let mut fig = Figures::default();
    for s in 0..STORES {
        // Odd stores also apply retention on every rotation.
        // The second half go through a `SharedLog`.
        let retain = s % 2 == 1;
        let shared = s >= STORES / 2;
        let mut store = Store::new(td.path(), &format!("log-{s}"), retain, shared);
        RecordLog::open(&store.dir).unwrap();
        let mut acked = BTreeSet::new();
        // Acknowledged records at or above it must all be there: only
        // `truncate_before` removes records (below its bound), or, with
        // retention, any rotation.
        let mut bound = if retain { u64::MAX } else { 0 };
        for _ in 0..KILLS_PER_STORE {
            let heard = store.kill_one("truncate", timing, &mut rng);
            fig.kills += 1;
            let phase = match heard.last {
                Some("removing") => {
                    let first_now = list_segments(&store.dir).unwrap()[0];
                    let durable = heard.durable.unwrap_or(store.durable);
                    if first_now == durable.first {
                        "truncating (nothing removed yet)"
                    } else {
                        "truncating (removing segments)"
                    }
                }
                Some(p) => p,
                None => "opening",
            };
            *fig.phases.entry(phase).or_default() += 1;
            for &(first, last) in &heard.acked {
                acked.extend(first..=last);
            }
            if !retain {
                bound = heard.truncate_bounds.iter().fold(bound, |b, &t| b.max(t));
            }
            let zeros = rng.one_in(2) && store.power_cut(&heard, false, &mut rng, &mut fig);
            check_log(&mut store, &mut acked, bound, zeros, &mut fig);
        }
    }
    fig.print("truncation", started.elapsed());
    assert_eq!(fig.kills, STORES * KILLS_PER_STORE);
    assert!(fig.power_cuts >= fig.kills / 3, "{fig:?}");
    assert!(fig.restored > 0, "no removal was undone: {fig:?}");
}

/// Every record as the published crate reads it: (txid, payload).
fn published_records(dir: &Path, k: u32) -> Vec<(u64, Vec<u8>)> {
    let mut log = open_unlocked(k, "the published crate", || published::RecordLog::open(dir));
    let records = log.scan().unwrap();
    records.into_iter().map(|r| (r.txid, r.payload)).collect()
}

/// Open the crashed store with both crates (the published one after this
/// one's repair when `zeros`) and check the records; what is there is then
/// made durable and counted as acknowledged.
fn check_log(
    store: &mut Store,
    acked: &mut BTreeSet<u64>,
    bound: u64,
    zeros: bool,
    fig: &mut Figures,
) {
    let k = fig.kills;
    let before = (!zeros).then(|| published_records(&store.dir, k));
    let mut log = open_unlocked(k, "this crate", || RecordLog::open(&store.dir));
    let ours: Vec<(u64, Vec<u8>)> = log
        .scan()
        .unwrap()
        .into_iter()
        .map(|r| (r.txid, r.payload))
        .collect();
    for w in ours.windows(2) {
        assert!(
            w[0].0 < w[1].0,
            "kill {k}: txid {} before {}",
            w[0].0,
            w[1].0
        );
    }
    for (txid, payload) in &ours {
        assert_eq!(
            payload,
            &log_payload(*txid),
            "kill {k}: record {txid} damaged"
        );
    }
    let present: BTreeSet<u64> = ours.iter().map(|r| r.0).collect();
    let from = present.first().copied().unwrap_or(u64::MAX).min(bound);
    let lost: Vec<u64> = acked
        .range(from..)
        .filter(|t| !present.contains(t))
        .copied()
        .collect();
    assert!(
        lost.is_empty(),
        "kill {k}: {} acknowledged records lost (not a suffix, or cut at or above the \
         truncation bound {bound}), first {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    if let Some(&max) = acked.last() {
        assert!(
            log.next_txid() > max,
            "kill {k}: next txid {} went back",
            log.next_txid()
        );
    }
    log.fsync().unwrap();
    store.durable = Durable::of(&log);
    drop(log);
    let theirs = before.unwrap_or_else(|| {
        fig.published_after_repair += 1;
        published_records(&store.dir, k)
    });
    assert_eq!(
        theirs, ours,
        "kill {k}: the published crate reads other records"
    );
    acked.extend(present);
    fig.stores_checked += 1;
}
