//! `datawal ship DIR --nats URL --stream NAME` and `datawal pull --nats URL
//! --stream NAME DIR` (cargo feature `nats`), over `datawal_nats`.

use std::io::Write as _;

use anyhow::Result;
use datawal_nats::{PullOptions, ShipOptions, Shipper};

use crate::cli::{PullArgs, ShipArgs};
use crate::exit::Outcome;

/// A single-threaded runtime: one shipper, one connection.
fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

/// Ship the store in `args.dir`; with `--follow`, until killed.
///
/// # Errors
/// Not a store, the store unreadable, a stream that holds another store's
/// messages, a record that is not typed under `--typed`. A server that is
/// down is waited for, not an error.
pub fn ship(args: &ShipArgs) -> Result<Outcome> {
    crate::store::require_dir(&args.dir)?;
    if datawal_core::segment::list_segments(&args.dir)?.is_empty() {
        anyhow::bail!(
            "{} holds no segment files (*.dwal): not a datawal store",
            args.dir.display()
        );
    }
    let mut options = ShipOptions::new(&args.url, &args.stream).typed(args.typed);
    if let Some(subject) = &args.subject {
        options = options.subject(subject);
    }
    let mut shipper = Shipper::new(&args.dir, options)?;
    let report = runtime()?.block_on(async {
        if args.follow {
            shipper.follow(std::future::pending(), |_| {}).await
        } else {
            shipper.ship_once().await
        }
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "shipped {} ({} already there) to stream {} subject {}; the stream holds up to txid {}",
        super::count(report.published, "record"),
        report.duplicates,
        args.stream,
        shipper.subject(),
        report.last_txid
    )?;
    out.flush()?;
    Ok(Outcome::Ok)
}

/// Append the stream's records to the store in `args.dir`.
///
/// # Errors
/// The server or stream unreachable, a message `datawal ship` did not
/// write, a stream that does not continue the store's log, a locked store.
pub fn pull(args: &PullArgs) -> Result<Outcome> {
    let mut options = PullOptions::new(&args.url, &args.stream);
    if let Some(subject) = &args.subject {
        options = options.subject(subject);
    }
    let report = runtime()?.block_on(datawal_nats::pull(&options, &args.dir))?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "pulled {} into {} ({} already there); last txid {}",
        super::count(report.appended, "record"),
        args.dir.display(),
        report.skipped,
        report.last_txid
    )?;
    out.flush()?;
    Ok(Outcome::Ok)
}
