//! The key directory: each live key and where its Put is.
//!
//! [`KeyDir`] keeps its entries (key and [`RecordRef`], 40 bytes) densely in
//! a `Vec`, and finds them through a hash table of 4-byte indices into it.
//! A hash table of the entries themselves costs 41 bytes per bucket, and a
//! table that has just doubled has more than twice as many buckets as keys:
//! over 90 bytes per key. Here the entries cost 40 bytes per key (45 at
//! most while the `Vec` grows, by an eighth at a time), and the index 5
//! bytes per bucket (5.7 to 11.4 per key). The index is a seventh to a
//! quarter of the entries' size, so building it during `DataWal::open`
//! stays in the cache; a lookup makes one more access, into that small
//! index.
//!
//! [`KeyBuf`] keeps keys of up to [`INLINE_KEY`] bytes inside the entry:
//! no allocation per key (the cost that dominated `DataWal::open` after
//! hashing) and no allocator overhead. Longer keys are boxed.
//!
//! `DataWal::open` hashes every key of the log, and `get`, `put` and
//! `delete` hash once each. std's SipHash costs about 300 instructions for a
//! 12-byte key; [`KeyHashBuilder`] is foldhash's fast hasher (a seeded
//! folded multiply, about 20), with a random seed per map, so colliding
//! keys cannot be chosen without knowing it (hashbrown's default level of
//! protection: not a cryptographic guarantee). Measured against the
//! alternatives at 1M keys (`docs/benchmarks.md`, "The key directory's
//! hasher"): SipHash doubles `DataWal::open`, foldhash's quality variant
//! adds 15-50 %.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::recovery::RecordRef;

/// Longest key stored inside a [`KeyBuf`] (the entry is 24 bytes either way).
pub(crate) const INLINE_KEY: usize = 22;

/// A key of the key directory: in place up to [`INLINE_KEY`] bytes, boxed
/// beyond. Compares as the `[u8]` it holds.
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

/// Most entries a [`KeyDir`] holds: its index stores `u32`s.
const MAX_ENTRIES: usize = u32::MAX as usize;

/// A live key's place in the directory was refused: the directory already
/// holds [`MAX_ENTRIES`] keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

/// Each live key and where its Put is: dense entries, found through a
/// hash table of their indices (see the module's documentation).
#[derive(Default)]
pub(crate) struct KeyDir {
    hasher: KeyHashBuilder,
    /// Indices into `entries`, one per entry.
    index: HashTable<u32>,
    entries: Vec<(KeyBuf, RecordRef)>,
}

impl KeyDir {
    /// Number of keys.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when no key is held.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    #[inline]
    fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The fields, borrowed apart: the index's closures read the entries.
    #[inline]
    fn parts(
        &mut self,
    ) -> (
        &KeyHashBuilder,
        &mut HashTable<u32>,
        &mut Vec<(KeyBuf, RecordRef)>,
    ) {
        (&self.hasher, &mut self.index, &mut self.entries)
    }

    /// `true` when no new key fits.
    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.entries.len() >= MAX_ENTRIES
    }

    /// Where `key`'s Put is.
    #[inline]
    pub(crate) fn get(&self, key: &[u8]) -> Option<RecordRef> {
        let entries = &self.entries;
        self.index
            .find(self.hash(key), |&i| is_key(entries, i, key))
            .and_then(|&i| entries.get(i as usize))
            .map(|(_, r)| *r)
    }

    /// Point `key` at `r`, adding it when it is new.
    ///
    /// # Errors
    /// [`Full`] when `key` is new and [`MAX_ENTRIES`] keys are held; the
    /// directory is unchanged.
    #[inline]
    pub(crate) fn insert(&mut self, key: &[u8], r: RecordRef) -> Result<(), Full> {
        let hash = self.hash(key);
        let (hasher, index, entries) = self.parts();
        match index.entry(
            hash,
            |&i| is_key(entries, i, key),
            |&i| rehash(hasher, entries, i),
        ) {
            hashbrown::hash_table::Entry::Occupied(slot) => {
                if let Some(entry) = entries.get_mut(*slot.get() as usize) {
                    entry.1 = r;
                }
            }
            hashbrown::hash_table::Entry::Vacant(slot) => {
                let i = u32::try_from(entries.len())
                    .ok()
                    .filter(|&i| i < u32::MAX)
                    .ok_or(Full)?;
                if entries.len() == entries.capacity() {
                    // Grow by an eighth, not double: the entries are the
                    // directory's memory (see the module's documentation).
                    entries.reserve_exact((entries.len() / 8).max(16));
                }
                entries.push((KeyBuf::from(key), r));
                slot.insert(i);
            }
        }
        Ok(())
    }

    /// Forget `key`; where its Put was, if it was held.
    pub(crate) fn remove(&mut self, key: &[u8]) -> Option<RecordRef> {
        let hash = self.hash(key);
        let (hasher, index, entries) = self.parts();
        let (i, _) = index
            .find_entry(hash, |&i| is_key(entries, i, key))
            .ok()?
            .remove();
        let i = i as usize;
        if i >= entries.len() {
            return None;
        }
        let (_, r) = entries.swap_remove(i);
        // The last entry moved into `i`: point its index there.
        if let Some((moved, _)) = entries.get(i) {
            let last = entries.len() as u32;
            let moved_hash = hasher.hash_one(moved.as_slice());
            if let Some(slot) = index.find_mut(moved_hash, |&j| j == last) {
                *slot = i as u32;
            }
        }
        Some(r)
    }

    /// Make room for `additional` more keys.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let (hasher, index, entries) = self.parts();
        entries.reserve_exact(additional);
        index.reserve(additional, |&i| rehash(hasher, entries, i));
    }

    /// Give back room beyond the keys held.
    pub(crate) fn shrink_to_fit(&mut self) {
        let (hasher, index, entries) = self.parts();
        entries.shrink_to_fit();
        index.shrink_to_fit(|&i| rehash(hasher, entries, i));
    }

    /// Every key with where its Put is, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], RecordRef)> {
        self.entries.iter().map(|(k, r)| (k.as_slice(), *r))
    }

    /// Keys the index has room for without growing.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.index.capacity()
    }
}

impl std::fmt::Debug for KeyDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, r)| (k, r)))
            .finish()
    }
}

/// `true` when entry `i` holds `key`.
#[inline]
fn is_key(entries: &[(KeyBuf, RecordRef)], i: u32, key: &[u8]) -> bool {
    entries
        .get(i as usize)
        .is_some_and(|(k, _)| k.as_slice() == key)
}

/// The hash of entry `i`'s key, for the index to move it when it grows.
#[inline]
fn rehash(hasher: &KeyHashBuilder, entries: &[(KeyBuf, RecordRef)], i: u32) -> u64 {
    entries
        .get(i as usize)
        .map_or(0, |(k, _)| hasher.hash_one(k.as_slice()))
}

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
        for len in 0..=INLINE_KEY + 2 {
            let key: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37)).collect();
            let k = KeyBuf::from(&key[..]);
            assert_eq!(k.as_slice(), &key[..]);
            assert_eq!(matches!(k, KeyBuf::Inline { .. }), len <= INLINE_KEY);
            assert_eq!(k, KeyBuf::from(&key[..]));
        }
        assert_ne!(KeyBuf::from(&b"a"[..]), KeyBuf::from(&b"a\0"[..]));
    }

    fn at(segment: u32, offset: u64) -> RecordRef {
        RecordRef {
            segment,
            offset,
            len: 40,
        }
    }

    /// Inserts, overwrites and removes (each remove moves the last entry)
    /// agree with a `BTreeMap` at every step, for short and boxed keys,
    /// through growth, a reservation and a shrink.
    #[test]
    fn the_directory_matches_a_map_through_inserts_overwrites_and_removes() {
        let mut dir = KeyDir::default();
        let mut model = std::collections::BTreeMap::new();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for step in 0..20_000u64 {
            if step == 5_000 {
                dir.reserve(10_000);
            }
            if step == 15_000 {
                dir.shrink_to_fit();
            }
            let n = next();
            // 1,500 distinct keys, a third of them longer than INLINE_KEY.
            let id = n % 1_500;
            let key = if id % 3 == 0 {
                format!("a-long-key-kept-on-the-heap-{id}").into_bytes()
            } else {
                format!("k{id}").into_bytes()
            };
            if (n >> 32) % 4 == 0 {
                assert_eq!(dir.remove(&key), model.remove(&key), "step {step}");
            } else {
                let r = at((n >> 40) as u32, step);
                dir.insert(&key, r).unwrap();
                model.insert(key.clone(), r);
            }
            assert_eq!(dir.len(), model.len());
            assert_eq!(dir.get(&key), model.get(&key).copied(), "step {step}");
        }
        for (k, r) in &model {
            assert_eq!(dir.get(k), Some(*r));
        }
        let mut listed: Vec<(Vec<u8>, RecordRef)> =
            dir.iter().map(|(k, r)| (k.to_vec(), r)).collect();
        listed.sort_by(|a, b| a.0.cmp(&b.0));
        let want: Vec<(Vec<u8>, RecordRef)> = model.into_iter().collect();
        assert_eq!(listed, want);
        for (k, _) in &want {
            assert!(dir.remove(k).is_some());
        }
        assert!(dir.is_empty());
        assert_eq!(dir.get(b"k1"), None);
    }

    /// The directory's memory: 40-byte entries, grown by an eighth, and
    /// 5-byte index buckets.
    #[test]
    fn entries_are_forty_bytes_and_grow_by_an_eighth() {
        assert_eq!(std::mem::size_of::<(KeyBuf, RecordRef)>(), 40);
        let mut dir = KeyDir::default();
        for i in 0..10_000u64 {
            dir.insert(format!("key:{i:08}").as_bytes(), at(1, i))
                .unwrap();
            let cap = dir.entries.capacity();
            assert!(
                cap <= dir.len() + dir.len() / 8 + 16,
                "{cap} for {}",
                dir.len()
            );
        }
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
