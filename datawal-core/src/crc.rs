//! CRC-32C (Castagnoli) of several frames at once: the one module of the
//! crate with `unsafe` code.
//!
//! Checking CRCs is the largest cost of a scan. The SSE 4.2 `crc32`
//! instruction has a latency of three cycles and a throughput of one per
//! cycle, so one frame's CRC, a single chain of dependent instructions,
//! leaves two thirds of the unit idle. The `crc32c` crate interleaves three
//! chains *within* a buffer, which pays off from about a kilobyte on; frames
//! of a scan are mostly smaller. [`crc32c_lanes`] interleaves [`LANES`]
//! frames instead, one chain each.
//!
//! [`crc32c`] is the single-body form (for `get`, encoding a frame and the
//! slow paths): one chain for a short body, the crate's beyond.
//!
//! The `unsafe` is a call into a function compiled for SSE 4.2 (one per
//! form), made only after the running CPU was seen to support it. The code
//! inside needs no `unsafe`: the intrinsics are safe to call in a function that enables their
//! feature, and every load is a bounds-checked slice read. Without SSE 4.2
//! (or off x86-64), each body goes through `crc32c::crc32c`. The tests
//! compare the lanes with `crc32c::crc32c` (on an SSE 4.2 machine, so the
//! fallback itself is not what they exercise), and run under Miri
//! (`.ci/run`: `cargo +nightly miri test -p datawal-core --lib crc::`, with
//! `-C target-feature=+sse4.2` so the SSE path is the one Miri executes).

#![allow(unsafe_code)]

/// How many bodies [`crc32c_lanes`] checks at once: three chains cover the
/// instruction's latency; a fourth absorbs bodies of unequal lengths.
pub(crate) const LANES: usize = 4;

/// From this many bytes on, what is left of a body after the interleaved
/// words goes to `crc32c::crc32c_append`, whose three chains within one
/// buffer beat a single chain there (measured on this machine: a single
/// chain 87 ns against 117 for 512 bytes, 198 against 142 for 1 KiB, twice
/// the crate's time from 4 KiB on).
const LONG_TAIL: usize = 768;

/// The CRC-32C of `body`, the value `crc32c::crc32c` returns: one chain of
/// `crc32` instructions for a short body (about half the crate's time for
/// a 64-128-byte frame, whose alignment prologue and set-up dominate there),
/// the crate's for a long one.
#[inline]
pub(crate) fn crc32c(body: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("sse4.2") {
        // SAFETY: as in `crc32c_lanes`: `sse42::one` is compiled with the
        // `sse4.2` target feature, which the line above found on the
        // running CPU, and has no other precondition.
        return unsafe { sse42::one(body) };
    }
    crc32c::crc32c(body)
}

/// The CRC-32C of each body, the value `crc32c::crc32c` returns for it.
/// Unused lanes can be empty slices (their CRC is 0).
#[inline]
pub(crate) fn crc32c_lanes(bodies: &[&[u8]; LANES]) -> [u32; LANES] {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("sse4.2") {
        // SAFETY: `sse42::lanes` is compiled with the `sse4.2` target
        // feature; calling it is sound exactly when the running CPU has that
        // feature, which the line above checked. It has no other
        // precondition (it takes slices and does only safe operations).
        return unsafe { sse42::lanes(bodies) };
    }
    bodies.map(crc32c::crc32c)
}

#[cfg(target_arch = "x86_64")]
mod sse42 {
    use std::arch::x86_64::{_mm_crc32_u16, _mm_crc32_u32, _mm_crc32_u64, _mm_crc32_u8};

    use super::{LANES, LONG_TAIL};

    /// [`super::crc32c_lanes`] with the `crc32` instruction: the bodies'
    /// common whole 8-byte words interleaved, then each body's rest alone
    /// (a long rest by the `crc32c` crate).
    #[target_feature(enable = "sse4.2")]
    pub(super) fn lanes(bodies: &[&[u8]; LANES]) -> [u32; LANES] {
        let [a, b, c, d] = *bodies;
        let (wa, wb, wc, wd) = (
            a.as_chunks::<8>().0,
            b.as_chunks::<8>().0,
            c.as_chunks::<8>().0,
            d.as_chunks::<8>().0,
        );
        let common = wa.len().min(wb.len()).min(wc.len()).min(wd.len());
        let mut crc = [u64::from(u32::MAX); LANES];
        for i in 0..common {
            crc[0] = _mm_crc32_u64(crc[0], u64::from_le_bytes(wa[i]));
            crc[1] = _mm_crc32_u64(crc[1], u64::from_le_bytes(wb[i]));
            crc[2] = _mm_crc32_u64(crc[2], u64::from_le_bytes(wc[i]));
            crc[3] = _mm_crc32_u64(crc[3], u64::from_le_bytes(wd[i]));
        }
        let done = common * 8;
        [
            !finish(crc[0], a.get(done..).unwrap_or_default()),
            !finish(crc[1], b.get(done..).unwrap_or_default()),
            !finish(crc[2], c.get(done..).unwrap_or_default()),
            !finish(crc[3], d.get(done..).unwrap_or_default()),
        ]
    }

    /// [`super::crc32c`] with the `crc32` instruction.
    #[target_feature(enable = "sse4.2")]
    pub(super) fn one(body: &[u8]) -> u32 {
        !finish(u64::from(u32::MAX), body)
    }

    /// Continue `crc` over `rest`: whole words, then 4, 2 and 1 bytes; from
    /// [`LONG_TAIL`] bytes on, the `crc32c` crate's interleaved chains.
    #[inline]
    #[target_feature(enable = "sse4.2")]
    fn finish(mut crc: u64, rest: &[u8]) -> u32 {
        if rest.len() >= LONG_TAIL {
            // The crate takes and returns finished (inverted) CRCs.
            return !crc32c::crc32c_append(!(crc as u32), rest);
        }
        let (words, mut tail) = rest.as_chunks::<8>();
        for word in words {
            crc = _mm_crc32_u64(crc, u64::from_le_bytes(*word));
        }
        // The upper half of a u64 CRC state is always zero.
        let mut crc = crc as u32;
        if let Some((four, more)) = tail.split_first_chunk::<4>() {
            crc = _mm_crc32_u32(crc, u32::from_le_bytes(*four));
            tail = more;
        }
        if let Some((two, more)) = tail.split_first_chunk::<2>() {
            crc = _mm_crc32_u16(crc, u16::from_le_bytes(*two));
            tail = more;
        }
        if let Some(&one) = tail.first() {
            crc = _mm_crc32_u8(crc, one);
        }
        crc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes that differ at every position, so a skipped or repeated byte
    /// changes the CRC.
    fn bytes(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    /// Under `-C target-feature=+sse4.2` (how `.ci/run` runs Miri), the
    /// tests here go through the `unsafe` call, not the fallback.
    #[cfg(all(target_arch = "x86_64", target_feature = "sse4.2"))]
    #[test]
    fn the_sse42_path_is_the_one_tested() {
        assert!(std::arch::is_x86_feature_detected!("sse4.2"));
    }

    #[test]
    fn the_check_value_of_crc32c() {
        let [a, b, c, d] = crc32c_lanes(&[b"123456789", b"", b"1", b"123456789"]);
        assert_eq!([a, b, c, d], [0xE306_9283, 0, crc32c::crc32c(b"1"), a]);
    }

    #[test]
    fn every_mix_of_lengths_matches_the_crc32c_crate() {
        // Lengths around each tail case (4, 2, 1 bytes after whole words),
        // equal and unequal across lanes, at every alignment of the slice.
        // Kept small enough for Miri.
        let lens = [0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 31, 88, 92, 100];
        let buf = bytes(200, 7);
        for (i, &a) in lens.iter().enumerate() {
            for &b in &lens[i..] {
                for shift in [0, 1, 3, 4] {
                    let (c, d) = (lens[(i + 3) % lens.len()], a.max(b) / 2);
                    let bodies = [
                        &buf[shift..shift + a],
                        &buf[shift + 1..shift + 1 + b],
                        &buf[50 + shift..50 + shift + c],
                        &buf[100..100 + d],
                    ];
                    let want = bodies.map(crc32c::crc32c);
                    assert_eq!(crc32c_lanes(&bodies), want, "{a} {b} {c} {d} +{shift}");
                }
            }
        }
    }

    /// Long bodies: equal (interleaved throughout), unequal (a long rest
    /// goes to the crate), and alone, around [`LONG_TAIL`].
    #[test]
    fn long_bodies_match_the_crc32c_crate() {
        let buf = bytes(5000, 11);
        let lens = [LONG_TAIL - 9, LONG_TAIL - 1, LONG_TAIL, LONG_TAIL + 5, 4000];
        for &a in &lens {
            for &b in &[0, 3, 90, a, 4999 - a] {
                let bodies = [&buf[..a], &buf[1..1 + b], &buf[a..a + 17], &buf[..a / 2]];
                assert_eq!(crc32c_lanes(&bodies), bodies.map(crc32c::crc32c), "{a} {b}");
            }
            assert_eq!(
                crc32c(&buf[3..3 + a]),
                crc32c::crc32c(&buf[3..3 + a]),
                "{a}"
            );
        }
    }

    #[test]
    fn a_flipped_bit_in_any_lane_changes_only_that_lane() {
        let mut bufs = [bytes(92, 1), bytes(92, 2), bytes(60, 3), bytes(130, 4)];
        let clean = crc32c_lanes(&[&bufs[0], &bufs[1], &bufs[2], &bufs[3]]);
        for lane in 0..LANES {
            let at = bufs[lane].len() - 1 - lane;
            bufs[lane][at] ^= 0x10;
            let got = crc32c_lanes(&[&bufs[0], &bufs[1], &bufs[2], &bufs[3]]);
            bufs[lane][at] ^= 0x10;
            for (other, (g, c)) in got.iter().zip(&clean).enumerate() {
                assert_eq!(g == c, other != lane, "lane {lane}, other {other}");
            }
        }
    }
}
