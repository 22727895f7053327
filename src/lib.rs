//! datawal facade (filled in below).
pub use datawal_core::*;
