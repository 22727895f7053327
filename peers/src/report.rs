//! What was measured, round by round, and the tables printed from it:
//! medians, min–max, and ratios to datawal taken within each round.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::floor::Floor;

/// One figure of the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Metric {
    W1,
    W2,
    W3,
    W4,
    W5,
    W6Log,
    W6Store,
    W7Put,
    W7Get,
    W7Disk,
    W7Rss,
    W8Append,
    W8Scan,
    Floor(u8),
}

impl Metric {
    pub fn floor(f: Floor) -> Metric {
        Metric::Floor(Floor::ALL.iter().position(|&x| x == f).unwrap_or(0) as u8)
    }

    pub fn title(self) -> &'static str {
        match self {
            Metric::W1 => "W1: one record, then durable; 1 thread",
            Metric::W2 => "W2: batches of 100 records, each batch then durable",
            Metric::W3 => "W3: 8 threads, each record durable before its thread goes on",
            Metric::W4 => "W4: appends, durable only at the end",
            Metric::W5 => "W5: open the W4 store and read every record",
            Metric::W6Log => "W6: open of the W4 log, until its first record is served",
            Metric::W6Store => "W6: open of the W7 key/value store, until one get is served",
            Metric::W7Put => "W7: key/value puts in a shuffled order, durable at the end",
            Metric::W7Get => "W7: random gets after the puts",
            Metric::W7Disk => "W7: disk used after the puts (du of the directory)",
            Metric::W7Rss => "W7: peak RSS of the process (VmHWM) over puts and gets",
            Metric::W8Append => {
                "W8: typed struct (u64, two short strings, u64) appended, durable at the end"
            }
            Metric::W8Scan => "W8: typed structs read back (open and decode every one)",
            Metric::Floor(_) => "Floor",
        }
    }

    /// A short name for progress lines.
    pub fn short(self) -> String {
        match self {
            Metric::W6Log => "W6 log".into(),
            Metric::W6Store => "W6 store".into(),
            Metric::W7Put => "W7 puts".into(),
            Metric::W7Get => "W7 gets".into(),
            Metric::W7Disk => "W7 disk".into(),
            Metric::W7Rss => "W7 peak RSS".into(),
            Metric::W8Append => "W8 append".into(),
            Metric::W8Scan => "W8 scan".into(),
            Metric::Floor(i) => format!("floor {i}"),
            other => format!("{other:?}"),
        }
    }

    /// The unit of the median column.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::W6Log | Metric::W6Store => "ms per open",
            Metric::W7Disk | Metric::W7Rss => "MB",
            Metric::W7Get => "gets/s",
            _ => "records/s",
        }
    }

    pub fn higher_is_better(self) -> bool {
        !matches!(
            self,
            Metric::W6Log | Metric::W6Store | Metric::W7Disk | Metric::W7Rss
        )
    }

    pub fn format(self, v: f64) -> String {
        match self {
            Metric::W6Log | Metric::W6Store => significant(v),
            Metric::W7Disk | Metric::W7Rss => format!("{:.1}", v),
            _ => thousands(v),
        }
    }
}

/// `v` with three significant digits.
fn significant(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// `v` rounded, with thousands separators.
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Median and extremes of some figures.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(values: &[f64]) -> Option<Spread> {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let mid = v.len() / 2;
        let median = if v.len() % 2 == 1 {
            v[mid]
        } else {
            (v[mid - 1] + v[mid]) / 2.0
        };
        Some(Spread {
            median,
            min: v[0],
            max: v[v.len() - 1],
        })
    }
}

/// Every figure of the run: (metric, system) → (round, value).
#[derive(Debug, Default)]
pub struct Results {
    samples: BTreeMap<(Metric, String), Vec<(usize, f64)>>,
}

impl Results {
    pub fn add(&mut self, metric: Metric, system: &str, round: usize, value: f64) {
        self.samples
            .entry((metric, system.to_string()))
            .or_default()
            .push((round, value));
    }

    pub fn spread(&self, metric: Metric, system: &str) -> Option<Spread> {
        let values: Vec<f64> = self
            .samples
            .get(&(metric, system.to_string()))?
            .iter()
            .map(|&(_, v)| v)
            .collect();
        Spread::of(&values)
    }

    /// `a`'s figure over `b`'s, round by round, in the better direction
    /// (above 1: `a` is better), and the spread of those ratios.
    pub fn ratio(&self, metric: Metric, a: &str, b: &str) -> Option<Spread> {
        let xs = self.samples.get(&(metric, a.to_string()))?;
        let ys = self.samples.get(&(metric, b.to_string()))?;
        let ratios: Vec<f64> = xs
            .iter()
            .filter_map(|&(round, x)| {
                let &(_, y) = ys.iter().find(|(r, _)| *r == round)?;
                Some(if metric.higher_is_better() {
                    x / y
                } else {
                    y / x
                })
            })
            .collect();
        Spread::of(&ratios)
    }

    pub fn has(&self, metric: Metric) -> bool {
        self.samples.keys().any(|(m, _)| *m == metric)
    }

    /// The table of one metric: one row per system that measured it.
    pub fn table(&self, metric: Metric, rows: &[(String, String)], baseline: &str) -> String {
        let mut out = String::new();
        let better = if metric.higher_is_better() {
            "datawal ÷ system"
        } else {
            "system ÷ datawal"
        };
        let _ = writeln!(
            out,
            "| system | {} (median) | min–max | {better}: median (min–max) |",
            metric.unit()
        );
        let _ = writeln!(out, "|---|---:|---:|---:|");
        for (system, label) in rows {
            let Some(s) = self.spread(metric, system) else {
                continue;
            };
            let ratio = if system == baseline {
                "1 (baseline)".to_string()
            } else {
                match self.ratio(metric, baseline, system) {
                    Some(r) => format!("{:.2} ({:.2}–{:.2})", r.median, r.min, r.max),
                    None => "-".into(),
                }
            };
            let _ = writeln!(
                out,
                "| {label} | {} | {}–{} | {ratio} |",
                metric.format(s.median),
                metric.format(s.min),
                metric.format(s.max)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(Spread::of(&[3.0, 1.0, 2.0]).unwrap().median, 2.0);
        assert_eq!(Spread::of(&[4.0, 1.0, 2.0, 3.0]).unwrap().median, 2.5);
        assert!(Spread::of(&[]).is_none());
    }

    #[test]
    fn ratios_pair_rounds_and_face_the_better_way() {
        let mut r = Results::default();
        r.add(Metric::W1, "a", 0, 200.0);
        r.add(Metric::W1, "b", 0, 100.0);
        r.add(Metric::W1, "a", 1, 300.0);
        r.add(Metric::W1, "b", 1, 100.0);
        let s = r.ratio(Metric::W1, "a", "b").unwrap();
        assert_eq!((s.min, s.max), (2.0, 3.0));
        r.add(Metric::W6Log, "a", 0, 10.0);
        r.add(Metric::W6Log, "b", 0, 40.0);
        assert_eq!(r.ratio(Metric::W6Log, "a", "b").unwrap().median, 4.0);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
    }
}
