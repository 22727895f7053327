//! Side-by-side comparison with the published crate (`datawal = "=0.1.5"`):
//! identical workloads, in one process, in the same temporary directory, and
//! a table of ratios (time ours / time theirs) against the targets of issue 6.
//!
//! ```text
//! cargo bench -p datawal-core --bench compare                   # full sizes (100k records)
//! DATAWAL_BENCH_QUICK=1 cargo bench -p datawal-core --bench compare   # a few seconds
//! DATAWAL_BENCH_DIR=/some/fs cargo bench -p datawal-core --bench compare
//! ```
//!
//! Each workload is one function, generic over [`sides::Side`] (this crate
//! or the published one), so both crates run the same code; `compare/`
//! holds the sides, the table, the hint rows and the counting allocator.
//!
//! Each figure is the median of several rounds; the two crates alternate
//! round by round so that a noisy neighbour hurts both alike. Reads come
//! from the page cache (every store is written just before it is read).
//! Rows marked "fsync" depend on the disk and filesystem more than on code.
//!
//! Keydir memory is measured with a counting global allocator: bytes live
//! after `DataWal::open` minus bytes live before, per live key, minus the
//! key length (allocator bookkeeping is not counted by either crate).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use datawal_core::RecordLog;

#[path = "compare/alloc.rs"]
mod alloc;
#[path = "harness/mod.rs"]
mod harness;
#[path = "compare/hints.rs"]
mod hints;
#[path = "compare/sides.rs"]
mod sides;
#[path = "compare/table.rs"]
mod table;

use alloc::{live_bytes, Counting};
use harness::{duel, timed, Dirs};
use sides::{Ours, Side, Theirs};
use table::{print_rows, Row, Target};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Sizes of one run.
struct Sizes {
    /// Records in the append, scan and open workloads; keys in the KV ones.
    n: usize,
    /// Appends, each followed by an fsync.
    fsyncs: usize,
    /// Batches of 100 records, each followed by an fsync.
    batches: usize,
    /// Rounds per workload (the median is reported).
    rounds: usize,
    /// Keys of the stores whose open with and without hint files is timed.
    hint_keys: Vec<usize>,
    /// `DATAWAL_BENCH_ONLY=hints`: only those.
    only_hints: bool,
}

impl Sizes {
    fn from_env() -> Self {
        let quick = std::env::var_os("DATAWAL_BENCH_QUICK").is_some_and(|v| v != "0")
            || std::env::args().any(|a| a == "--quick");
        let mut s = if quick {
            Sizes {
                n: 20_000,
                fsyncs: 30,
                batches: 10,
                rounds: 3,
                hint_keys: vec![20_000],
                only_hints: false,
            }
        } else {
            Sizes {
                n: 100_000,
                fsyncs: 200,
                batches: 50,
                rounds: 7,
                hint_keys: vec![100_000, 1_000_000],
                only_hints: false,
            }
        };
        if let Ok(v) = std::env::var("DATAWAL_BENCH_HINT_KEYS") {
            s.hint_keys = v.split(',').filter_map(|k| k.trim().parse().ok()).collect();
        }
        s.only_hints = std::env::var("DATAWAL_BENCH_ONLY").is_ok_and(|v| v == "hints");
        if let Some(n) = std::env::var("DATAWAL_BENCH_N")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            s.n = n;
        }
        if let Some(r) = std::env::var("DATAWAL_BENCH_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            s.rounds = r;
        }
        s
    }
}

const PAYLOAD_LEN: usize = 64;
const BATCH: usize = 100;

fn payload() -> Vec<u8> {
    (0..PAYLOAD_LEN as u8).collect()
}

fn key(i: usize) -> Vec<u8> {
    format!("key:{i:08}").into_bytes()
}

/// What every workload reads: sizes, where to write, the payload, the keys.
struct Ctx {
    sizes: Sizes,
    dirs: Dirs,
    p: Vec<u8>,
    keys: Vec<Vec<u8>>,
}

impl Ctx {
    /// `f` on a fresh directory tagged `tag`, removed afterwards.
    fn scratch<T>(&self, tag: &str, f: impl FnOnce(&Path) -> T) -> T {
        let d = self.dirs.fresh(tag);
        let out = f(&d);
        std::fs::remove_dir_all(&d).unwrap();
        out
    }

    /// `f::<Ours>` against `f::<Theirs>`, alternating, medians.
    fn duel(
        &self,
        mut a: impl FnMut() -> Duration,
        b: impl FnMut() -> Duration,
    ) -> (Duration, Duration) {
        duel(self.sizes.rounds, &mut a, b)
    }
}

/// `n` appends of the payload, no fsync.
fn append<S: Side>(c: &Ctx) -> Duration {
    c.scratch("append", |d| {
        let mut log = S::open_log(d);
        timed(|| {
            for _ in 0..c.sizes.n {
                S::append(&mut log, black_box(&c.p));
            }
        })
        .0
    })
}

/// `fsyncs` appends, each followed by an fsync, after a first synced one
/// (so the segment's creation is not counted).
fn append_fsync_each<S: Side>(c: &Ctx) -> Duration {
    c.scratch("fsync", |d| {
        let mut log = S::open_log(d);
        S::append(&mut log, &c.p);
        S::fsync(&mut log);
        timed(|| {
            for _ in 0..c.sizes.fsyncs {
                S::append(&mut log, &c.p);
                S::fsync(&mut log);
            }
        })
        .0
    })
}

/// `batches` batches of [`BATCH`] records, each followed by an fsync.
fn batch_fsync<S: Side>(c: &Ctx) -> Duration {
    c.scratch("batch", |d| {
        let mut log = S::open_log(d);
        S::append(&mut log, &c.p);
        S::fsync(&mut log);
        timed(|| {
            for _ in 0..c.sizes.batches {
                S::append_many(&mut log, BATCH, &c.p);
                S::fsync(&mut log);
            }
        })
        .0
    })
}

/// A synced log of `n` payloads in `dir`.
fn fill_log<S: Side>(dir: &Path, n: usize, p: &[u8]) {
    let mut log = S::open_log(dir);
    for _ in 0..n {
        S::append(&mut log, p);
    }
    S::fsync(&mut log);
}

/// The write rows: appends, with an fsync after each, in batches.
fn write_rows(c: &Ctx, rows: &mut Vec<Row>) {
    let n = c.sizes.n;
    rows.push(Row::pair(
        format!("append {PAYLOAD_LEN} B, no fsync"),
        "record",
        n,
        c.duel(|| append::<Ours>(c), || append::<Theirs>(c)),
        Target::AtMost(1.1),
        false,
    ));
    rows.push(Row::pair(
        format!("append {PAYLOAD_LEN} B + fsync each"),
        "record",
        c.sizes.fsyncs,
        c.duel(
            || append_fsync_each::<Ours>(c),
            || append_fsync_each::<Theirs>(c),
        ),
        Target::AtMost(0.75),
        true,
    ));
    rows.push(Row::pair(
        format!("append_batch {BATCH} × {PAYLOAD_LEN} B + fsync (theirs: {BATCH} appends + fsync)"),
        "record",
        c.sizes.batches * BATCH,
        c.duel(|| batch_fsync::<Ours>(c), || batch_fsync::<Theirs>(c)),
        Target::ThroughputAtLeast(2.0),
        true,
    ));
}

/// One of our streaming reads of a whole log: the payload bytes it saw.
type ReadAll<'a> = &'a dyn Fn(&RecordLog) -> usize;

/// The read rows of a log of `n` records: `scan`, `scan_iter`, the cursor,
/// and `open`.
fn read_rows(c: &Ctx, rows: &mut Vec<Row>) {
    let n = c.sizes.n;
    let ours_dir = c.dirs.fresh("log-ours");
    let theirs_dir = c.dirs.fresh("log-theirs");
    fill_log::<Ours>(&ours_dir, n, &c.p);
    fill_log::<Theirs>(&theirs_dir, n, &c.p);
    assert_eq!(
        std::fs::read(ours_dir.join("00000001.dwal")).unwrap(),
        std::fs::read(theirs_dir.join("00000001.dwal")).unwrap(),
        "both crates must write the same bytes"
    );
    let mut ol = Ours::open_log(&ours_dir);
    let mut tl = Theirs::open_log(&theirs_dir);
    let times = duel(
        c.sizes.rounds,
        || timed(|| assert_eq!(Ours::scan_len(&mut ol), n)).0,
        || timed(|| assert_eq!(Theirs::scan_len(&mut tl), n)).0,
    );
    rows.push(Row::records_read(
        format!("scan() of {n} × {PAYLOAD_LEN} B"),
        n,
        times,
        Target::AtMost(0.33),
    ));

    // The published crate's streaming read: what the three rows below are
    // compared with.
    let bytes = n * PAYLOAD_LEN;
    let mut theirs_scan_iter = || timed(|| assert_eq!(Theirs::scan_iter_bytes(&mut tl), bytes)).0;
    let ours_reads: [(String, Target, ReadAll); 3] = [
        (
            format!("scan_iter() of {n} × {PAYLOAD_LEN} B"),
            Target::None,
            &|l| {
                l.scan_iter()
                    .unwrap()
                    .map(|r| r.unwrap().payload.len())
                    .sum()
            },
        ),
        (
            format!("cursor()+next_view() of {n} (theirs: scan_iter)"),
            Target::None,
            &|l| {
                let mut cursor = l.cursor().unwrap();
                let mut bytes = 0usize;
                while let Some(v) = cursor.next_view().unwrap() {
                    bytes += black_box(v.payload).len();
                }
                bytes
            },
        ),
        (
            format!("cursor()+for_each_view() of {n} (theirs: scan_iter)"),
            Target::RateAtLeast(40e6),
            &|l| {
                let mut bytes = 0usize;
                l.cursor()
                    .unwrap()
                    .for_each_view(|v| bytes += black_box(v.payload).len())
                    .unwrap();
                bytes
            },
        ),
    ];
    for (name, target, read) in ours_reads {
        let times = duel(
            c.sizes.rounds,
            || timed(|| assert_eq!(read(&ol), bytes)).0,
            &mut theirs_scan_iter,
        );
        rows.push(Row::records_read(name, n, times, target));
    }
    drop((ol, tl));

    let times = duel(
        c.sizes.rounds,
        || {
            let (t, log) = timed(|| RecordLog::open(&ours_dir).unwrap());
            assert_eq!(log.next_txid(), n as u64 + 1);
            t
        },
        || timed(|| black_box(Theirs::open_log(&theirs_dir))).0,
    );
    rows.push(Row::pair(
        format!("RecordLog::open on {n} records"),
        "open",
        1,
        times,
        Target::AtMost(0.33),
        false,
    ));
}

/// `n` puts into a fresh store, no fsync; the first round's store is kept
/// in `keep` for the rows after it.
fn put<S: Side>(c: &Ctx, keep: &mut Option<PathBuf>, tag: &str) -> Duration {
    let d = match keep {
        None => c.dirs.fresh(tag),
        Some(_) => c.dirs.fresh("put"),
    };
    let mut db = S::open_kv(&d);
    let t = timed(|| {
        for k in &c.keys {
            S::put(&mut db, k, &c.p);
        }
    })
    .0;
    S::kv_fsync(&mut db);
    drop(db);
    if keep.is_none() {
        *keep = Some(d);
    } else {
        std::fs::remove_dir_all(&d).unwrap();
    }
    t
}

/// The open of a store of `n` keys, and the heap bytes it left live.
fn open_kv<S: Side>(c: &Ctx, dir: &Path, mem: &mut isize) -> Duration {
    let before = live_bytes();
    let (t, db) = timed(|| S::open_kv(dir));
    *mem = live_bytes() - before;
    assert_eq!(S::kv_len(&db), c.sizes.n);
    t
}

/// `n` gets in the same pseudo-random order for both.
fn gets<S: Side>(db: &mut S::Kv, c: &Ctx, order: &[usize]) -> Duration {
    timed(|| {
        for &i in order {
            let v = S::get(db, &c.keys[i]);
            debug_assert!(v.is_some());
            black_box(v);
        }
    })
    .0
}

/// Deletes of `dels` live keys, no fsync.
fn deletes<S: Side>(c: &Ctx, dels: usize) -> Duration {
    c.scratch("del", |d| {
        let mut db = S::open_kv(d);
        for k in &c.keys[..dels] {
            S::put(&mut db, k, &c.p);
        }
        let t = timed(|| {
            for k in &c.keys[..dels] {
                S::delete(&mut db, k);
            }
        })
        .0;
        assert_eq!(S::kv_len(&db), 0);
        t
    })
}

/// The key/value rows: put, open (with the heap it keeps), get, delete.
/// The bytes per key the open kept live, `(ours, theirs)`.
fn kv_rows(c: &Ctx, rows: &mut Vec<Row>) -> (isize, isize) {
    let n = c.sizes.n;
    let (mut kv_ours, mut kv_theirs) = (None, None);
    rows.push(Row::pair(
        format!("DataWal::put {n} keys × {PAYLOAD_LEN} B, no fsync"),
        "put",
        n,
        c.duel(
            || put::<Ours>(c, &mut kv_ours, "kv-ours"),
            || put::<Theirs>(c, &mut kv_theirs, "kv-theirs"),
        ),
        Target::None,
        false,
    ));
    let (kv_ours, kv_theirs) = (kv_ours.unwrap(), kv_theirs.unwrap());

    let mut mem = (0isize, 0isize);
    rows.push(Row::pair(
        format!("DataWal::open with {n} keys"),
        "open",
        1,
        c.duel(
            || open_kv::<Ours>(c, &kv_ours, &mut mem.0),
            || open_kv::<Theirs>(c, &kv_theirs, &mut mem.1),
        ),
        Target::AtMost(0.25),
        false,
    ));

    let order: Vec<usize> = {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % n as u64) as usize
            })
            .collect()
    };
    let mut db = Ours::open_kv(&kv_ours);
    let mut tdb = Theirs::open_kv(&kv_theirs);
    rows.push(Row::pair(
        format!("DataWal::get, random, {n} keys"),
        "get",
        n,
        c.duel(
            || gets::<Ours>(&mut db, c, &order),
            || gets::<Theirs>(&mut tdb, c, &order),
        ),
        Target::AtMost(0.9),
        false,
    ));

    let dels = n / 5;
    rows.push(Row::pair(
        format!("DataWal::delete {dels} live keys, no fsync"),
        "delete",
        dels,
        c.duel(|| deletes::<Ours>(c, dels), || deletes::<Theirs>(c, dels)),
        Target::None,
        false,
    ));
    mem
}

/// A store of `n` puts over `n / 2` keys: every key written twice, the
/// second pass in a scrambled order, so live records are not in key order
/// on disk.
fn overwritten_store<S: Side>(c: &Ctx, dir: &Path) -> S::Kv {
    let live = c.sizes.n / 2;
    let step = 7919 % live.max(1);
    let mut db = S::open_kv(dir);
    for k in &c.keys[..live] {
        S::put(&mut db, k, &c.p);
    }
    let mut v = c.p.clone();
    v[0] = 1;
    for i in 0..live {
        S::put(&mut db, &c.keys[(i * step) % live], &v);
    }
    S::kv_fsync(&mut db);
    assert_eq!(S::kv_len(&db), live);
    db
}

fn compact<S: Side>(c: &Ctx, db: &mut S::Kv) -> Duration {
    let out = c.dirs.fresh("compact");
    let (t, live) = timed(|| S::compact_to(db, &out));
    assert_eq!(live, (c.sizes.n / 2) as u64);
    std::fs::remove_dir_all(&out).unwrap();
    t
}

fn export<S: Side>(c: &Ctx, db: &mut S::Kv) -> Duration {
    let out = c.dirs.fresh("export").with_extension("jsonl");
    let t = timed(|| S::export_jsonl(db, &out)).0;
    std::fs::remove_file(&out).unwrap();
    t
}

/// `compact_to` and `export_jsonl` of a store with dead versions.
fn compaction_rows(c: &Ctx, rows: &mut Vec<Row>) {
    let (n, live) = (c.sizes.n, c.sizes.n / 2);
    let mut db = overwritten_store::<Ours>(c, &c.dirs.fresh("cmp-ours"));
    let mut tdb = overwritten_store::<Theirs>(c, &c.dirs.fresh("cmp-theirs"));
    rows.push(Row::pair(
        format!("compact_to: {n} puts, {live} live keys"),
        "compaction",
        1,
        c.duel(
            || compact::<Ours>(c, &mut db),
            || compact::<Theirs>(c, &mut tdb),
        ),
        Target::AtMost(0.35),
        true,
    ));
    rows.push(Row::pair(
        format!("export_jsonl: {live} live keys"),
        "export",
        1,
        c.duel(
            || export::<Ours>(c, &mut db),
            || export::<Theirs>(c, &mut tdb),
        ),
        Target::None,
        true,
    ));
}

/// The heap bytes per key a store of `count` keys keeps live after open,
/// `(ours, theirs)`.
fn keydir_bytes_per_key(c: &Ctx, count: usize) -> (f64, f64) {
    let ours_dir = c.dirs.fresh("mem-ours");
    let theirs_dir = c.dirs.fresh("mem-theirs");
    {
        let mut db = Ours::open_kv(&ours_dir);
        let mut tdb = Theirs::open_kv(&theirs_dir);
        for k in (0..count).map(key) {
            Ours::put(&mut db, &k, &c.p);
            Theirs::put(&mut tdb, &k, &c.p);
        }
    }
    fn kept<S: Side>(dir: &Path, count: usize) -> f64 {
        let before = live_bytes();
        let db = S::open_kv(dir);
        let bytes = live_bytes() - before;
        drop(db);
        bytes as f64 / count as f64
    }
    let out = (
        kept::<Ours>(&ours_dir, count),
        kept::<Theirs>(&theirs_dir, count),
    );
    std::fs::remove_dir_all(&ours_dir).unwrap();
    std::fs::remove_dir_all(&theirs_dir).unwrap();
    out
}

/// The key directory's memory rows: at `n` (from the open row), and at
/// both ends of a doubling of the hash table around `n` (its bytes per key
/// depend on where the key count falls between two doublings).
fn memory_rows(c: &Ctx, (mem_ours, mem_theirs): (isize, isize)) {
    let n = c.sizes.n;
    let key_len = c.keys[0].len() as f64;
    let verdict = |per_key: f64| {
        if per_key - key_len <= 48.0 {
            "met"
        } else {
            "MISSED"
        }
    };
    let print = |label: String, ours: f64, theirs: f64| {
        println!(
            "| {label} | {ours:.1} B/key (key + {:.1}) | {theirs:.1} B/key (key + {:.1}) | {:.3} | ≤ key + 48: {} | no |",
            ours - key_len,
            theirs - key_len,
            ours / theirs,
            verdict(ours),
        );
    };
    print(
        format!("keydir memory after DataWal::open ({n} keys of {key_len} B)"),
        mem_ours as f64 / n as f64,
        mem_theirs as f64 / n as f64,
    );
    if std::env::var_os("DATAWAL_BENCH_NO_SWEEP").is_some() {
        return;
    }
    let buckets = ((n * 8).div_ceil(7)).next_power_of_two();
    let fullest = buckets / 8 * 7;
    for count in [fullest, fullest + 1] {
        let (ours, theirs) = keydir_bytes_per_key(c, count);
        let when = if count == fullest {
            "table fullest"
        } else {
            "just after the table doubled"
        };
        print(
            format!("keydir memory, {count} keys ({when})"),
            ours,
            theirs,
        );
    }
}

fn main() {
    let sizes = Sizes::from_env();
    let base = match std::env::var_os("DATAWAL_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    let c = Ctx {
        keys: (0..sizes.n).map(key).collect(),
        sizes,
        dirs: Dirs::new(base.path().to_path_buf()),
        p: payload(),
    };
    let mut rows: Vec<Row> = Vec::new();
    if c.sizes.only_hints {
        hints::hint_rows(&c.sizes, &c.dirs, &mut rows);
        print_rows(&rows);
        return;
    }
    eprintln!(
        "datawal compare: n = {}, fsyncs = {}, batches = {} × {BATCH}, rounds = {}, dir = {}",
        c.sizes.n,
        c.sizes.fsyncs,
        c.sizes.batches,
        c.sizes.rounds,
        base.path().display()
    );
    write_rows(&c, &mut rows);
    read_rows(&c, &mut rows);
    let mem = kv_rows(&c, &mut rows);
    compaction_rows(&c, &mut rows);
    hints::hint_rows(&c.sizes, &c.dirs, &mut rows);
    print_rows(&rows);
    memory_rows(&c, mem);
}
