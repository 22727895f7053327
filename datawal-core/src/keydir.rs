//! The key directory's parts: keys stored in place when short, and a seeded
//! folded-multiply hash.
//!
//! [`KeyBuf`] keeps keys of up to [`INLINE_KEY`] bytes inside the map's
//! entry: no allocation per key (the cost that dominated `DataWal::open`
//! after hashing) and no allocator overhead. Longer keys are boxed.
//!
//! `DataWal::open` hashes every key of the log, and `get`, `put` and
//! `delete` hash once each. std's SipHash costs about 300 instructions for a
//! 12-byte key; [`KeyHashBuilder`] is foldhash's fast hasher (a seeded
//! folded multiply, about 20), with a random seed per map, so colliding
//! keys cannot be chosen without knowing it (hashbrown's default level of
//! protection: not a cryptographic guarantee).

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// Longest key stored inside a [`KeyBuf`] (the entry is 24 bytes either way).
pub(crate) const INLINE_KEY: usize = 22;

/// A key of the key directory: in place up to [`INLINE_KEY`] bytes, boxed
/// beyond. Hashes, compares and borrows as the `[u8]` it holds.
#[derive(Clone)]
pub(crate) enum KeyBuf {
    /// `bytes[..len]` is the key.
    Inline { len: u8, bytes: [u8; INLINE_KEY] },
    /// A key longer than [`INLINE_KEY`].
    Heap(Box<[u8]>),
}

impl KeyBuf {
    /// The key's bytes.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            KeyBuf::Inline { len, bytes } => &bytes[..usize::from(*len)],
            KeyBuf::Heap(b) => b,
        }
    }
}

impl From<&[u8]> for KeyBuf {
    #[inline]
    fn from(key: &[u8]) -> Self {
        if key.len() <= INLINE_KEY {
            let mut bytes = [0u8; INLINE_KEY];
            bytes[..key.len()].copy_from_slice(key);
            KeyBuf::Inline {
                len: key.len() as u8,
                bytes,
            }
        } else {
            KeyBuf::Heap(key.into())
        }
    }
}

impl Borrow<[u8]> for KeyBuf {
    #[inline]
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Hash for KeyBuf {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl PartialEq for KeyBuf {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for KeyBuf {}

impl std::fmt::Debug for KeyBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::format::display_key(self.as_slice()))
    }
}

/// The key directory's hasher: foldhash, seeded at random per map.
pub(crate) type KeyHashBuilder = foldhash::fast::RandomState;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    fn h(b: &KeyHashBuilder, key: &[u8]) -> u64 {
        b.hash_one(key)
    }

    #[test]
    fn keys_round_trip_at_every_length_around_the_inline_limit() {
        assert_eq!(std::mem::size_of::<KeyBuf>(), 24);
        let b = KeyHashBuilder::default();
        for len in 0..=INLINE_KEY + 2 {
            let key: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37)).collect();
            let k = KeyBuf::from(&key[..]);
            assert_eq!(k.as_slice(), &key[..]);
            assert_eq!(matches!(k, KeyBuf::Inline { .. }), len <= INLINE_KEY);
            assert_eq!(b.hash_one(&k), b.hash_one(&key[..]), "len {len}");
            assert_eq!(k, KeyBuf::from(&key[..]));
        }
        assert_ne!(KeyBuf::from(&b"a"[..]), KeyBuf::from(&b"a\0"[..]));
    }

    #[test]
    fn equal_keys_hash_equal_and_slices_match_boxes() {
        let b = KeyHashBuilder::default();
        let boxed: Box<[u8]> = b"user:1".to_vec().into_boxed_slice();
        assert_eq!(b.hash_one(&boxed), h(&b, b"user:1"));
        assert_eq!(h(&b, b""), h(&b, b""));
    }

    #[test]
    fn no_collisions_among_short_and_related_keys() {
        let b = KeyHashBuilder::default();
        let mut keys: Vec<Vec<u8>> = Vec::new();
        // Every length 0..=40, prefixes of one another, and zero padding.
        for len in 0..=40 {
            keys.push(vec![0u8; len]);
            keys.push((0..len as u8).collect());
        }
        for i in 0..100_000u32 {
            keys.push(format!("key:{i:08}").into_bytes());
            keys.push(i.to_be_bytes().to_vec());
        }
        keys.sort();
        keys.dedup();
        let hashes: HashSet<u64> = keys.iter().map(|k| h(&b, k)).collect();
        assert_eq!(hashes.len(), keys.len());
    }

    #[test]
    fn seeds_differ_between_maps() {
        let (a, b) = (KeyHashBuilder::default(), KeyHashBuilder::default());
        assert_ne!(h(&a, b"same key"), h(&b, b"same key"));
    }
}
