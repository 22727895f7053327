//! The rows of the table, their targets and verdicts, and how they print.

use std::time::Duration;

/// One row of the table: the time of each crate for `ops` operations.
pub struct Row {
    pub name: String,
    pub unit: &'static str,
    pub ops: usize,
    pub ours: Duration,
    pub theirs: Option<Duration>,
    pub target: Target,
    pub fsync: bool,
}

impl Row {
    /// A row of `n` records read from page cache by both crates (no fsync).
    pub fn records_read(
        name: String,
        n: usize,
        times: (Duration, Duration),
        target: Target,
    ) -> Row {
        Row::pair(name, "record", n, times, target, false)
    }
}

#[derive(Clone, Copy)]
pub enum Target {
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

pub fn print_rows(rows: &[Row]) {
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

impl Row {
    /// A row of both crates' medians `(ours, theirs)`.
    pub fn pair(
        name: String,
        unit: &'static str,
        ops: usize,
        (ours, theirs): (Duration, Duration),
        target: Target,
        fsync: bool,
    ) -> Row {
        Row {
            name,
            unit,
            ops,
            ours,
            theirs: Some(theirs),
            target,
            fsync,
        }
    }
}
