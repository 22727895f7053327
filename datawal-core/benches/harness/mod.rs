//! The harness the side-by-side benches share (`datawal-core/benches/
//! compare.rs`, the root `benches/typed_compare.rs`): medians of
//! alternating rounds, timing, fresh directories. Included by path, since
//! the two benches live in different packages.
#![allow(dead_code)] // each bench uses part of it

use std::cell::Cell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The median of `v` (its upper middle element for an even length).
pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

/// Run `a` and `b` alternately for `rounds` rounds, each first in every
/// other round (so neither always runs on the other's warm caches); each
/// returns the time of its measured section. The medians of `(a, b)`.
pub fn duel(
    rounds: usize,
    mut a: impl FnMut() -> Duration,
    mut b: impl FnMut() -> Duration,
) -> (Duration, Duration) {
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        if i % 2 == 0 {
            ta.push(a());
            tb.push(b());
        } else {
            tb.push(b());
            ta.push(a());
        }
    }
    (median(ta), median(tb))
}

/// The time `f` takes, and what it returned.
pub fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
    let t = Instant::now();
    let out = f();
    (t.elapsed(), out)
}

/// Fresh directory names under `base` (not created), numbered.
pub struct Dirs {
    base: PathBuf,
    next: Cell<usize>,
}

impl Dirs {
    /// Names under `base`.
    pub fn new(base: PathBuf) -> Self {
        Dirs {
            base,
            next: Cell::new(0),
        }
    }

    /// The next fresh name, tagged `tag`.
    pub fn fresh(&self, tag: &str) -> PathBuf {
        self.next.set(self.next.get() + 1);
        self.base.join(format!("{tag}-{}", self.next.get()))
    }
}
