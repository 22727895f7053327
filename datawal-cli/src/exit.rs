//! Exit codes and the one-line error message.

use std::fmt;
use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

/// Success; for `verify`, a clean store.
pub const OK: u8 = 0;
/// `get`: the key is not live (never written, or deleted).
pub const NOT_FOUND: u8 = 1;
/// The command line could not be parsed (clap's code).
pub const USAGE: u8 = 2;
/// `verify`: the last segment ends in a torn tail (the records before it are intact).
pub const TORN_TAIL: u8 = 3;
/// Hard corruption: a damaged record that cannot be a torn tail.
pub const CORRUPT: u8 = 4;
/// The store is locked by a writer (`compact`).
pub const LOCKED: u8 = 5;
/// Any other error: missing directory, not a directory, I/O, bad arguments.
pub const ERROR: u8 = 6;
/// `compact` refused a store that holds raw log records ([`RawRecords`]).
pub const RAW_RECORDS: u8 = 7;
/// A bug in datawal (a panic): please report it.
pub const INTERNAL: u8 = 70;

/// The exit-code table shown by `--help`.
pub const HELP_TABLE: &str = "\
Exit codes:
  0   success (verify: the store is clean)
  1   get: the key is not live
  2   the command line could not be parsed
  3   verify: torn tail at the end of the last segment (the records before it are intact)
  4   hard corruption: a damaged record that is not a torn tail (segment file and offset named)
  5   the store is locked by a writer (compact)
  6   any other error (missing directory, not a directory, I/O)
  7   compact: the store holds raw log records, which a compacted store cannot keep;
      OUT_DIR is not written (--drop-raw-records compacts without them)
  70  internal error (a bug in datawal)";

/// `compact` refuses a store that holds raw log records (written by
/// `RecordLog::append`, with no key): the compacted store keeps only the
/// live keys, so whoever swapped it in would lose them. Exit [`RAW_RECORDS`].
#[derive(Debug)]
pub struct RawRecords {
    /// The store directory.
    pub dir: PathBuf,
    /// How many raw records it holds.
    pub count: u64,
}

impl fmt::Display for RawRecords {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (count, s) = (self.count, if self.count == 1 { "" } else { "s" });
        write!(
            f,
            "{} holds {count} raw log record{s} (appended without a key), which a \
             compacted store cannot keep: it holds only the live keys; no compacted \
             store was written (pass --drop-raw-records to compact without them)",
            self.dir.display()
        )
    }
}

impl std::error::Error for RawRecords {}

/// What a command that did not fail wants the process to exit with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Ok,
    /// `get`: exit [`NOT_FOUND`].
    NotFound,
    /// `verify`: exit [`TORN_TAIL`].
    TornTail,
}

impl Outcome {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ok => OK,
            Outcome::NotFound => NOT_FOUND,
            Outcome::TornTail => TORN_TAIL,
        }
    }
}

/// The exit code for an error: [`RAW_RECORDS`] for a [`RawRecords`] refusal,
/// else from the first `datawal_core::Error` in its chain.
pub fn code_of(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.is::<RawRecords>() {
            return RAW_RECORDS;
        }
        if let Some(e) = cause.downcast_ref::<datawal_core::Error>() {
            return match e {
                datawal_core::Error::Corrupt { .. } => CORRUPT,
                datawal_core::Error::Locked { .. } => LOCKED,
                _ => ERROR,
            };
        }
    }
    ERROR
}

/// `true` when the error is a closed standard output (`datawal scan | head`):
/// not a failure of the command.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The error as one line: contexts joined by `": "`, stopping at the core
/// error (whose text already includes its cause).
pub fn message(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        if let Some(datawal_core::Error::Locked { dir }) = cause.downcast_ref() {
            parts.push(format!(
                "store {} is locked by a running writer; stop it first \
                 (stat, verify, scan, get and export work while it runs)",
                dir.display()
            ));
            break;
        }
        if let Some(datawal_core::Error::Corrupt {
            segment,
            offset,
            path,
            kind,
        }) = cause.downcast_ref()
        {
            parts.push(format!(
                "corrupt record in {} (segment {segment}) at offset {offset}: {kind}",
                path.display()
            ));
            break;
        }
        parts.push(cause.to_string().replace('\n', " "));
        if cause.is::<datawal_core::Error>() {
            break;
        }
    }
    parts.join(": ")
}

/// Report `err` on stderr as `datawal: error: …` and choose the exit code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    if is_broken_pipe(err) {
        return ExitCode::from(OK);
    }
    say(&format!("datawal: error: {}", message(err)));
    ExitCode::from(code_of(err))
}

/// Write `line` and a newline to stderr. A closed stderr is ignored (never a panic).
pub fn say(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// Report `what` on stderr as `datawal: note: …`.
pub fn note(what: &str) {
    say(&format!("datawal: note: {what}"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn codes_follow_the_core_error() {
        let locked = anyhow::Error::new(datawal_core::Error::Locked {
            dir: PathBuf::from("/s"),
        });
        assert_eq!(code_of(&locked), LOCKED);
        let corrupt = anyhow::Error::new(datawal_core::Error::Corrupt {
            segment: 1,
            offset: 24,
            path: PathBuf::from("/s/00000001.dwal"),
            kind: datawal_core::CorruptKind::NonZeroFlags { found: 1 },
        })
        .context("scan /s");
        assert_eq!(code_of(&corrupt), CORRUPT);
        assert_eq!(code_of(&anyhow::anyhow!("nope")), ERROR);
        let raw = anyhow::Error::new(RawRecords {
            dir: PathBuf::from("/s"),
            count: 2,
        });
        assert_eq!(code_of(&raw), RAW_RECORDS);
        assert_eq!(
            message(&raw),
            "/s holds 2 raw log records (appended without a key), which a compacted \
             store cannot keep: it holds only the live keys; no compacted store was \
             written (pass --drop-raw-records to compact without them)"
        );
    }

    #[test]
    fn message_is_one_line_without_the_core_prefix() {
        let e = anyhow::Error::new(datawal_core::Error::Io {
            op: "read segment",
            path: PathBuf::from("/s/00000001.dwal"),
            source: io::Error::other("disk on fire"),
        })
        .context("export /s");
        let m = message(&e);
        assert_eq!(
            m, "export /s: read segment /s/00000001.dwal: disk on fire",
            "the io cause is printed once"
        );
    }

    #[test]
    fn locked_names_the_way_out() {
        let e = anyhow::Error::new(datawal_core::Error::Locked {
            dir: PathBuf::from("/s"),
        });
        let m = message(&e);
        assert!(
            m.starts_with("store /s is locked by a running writer"),
            "{m}"
        );
        assert!(!m.contains("RecordLogReader"), "{m}");
    }

    #[test]
    fn corrupt_names_file_and_offset() {
        let e = anyhow::Error::new(datawal_core::Error::Corrupt {
            segment: 3,
            offset: 96,
            path: PathBuf::from("/s/00000003.dwal"),
            kind: datawal_core::CorruptKind::NonZeroFlags { found: 1 },
        });
        assert_eq!(
            message(&e),
            "corrupt record in /s/00000003.dwal (segment 3) at offset 96: \
             reserved flags byte is 0x01 (must be 0)"
        );
    }

    #[test]
    fn broken_pipe_is_not_an_error() {
        let e = anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe)).context("write");
        assert!(is_broken_pipe(&e));
        assert!(!is_broken_pipe(&anyhow::anyhow!("x")));
    }

    #[test]
    fn outcome_codes_are_distinct() {
        let codes = [
            Outcome::Ok.code(),
            Outcome::NotFound.code(),
            USAGE,
            Outcome::TornTail.code(),
            CORRUPT,
            LOCKED,
            ERROR,
            RAW_RECORDS,
            INTERNAL,
        ];
        for (i, a) in codes.iter().enumerate() {
            for b in &codes[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
