//! The `Record` and `Key` traits: the interface between `#[derive(Record)]`
//! and the typed layer.
//!
//! The derive in `datawal-derive` generates an `impl Record` using the items
//! below and the helpers in `crate::__private`: change both together.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A versioned record type stored by the typed layer.
///
/// Normally derived with `#[derive(Record)]`.
pub trait Record: Serialize + DeserializeOwned + Sized {
    /// Family name: every version of a record type shares it.
    const NAME: &'static str;
    /// Schema version of this type (>= 1).
    const VERSION: u16;
    /// Canonical text of this version's shape (field names and types), used
    /// by the schema guard in the [`testing`](crate::testing) module.
    const SCHEMA: &'static str;
    /// The key type (`()` when no field is marked `#[record(key)]`).
    type Key: Key;
    /// The key of this value.
    fn key(&self) -> Self::Key;
    /// Decode a body written by `version` of this family with `codec`,
    /// upgrading older versions through the `from`/`try_from` chain.
    ///
    /// # Errors
    /// A version newer than `Self::VERSION`, a version absent from the chain,
    /// a body that does not decode, or a failed `TryFrom` conversion.
    fn decode_version(
        version: u16,
        codec: crate::Codec,
        body: &[u8],
    ) -> Result<Self, crate::DecodeError>;
}

/// A type usable as a key: encoded in an order-preserving, injective,
/// self-delimiting byte encoding owned by datawal (see the
/// [`key`](crate::key) module and `docs/canon-typed.md`).
pub trait Key: Sized {
    /// Append the encoding of `self` to `out`.
    fn encode_key(&self, out: &mut Vec<u8>);
    /// Decode one key from the front of `bytes`, returning it and the number
    /// of bytes consumed.
    ///
    /// # Errors
    /// Bytes that are not a valid encoding of `Self`.
    fn decode_key(bytes: &[u8]) -> Result<(Self, usize), crate::KeyError>;
    /// How the key is encoded, for a store's description (see
    /// [`crate::describe`]): what lets a tool without the Rust type show a
    /// key as text and parse one. The default, [`KeyShape::Opaque`], says
    /// nothing (such keys have no text form); every key type of this crate
    /// describes itself.
    ///
    /// [`KeyShape::Opaque`]: crate::describe::KeyShape::Opaque
    #[must_use]
    fn key_shape() -> crate::describe::KeyShape {
        crate::describe::KeyShape::Opaque
    }
}
