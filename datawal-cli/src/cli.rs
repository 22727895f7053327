//! The command line, declared with clap's derive API.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::exit::HELP_TABLE;

/// Inspect, verify, export, compact, truncate and back up datawal stores.
///
/// Every subcommand but `compact`, `truncate` and `backup` is read-only: it reads a snapshot of the
/// store without taking the writer lock, so it works while a writer appends,
/// and it never changes a file of the store (a torn tail is reported, not
/// repaired).
#[derive(Debug, Parser)]
#[command(name = "datawal", version, after_help = HELP_TABLE)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Summarise a store: segments, records, bytes, live keys, tombstones,
    /// txid range, tail damage.
    #[command(after_help = HELP_TABLE)]
    Stat(StatArgs),
    /// Check every record's frame and CRC; the exit code says what was found.
    ///
    /// Exit 0 when clean, 3 when the last segment ends in a torn tail (what a
    /// crash mid-append leaves; the records before it are intact, and the
    /// writer's next open moves the tail aside into a `*.torn` file; intact
    /// records found after the damage, which go with it, are counted), 4 for
    /// hard corruption (a damaged record in a closed segment, or structural
    /// damage anywhere). The segment file and offset are named. Zeros from
    /// the end of the last record to the end of the last segment are free
    /// space (`LogOptions::preallocate`), not damage: exit 0, their size
    /// said. Run on a store a writer is appending to,
    /// a record being written at that instant can show as a torn tail.
    #[command(after_help = HELP_TABLE)]
    Verify(VerifyArgs),
    /// Print every record, one per line, in log order.
    ///
    /// Each line shows segment file, offset, txid, type, key and payload:
    /// UTF-8 as a quoted string, other bytes as hex (up to 64 bytes) or
    /// base64; payloads with a typed envelope as
    /// `typed(fingerprint=…, version=…, codec=…)` followed by the JSON
    /// value when the codec is JSON.
    ///
    /// With `--follow`, keeps printing records as a writer appends them
    /// (like `tail -f`), across rotations and the writer's restarts, until
    /// interrupted or `--limit` records were printed. `--from-txid` starts
    /// there without reading the segments before it.
    #[command(after_help = HELP_TABLE)]
    Scan(ScanArgs),
    /// List the named consumers (followers that keep their position in
    /// `DIR/consumers/`) with the last txid each committed and how many
    /// records they are behind the newest one.
    #[command(after_help = HELP_TABLE)]
    Consumers(ConsumersArgs),
    /// Print the live value of a key (last write wins; a delete removes it).
    ///
    /// Exits 1 when the key is not live.
    #[command(after_help = HELP_TABLE)]
    Get(GetArgs),
    /// Write the live key/value pairs as JSON lines (as `DataWal::export_jsonl`).
    ///
    /// The same bytes as the library's export: `{"key_b64":…,"value_b64":…}`
    /// per line, sorted by key bytes, standard base64, written to a temporary
    /// file and renamed into place. Reads a snapshot: no lock is needed.
    /// With `--decoded`, readable rows instead: typed records decoded.
    #[command(after_help = HELP_TABLE)]
    Export(ExportArgs),
    /// Write the live pairs as a new, compacted store (`DataWal::compact_to`).
    ///
    /// Opens the store as its writer: it takes the lock (a store another
    /// writer holds is refused with exit code 5), and, like every writer's
    /// open, moves a torn tail aside into a `*.torn` file. OUT_DIR must be
    /// absent or empty; it never holds a partial store.
    ///
    /// The compacted store holds only the live keys. A store that also holds
    /// raw log records (appended without a key) is refused with exit code 7
    /// before anything is written to OUT_DIR, since they would be lost;
    /// `--drop-raw-records` compacts it anyway and says how many were
    /// dropped.
    ///
    /// With `--in-place DIR` the store is compacted where it is
    /// (`DataWal::compact`): the live set is rewritten past a new segment,
    /// made durable, then the older segments are removed, oldest first; a
    /// crash at any moment leaves the same live state. The same raw-record
    /// rule applies.
    #[command(after_help = HELP_TABLE)]
    Compact(CompactArgs),
    /// Remove the closed segments whose records all have a txid below
    /// `--before` (`RecordLog::truncate_before`): whole segments, oldest
    /// first, never the active one; txids never go back.
    ///
    /// Opens the store as its writer (exit code 5 when another writer holds
    /// it).
    #[command(after_help = HELP_TABLE)]
    Truncate(TruncateArgs),
    /// Write a consistent copy of the store to OUT (absent or empty)
    /// (`RecordLog::backup_to`): closed segments hard-linked where the file
    /// system allows, the active segment copied.
    ///
    /// Opens the store as its writer (exit code 5 when another writer holds
    /// it: back up from inside that program with `backup_to`).
    #[command(after_help = HELP_TABLE)]
    Backup(BackupArgs),
    /// Publish the store's records to a NATS JetStream stream, exactly once
    /// and in txid order (cargo feature `nats`).
    ///
    /// Each record goes out with message id `{store identity}:{txid}` and
    /// `Datawal-*` headers; the payload is unchanged. The store's identity
    /// is kept in `DIR/datawal-store.id` (created on first use). Resumes
    /// after the stream's last message, so it can be killed and restarted
    /// at any moment; retries with backoff while the server is down. The
    /// stream (file storage) is created when missing; ship each store to a
    /// stream of its own. Without `--follow` it ships up to the log's last
    /// record and exits; with it, it keeps shipping until killed.
    #[cfg(feature = "nats")]
    #[command(after_help = HELP_TABLE)]
    Ship(ShipArgs),
    /// Rebuild a store from a stream `datawal ship` wrote (cargo feature
    /// `nats`).
    ///
    /// Appends the stream's records to the store in DIR (created when
    /// missing) under their own txids: an empty DIR gets the shipped log,
    /// txid for txid; a DIR that already holds a prefix of it gets the
    /// rest. Opens DIR as its writer (exit 5 when another writer holds it).
    #[cfg(feature = "nats")]
    #[command(after_help = HELP_TABLE)]
    Pull(PullArgs),
}

/// Arguments of `datawal stat`.
#[derive(Debug, Args)]
pub struct StatArgs {
    /// The store directory.
    pub dir: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `datawal verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The store directory.
    pub dir: PathBuf,
}

/// Arguments of `datawal scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The store directory.
    pub dir: PathBuf,
    /// Print one JSON object per record (keys and payloads also as exact base64).
    #[arg(long)]
    pub json: bool,
    /// Skip records whose txid is below this one.
    #[arg(long, value_name = "TXID")]
    pub from_txid: Option<u64>,
    /// Print at most this many records.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Show keys and payloads whole (text lines cut them at 200 bytes otherwise).
    #[arg(long)]
    pub full: bool,
    /// Name typed records of this type (`#[record(name = "…")]`) instead of
    /// showing its fingerprint; repeat for several types.
    #[arg(long = "type-name", value_name = "NAME")]
    pub type_names: Vec<String>,
    /// Keep printing records as they are appended (like `tail -f`).
    #[arg(long, short = 'f')]
    pub follow: bool,
}

/// Arguments of `datawal consumers`.
#[derive(Debug, Args)]
pub struct ConsumersArgs {
    /// The store directory.
    pub dir: PathBuf,
    /// Print one JSON object per consumer instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `datawal get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The store directory.
    pub dir: PathBuf,
    /// The key: its bytes as given, or hex / base64 with `--hex` / `--base64`.
    pub key: OsString,
    /// The key is hex (`00ff…`).
    #[arg(long, conflicts_with = "base64")]
    pub hex: bool,
    /// The key is standard base64.
    #[arg(long)]
    pub base64: bool,
    /// Write the value's bytes to stdout as they are, with no newline.
    #[arg(long, conflicts_with = "json")]
    pub raw: bool,
    /// Print the live record as a JSON object, as `scan --json` does.
    #[arg(long)]
    pub json: bool,
    /// Name typed values of this type instead of showing its fingerprint;
    /// repeat for several types.
    #[arg(long = "type-name", value_name = "NAME")]
    pub type_names: Vec<String>,
}

/// Arguments of `datawal export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The store directory.
    pub dir: PathBuf,
    /// The output file (written atomically), or `-` for stdout.
    #[cfg_attr(
        not(feature = "parquet"),
        arg(value_name = "OUT.jsonl", required = true)
    )]
    #[cfg_attr(
        feature = "parquet",
        arg(
            value_name = "OUT.jsonl",
            required_unless_present = "parquet",
            conflicts_with = "parquet"
        )
    )]
    pub out: Option<PathBuf>,
    /// Instead: every record of the log (the history, not only the live
    /// pairs) as one Parquet file, written atomically (cargo feature
    /// `parquet`). A store that describes itself: txid, record_type, key,
    /// type, version, codec, error, then one column per field of its
    /// records. Any other: txid, type, key, payload, and for typed records
    /// type_fingerprint, type_version, codec and value_json (the body's
    /// text for the JSON codec). See docs/scale-out.md.
    #[cfg(feature = "parquet")]
    #[arg(long, value_name = "OUT.parquet")]
    pub parquet: Option<PathBuf>,
    /// Readable rows (JSON lines): typed records decoded to JSON (any codec,
    /// with the store's description), keys in their text form, with `txid`,
    /// `record_type`, `type`, `version` and `codec` columns. One row per
    /// live key of a key/value store, per record of a log.
    #[arg(long)]
    pub decoded: bool,
    /// Name typed records of this type (`#[record(name = "…")]`) in a store
    /// without a description; repeat for several types.
    #[arg(long = "type-name", value_name = "NAME")]
    pub type_names: Vec<String>,
}

/// Arguments of `datawal compact`.
#[derive(Debug, Args)]
pub struct CompactArgs {
    /// The store directory.
    pub dir: PathBuf,
    /// Where to write the compacted store (absent or empty).
    #[arg(required_unless_present = "in_place", conflicts_with = "in_place")]
    pub out_dir: Option<PathBuf>,
    /// Compact the store where it is instead of into OUT_DIR.
    #[arg(long)]
    pub in_place: bool,
    /// Compact a store that holds raw log records (appended without a
    /// key): they are not in the compacted store.
    #[arg(long)]
    pub drop_raw_records: bool,
}

/// Arguments of `datawal truncate`.
#[derive(Debug, Args)]
pub struct TruncateArgs {
    /// The store directory.
    pub dir: PathBuf,
    /// Remove whole closed segments whose records all have a txid below this.
    #[arg(long, value_name = "TXID")]
    pub before: u64,
}

/// Arguments of `datawal backup`.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The store directory.
    pub dir: PathBuf,
    /// Where to write the copy (absent or empty).
    pub out: PathBuf,
}

/// Arguments of `datawal ship`.
#[cfg(feature = "nats")]
#[derive(Debug, Args)]
pub struct ShipArgs {
    /// The store directory.
    pub dir: PathBuf,
    /// The NATS server URL, e.g. nats://127.0.0.1:4222.
    #[arg(long = "nats", value_name = "URL")]
    pub url: String,
    /// The JetStream stream.
    #[arg(long, value_name = "NAME")]
    pub stream: String,
    /// The subject to publish on (default: datawal.STREAM).
    #[arg(long)]
    pub subject: Option<String>,
    /// Keep shipping records as they are appended, until killed.
    #[arg(long)]
    pub follow: bool,
    /// Add the typed envelope's headers (fingerprint, version, codec) to
    /// every record; a record that is not a typed envelope is an error.
    /// A store that describes itself (written by the typed handles) gets
    /// them without it, on every record that is an envelope.
    #[arg(long)]
    pub typed: bool,
}

/// Arguments of `datawal pull`.
#[cfg(feature = "nats")]
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The NATS server URL, e.g. nats://127.0.0.1:4222.
    #[arg(long = "nats", value_name = "URL")]
    pub url: String,
    /// The JetStream stream.
    #[arg(long, value_name = "NAME")]
    pub stream: String,
    /// The subject to read (default: datawal.STREAM).
    #[arg(long)]
    pub subject: Option<String>,
    /// The store directory to append to (created when missing).
    pub dir: PathBuf,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_scan_options() {
        let cli = Cli::try_parse_from([
            "datawal",
            "scan",
            "/s",
            "--json",
            "--from-txid",
            "5",
            "--limit",
            "2",
        ])
        .unwrap();
        let Command::Scan(a) = cli.command else {
            panic!("not scan")
        };
        assert!(a.json);
        assert_eq!(a.from_txid, Some(5));
        assert_eq!(a.limit, Some(2));
        assert!(!a.follow);
        let cli = Cli::try_parse_from(["datawal", "scan", "/s", "--follow"]).unwrap();
        assert!(matches!(cli.command, Command::Scan(a) if a.follow));
    }

    #[test]
    fn key_encodings_are_exclusive() {
        assert!(Cli::try_parse_from(["datawal", "get", "/s", "00", "--hex", "--base64"]).is_err());
        assert!(Cli::try_parse_from(["datawal", "get", "/s", "k", "--raw", "--json"]).is_err());
    }

    #[test]
    fn help_lists_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("Exit codes:"), "{help}");
        let mut cmd = Cli::command();
        let verify = cmd.find_subcommand_mut("verify").unwrap();
        let help = verify.render_long_help().to_string();
        assert!(help.contains("torn tail"), "{help}");
        assert!(help.contains("  4 "), "{help}");
    }
}
