//! The peers benchmark: datawal against SQLite, redb, fjall, okaywal and
//! hand-written JSONL on the same workloads, interleaved round by round (each
//! round runs every system once per workload, in an order rotated by one
//! each round), each run in a fresh directory under one base directory.
//! Prints markdown tables: medians, min–max, and ratios to datawal taken
//! within each round. See `--help` and docs/benchmarks.md, "Peers".

mod data;
mod floor;
mod peer;
mod report;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};

use floor::Floor;
use peer::{Peer, Sizes, Workload};
use report::{Metric, Results};

const HELP: &str = "\
datawal-peers: datawal against SQLite, redb, fjall, okaywal and JSONL + fdatasync

USAGE: cargo run --release [--features shared] -- [OPTIONS]

OPTIONS (environment variable in brackets):
  --rounds N          rounds; every system runs every workload once a round [PEERS_ROUNDS] (5)
  --only LIST         workloads, comma-separated: w1,w2,w3,w4,w5,w6,w7,w8,floor [PEERS_WORKLOADS] (all)
  --systems LIST      systems, comma-separated (all): datawal, datawal-shared (with --features
                      shared), datawal-prealloc (W1-W3 only), sqlite-full, sqlite-normal, redb, fjall, okaywal, jsonl [PEERS_SYSTEMS]
  --dir PATH          where the stores are created; its file system is what is measured
                      [PEERS_DIR] (the system temporary directory)
  --quick             small sizes and 3 rounds: a check that everything runs (about a minute)
  --w1 N              W1 records per round (2000)
  --w2-batches N      W2 batches of 100 per round (200)
  --threads N         W3 threads (8)
  --per-thread N      W3 records per thread (500)
  --big N             records of W4-W7 (1000000)
  --typed N           records of W8 (200000)
";

/// The settings of a run.
#[derive(Debug, Clone)]
struct Settings {
    rounds: usize,
    only: Vec<String>,
    systems: Option<Vec<String>>,
    dir: PathBuf,
    sizes: Sizes,
}

impl Settings {
    fn wants(&self, name: &str) -> bool {
        self.only.iter().any(|w| w == name)
    }
}

fn env_or(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_lowercase())
        .filter(|x| !x.is_empty())
        .collect()
}

fn number(v: &str, name: &str) -> Result<usize> {
    v.parse()
        .with_context(|| format!("{name}: not a number: {v}"))
}

fn parse_args(args: &[String]) -> Result<Option<Settings>> {
    let mut s = Settings {
        rounds: 5,
        only: list("w1,w2,w3,w4,w5,w6,w7,w8,floor"),
        systems: None,
        dir: std::env::temp_dir(),
        sizes: Sizes {
            w1: 2_000,
            w2_batches: 200,
            batch: 100,
            threads: 8,
            per_thread: 500,
            big: 1_000_000,
            typed: 200_000,
        },
    };
    if let Some(v) = env_or("PEERS_ROUNDS") {
        s.rounds = v.parse().context("PEERS_ROUNDS")?;
    }
    if let Some(v) = env_or("PEERS_WORKLOADS") {
        s.only = list(&v);
    }
    if let Some(v) = env_or("PEERS_SYSTEMS") {
        s.systems = Some(list(&v));
    }
    if let Some(v) = env_or("PEERS_DIR") {
        s.dir = v.into();
    }
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| -> Result<String> {
            it.next()
                .cloned()
                .with_context(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(None);
            }
            "--rounds" => s.rounds = number(&value("--rounds")?, "--rounds")?,
            "--only" => s.only = list(&value("--only")?),
            "--systems" => s.systems = Some(list(&value("--systems")?)),
            "--dir" => s.dir = value("--dir")?.into(),
            "--quick" => {
                s.rounds = 3;
                s.sizes = Sizes {
                    w1: 200,
                    w2_batches: 20,
                    batch: 100,
                    threads: 8,
                    per_thread: 50,
                    big: 100_000,
                    typed: 20_000,
                };
            }
            "--w1" => s.sizes.w1 = number(&value("--w1")?, "--w1")?,
            "--w2-batches" => s.sizes.w2_batches = number(&value("--w2-batches")?, "--w2-batches")?,
            "--threads" => s.sizes.threads = number(&value("--threads")?, "--threads")?,
            "--per-thread" => s.sizes.per_thread = number(&value("--per-thread")?, "--per-thread")?,
            "--big" => s.sizes.big = number(&value("--big")?, "--big")?,
            "--typed" => s.sizes.typed = number(&value("--typed")?, "--typed")?,
            // `cargo bench` passes this to every bench binary.
            "--bench" => {}
            other => bail!("unknown argument {other:?}; see --help"),
        }
    }
    let known = ["w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "floor"];
    for w in &s.only {
        ensure!(
            known.contains(&w.as_str()),
            "unknown workload {w:?}; known: {known:?}"
        );
    }
    ensure!(s.rounds > 0, "--rounds must be at least 1");
    ensure!(
        s.sizes.big > 0 && s.sizes.typed > 0 && s.sizes.w1 > 0,
        "sizes must be positive"
    );
    Ok(Some(s))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--child-w7") {
        return child_w7(&args[1..]);
    }
    let Some(settings) = parse_args(&args)? else {
        return Ok(());
    };
    let peers = peer::all();
    let peers: Vec<&dyn Peer> = match &settings.systems {
        None => peers.iter().map(|p| p.as_ref()).collect(),
        Some(names) => {
            for n in names {
                ensure!(
                    peers.iter().any(|p| p.name() == n),
                    "unknown system {n:?}; known: {:?}",
                    peers.iter().map(|p| p.name()).collect::<Vec<_>>()
                );
            }
            peers
                .iter()
                .filter(|p| names.iter().any(|n| n == p.name()))
                .map(|p| p.as_ref())
                .collect()
        }
    };
    ensure!(
        peers.iter().any(|p| p.name() == "datawal"),
        "datawal must be among the systems: every ratio is taken against it"
    );
    let base = settings
        .dir
        .join(format!("datawal-peers-{}", std::process::id()));
    std::fs::create_dir_all(&base).with_context(|| format!("create {}", base.display()))?;
    print_header(&settings, &base);
    let started = Instant::now();
    let mut results = Results::default();
    let run = run_rounds(&settings, &peers, &base, &mut results);
    let cleaned = std::fs::remove_dir_all(&base);
    run?;
    cleaned.with_context(|| format!("remove {}", base.display()))?;
    eprintln!("total time: {:.0} s", started.elapsed().as_secs_f64());
    print_report(&settings, &peers, &results);
    Ok(())
}

/// `datawal-peers --child-w7 SYSTEM DIR N`: run W7 of one system in this
/// process and print its timings and peak RSS on one line.
fn child_w7(args: &[String]) -> Result<()> {
    let [system, dir, n] = args else {
        bail!("--child-w7 SYSTEM DIR N");
    };
    let n: usize = n.parse()?;
    let peers = peer::all();
    let p = peers
        .iter()
        .find(|p| p.name() == system)
        .with_context(|| format!("no system {system}"))?;
    let times = p.w7(Path::new(dir), n)?;
    let rss = data::peak_rss_kib()?;
    println!(
        "W7 {} {} {}",
        times.puts.as_secs_f64(),
        times.gets.as_secs_f64(),
        rss
    );
    Ok(())
}

/// The workload groups in the order a round runs them. W4-W6 (log) share a
/// store, as do W7 and W6 (store).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    W1,
    W2,
    W3,
    Log,
    Kv,
    Typed,
    Floor,
}

impl Group {
    fn runs(self, p: &dyn Peer, s: &Settings) -> bool {
        match self {
            Group::W1 => p.runs(Workload::W1),
            Group::W2 => p.runs(Workload::W2),
            Group::W3 => p.runs(Workload::W3),
            Group::Log => {
                p.runs(Workload::W4)
                    && (s.wants("w4")
                        || (s.wants("w5") && p.runs(Workload::W5))
                        || (s.wants("w6") && p.runs(Workload::W6Log)))
            }
            Group::Kv => {
                p.runs(Workload::W7)
                    && (s.wants("w7") || (s.wants("w6") && p.runs(Workload::W6Store)))
            }
            Group::Typed => p.runs(Workload::W8),
            Group::Floor => false,
        }
    }

    fn selected(self, s: &Settings) -> bool {
        match self {
            Group::W1 => s.wants("w1"),
            Group::W2 => s.wants("w2"),
            Group::W3 => s.wants("w3"),
            Group::Log => s.wants("w4") || s.wants("w5") || s.wants("w6"),
            Group::Kv => s.wants("w7") || s.wants("w6"),
            Group::Typed => s.wants("w8"),
            Group::Floor => s.wants("floor"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Group::W1 => "w1",
            Group::W2 => "w2",
            Group::W3 => "w3",
            Group::Log => "log",
            Group::Kv => "kv",
            Group::Typed => "w8",
            Group::Floor => "floor",
        }
    }
}

const GROUPS: [Group; 7] = [
    Group::W1,
    Group::W2,
    Group::W3,
    Group::Log,
    Group::Kv,
    Group::Typed,
    Group::Floor,
];

fn rate(records: usize, t: Duration) -> f64 {
    records as f64 / t.as_secs_f64()
}

fn run_rounds(s: &Settings, peers: &[&dyn Peer], base: &Path, results: &mut Results) -> Result<()> {
    for round in 0..s.rounds {
        for group in GROUPS.into_iter().filter(|g| g.selected(s)) {
            if group == Group::Floor {
                let mut modes = Floor::ALL.to_vec();
                modes.rotate_left(round % Floor::ALL.len());
                for mode in modes {
                    let dir = base.join(format!("r{round}-floor-{mode:?}"));
                    let t = mode.run(&dir, s.sizes.w1);
                    data::clean(&dir)?;
                    let v = rate(s.sizes.w1, t?);
                    eprintln!(
                        "[round {}/{}] {}: {v:.0} records/s",
                        round + 1,
                        s.rounds,
                        mode.label()
                    );
                    results.add(Metric::floor(mode), "floor", round, v);
                }
                continue;
            }
            let mut order: Vec<&dyn Peer> = peers
                .iter()
                .copied()
                .filter(|p| group.runs(*p, s))
                .collect();
            if order.is_empty() {
                continue;
            }
            let shift = round % order.len();
            order.rotate_left(shift);
            for p in order {
                let dir = base.join(format!("r{round}-{}-{}", group.name(), p.name()));
                let measured = run_group(group, p, s, &dir, round, results)
                    .with_context(|| format!("{} on {}", group.name(), p.name()));
                data::clean(&dir)?;
                measured?;
            }
        }
    }
    Ok(())
}

fn record(
    results: &mut Results,
    round: usize,
    rounds: usize,
    metric: Metric,
    p: &dyn Peer,
    v: f64,
) {
    eprintln!(
        "[round {}/{rounds}] {} {}: {} {}",
        round + 1,
        metric.short(),
        p.name(),
        metric.format(v),
        metric.unit()
    );
    results.add(metric, p.name(), round, v);
}

fn run_group(
    group: Group,
    p: &dyn Peer,
    s: &Settings,
    dir: &Path,
    round: usize,
    results: &mut Results,
) -> Result<()> {
    let z = s.sizes;
    let rounds = s.rounds;
    match group {
        Group::W1 => {
            let t = p.w1(dir, z.w1)?;
            record(results, round, rounds, Metric::W1, p, rate(z.w1, t));
        }
        Group::W2 => {
            let t = p.w2(dir, z.w2_batches, z.batch)?;
            record(
                results,
                round,
                rounds,
                Metric::W2,
                p,
                rate(z.w2_batches * z.batch, t),
            );
        }
        Group::W3 => {
            let t = p.w3(dir, z.threads, z.per_thread)?;
            record(
                results,
                round,
                rounds,
                Metric::W3,
                p,
                rate(z.threads * z.per_thread, t),
            );
        }
        Group::Log => {
            let t = p.w4(dir, z.big)?;
            if s.wants("w4") {
                record(results, round, rounds, Metric::W4, p, rate(z.big, t));
            }
            data::sync_all()?;
            if s.wants("w5") && p.runs(Workload::W5) {
                let t = p.w5(dir, z.big)?;
                record(results, round, rounds, Metric::W5, p, rate(z.big, t));
            }
            if s.wants("w6") && p.runs(Workload::W6Log) {
                let t = p.w6_log(dir)?;
                record(
                    results,
                    round,
                    rounds,
                    Metric::W6Log,
                    p,
                    t.as_secs_f64() * 1e3,
                );
            }
        }
        Group::Kv => {
            let exe = std::env::current_exe()?;
            let out = Command::new(exe)
                .arg("--child-w7")
                .arg(p.name())
                .arg(dir)
                .arg(z.big.to_string())
                .output()?;
            ensure!(
                out.status.success(),
                "W7 child of {} failed ({}): {}",
                p.name(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            let line = String::from_utf8(out.stdout)?;
            let fields: Vec<f64> = line
                .split_whitespace()
                .skip(1)
                .map(str::parse)
                .collect::<Result<_, _>>()
                .with_context(|| format!("W7 child printed {line:?}"))?;
            let [puts, gets, rss_kib] = fields[..] else {
                bail!("W7 child printed {line:?}");
            };
            let disk = data::disk_usage(dir)? as f64;
            if s.wants("w7") {
                record(
                    results,
                    round,
                    rounds,
                    Metric::W7Put,
                    p,
                    z.big as f64 / puts,
                );
                record(
                    results,
                    round,
                    rounds,
                    Metric::W7Get,
                    p,
                    z.big as f64 / gets,
                );
                record(results, round, rounds, Metric::W7Disk, p, disk / 1e6);
                record(
                    results,
                    round,
                    rounds,
                    Metric::W7Rss,
                    p,
                    rss_kib * 1024.0 / 1e6,
                );
            }
            data::sync_all()?;
            if s.wants("w6") && p.runs(Workload::W6Store) {
                let t = p.w6_store(dir)?;
                record(
                    results,
                    round,
                    rounds,
                    Metric::W6Store,
                    p,
                    t.as_secs_f64() * 1e3,
                );
            }
        }
        Group::Typed => {
            let t = p.w8(dir, z.typed)?;
            record(
                results,
                round,
                rounds,
                Metric::W8Append,
                p,
                rate(z.typed, t.append),
            );
            record(
                results,
                round,
                rounds,
                Metric::W8Scan,
                p,
                rate(z.typed, t.scan),
            );
        }
        Group::Floor => unreachable!("the floor has no system"),
    }
    Ok(())
}

fn command_output(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| format!("({cmd} failed)"))
}

fn print_header(s: &Settings, base: &Path) {
    let df = command_output("df", &["-T", &base.display().to_string()]);
    let fs = df
        .lines()
        .nth(1)
        .unwrap_or("?")
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    println!("# datawal peers benchmark\n");
    println!(
        "- date: {}",
        command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
    );
    println!(
        "- datawal commit: {} (the working tree this bench was built in)",
        command_output(
            "git",
            &[
                "-C",
                env!("CARGO_MANIFEST_DIR"),
                "rev-parse",
                "--short",
                "HEAD"
            ]
        )
    );
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!(
        "- command line: {}",
        if args.is_empty() {
            "(no arguments: the defaults)".to_string()
        } else {
            args.join(" ")
        }
    );
    println!(
        "- machine: {} cores; {}",
        command_output("nproc", &[]),
        command_output("uname", &["-srm"])
    );
    println!(
        "- stores under {} (file system: {fs}); load average at start: {}",
        s.dir.display(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    println!(
        "- rounds: {}; W1 {} records, W2 {} × {}, W3 {} threads × {}, W4-W7 {}, W8 {}",
        s.rounds,
        s.sizes.w1,
        s.sizes.w2_batches,
        s.sizes.batch,
        s.sizes.threads,
        s.sizes.per_thread,
        s.sizes.big,
        s.sizes.typed
    );
    println!(
        "- shared feature (datawal SharedLog): {}\n",
        if cfg!(feature = "shared") {
            "on"
        } else {
            "off"
        }
    );
}

fn print_report(s: &Settings, peers: &[&dyn Peer], results: &Results) {
    println!(
        "- load average at the end: {}\n",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    println!("## What is durable when a record is counted\n");
    println!("| system | durable when counted |\n|---|---|");
    for p in peers {
        println!("| {} | {} |", p.name(), p.durable());
    }
    println!();
    let workload_of = |m: Metric| match m {
        Metric::W1 => Workload::W1,
        Metric::W2 => Workload::W2,
        Metric::W3 => Workload::W3,
        Metric::W4 => Workload::W4,
        Metric::W5 => Workload::W5,
        Metric::W6Log => Workload::W6Log,
        Metric::W6Store => Workload::W6Store,
        Metric::W8Append | Metric::W8Scan => Workload::W8,
        _ => Workload::W7,
    };
    let shared = peers.iter().any(|p| p.name() == "datawal-shared");
    let metrics = [
        Metric::W1,
        Metric::W2,
        Metric::W3,
        Metric::W4,
        Metric::W5,
        Metric::W6Log,
        Metric::W6Store,
        Metric::W7Put,
        Metric::W7Get,
        Metric::W7Disk,
        Metric::W7Rss,
        Metric::W8Append,
        Metric::W8Scan,
    ];
    for m in metrics.into_iter().filter(|&m| results.has(m)) {
        let w = workload_of(m);
        let rows: Vec<(String, String)> = peers
            .iter()
            .map(|p| (p.name().to_string(), p.label(w)))
            .collect();
        let baseline = if m == Metric::W3 && shared {
            "datawal-shared"
        } else {
            "datawal"
        };
        println!("### {} ({})\n", m.title(), size_of(m, s));
        println!("{}", results.table(m, &rows, baseline));
    }
    if Floor::ALL.iter().any(|&f| results.has(Metric::floor(f))) {
        println!(
            "### Floor: {}-byte pwrite + fdatasync, 1 thread ({} writes)\n",
            floor::RECORD,
            s.sizes.w1
        );
        println!("| file | writes/s (median) | min–max |\n|---|---:|---:|");
        for f in Floor::ALL {
            if let Some(sp) = results.spread(Metric::floor(f), "floor") {
                let m = Metric::floor(f);
                println!(
                    "| {} | {} | {}–{} |",
                    f.label(),
                    m.format(sp.median),
                    m.format(sp.min),
                    m.format(sp.max)
                );
            }
        }
        println!();
    }
    print_targets(results, shared);
}

fn size_of(m: Metric, s: &Settings) -> String {
    let z = s.sizes;
    match m {
        Metric::W1 => format!("{} records a round", z.w1),
        Metric::W2 => format!("{} batches of {} a round", z.w2_batches, z.batch),
        Metric::W3 => format!("{} threads × {} records a round", z.threads, z.per_thread),
        Metric::W8Append | Metric::W8Scan => format!("{} records", z.typed),
        _ => format!("{} records", z.big),
    }
}

/// The targets, as ratios measured in this run.
fn print_targets(results: &Results, shared: bool) {
    println!("## Targets (ratios round by round: median, min–max)\n");
    let ratio = |m: Metric, a: &str, b: &str| match results.ratio(m, a, b) {
        Some(r) => (
            format!("{:.2} ({:.2}–{:.2})", r.median, r.min, r.max),
            Some(r.median),
        ),
        None => ("not measured".to_string(), None),
    };
    let target = |what: &str, m: Metric, a: &str, b: &str, at_least: f64| {
        let (text, median) = ratio(m, a, b);
        let verdict = match median {
            Some(x) if x >= at_least => "met",
            Some(_) => "MISSED",
            None => "not measured",
        };
        println!("- {what}: {text}; target ≥ {at_least}: {verdict}");
    };
    if shared {
        target(
            "W3, SharedLog ÷ okaywal",
            Metric::W3,
            "datawal-shared",
            "okaywal",
            1.5,
        );
        target(
            "W3, SharedLog ÷ datawal behind a mutex",
            Metric::W3,
            "datawal-shared",
            "datawal",
            6.0,
        );
        target(
            "W3, SharedLog with `preallocate` ÷ okaywal",
            Metric::W3,
            "datawal-prealloc",
            "okaywal",
            1.5,
        );
        target(
            "W3, SharedLog with `preallocate` ÷ datawal behind a mutex",
            Metric::W3,
            "datawal-prealloc",
            "datawal",
            6.0,
        );
    } else {
        println!("- W3, SharedLog: not measured (built without the `shared` feature)");
    }
    let reference = |what: &str, m: Metric, a: &str, b: &str| {
        println!("- {what}: {} (for reference)", ratio(m, a, b).0);
    };
    reference(
        "W3, Mutex<RecordLog> ÷ okaywal",
        Metric::W3,
        "datawal",
        "okaywal",
    );
    target(
        "W1 with `preallocate` ÷ okaywal",
        Metric::W1,
        "datawal-prealloc",
        "okaywal",
        1.0,
    );
    target(
        "W1 with `preallocate` ÷ fjall",
        Metric::W1,
        "datawal-prealloc",
        "fjall",
        1.0,
    );
    target(
        "W2 with `preallocate` ÷ okaywal",
        Metric::W2,
        "datawal-prealloc",
        "okaywal",
        1.0,
    );
    reference(
        "W1 with `preallocate` ÷ without",
        Metric::W1,
        "datawal-prealloc",
        "datawal",
    );
    reference(
        "W2 with `preallocate` ÷ without",
        Metric::W2,
        "datawal-prealloc",
        "datawal",
    );
    println!("- without `preallocate` (for reference):");
    reference("  W1, datawal ÷ okaywal", Metric::W1, "datawal", "okaywal");
    reference("  W1, datawal ÷ fjall", Metric::W1, "datawal", "fjall");
    reference("  W2, datawal ÷ okaywal", Metric::W2, "datawal", "okaywal");
}
