//! The key directory's parts: keys stored in place when short, and a seeded
//! folded-multiply hash.
//!
//! [`KeyBuf`] keeps keys of up to [`INLINE_KEY`] bytes inside the map's
//! entry: no allocation per key (the cost that dominated `DataWal::open`
//! after hashing) and no allocator overhead. Longer keys are boxed.
//!
//! `DataWal::open` hashes every key of the log (twice for a new key: lookup,
//! then insert), and `get`, `put` and `delete` hash once each. std's SipHash
//! costs about 300 instructions for a 12-byte key; this costs about 20. Each
//! map draws its own random seed from std's `RandomState`, so colliding keys
//! cannot be chosen without knowing it (the same level of protection as
//! hashbrown's default hasher: not a cryptographic guarantee).

use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash, Hasher};

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

/// An odd constant with well-mixed bits (2^64 / golden ratio).
const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

/// The high and low halves of the 128-bit product, folded together.
#[inline]
fn fold(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

#[inline]
fn le64(b: &[u8]) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[..8]);
    u64::from_le_bytes(x)
}

#[inline]
fn le32(b: &[u8]) -> u64 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[..4]);
    u64::from(u32::from_le_bytes(x))
}

/// Builds [`KeyHasher`]s with one random seed per map.
#[derive(Debug, Clone)]
pub(crate) struct KeyHashBuilder {
    seed: u64,
    key: u64,
}

impl KeyHashBuilder {
    /// A builder with fresh random seeds.
    pub(crate) fn new() -> Self {
        let rs = RandomState::new();
        KeyHashBuilder {
            seed: rs.hash_one(1u64),
            key: rs.hash_one(2u64) | 1,
        }
    }
}

impl Default for KeyHashBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl BuildHasher for KeyHashBuilder {
    type Hasher = KeyHasher;

    #[inline]
    fn build_hasher(&self) -> KeyHasher {
        KeyHasher {
            acc: self.seed,
            key: self.key,
        }
    }
}

/// A seeded folded-multiply hasher for byte keys.
#[derive(Debug, Clone)]
pub(crate) struct KeyHasher {
    acc: u64,
    key: u64,
}

impl Hasher for KeyHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(16);
        for c in &mut chunks {
            self.acc = fold(le64(c) ^ self.acc, le64(&c[8..]) ^ self.key);
        }
        let r = chunks.remainder();
        let n = r.len();
        // Up to 15 bytes, read as two (possibly overlapping) words; the
        // length (hashed before the bytes by `[u8]::hash`, and mixed in
        // here) tells overlapping reads apart.
        let (a, b) = if n >= 8 {
            (le64(r), le64(&r[n - 8..]))
        } else if n >= 4 {
            (le32(r), le32(&r[n - 4..]))
        } else if n > 0 {
            (
                u64::from(r[0]) | u64::from(r[n / 2]) << 8 | u64::from(r[n - 1]) << 16,
                0,
            )
        } else {
            (0, 0)
        };
        self.acc = fold(a ^ self.acc, b ^ self.key ^ n as u64);
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.acc = fold(i ^ self.acc, MIX ^ self.key);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        fold(self.acc, self.key ^ MIX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn h(b: &KeyHashBuilder, key: &[u8]) -> u64 {
        b.hash_one(key)
    }

    #[test]
    fn keys_round_trip_at_every_length_around_the_inline_limit() {
        assert_eq!(std::mem::size_of::<KeyBuf>(), 24);
        let b = KeyHashBuilder::new();
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
        let b = KeyHashBuilder::new();
        let boxed: Box<[u8]> = b"user:1".to_vec().into_boxed_slice();
        assert_eq!(b.hash_one(&boxed), h(&b, b"user:1"));
        assert_eq!(h(&b, b""), h(&b, b""));
    }

    #[test]
    fn no_collisions_among_short_and_related_keys() {
        let b = KeyHashBuilder::new();
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
        let (a, b) = (KeyHashBuilder::new(), KeyHashBuilder::new());
        assert_ne!(h(&a, b"same key"), h(&b, b"same key"));
    }

    #[test]
    fn low_bits_spread_sequential_keys() {
        // hashbrown picks buckets from the low bits and tags from the top 7.
        let b = KeyHashBuilder::new();
        let mut low = [0u32; 256];
        let mut top = [0u32; 128];
        for i in 0..25_600u32 {
            let x = h(&b, format!("key:{i:08}").as_bytes());
            low[(x & 0xFF) as usize] += 1;
            top[(x >> 57) as usize] += 1;
        }
        assert!(low.iter().all(|&c| (50..=150).contains(&c)), "{low:?}");
        assert!(top.iter().all(|&c| (100..=300).contains(&c)), "{top:?}");
    }
}
