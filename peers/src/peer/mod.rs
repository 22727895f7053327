//! The systems compared, behind one trait: each runs the workloads it can,
//! timing only the workload itself (handles are opened and tables created
//! before the clock starts, and closed after it stops, except where the
//! workload is the open).

use std::path::Path;
use std::time::Duration;

use anyhow::Result;

mod datawal;
mod fjall;
mod jsonl;
mod okaywal;
mod redb;
mod sqlite;

/// The workloads, as the issue numbers them (W6 in two parts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Workload {
    /// One record, then durable; one thread.
    W1,
    /// Batches of 100 records, each batch then durable.
    W2,
    /// 8 threads, each record durable before its thread goes on.
    W3,
    /// 1M appends, durable only at the end.
    W4,
    /// Open the W4 store and read every record.
    W5,
    /// Open of the 1M-record log of W4.
    W6Log,
    /// Open of the 1M-key store of W7.
    W6Store,
    /// 1M key/value puts (durable at the end), then 1M random gets.
    W7,
    /// A typed struct appended (durable at the end), then scanned.
    W8,
}

/// The sizes of one round.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    /// W1 records.
    pub w1: usize,
    /// W2 batches (of [`Sizes::batch`] records).
    pub w2_batches: usize,
    /// W2 records per batch.
    pub batch: usize,
    /// W3 threads.
    pub threads: usize,
    /// W3 records per thread.
    pub per_thread: usize,
    /// W4-W7 records.
    pub big: usize,
    /// W8 records.
    pub typed: usize,
}

/// Timings of W7 (run in a child process, whose peak RSS the driver reads).
#[derive(Debug, Clone, Copy)]
pub struct KvTimes {
    /// All the puts and the final sync.
    pub puts: Duration,
    /// All the gets.
    pub gets: Duration,
}

/// Timings of W8.
#[derive(Debug, Clone, Copy)]
pub struct TypedTimes {
    /// All the appends and the final sync.
    pub append: Duration,
    /// Open and decode every record.
    pub scan: Duration,
}

/// One system under test. Each method runs one workload in `dir` (a fresh,
/// empty directory unless said otherwise) and checks what it read back; the
/// driver calls only the workloads of [`Peer::runs`]; the others fail.
pub trait Peer: Sync {
    /// Short name, used on the command line and as the table's row label.
    fn name(&self) -> &'static str;

    /// The label of the row of `w` (some systems run W3 differently).
    fn label(&self, w: Workload) -> String {
        let _ = w;
        self.name().to_string()
    }

    /// What is durable at the moment a record is counted.
    fn durable(&self) -> &'static str;

    /// Whether this system runs `w`.
    fn runs(&self, w: Workload) -> bool;

    /// W1: `n` records, each durable before the next.
    fn w1(&self, dir: &Path, n: usize) -> Result<Duration> {
        let _ = (dir, n);
        Err(not_run(self.name(), "w1"))
    }

    /// W2: `batches` batches of `batch` records, each batch durable before the next.
    fn w2(&self, dir: &Path, batches: usize, batch: usize) -> Result<Duration> {
        let _ = (dir, batches, batch);
        Err(not_run(self.name(), "w2"))
    }

    /// W3: `threads` threads appending `per_thread` records each, every
    /// record durable before its thread appends the next.
    fn w3(&self, dir: &Path, threads: usize, per_thread: usize) -> Result<Duration> {
        let _ = (dir, threads, per_thread);
        Err(not_run(self.name(), "w3"))
    }

    /// W4: `n` records, durable at the end; leaves the store in `dir` for W5 and W6.
    fn w4(&self, dir: &Path, n: usize) -> Result<Duration> {
        let _ = (dir, n);
        Err(not_run(self.name(), "w4"))
    }

    /// W5: open the store W4 left in `dir` and read all `n` records.
    fn w5(&self, dir: &Path, n: usize) -> Result<Duration> {
        let _ = (dir, n);
        Err(not_run(self.name(), "w5"))
    }

    /// W6, log: open the store W4 left in `dir`, until it serves its first record.
    fn w6_log(&self, dir: &Path) -> Result<Duration> {
        let _ = dir;
        Err(not_run(self.name(), "w6_log"))
    }

    /// W7, in a child process: `n` puts in a shuffled order, durable at the
    /// end, then `n` gets in another order; leaves the store for W6.
    fn w7(&self, dir: &Path, n: usize) -> Result<KvTimes> {
        let _ = (dir, n);
        Err(not_run(self.name(), "w7"))
    }

    /// W6, store: open the store W7 left in `dir`, until it serves one get.
    fn w6_store(&self, dir: &Path) -> Result<Duration> {
        let _ = dir;
        Err(not_run(self.name(), "w6_store"))
    }

    /// W8: `n` typed records appended, durable at the end, then read back.
    fn w8(&self, dir: &Path, n: usize) -> Result<TypedTimes> {
        let _ = (dir, n);
        Err(not_run(self.name(), "w8"))
    }
}

/// Every system, in the order of the tables (datawal first: the baseline).
pub fn all() -> Vec<Box<dyn Peer>> {
    let mut peers: Vec<Box<dyn Peer>> = vec![Box::new(datawal::Datawal)];
    #[cfg(feature = "shared")]
    peers.push(Box::new(datawal::Shared));
    peers.push(Box::new(datawal::Preallocated));
    peers.extend([
        Box::new(sqlite::Sqlite::FULL) as Box<dyn Peer>,
        Box::new(sqlite::Sqlite::NORMAL),
        Box::new(redb::Redb),
        Box::new(fjall::Fjall),
        Box::new(okaywal::Okaywal),
        Box::new(jsonl::Jsonl),
    ]);
    peers
}

/// The error of a workload a system does not run (the driver asks
/// [`Peer::runs`] first).
fn not_run(system: &str, workload: &str) -> anyhow::Error {
    anyhow::anyhow!("{system} does not run {workload}")
}

/// Time `f`.
pub fn timed<T>(f: impl FnOnce() -> Result<T>) -> Result<(Duration, T)> {
    let start = std::time::Instant::now();
    let out = f()?;
    Ok((start.elapsed(), out))
}

/// Run `per_thread(t)` on `threads` threads started together; the time from
/// their common start until the last one is done.
pub fn on_threads(
    threads: usize,
    per_thread: impl Fn(usize) -> Result<()> + Sync,
) -> Result<Duration> {
    let barrier = std::sync::Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                let per_thread = &per_thread;
                scope.spawn(move || {
                    barrier.wait();
                    per_thread(t)
                })
            })
            .collect();
        let start = std::time::Instant::now();
        barrier.wait();
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a W3 thread panicked"))??;
        }
        Ok(start.elapsed())
    })
}

/// The record ids thread `t` of W3 writes: disjoint ranges.
pub fn thread_ids(t: usize, per_thread: usize) -> std::ops::Range<u64> {
    let start = (t * per_thread) as u64;
    start..start + per_thread as u64
}

/// Check a scan's count and checksum against what W4 wrote.
pub fn check_scan(what: &str, count: u64, folded: u64, n: usize) -> Result<()> {
    anyhow::ensure!(
        count == n as u64,
        "{what}: read {count} records, expected {n}"
    );
    anyhow::ensure!(
        folded == crate::data::expected_fold(n as u64),
        "{what}: the records read back differ from those written"
    );
    Ok(())
}
