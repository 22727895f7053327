//! The key encoding: deterministic, injective, self-delimiting, and
//! order-preserving (comparing encodings byte by byte orders keys the way
//! their types' `Ord` does, for every type below).
//!
//! | type | encoding |
//! |---|---|
//! | `()` | nothing (0 bytes) |
//! | `bool` | 1 byte: `0x00` false, `0x01` true |
//! | `u8` … `u128` | big-endian, fixed width |
//! | `i8` … `i128` | big-endian, fixed width, sign bit flipped (`x ^ MIN`) |
//! | `char` | the scalar value as a big-endian `u32` |
//! | `String`, `Vec<u8>` | each byte, with `0x00` written as `0x00 0xFF`, then the terminator `0x00 0x00` |
//! | `Option<K>` | `0x00` for `None`; `0x01` then `K` for `Some` |
//! | tuples of up to 6 keys | the concatenation of the elements' encodings |
//!
//! The full specification is `docs/canon-typed.md`.

use crate::describe::KeyShape;
use crate::{Key, KeyError};

/// Decode a whole key: `bytes` must hold exactly one encoding of `K`.
///
/// # Errors
/// Bytes that are not an encoding of `K`, or trailing bytes after it.
pub fn decode_key_exact<K: Key>(bytes: &[u8]) -> Result<K, KeyError> {
    let (key, used) = K::decode_key(bytes)?;
    if used != bytes.len() {
        return Err(KeyError::Trailing {
            type_name: std::any::type_name::<K>(),
            extra: bytes.len() - used,
        });
    }
    Ok(key)
}

/// The encoding of `key` as a new vector.
#[must_use]
pub fn encode_key_to_vec<K: Key>(key: &K) -> Vec<u8> {
    let mut out = Vec::new();
    key.encode_key(&mut out);
    out
}

fn take<const N: usize, K>(bytes: &[u8]) -> Result<[u8; N], KeyError> {
    match bytes.get(..N) {
        Some(b) => {
            let mut out = [0u8; N];
            out.copy_from_slice(b);
            Ok(out)
        }
        None => Err(KeyError::UnexpectedEnd {
            type_name: std::any::type_name::<K>(),
            needed: N,
            available: bytes.len(),
        }),
    }
}

impl Key for () {
    fn key_shape() -> KeyShape {
        KeyShape::Unit
    }
    fn encode_key(&self, _out: &mut Vec<u8>) {}
    fn decode_key(_bytes: &[u8]) -> Result<((), usize), KeyError> {
        Ok(((), 0))
    }
}

impl Key for bool {
    fn key_shape() -> KeyShape {
        KeyShape::Bool
    }
    fn encode_key(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn decode_key(bytes: &[u8]) -> Result<(bool, usize), KeyError> {
        match take::<1, bool>(bytes)?[0] {
            0 => Ok((false, 1)),
            1 => Ok((true, 1)),
            other => Err(KeyError::Invalid {
                type_name: "bool",
                reason: format!("byte {other:#04x} is neither 0x00 (false) nor 0x01 (true)"),
            }),
        }
    }
}

macro_rules! unsigned_key {
    ($($t:ty => $shape:ident),*) => {$(
        impl Key for $t {
            fn key_shape() -> KeyShape {
                KeyShape::$shape
            }
            fn encode_key(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }
            fn decode_key(bytes: &[u8]) -> Result<($t, usize), KeyError> {
                const N: usize = core::mem::size_of::<$t>();
                Ok((<$t>::from_be_bytes(take::<N, $t>(bytes)?), N))
            }
        }
    )*};
}
unsigned_key!(u8 => U8, u16 => U16, u32 => U32, u64 => U64, u128 => U128);

macro_rules! signed_key {
    ($($t:ty => $u:ty, $shape:ident),*) => {$(
        impl Key for $t {
            fn key_shape() -> KeyShape {
                KeyShape::$shape
            }
            fn encode_key(&self, out: &mut Vec<u8>) {
                // Flipping the sign bit maps MIN..=MAX onto 0..=unsigned MAX
                // in order.
                let flipped = (*self as $u) ^ (1 << (<$u>::BITS - 1));
                out.extend_from_slice(&flipped.to_be_bytes());
            }
            fn decode_key(bytes: &[u8]) -> Result<($t, usize), KeyError> {
                const N: usize = core::mem::size_of::<$t>();
                let flipped = <$u>::from_be_bytes(take::<N, $t>(bytes)?);
                Ok(((flipped ^ (1 << (<$u>::BITS - 1))) as $t, N))
            }
        }
    )*};
}
signed_key!(i8 => u8, I8, i16 => u16, I16, i32 => u32, I32, i64 => u64, I64, i128 => u128, I128);

impl Key for char {
    fn key_shape() -> KeyShape {
        KeyShape::Char
    }
    fn encode_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&u32::from(*self).to_be_bytes());
    }
    fn decode_key(bytes: &[u8]) -> Result<(char, usize), KeyError> {
        let scalar = u32::from_be_bytes(take::<4, char>(bytes)?);
        match char::from_u32(scalar) {
            Some(c) => Ok((c, 4)),
            None => Err(KeyError::Invalid {
                type_name: "char",
                reason: format!("{scalar:#x} is not a Unicode scalar value"),
            }),
        }
    }
}

/// Escape byte written after `0x00` for a literal zero byte.
const ESCAPED_ZERO: u8 = 0xFF;
/// Byte written after `0x00` to end a byte string.
const TERMINATOR: u8 = 0x00;

fn encode_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    out.reserve(bytes.len() + 2);
    let mut rest = bytes;
    // Copy runs without zero bytes in one go.
    while let Some(i) = rest.iter().position(|&b| b == 0) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(&[0x00, ESCAPED_ZERO]);
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
    out.extend_from_slice(&[0x00, TERMINATOR]);
}

fn decode_bytes(bytes: &[u8], type_name: &'static str) -> Result<(Vec<u8>, usize), KeyError> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let Some(rel) = bytes[i..].iter().position(|&b| b == 0) else {
            return Err(KeyError::Invalid {
                type_name,
                reason: "the byte string has no 0x00 0x00 terminator".into(),
            });
        };
        out.extend_from_slice(&bytes[i..i + rel]);
        i += rel;
        match bytes.get(i + 1) {
            Some(&TERMINATOR) => return Ok((out, i + 2)),
            Some(&ESCAPED_ZERO) => {
                out.push(0);
                i += 2;
            }
            Some(&other) => {
                return Err(KeyError::Invalid {
                    type_name,
                    reason: format!(
                        "byte {other:#04x} after 0x00 at offset {i} (expected 0xFF for an \
                         escaped zero or 0x00 for the end)"
                    ),
                })
            }
            None => {
                return Err(KeyError::Invalid {
                    type_name,
                    reason: "the byte string ends inside an escape".into(),
                })
            }
        }
    }
}

impl Key for Vec<u8> {
    fn key_shape() -> KeyShape {
        KeyShape::Bytes
    }
    fn encode_key(&self, out: &mut Vec<u8>) {
        encode_bytes(self, out);
    }
    fn decode_key(bytes: &[u8]) -> Result<(Vec<u8>, usize), KeyError> {
        decode_bytes(bytes, "Vec<u8>")
    }
}

impl Key for String {
    fn key_shape() -> KeyShape {
        KeyShape::Str
    }
    fn encode_key(&self, out: &mut Vec<u8>) {
        encode_bytes(self.as_bytes(), out);
    }
    fn decode_key(bytes: &[u8]) -> Result<(String, usize), KeyError> {
        let (raw, used) = decode_bytes(bytes, "String")?;
        match String::from_utf8(raw) {
            Ok(s) => Ok((s, used)),
            Err(e) => Err(KeyError::Invalid {
                type_name: "String",
                reason: format!("not UTF-8: {e}"),
            }),
        }
    }
}

impl<K: Key> Key for Option<K> {
    fn key_shape() -> KeyShape {
        KeyShape::Option(Box::new(K::key_shape()))
    }
    fn encode_key(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(k) => {
                out.push(1);
                k.encode_key(out);
            }
        }
    }
    fn decode_key(bytes: &[u8]) -> Result<(Option<K>, usize), KeyError> {
        match take::<1, Option<K>>(bytes)?[0] {
            0 => Ok((None, 1)),
            1 => {
                let (k, used) = K::decode_key(&bytes[1..])?;
                Ok((Some(k), used + 1))
            }
            other => Err(KeyError::Invalid {
                type_name: std::any::type_name::<Option<K>>(),
                reason: format!("tag byte {other:#04x} is neither 0x00 (None) nor 0x01 (Some)"),
            }),
        }
    }
}

macro_rules! tuple_key {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: Key),+> Key for ($($name,)+) {
            fn key_shape() -> KeyShape {
                KeyShape::Tuple(vec![$($name::key_shape()),+])
            }
            fn encode_key(&self, out: &mut Vec<u8>) {
                $(self.$idx.encode_key(out);)+
            }
            fn decode_key(bytes: &[u8]) -> Result<(Self, usize), KeyError> {
                let mut used = 0;
                let value = ($({
                    let (v, n) = $name::decode_key(&bytes[used..])?;
                    used += n;
                    v
                },)+);
                Ok((value, used))
            }
        }
    };
}
tuple_key!(A 0);
tuple_key!(A 0, B 1);
tuple_key!(A 0, B 1, C 2);
tuple_key!(A 0, B 1, C 2, D 3);
tuple_key!(A 0, B 1, C 2, D 3, E 4);
tuple_key!(A 0, B 1, C 2, D 3, E 4, F 5);

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Debug;

    fn enc<K: Key>(k: &K) -> Vec<u8> {
        encode_key_to_vec(k)
    }

    fn round_trip<K: Key + PartialEq + Debug>(k: K) {
        let bytes = enc(&k);
        assert_eq!(decode_key_exact::<K>(&bytes).unwrap(), k, "{bytes:02x?}");
    }

    /// Encodings sort exactly like the values, and are distinct.
    fn check_order<K: Key + Ord + Debug + Clone>(mut values: Vec<K>) {
        values.sort();
        values.dedup();
        let encoded: Vec<Vec<u8>> = values.iter().map(enc).collect();
        for (w, v) in encoded.windows(2).zip(values.windows(2)) {
            assert!(
                w[0] < w[1],
                "{:?} -> {:02x?} !< {:?} -> {:02x?}",
                v[0],
                w[0],
                v[1],
                w[1]
            );
        }
    }

    #[test]
    fn documented_bytes() {
        assert_eq!(enc(&()), b"");
        assert_eq!(enc(&true), [1]);
        assert_eq!(enc(&7u64), [0, 0, 0, 0, 0, 0, 0, 7]);
        assert_eq!(enc(&-1i32), [0x7F, 0xFF, 0xFF, 0xFF]);
        assert_eq!(enc(&0i16), [0x80, 0]);
        assert_eq!(enc(&i8::MIN), [0]);
        assert_eq!(enc(&'A'), [0, 0, 0, 0x41]);
        assert_eq!(enc(&String::from("a\0b")), [b'a', 0, 0xFF, b'b', 0, 0]);
        assert_eq!(enc(&Vec::<u8>::new()), [0, 0]);
        assert_eq!(enc(&Some(1u8)), [1, 1]);
        assert_eq!(enc(&None::<u8>), [0]);
        assert_eq!(enc(&(1u16, String::from("x"))), [0, 1, b'x', 0, 0]);
    }

    #[test]
    fn round_trips() {
        round_trip(());
        round_trip(false);
        round_trip(u128::MAX);
        round_trip(i128::MIN);
        round_trip(i64::MIN);
        round_trip(-5i8);
        round_trip('\u{10FFFF}');
        round_trip(String::from("\0\0a\0"));
        round_trip(vec![0u8, 0xFF, 0, 0]);
        round_trip(Some(String::new()));
        round_trip((1u8, -2i16, String::from("s"), vec![0u8], true, 'c'));
        round_trip((String::from("a\0"), String::from("")));
    }

    #[test]
    fn integer_order() {
        check_order(vec![i64::MIN, -300, -1, 0, 1, 255, 256, i64::MAX]);
        check_order(vec![0u32, 1, 255, 256, 65_536, u32::MAX]);
        check_order(vec![i128::MIN, -1, 0, i128::MAX]);
        check_order(vec![i8::MIN, -1, 0, 1, i8::MAX]);
    }

    #[test]
    fn string_and_composite_order() {
        let strs: Vec<String> = [
            "", "\0", "\0\0", "\0a", "a", "a\0", "a\0\0", "a\u{1}", "ab", "b", "\u{ff}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        check_order(strs.clone());
        let mut pairs = Vec::new();
        for a in &strs {
            for b in &strs {
                pairs.push((a.clone(), b.clone()));
            }
        }
        check_order(pairs);
        let mut mixed = Vec::new();
        for s in &strs {
            for n in [-2i32, 0, 9] {
                mixed.push((n, s.clone(), Some(n)));
                mixed.push((n, s.clone(), None));
            }
        }
        check_order(mixed);
        check_order(vec![None, Some(0u8), Some(1)]);
        check_order(vec![false, true]);
        check_order(vec!['\0', 'a', 'é', '\u{10FFFF}']);
    }

    #[test]
    fn composite_keys_are_injective() {
        // Without delimiting, ("a", "bc") and ("ab", "c") would collide.
        assert_ne!(
            enc(&(String::from("a"), String::from("bc"))),
            enc(&(String::from("ab"), String::from("c")))
        );
    }

    #[test]
    fn bad_bytes_are_errors() {
        assert!(matches!(
            u64::decode_key(&[1, 2, 3]),
            Err(KeyError::UnexpectedEnd {
                needed: 8,
                available: 3,
                ..
            })
        ));
        assert!(bool::decode_key(&[2]).is_err());
        assert!(char::decode_key(&[0, 0, 0xD8, 0]).is_err());
        assert!(String::decode_key(b"abc").is_err());
        assert!(String::decode_key(&[b'a', 0]).is_err());
        assert!(String::decode_key(&[b'a', 0, 7, 0, 0]).is_err());
        assert!(String::decode_key(&[0xC3, 0, 0]).is_err());
        assert!(Option::<u8>::decode_key(&[2]).is_err());
        assert!(matches!(
            decode_key_exact::<u8>(&[1, 2]),
            Err(KeyError::Trailing { extra: 1, .. })
        ));
        let e = u64::decode_key(&[]).unwrap_err().to_string();
        assert!(e.contains("u64") && e.contains("8"), "{e}");
    }
}
