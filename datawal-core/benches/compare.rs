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
//! Each figure is the median of several rounds; the two crates alternate
//! round by round so that a noisy neighbour hurts both alike. Reads come
//! from the page cache (every store is written just before it is read).
//! Rows marked "fsync" depend on the disk and filesystem more than on code.
//!
//! Keydir memory is measured with a counting global allocator: bytes live
//! after `DataWal::open` minus bytes live before, per live key, minus the
//! key length (allocator bookkeeping is not counted by either crate).

use std::alloc::{GlobalAlloc, Layout, System};

use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use datawal_core::{DataWal, RecordLog, RecordType};

mod harness;
use harness::{duel, timed, Dirs};

/// Counts live heap bytes (requested sizes).
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged and only adds bookkeeping on an atomic counter.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live_bytes() -> isize {
    LIVE.load(Ordering::Relaxed)
}

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

/// One row of the table: the time of each crate for `ops` operations.
struct Row {
    name: String,
    unit: &'static str,
    ops: usize,
    ours: Duration,
    theirs: Option<Duration>,
    target: Target,
    fsync: bool,
}

impl Row {
    /// A row of `n` records read from page cache by both crates (no fsync).
    fn records_read(
        name: String,
        n: usize,
        (ours, theirs): (Duration, Duration),
        target: Target,
    ) -> Row {
        Row {
            name,
            unit: "record",
            ops: n,
            ours,
            theirs: Some(theirs),
            target,
            fsync: false,
        }
    }
}

#[derive(Clone, Copy)]
enum Target {
    /// ours / theirs at most this.
    AtMost(f64),
    /// Throughput ours / theirs at least this (time ratio at most 1/x).
    ThroughputAtLeast(f64),
    /// Operations per second at least this (ours only).
    RateAtLeast(f64),
    /// Our time per operation at most this many milliseconds.
    MillisAtMost(f64),
    None,
}

impl Row {
    fn per_op(d: Duration, ops: usize) -> f64 {
        d.as_secs_f64() * 1e9 / ops as f64
    }

    fn ratio(&self) -> Option<f64> {
        self.theirs
            .map(|t| self.ours.as_secs_f64() / t.as_secs_f64())
    }

    fn verdict(&self) -> String {
        let ratio = self.ratio();
        match (self.target, ratio) {
            (Target::AtMost(x), Some(r)) => {
                format!("≤ {x:.2}: {}", if r <= x { "met" } else { "MISSED" })
            }
            (Target::ThroughputAtLeast(x), Some(r)) => {
                let gain = 1.0 / r;
                format!(
                    "≥ {x:.1}× throughput ({gain:.2}×): {}",
                    if gain >= x { "met" } else { "MISSED" }
                )
            }
            (Target::RateAtLeast(x), _) => {
                let rate = self.ops as f64 / self.ours.as_secs_f64();
                format!(
                    "≥ {:.0} M/s ({:.1} M/s): {}",
                    x / 1e6,
                    rate / 1e6,
                    if rate >= x { "met" } else { "MISSED" }
                )
            }
            (Target::MillisAtMost(x), _) => {
                let ms = self.ours.as_secs_f64() * 1e3 / self.ops as f64;
                format!(
                    "≤ {x} ms ({ms:.2} ms): {}",
                    if ms <= x { "met" } else { "MISSED" }
                )
            }
            _ => "-".to_string(),
        }
    }
}

fn fill_ours_log(dir: &Path, n: usize, p: &[u8]) {
    let mut log = RecordLog::open(dir).unwrap();
    for _ in 0..n {
        log.append(p).unwrap();
    }
    log.fsync().unwrap();
}

fn fill_theirs_log(dir: &Path, n: usize, p: &[u8]) {
    let mut log = datawal015::RecordLog::open(dir).unwrap();
    for _ in 0..n {
        log.append(p).unwrap();
    }
    log.fsync().unwrap();
}

/// Copy the store `from` into `to`: segments and the floor, and the hint
/// files when `hints`.
fn copy_store(from: &Path, to: &Path, hints: bool) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".hint") && !hints || name.starts_with('.') {
            continue;
        }
        std::fs::copy(e.path(), to.join(&name)).unwrap();
    }
}

/// `DataWal::open` and `RecordLog::open` of stores written and synced by
/// this crate, whose segments have hint files (`{id:08}.hint`): with the
/// hints, without them (a full replay, as before hints existed), and with
/// a byte of a hint's entries changed (the worst damage: found only as the
/// entries are applied, after which the open replays without that hint;
/// the writer's open then removes it, so it is put back before each
/// round). The published crate opens the same data.
fn hint_rows(sizes: &Sizes, dirs: &Dirs, rows: &mut Vec<Row>) {
    let p = payload();
    for &keys in &sizes.hint_keys {
        let ours = dirs.fresh("hinted");
        let theirs = dirs.fresh("hinted-theirs");
        {
            let mut db = DataWal::open(&ours).unwrap();
            let mut tdb = datawal015::DataWal::open(&theirs).unwrap();
            for i in 0..keys {
                db.put(&key(i), &p).unwrap();
                tdb.put(&key(i), &p).unwrap();
            }
            db.fsync().unwrap();
            tdb.fsync().unwrap();
            // Dropped synced: the active segment gets its hint.
        }
        assert!(
            datawal_core::hint_path(&ours, 1).exists(),
            "no hint written"
        );
        let bare = dirs.fresh("unhinted");
        copy_store(&ours, &bare, false);
        let damaged = dirs.fresh("damaged");
        copy_store(&ours, &damaged, true);
        let spoiled = {
            let mut b = std::fs::read(datawal_core::hint_path(&damaged, 1)).unwrap();
            let at = b.len() - 3;
            b[at] ^= 0x20;
            b
        };
        let open = |dir: &Path, from_hints: bool| {
            let (t, db) = timed(|| DataWal::open(dir).unwrap());
            assert_eq!(db.len(), keys);
            let used = db.log().recovery_report().unwrap().bytes_from_hints;
            assert_eq!(used > 0, from_hints, "{}", dir.display());
            drop(db);
            t
        };
        let theirs_open = || {
            let (t, db) = timed(|| datawal015::DataWal::open(&theirs).unwrap());
            assert_eq!(db.len(), keys);
            drop(db);
            t
        };
        for (label, dir, from_hints, target) in [
            ("hints present", &ours, true, keys <= 100_000),
            ("no hints", &bare, false, false),
            ("a hint's entries damaged", &damaged, false, false),
        ] {
            let times = duel(
                sizes.rounds,
                || {
                    if dir == &damaged {
                        std::fs::write(datawal_core::hint_path(dir, 1), &spoiled).unwrap();
                    }
                    open(dir, from_hints)
                },
                theirs_open,
            );
            rows.push(Row {
                name: format!("DataWal::open, {keys} keys, {label}"),
                unit: "open",
                ops: 1,
                ours: times.0,
                theirs: Some(times.1),
                target: match (from_hints, target) {
                    (true, true) => Target::MillisAtMost(3.0),
                    (true, false) => Target::MillisAtMost(25.0),
                    _ => Target::None,
                },
                fsync: false,
            });
        }
        // The log alone: hint headers only, against a read of every frame.
        let log_open = |dir: &Path| {
            let (t, log) = timed(|| RecordLog::open(dir).unwrap());
            assert_eq!(log.next_txid(), keys as u64 + 1);
            drop(log);
            t
        };
        let times = duel(sizes.rounds, || log_open(&ours), || log_open(&bare));
        rows.push(Row {
            name: format!(
                "RecordLog::open, {keys} records, hints (theirs: our open without hints)"
            ),
            unit: "open",
            ops: 1,
            ours: times.0,
            theirs: Some(times.1),
            target: Target::None,
            fsync: false,
        });
        for d in [&ours, &theirs, &bare, &damaged] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }
}

fn print_rows(rows: &[Row]) {
    println!();
    println!("| workload | ours | published 0.1.5 | ratio (ours/theirs) | target | fsync-bound |");
    println!("|---|---:|---:|---:|---|---|");
    for r in rows {
        let fmt = |d: Duration| {
            let ns = Row::per_op(d, r.ops);
            if ns >= 1e6 {
                format!("{:.2} ms/{}", ns / 1e6, r.unit)
            } else if ns >= 1e3 {
                format!("{:.2} µs/{}", ns / 1e3, r.unit)
            } else {
                format!("{:.1} ns/{}", ns, r.unit)
            }
        };
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.name,
            fmt(r.ours),
            r.theirs.map(fmt).unwrap_or_else(|| "-".into()),
            r.ratio()
                .map(|x| format!("{x:.3}"))
                .unwrap_or_else(|| "-".into()),
            r.verdict(),
            if r.fsync { "yes" } else { "no" },
        );
    }
}

fn main() {
    let sizes = Sizes::from_env();
    let base = match std::env::var_os("DATAWAL_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    let dirs = Dirs::new(base.path().to_path_buf());
    let p = payload();
    let n = sizes.n;
    let mut rows: Vec<Row> = Vec::new();
    if sizes.only_hints {
        hint_rows(&sizes, &dirs, &mut rows);
        print_rows(&rows);
        return;
    }
    eprintln!(
        "datawal compare: n = {n}, fsyncs = {}, batches = {} × {BATCH}, rounds = {}, dir = {}",
        sizes.fsyncs,
        sizes.batches,
        sizes.rounds,
        base.path().display()
    );

    // --- append, no fsync -------------------------------------------------
    let (ours, theirs) = duel(
        sizes.rounds,
        || {
            let d = dirs.fresh("append");
            let mut log = RecordLog::open(&d).unwrap();
            let t = timed(|| {
                for _ in 0..n {
                    black_box(log.append(black_box(&p)).unwrap());
                }
            })
            .0;
            drop(log);
            std::fs::remove_dir_all(&d).unwrap();
            t
        },
        || {
            let d = dirs.fresh("append");
            let mut log = datawal015::RecordLog::open(&d).unwrap();
            let t = timed(|| {
                for _ in 0..n {
                    black_box(log.append(black_box(&p)).unwrap());
                }
            })
            .0;
            drop(log);
            std::fs::remove_dir_all(&d).unwrap();
            t
        },
    );
    rows.push(Row {
        name: format!("append {PAYLOAD_LEN} B, no fsync"),
        unit: "record",
        ops: n,
        ours,
        theirs: Some(theirs),
        target: Target::AtMost(1.1),
        fsync: false,
    });

    // --- append + fsync after each -----------------------------------------
    let m = sizes.fsyncs;
    let (ours, theirs) = duel(
        sizes.rounds,
        || {
            let d = dirs.fresh("fsync");
            let mut log = RecordLog::open(&d).unwrap();
            log.append(&p).unwrap();
            log.fsync().unwrap();
            let t = timed(|| {
                for _ in 0..m {
                    log.append(&p).unwrap();
                    log.fsync().unwrap();
                }
            })
            .0;
            drop(log);
            std::fs::remove_dir_all(&d).unwrap();
            t
        },
        || {
            let d = dirs.fresh("fsync");
            let mut log = datawal015::RecordLog::open(&d).unwrap();
            log.append(&p).unwrap();
            log.fsync().unwrap();
            let t = timed(|| {
                for _ in 0..m {
                    log.append(&p).unwrap();
                    log.fsync().unwrap();
                }
            })
            .0;
            drop(log);
            std::fs::remove_dir_all(&d).unwrap();
            t
        },
    );
    rows.push(Row {
        name: format!("append {PAYLOAD_LEN} B + fsync each"),
        unit: "record",
        ops: m,
        ours,
        theirs: Some(theirs),
        target: Target::AtMost(0.75),
        fsync: true,
    });

    // --- batch of 100 + one fsync -------------------------------------------
    let b = sizes.batches;
    let (ours, theirs) = duel(
        sizes.rounds,
        || {
            let d = dirs.fresh("batch");
            let mut log = RecordLog::open(&d).unwrap();
            log.append(&p).unwrap();
            log.fsync().unwrap();
            let t = timed(|| {
                for _ in 0..b {
                    log.append_batch((0..BATCH).map(|_| (RecordType::Raw, &b""[..], &p[..])))
                        .unwrap();
                    log.fsync().unwrap();
                }
            })
            .0;
            drop(log);
            std::fs::remove_dir_all(&d).unwrap();
            t
        },
        || {
            let d = dirs.fresh("batch");
            let mut log = datawal015::RecordLog::open(&d).unwrap();
            log.append(&p).unwrap();
            log.fsync().unwrap();
            let t = timed(|| {
                for _ in 0..b {
                    for _ in 0..BATCH {
                        log.append(&p).unwrap();
                    }
                    log.fsync().unwrap();
                }
            })
            .0;
            drop(log);
            std::fs::remove_dir_all(&d).unwrap();
            t
        },
    );
    rows.push(Row {
        name: format!(
            "append_batch {BATCH} × {PAYLOAD_LEN} B + fsync (theirs: {BATCH} appends + fsync)"
        ),
        unit: "record",
        ops: b * BATCH,
        ours,
        theirs: Some(theirs),
        target: Target::ThroughputAtLeast(2.0),
        fsync: true,
    });

    // --- scan, scan_iter, cursor, open of a log of n records ---------------
    let ours_dir = dirs.fresh("log-ours");
    let theirs_dir = dirs.fresh("log-theirs");
    fill_ours_log(&ours_dir, n, &p);
    fill_theirs_log(&theirs_dir, n, &p);
    assert_eq!(
        std::fs::read(ours_dir.join("00000001.dwal")).unwrap(),
        std::fs::read(theirs_dir.join("00000001.dwal")).unwrap(),
        "both crates must write the same bytes"
    );
    {
        let mut ol = RecordLog::open(&ours_dir).unwrap();
        let mut tl = datawal015::RecordLog::open(&theirs_dir).unwrap();
        let times = duel(
            sizes.rounds,
            || {
                let (t, v) = timed(|| ol.scan().unwrap());
                assert_eq!(v.len(), n);
                drop(black_box(v));
                t
            },
            || {
                let (t, v) = timed(|| tl.scan().unwrap());
                assert_eq!(v.len(), n);
                drop(black_box(v));
                t
            },
        );
        rows.push(Row::records_read(
            format!("scan() of {n} × {PAYLOAD_LEN} B"),
            n,
            times,
            Target::AtMost(0.33),
        ));

        // The published crate's streaming read: what the three rows below
        // are compared with.
        let theirs_scan_iter = || {
            timed(|| {
                let mut bytes = 0usize;
                for r in tl.scan_iter().unwrap() {
                    bytes += r.unwrap().payload.len();
                }
                assert_eq!(bytes, n * PAYLOAD_LEN);
            })
            .0
        };

        let times = duel(
            sizes.rounds,
            || {
                timed(|| {
                    let mut bytes = 0usize;
                    for r in ol.scan_iter().unwrap() {
                        bytes += r.unwrap().payload.len();
                    }
                    assert_eq!(bytes, n * PAYLOAD_LEN);
                })
                .0
            },
            &theirs_scan_iter,
        );
        rows.push(Row::records_read(
            format!("scan_iter() of {n} × {PAYLOAD_LEN} B"),
            n,
            times,
            Target::None,
        ));

        let times = duel(
            sizes.rounds,
            || {
                timed(|| {
                    let mut cursor = ol.cursor().unwrap();
                    let mut bytes = 0usize;
                    while let Some(v) = cursor.next_view().unwrap() {
                        bytes += black_box(v.payload).len();
                    }
                    assert_eq!(bytes, n * PAYLOAD_LEN);
                })
                .0
            },
            &theirs_scan_iter,
        );
        rows.push(Row::records_read(
            format!("cursor()+next_view() of {n} (theirs: scan_iter)"),
            n,
            times,
            Target::None,
        ));

        let times = duel(
            sizes.rounds,
            || {
                timed(|| {
                    let mut bytes = 0usize;
                    ol.cursor()
                        .unwrap()
                        .for_each_view(|v| bytes += black_box(v.payload).len())
                        .unwrap();
                    assert_eq!(bytes, n * PAYLOAD_LEN);
                })
                .0
            },
            &theirs_scan_iter,
        );
        rows.push(Row::records_read(
            format!("cursor()+for_each_view() of {n} (theirs: scan_iter)"),
            n,
            times,
            Target::RateAtLeast(40e6),
        ));
    }
    let (ours, theirs) = duel(
        sizes.rounds,
        || {
            let (t, log) = timed(|| RecordLog::open(&ours_dir).unwrap());
            assert_eq!(log.next_txid(), n as u64 + 1);
            drop(log);
            t
        },
        || {
            let (t, log) = timed(|| datawal015::RecordLog::open(&theirs_dir).unwrap());
            drop(black_box(log));
            t
        },
    );
    rows.push(Row {
        name: format!("RecordLog::open on {n} records"),
        unit: "open",
        ops: 1,
        ours,
        theirs: Some(theirs),
        target: Target::AtMost(0.33),
        fsync: false,
    });

    // --- DataWal: put, open, get, delete ----------------------------------
    let keys: Vec<Vec<u8>> = (0..n).map(key).collect();
    let kv_ours = dirs.fresh("kv-ours");
    let kv_theirs = dirs.fresh("kv-theirs");
    let mut first = (true, true);
    let (ours, theirs) = duel(
        sizes.rounds,
        || {
            let d = if first.0 {
                first.0 = false;
                kv_ours.clone()
            } else {
                dirs.fresh("put")
            };
            let mut db = DataWal::open(&d).unwrap();
            let t = timed(|| {
                for k in &keys {
                    db.put(k, &p).unwrap();
                }
            })
            .0;
            db.fsync().unwrap();
            drop(db);
            if d != kv_ours {
                std::fs::remove_dir_all(&d).unwrap();
            }
            t
        },
        || {
            let d = if first.1 {
                first.1 = false;
                kv_theirs.clone()
            } else {
                dirs.fresh("put")
            };
            let mut db = datawal015::DataWal::open(&d).unwrap();
            let t = timed(|| {
                for k in &keys {
                    db.put(k, &p).unwrap();
                }
            })
            .0;
            db.fsync().unwrap();
            drop(db);
            if d != kv_theirs {
                std::fs::remove_dir_all(&d).unwrap();
            }
            t
        },
    );
    rows.push(Row {
        name: format!("DataWal::put {n} keys × {PAYLOAD_LEN} B, no fsync"),
        unit: "put",
        ops: n,
        ours,
        theirs: Some(theirs),
        target: Target::None,
        fsync: false,
    });

    let (mut mem_ours, mut mem_theirs) = (0isize, 0isize);
    let (ours, theirs) = duel(
        sizes.rounds,
        || {
            let before = live_bytes();
            let (t, db) = timed(|| DataWal::open(&kv_ours).unwrap());
            mem_ours = live_bytes() - before;
            assert_eq!(db.len(), n);
            drop(db);
            t
        },
        || {
            let before = live_bytes();
            let (t, db) = timed(|| datawal015::DataWal::open(&kv_theirs).unwrap());
            mem_theirs = live_bytes() - before;
            assert_eq!(db.len(), n);
            drop(db);
            t
        },
    );
    rows.push(Row {
        name: format!("DataWal::open with {n} keys"),
        unit: "open",
        ops: 1,
        ours,
        theirs: Some(theirs),
        target: Target::AtMost(0.25),
        fsync: false,
    });

    // Same pseudo-random sequence of keys for both.
    let gets = n;
    let order: Vec<usize> = {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        (0..gets)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % n as u64) as usize
            })
            .collect()
    };
    {
        let db = DataWal::open(&kv_ours).unwrap();
        let mut tdb = datawal015::DataWal::open(&kv_theirs).unwrap();
        let (ours, theirs) = duel(
            sizes.rounds,
            || {
                timed(|| {
                    for &i in &order {
                        let v = db.get(&keys[i]).unwrap();
                        debug_assert!(v.is_some());
                        black_box(v);
                    }
                })
                .0
            },
            || {
                timed(|| {
                    for &i in &order {
                        let v = tdb.get(&keys[i]).unwrap();
                        debug_assert!(v.is_some());
                        black_box(v);
                    }
                })
                .0
            },
        );
        rows.push(Row {
            name: format!("DataWal::get, random, {n} keys"),
            unit: "get",
            ops: gets,
            ours,
            theirs: Some(theirs),
            target: Target::AtMost(0.9),
            fsync: false,
        });
    }

    let dels = n / 5;
    let (ours, theirs) = duel(
        sizes.rounds,
        || {
            let d = dirs.fresh("del");
            let mut db = DataWal::open(&d).unwrap();
            for k in &keys[..dels] {
                db.put(k, &p).unwrap();
            }
            let t = timed(|| {
                for k in &keys[..dels] {
                    db.delete(k).unwrap();
                }
            })
            .0;
            assert!(db.is_empty());
            drop(db);
            std::fs::remove_dir_all(&d).unwrap();
            t
        },
        || {
            let d = dirs.fresh("del");
            let mut db = datawal015::DataWal::open(&d).unwrap();
            for k in &keys[..dels] {
                db.put(k, &p).unwrap();
            }
            let t = timed(|| {
                for k in &keys[..dels] {
                    db.delete(k).unwrap();
                }
            })
            .0;
            assert!(db.is_empty());
            drop(db);
            std::fs::remove_dir_all(&d).unwrap();
            t
        },
    );
    rows.push(Row {
        name: format!("DataWal::delete {dels} live keys, no fsync"),
        unit: "delete",
        ops: dels,
        ours,
        theirs: Some(theirs),
        target: Target::None,
        fsync: false,
    });

    // --- compact_to and export_jsonl: n puts over n/2 keys -----------------
    // Every key is written twice; the second pass goes in a scrambled order,
    // so live records are not in key order on disk.
    let live = n / 2;
    let step = 7919 % live.max(1);
    let cmp_ours = dirs.fresh("cmp-ours");
    let cmp_theirs = dirs.fresh("cmp-theirs");
    {
        let mut db = DataWal::open(&cmp_ours).unwrap();
        let mut tdb = datawal015::DataWal::open(&cmp_theirs).unwrap();
        for k in &keys[..live] {
            db.put(k, &p).unwrap();
            tdb.put(k, &p).unwrap();
        }
        for i in 0..live {
            let k = &keys[(i * step) % live];
            let mut v = p.clone();
            v[0] = 1;
            db.put(k, &v).unwrap();
            tdb.put(k, &v).unwrap();
        }
        db.fsync().unwrap();
        tdb.fsync().unwrap();
        assert_eq!(db.len(), live);
    }
    {
        let db = DataWal::open(&cmp_ours).unwrap();
        let mut tdb = datawal015::DataWal::open(&cmp_theirs).unwrap();
        let (ours, theirs) = duel(
            sizes.rounds,
            || {
                let out = dirs.fresh("compact");
                let (t, stats) = timed(|| db.compact_to(&out).unwrap());
                assert_eq!(stats.live_keys, live as u64);
                std::fs::remove_dir_all(&out).unwrap();
                t
            },
            || {
                let out = dirs.fresh("compact");
                let (t, stats) = timed(|| tdb.compact_to(&out).unwrap());
                assert_eq!(stats.live_keys, live as u64);
                std::fs::remove_dir_all(&out).unwrap();
                t
            },
        );
        rows.push(Row {
            name: format!("compact_to: {n} puts, {live} live keys"),
            unit: "compaction",
            ops: 1,
            ours,
            theirs: Some(theirs),
            target: Target::AtMost(0.35),
            fsync: true,
        });

        let (ours, theirs) = duel(
            sizes.rounds,
            || {
                let out = dirs.fresh("export").with_extension("jsonl");
                let t = timed(|| db.export_jsonl(&out).unwrap()).0;
                std::fs::remove_file(&out).unwrap();
                t
            },
            || {
                let out = dirs.fresh("export").with_extension("jsonl");
                let t = timed(|| tdb.export_jsonl(&out).unwrap()).0;
                std::fs::remove_file(&out).unwrap();
                t
            },
        );
        rows.push(Row {
            name: format!("export_jsonl: {live} live keys"),
            unit: "export",
            ops: 1,
            ours,
            theirs: Some(theirs),
            target: Target::None,
            fsync: true,
        });
    }

    // --- open with and without hints --------------------------------------
    hint_rows(&sizes, &dirs, &mut rows);

    // --- table -------------------------------------------------------------
    print_rows(&rows);
    let key_len = keys[0].len() as f64;
    let per = |m: isize| m as f64 / n as f64;
    let verdict = if per(mem_ours) - key_len <= 48.0 {
        "met"
    } else {
        "MISSED"
    };
    println!(
        "| keydir memory after DataWal::open ({n} keys of {} B) | {:.1} B/key (key + {:.1}) | {:.1} B/key (key + {:.1}) | {:.3} | ≤ key + 48: {verdict} | no |",
        key_len,
        per(mem_ours),
        per(mem_ours) - key_len,
        per(mem_theirs),
        per(mem_theirs) - key_len,
        mem_ours as f64 / mem_theirs as f64,
    );

    // The keydir's bytes per key depend on where the key count falls
    // between two doublings of the hash table: measure both ends around n.
    if std::env::var_os("DATAWAL_BENCH_NO_SWEEP").is_none() {
        let buckets = ((n * 8).div_ceil(7)).next_power_of_two();
        let fullest = buckets / 8 * 7;
        for count in [fullest, fullest + 1] {
            let ours_dir = dirs.fresh("mem-ours");
            let theirs_dir = dirs.fresh("mem-theirs");
            let keys: Vec<Vec<u8>> = (0..count).map(key).collect();
            {
                let mut db = DataWal::open(&ours_dir).unwrap();
                let mut tdb = datawal015::DataWal::open(&theirs_dir).unwrap();
                for k in &keys {
                    db.put(k, &p).unwrap();
                    tdb.put(k, &p).unwrap();
                }
            }
            let before = live_bytes();
            let db = DataWal::open(&ours_dir).unwrap();
            let ours = (live_bytes() - before) as f64 / count as f64;
            drop(db);
            let before = live_bytes();
            let tdb = datawal015::DataWal::open(&theirs_dir).unwrap();
            let theirs = (live_bytes() - before) as f64 / count as f64;
            drop(tdb);
            let verdict = if ours - key_len <= 48.0 {
                "met"
            } else {
                "MISSED"
            };
            println!(
                "| keydir memory, {count} keys ({}) | {ours:.1} B/key (key + {:.1}) | {theirs:.1} B/key (key + {:.1}) | {:.3} | ≤ key + 48: {verdict} | no |",
                if count == fullest { "table fullest" } else { "just after the table doubled" },
                ours - key_len,
                theirs - key_len,
                ours / theirs,
            );
            std::fs::remove_dir_all(&ours_dir).unwrap();
            std::fs::remove_dir_all(&theirs_dir).unwrap();
        }
    }
}
