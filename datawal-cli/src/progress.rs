//! Progress on stderr for long work, shown only when stderr is a terminal.

use std::io::IsTerminal as _;
use std::time::Duration;

use std::fs;

use datawal_core::segment::segment_path;
use datawal_core::RecordLogReader;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte-counting bar of `total` bytes, hidden unless stderr is a terminal.
pub fn bytes(total: u64, what: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), target());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(what);
    bar
}

/// A spinner for work whose size is unknown, hidden unless stderr is a terminal.
pub fn spinner(what: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, target());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(what);
    if !bar.is_hidden() {
        bar.enable_steady_tick(Duration::from_millis(120));
    }
    bar
}

fn target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// Turns a record's `(segment, end offset)` into a position in the
/// concatenated segments and moves `bar` there.
pub struct Tracker<'a> {
    sizes: &'a Sizes,
    bar: &'a ProgressBar,
    segment: Option<(u32, u64)>,
}

impl<'a> Tracker<'a> {
    /// Track progress over the segments of `sizes` on `bar`.
    pub fn new(sizes: &'a Sizes, bar: &'a ProgressBar) -> Self {
        Tracker {
            sizes,
            bar,
            segment: None,
        }
    }

    /// A record of `segment` ends at `end`.
    pub fn at(&mut self, segment: u32, end: u64) {
        let base = match self.segment {
            Some((id, base)) if id == segment => base,
            _ => {
                let base = self.sizes.base_of(segment);
                self.segment = Some((segment, base));
                base
            }
        };
        self.bar.set_position(base + end);
    }
}

/// The sizes of the snapshot's segment files, in snapshot order, and where
/// each starts in the concatenation (for progress).
#[derive(Debug, Default)]
pub struct Sizes {
    /// `(segment id, size in bytes)`, ascending ids.
    pub files: Vec<(u32, u64)>,
}

impl Sizes {
    /// Stat every segment of the snapshot. A segment that vanished counts as empty.
    pub fn of(reader: &RecordLogReader) -> Sizes {
        let files = reader
            .segments()
            .iter()
            .map(|&id| {
                let len = fs::metadata(segment_path(reader.dir(), id))
                    .map(|m| m.len())
                    .unwrap_or(0);
                (id, len)
            })
            .collect();
        Sizes { files }
    }

    /// Total bytes.
    pub fn total(&self) -> u64 {
        self.files.iter().map(|f| f.1).sum()
    }

    /// Bytes before segment `id` in the concatenation.
    pub fn base_of(&self, id: u32) -> u64 {
        self.files
            .iter()
            .take_while(|f| f.0 < id)
            .map(|f| f.1)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_place_segments_end_to_end() {
        let s = Sizes {
            files: vec![(1, 10), (2, 5), (4, 7)],
        };
        assert_eq!(s.total(), 22);
        assert_eq!(s.base_of(1), 0);
        assert_eq!(s.base_of(2), 10);
        assert_eq!(s.base_of(4), 15);
    }
}
