//! One module per subcommand; each returns the [`Outcome`] to exit with.

mod backup;
mod compact;
mod consumers;
mod export;
mod get;
#[cfg(feature = "nats")]
mod nats;
#[cfg(feature = "parquet")]
mod parquet;
#[cfg(feature = "parquet")]
mod parquet_typed;
mod scan;
mod stat;
mod truncate;
mod verify;

use anyhow::Result;

use crate::cli::Command;
use crate::exit::Outcome;

/// Run `command`.
///
/// # Errors
/// Whatever the subcommand met; [`crate::exit::report`] turns it into a
/// message and an exit code.
pub fn run(command: Command) -> Result<Outcome> {
    match command {
        Command::Stat(a) => stat::run(&a),
        Command::Verify(a) => verify::run(&a),
        Command::Scan(a) => scan::run(&a),
        Command::Get(a) => get::run(&a),
        Command::Export(a) => export::run(&a),
        Command::Compact(a) => compact::run(&a),
        Command::Truncate(a) => truncate::run(&a),
        Command::Backup(a) => backup::run(&a),
        Command::Consumers(a) => consumers::run(&a),
        #[cfg(feature = "nats")]
        Command::Ship(a) => nats::ship(&a),
        #[cfg(feature = "nats")]
        Command::Pull(a) => nats::pull(&a),
    }
}

/// Open the store in `dir` as its writer with `open` (a spinner runs
/// meanwhile): refuse a directory with no segment files (a writer's open
/// would make one a store), and say where a repaired torn tail went.
///
/// # Errors
/// A missing or invalid directory, no segment files, a locked store (exit
/// 5), corruption, I/O.
fn open_writer<T: AsLog>(
    dir: &std::path::Path,
    open: impl FnOnce(&std::path::Path) -> datawal_core::Result<T>,
) -> Result<(T, indicatif::ProgressBar)> {
    crate::store::require_dir(dir)?;
    if datawal_core::segment::list_segments(dir)?.is_empty() {
        anyhow::bail!(
            "{} holds no segment files (*.dwal): not a datawal store",
            dir.display()
        );
    }
    let bar = crate::progress::spinner("opening the store");
    let opened = match open(dir) {
        Ok(h) => h,
        Err(e) => {
            bar.finish_and_clear();
            return Err(e.into());
        }
    };
    if let Some(t) = opened.as_log().recovery_report()?.tail {
        let saved = match t.saved_to.as_deref() {
            // The side file starts with the damaged frame.
            Some(p) => match datawal_core::count_intact_frames(p, 0)? {
                0 => format!("moved to {}", p.display()),
                n => format!(
                    "moved to {} ({} after the damage went with it)",
                    p.display(),
                    count(n, "intact record")
                ),
            },
            None => "cut".into(),
        };
        bar.suspend(|| crate::exit::note(&format!("{}; {saved}", tail_text(&t))));
    }
    Ok((opened, bar))
}

/// A writer handle whose log can be asked what recovery found.
trait AsLog {
    fn as_log(&self) -> &datawal_core::RecordLog;
}

impl AsLog for datawal_core::RecordLog {
    fn as_log(&self) -> &datawal_core::RecordLog {
        self
    }
}

impl AsLog for datawal_core::DataWal {
    fn as_log(&self) -> &datawal_core::RecordLog {
        self.log()
    }
}

/// The tail damage of a report as one line of text.
fn tail_text(t: &datawal_core::TailDamage) -> String {
    format!(
        "segment {} at offset {}: {}; {} bytes after the valid prefix",
        crate::render::segment_name(t.segment),
        t.offset,
        t.kind,
        t.bytes
    )
}

/// `"1 record"`, `"2 records"`.
fn count(n: impl Into<u64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
