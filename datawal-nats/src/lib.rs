//! Ship a datawal log to NATS JetStream exactly once, and rebuild a store
//! from a stream.
//!
//! - [`Shipper`] publishes every record of a store (for a key/value store,
//!   every put and delete) in txid order, with message id
//!   `{store identity}:{txid}` and `Datawal-*` headers (txid, record type,
//!   key, and for typed stores the envelope's fingerprint, version and
//!   codec); the payload is the record's payload unchanged. It resumes
//!   from the stream's last message after any crash or restart. The
//!   protocol is model-checked in `formal/Ship.tla`.
//! - [`pull`] appends a stream's records to a local store under their
//!   txids.
//!
//! One stream per store: the shipper's ordering check is on the stream's
//! last message. See `docs/scale-out.md` for what is guaranteed end to end.
//!
//! ```no_run
//! use datawal_nats::{ShipOptions, Shipper};
//! # async fn ship() -> Result<(), datawal_nats::Error> {
//! let mut shipper = Shipper::new("/var/lib/app/audit", ShipOptions::new("nats://127.0.0.1:4222", "AUDIT"))?;
//! let report = shipper.ship_once().await?;
//! println!("stream holds up to txid {}", report.last_txid);
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
pub mod headers;
mod identity;
mod pull;
pub mod ship;

pub use error::{Error, Result};
pub use identity::{StoreId, STORE_ID_FILE};
pub use pull::{pull, PullOptions, PullReport};
pub use ship::{Acked, ShipOptions, ShipReport, Shipper};
