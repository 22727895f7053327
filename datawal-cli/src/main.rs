//! `datawal`: inspect, verify, export and compact datawal stores.
//!
//! ```text
//! datawal stat    DIR [--json]
//! datawal verify  DIR
//! datawal scan    DIR [--json] [--from-txid N] [--limit N] [--full] [--type-name NAME]... [--follow]
//! datawal consumers DIR [--json]
//! datawal get     DIR KEY [--hex | --base64] [--raw | --json] [--type-name NAME]...
//! datawal export  DIR OUT.jsonl|-
//! datawal export  DIR --parquet OUT.parquet                       (feature `parquet`)
//! datawal ship    DIR --nats URL --stream NAME [--subject S] [--follow] [--typed]   (feature `nats`)
//! datawal pull    --nats URL --stream NAME [--subject S] DIR      (feature `nats`)
//! datawal compact DIR OUT_DIR [--drop-raw-records]
//! ```
//!
//! Every subcommand but `compact` reads a lock-free snapshot
//! ([`datawal_core::RecordLogReader`]) and changes nothing on disk, so it
//! works on a store a writer is appending to, including stores written by
//! the published `datawal` 0.1 crates (same wire format). `compact` opens
//! the store as its writer (`DataWal::open` + `compact_to`).
//!
//! Memory: `stat` and `export` keep the live keys (not the values) in
//! memory; `verify`, `scan` and `get` stream.
//!
//! Modules: [`cli`] (the clap definition), [`cmd`] (one module per
//! subcommand), [`store`] (snapshot, projection, reading values back),
//! [`render`] (readable and JSON forms), [`envelope`] (the typed header),
//! [`exit`] (exit codes and the one-line error), [`progress`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cli;
mod cmd;
mod envelope;
mod exit;
mod lens;
mod progress;
mod render;
mod store;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    // No Rust backtrace for users: a panic is a bug, reported in one line.
    std::panic::set_hook(Box::new(|info| {
        exit::say(&format!(
            "datawal: error: internal error ({}); please report this bug",
            info.to_string().replace('\n', " ")
        ));
        std::process::exit(i32::from(exit::INTERNAL));
    }));
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with 0; usage errors to stderr.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    match cmd::run(cli.command) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(e) => exit::report(&e),
    }
}
