//! `datawal`: inspect, verify, export and compact datawal stores.
//!
//! Every subcommand but `compact` reads a lock-free snapshot
//! ([`datawal_core::RecordLogReader`]) and changes nothing on disk, so it
//! works on a store a writer is appending to. Exit codes are listed in
//! [`exit`] and in `datawal --help`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cli;
mod cmd;
mod envelope;
mod exit;
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
