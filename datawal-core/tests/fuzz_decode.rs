//! Stable-Rust randomized fuzzing of the frame decoder and the recovery path,
//! run in CI (the coverage-guided cargo-fuzz targets live in `fuzz/`).
//!
//! - `decode_frame` gets 1,000,000+ random and mutated frames. Every outcome
//!   must be a frame that re-encodes to exactly the bytes it came from, an
//!   `Incomplete` that is consistent with the input, or a typed
//!   `CorruptKind` that an independent reference decoder (written here from
//!   the spec) agrees with; and the decoder must never allocate.
//! - The recovery path (`RecordLogReader`, `RecordLog::open`) gets a few
//!   thousand directories of 1-3 mutated segments: no panic, records valid,
//!   errors typed, a writer's repair idempotent and followed by appends that
//!   survive a reopen.
//! - Memory: a counting global allocator (per thread) checks that a scan's
//!   peak allocation stays within max(1 MiB, declared frame length).

mod reliability_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fs;
use std::path::Path;

use datawal_core::format::{
    decode_frame, encode_into, Decoded, CRC_LEN, HEADER_LEN, MAX_FRAME_LEN, OFF_FLAGS, OFF_KEY_LEN,
    OFF_PAYLOAD_LEN, OFF_RECORD_TYPE, OFF_VERSION,
};
use datawal_core::segment::segment_path;
use datawal_core::{
    CorruptKind, Error, RecordLog, RecordLogReader, RecordType, MAX_KEY_LEN, MAX_PAYLOAD_LEN,
};
use reliability_support::Rng;

// ------------------------------------------------------- counting allocator

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
}

/// Wraps the system allocator; counts allocations and live bytes per thread.
struct Counting;

fn on_alloc(size: usize) {
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
    let _ = LIVE.try_with(|l| {
        let v = l.get() + size as i64;
        l.set(v);
        let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
    });
}

fn on_dealloc(size: usize) {
    let _ = LIVE.try_with(|l| l.set(l.get() - size as i64));
}

// SAFETY: delegates every call to `System` unchanged; the bookkeeping uses
// const-initialised thread-locals that never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        on_alloc(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        on_dealloc(layout.size());
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        on_dealloc(layout.size());
        on_alloc(new_size);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

/// Peak bytes allocated by this thread while running `f`, above what was
/// live when it started.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    (out, (PEAK.with(Cell::get) - base).max(0) as u64)
}

// ------------------------------------------------------- reference decoder

/// What the spec says the decoder must answer, computed independently.
#[derive(Debug, PartialEq, Eq)]
enum Expect {
    Frame { len: usize },
    Incomplete { needed: u64 },
    Err(CorruptKind),
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn reference(buf: &[u8]) -> Expect {
    if buf.len() < 24 {
        return Expect::Incomplete { needed: 24 };
    }
    if &buf[..4] != b"DWAL" {
        return Expect::Err(CorruptKind::BadMagic {
            found: [buf[0], buf[1], buf[2], buf[3]],
        });
    }
    let version = u16::from_le_bytes([buf[4], buf[5]]);
    if version != 1 {
        return Expect::Err(CorruptKind::UnknownVersion { found: version });
    }
    if buf[6] > 2 {
        return Expect::Err(CorruptKind::UnknownRecordType { found: buf[6] });
    }
    if buf[7] != 0 {
        return Expect::Err(CorruptKind::NonZeroFlags { found: buf[7] });
    }
    let (k, p) = (le32(buf, 16), le32(buf, 20));
    if k > 65_536 {
        return Expect::Err(CorruptKind::KeyTooLarge { found: k });
    }
    if p > 64 * 1024 * 1024 {
        return Expect::Err(CorruptKind::PayloadTooLarge { found: p });
    }
    let total = 24 + k as usize + p as usize + 4;
    if buf.len() < total {
        return Expect::Incomplete {
            needed: total as u64,
        };
    }
    let stored = le32(buf, total - 4);
    let computed = crc32c::crc32c(&buf[..total - 4]);
    if stored != computed {
        return Expect::Err(CorruptKind::CrcMismatch { stored, computed });
    }
    Expect::Frame { len: total }
}

// ------------------------------------------------------- input generation

const TYPES: [RecordType; 3] = [RecordType::Raw, RecordType::Put, RecordType::Delete];

/// A valid frame with a small random key and payload, into `out`.
fn valid_frame(rng: &mut Rng, out: &mut Vec<u8>, scratch: &mut Vec<u8>) {
    out.clear();
    let k = rng.below(12) as usize;
    let p = rng.below(48) as usize;
    scratch.resize(k + p, 0);
    rng.fill(scratch);
    let rt = TYPES[rng.below(3) as usize];
    encode_into(out, rt, rng.next_u64(), &scratch[..k], &scratch[k..]);
}

/// Interesting values for a header field.
fn boundary_u32(rng: &mut Rng) -> u32 {
    const V: [u32; 10] = [
        0,
        1,
        MAX_KEY_LEN,
        MAX_KEY_LEN + 1,
        MAX_PAYLOAD_LEN,
        MAX_PAYLOAD_LEN + 1,
        u32::MAX,
        u32::MAX - 3,
        1 << 31,
        100,
    ];
    V[rng.below(V.len() as u64) as usize]
}

/// Mutate a valid frame in one of several ways.
fn mutate(rng: &mut Rng, buf: &mut Vec<u8>) {
    let mut choice = rng.below(12);
    if buf.len() <= HEADER_LEN && matches!(choice, 4..=8 | 10) {
        choice = 0; // header-field mutations need a whole header
    }
    match choice {
        0 => {
            let i = rng.below(buf.len() as u64) as usize;
            buf[i] ^= 1 << rng.below(8);
        }
        1 => {
            for _ in 0..rng.range(2, 6) {
                let i = rng.below(buf.len() as u64) as usize;
                buf[i] = rng.next_u64() as u8;
            }
        }
        2 => buf.truncate(rng.below(buf.len() as u64) as usize),
        3 => {
            let n = rng.below(40) as usize;
            for _ in 0..n {
                buf.push(rng.next_u64() as u8);
            }
        }
        4 => {
            let v = boundary_u32(rng).to_le_bytes();
            buf[OFF_KEY_LEN..OFF_KEY_LEN + 4].copy_from_slice(&v);
        }
        5 => {
            let v = boundary_u32(rng).to_le_bytes();
            buf[OFF_PAYLOAD_LEN..OFF_PAYLOAD_LEN + 4].copy_from_slice(&v);
        }
        6 => buf[OFF_VERSION] = rng.below(4) as u8,
        7 => buf[OFF_RECORD_TYPE] = rng.below(6) as u8,
        8 => buf[OFF_FLAGS] = rng.below(3) as u8,
        9 => {
            // Zero-fill from a random point.
            let at = rng.below(buf.len() as u64) as usize;
            buf[at..].fill(0);
        }
        10 => {
            // Fix the CRC after corrupting the body: a valid frame again,
            // possibly with new lengths.
            let i = HEADER_LEN + rng.below((buf.len() - HEADER_LEN) as u64) as usize;
            buf[i] ^= 0x20;
            if let Some(body_end) = buf.len().checked_sub(CRC_LEN) {
                let crc = crc32c::crc32c(&buf[..body_end]);
                buf[body_end..].copy_from_slice(&crc.to_le_bytes());
            }
        }
        _ => {
            let n = rng.below(64) as usize;
            buf.clear();
            for _ in 0..n {
                buf.push(rng.next_u64() as u8);
            }
            if rng.one_in(2) && buf.len() >= 4 {
                buf[..4].copy_from_slice(b"DWAL");
            }
        }
    }
}

/// Check one decode outcome against the reference and the invariants.
fn check(buf: &[u8], counts: &mut [u64; 3]) {
    let before = allocs();
    let got = decode_frame(buf);
    assert_eq!(allocs(), before, "decode_frame allocated on {buf:02x?}");
    let want = reference(buf);
    match got {
        Ok(Decoded::Frame(f)) => {
            counts[0] += 1;
            let len = f.header.frame_len() as usize;
            assert_eq!(want, Expect::Frame { len }, "input {buf:02x?}");
            assert!(f.header.frame_len() <= MAX_FRAME_LEN);
            // A frame is exactly the bytes it was decoded from.
            assert_eq!(&f.to_vec()[..], &buf[..len]);
        }
        Ok(Decoded::Incomplete { available, needed }) => {
            counts[1] += 1;
            assert_eq!(available, buf.len() as u64);
            assert!(needed > available && needed <= MAX_FRAME_LEN);
            assert_eq!(want, Expect::Incomplete { needed }, "input {buf:02x?}");
        }
        Err(kind) => {
            counts[2] += 1;
            assert_eq!(want, Expect::Err(kind), "input {buf:02x?}");
        }
    }
}

#[test]
fn decoder_survives_a_million_random_and_mutated_frames_without_allocating() {
    let mut rng = Rng::new(reliability_support::seed("fuzz_decode"));
    let t0 = std::time::Instant::now();
    let (mut buf, mut scratch) = (Vec::with_capacity(4096), Vec::with_capacity(4096));
    let mut counts = [0u64; 3];
    let n: u64 = std::env::var("DATAWAL_FUZZ_FRAMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    for i in 0..n {
        valid_frame(&mut rng, &mut buf, &mut scratch);
        // One in eight stays valid; the rest get one to three mutations.
        if i % 8 != 0 {
            for _ in 0..rng.range(1, 3) {
                if buf.is_empty() {
                    break;
                }
                mutate(&mut rng, &mut buf);
            }
        }
        check(&buf, &mut counts);
    }
    // Every truncation of a few frames, byte by byte.
    for _ in 0..200 {
        valid_frame(&mut rng, &mut buf, &mut scratch);
        for cut in 0..=buf.len() {
            check(&buf[..cut], &mut counts);
        }
    }
    let total: u64 = counts.iter().sum();
    eprintln!(
        "decode_frame: {total} inputs in {:?}: {} frames, {} incomplete, {} typed errors, 0 allocations",
        t0.elapsed(),
        counts[0],
        counts[1],
        counts[2]
    );
    assert!(total >= 1_000_000);
    assert!(counts.iter().all(|&c| c > 10_000), "{counts:?}");
}

// ------------------------------------------------------- recovery path

fn random_segment(rng: &mut Rng, scratch: &mut Vec<u8>) -> Vec<u8> {
    let mut seg = Vec::new();
    let mut fr = Vec::new();
    let frames = rng.below(8);
    for _ in 0..frames {
        valid_frame(rng, &mut fr, scratch);
        seg.extend_from_slice(&fr);
    }
    if seg.is_empty() || rng.one_in(6) {
        // Pure random bytes, sometimes with a magic in front.
        let n = rng.below(120) as usize;
        let mut r = rng.bytes(n);
        if r.len() >= 4 && rng.one_in(2) {
            r[..4].copy_from_slice(b"DWAL");
        }
        seg.extend(r);
        return seg;
    }
    match rng.below(7) {
        0 => {}
        1 => {
            let i = rng.below(seg.len() as u64) as usize;
            seg[i] ^= 1 << rng.below(8);
        }
        2 => seg.truncate(rng.below(seg.len() as u64) as usize),
        3 => {
            let at = rng.below(seg.len() as u64) as usize;
            seg[at..].fill(0);
        }
        4 => seg.extend(std::iter::repeat_n(0, rng.below(64) as usize)),
        5 => {
            let mut m = seg.clone();
            mutate(rng, &mut m);
            seg = m;
        }
        _ => {
            // A header claiming a huge payload at the end.
            valid_frame(rng, &mut fr, scratch);
            fr[OFF_PAYLOAD_LEN..OFF_PAYLOAD_LEN + 4].copy_from_slice(
                &(rng.range(1_000, u64::from(MAX_PAYLOAD_LEN)) as u32).to_le_bytes(),
            );
            seg.extend_from_slice(&fr[..fr.len().min(40)]);
        }
    }
    seg
}

fn check_error(e: &Error, dir: &Path, nsegs: u32) {
    match e {
        Error::Corrupt {
            segment, offset, ..
        } => {
            assert!((1..=nsegs).contains(segment), "{e}");
            let len = fs::metadata(segment_path(dir, *segment)).unwrap().len();
            assert!(*offset < len, "{e}");
        }
        other => panic!("unexpected error kind {other:?}"),
    }
}

#[test]
fn recovery_path_survives_thousands_of_hostile_directories() {
    let mut rng = Rng::new(reliability_support::seed("fuzz_recovery"));
    let td = tempfile::tempdir().unwrap();
    let mut scratch = Vec::new();
    let (mut opened, mut refused, mut tails) = (0u32, 0u32, 0u32);
    // 4,000 in CI (a few seconds in a debug build); more with
    // DATAWAL_FUZZ_DIRS=<n>.
    let cases: u32 = std::env::var("DATAWAL_FUZZ_DIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4_000);
    for case in 0..cases {
        let dir = td.path().join(format!("c{case}"));
        fs::create_dir(&dir).unwrap();
        let nsegs = rng.range(1, 3) as u32;
        for id in 1..=nsegs {
            fs::write(
                segment_path(&dir, id),
                random_segment(&mut rng, &mut scratch),
            )
            .unwrap();
        }
        let reader = RecordLogReader::open(&dir).unwrap().scan();
        match &reader {
            Ok((records, _)) => {
                for r in records {
                    let frame = fs::read(segment_path(&dir, r.segment)).unwrap();
                    let at = r.offset as usize;
                    let mut again = Vec::new();
                    encode_into(&mut again, r.record_type, r.txid, &r.key, &r.payload);
                    assert_eq!(&frame[at..at + r.len as usize], &again[..]);
                }
            }
            Err(e) => check_error(e, &dir, nsegs),
        }
        match RecordLog::open(&dir) {
            Ok(mut log) => {
                opened += 1;
                let report = log.recovery_report().unwrap();
                tails += report.tail.is_some() as u32;
                let records = log.scan().unwrap();
                // The writer keeps exactly what the reader saw.
                let (seen, _) = reader.expect("a reader sees what a writer recovers");
                assert_eq!(records, seen);
                if case % 3 != 0 {
                    fs::remove_dir_all(&dir).unwrap();
                    continue;
                }
                log.append(b"after").unwrap();
                log.fsync().unwrap();
                drop(log);
                let mut log = RecordLog::open(&dir).unwrap();
                assert!(
                    log.recovery_report().unwrap().tail.is_none(),
                    "repair not durable"
                );
                let again = log.scan().unwrap();
                assert_eq!(again.len(), records.len() + 1);
                assert_eq!(again.last().unwrap().payload, b"after");
            }
            Err(e) => {
                refused += 1;
                check_error(&e, &dir, nsegs);
            }
        }
        fs::remove_dir_all(&dir).unwrap();
    }
    eprintln!(
        "recovery: {cases} directories: {opened} opened ({tails} with a torn tail repaired), {refused} refused with Error::Corrupt"
    );
    assert!(opened > 100 && refused > 100 && tails > 100);
}

// ------------------------------------------------------- memory bounds

const MIB: u64 = 1 << 20;
const SLACK: u64 = 64 * 1024;

#[test]
fn scanning_many_small_frames_stays_within_one_chunk() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    for i in 0..3_000u32 {
        log.append(&[i as u8; 1_000]).unwrap();
    }
    log.fsync().unwrap();
    drop(log);
    let reader = RecordLogReader::open(td.path()).unwrap();
    let (n, peak) = peak_during(|| {
        let mut c = reader.cursor();
        let mut n = 0;
        while let Some(v) = c.next_view().unwrap() {
            assert_eq!(v.payload.len(), 1_000);
            n += 1;
        }
        n
    });
    assert_eq!(n, 3_000);
    assert!(
        peak <= MIB + SLACK,
        "a 3 MB segment scan peaked at {peak} bytes"
    );
}

#[test]
fn a_large_record_needs_only_its_own_length() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    log.append(&vec![7u8; 5 * MIB as usize]).unwrap();
    log.append(b"small").unwrap();
    log.fsync().unwrap();
    drop(log);
    let reader = RecordLogReader::open(td.path()).unwrap();
    let (n, peak) = peak_during(|| {
        let mut c = reader.cursor();
        let mut n = 0;
        while c.next_view().unwrap().is_some() {
            n += 1;
        }
        n
    });
    assert_eq!(n, 2);
    // The buffer grows like a Vec (amortized doubling), so the bound is
    // twice the frame, not the frame itself.
    let frame = 5 * MIB + 28;
    assert!(
        peak <= 2 * frame + SLACK,
        "peak {peak} for a {frame}-byte frame"
    );
    eprintln!("a {frame}-byte frame: scan peak {peak} bytes");
}

/// A header declaring the largest payload (64 MiB) on a 40-byte file: a torn
/// tail, and the scan costs no more than the file can supply, not the
/// declared frame (fixed in dc96dcc: the buffer grows by doubling as bytes
/// arrive).
#[test]
fn hostile_length_on_a_tiny_file_allocates_little() {
    let td = tempfile::tempdir().unwrap();
    let mut fr = reliability_support::frame(RecordType::Raw, 1, b"", &[b'x'; 32]);
    fr[OFF_PAYLOAD_LEN..OFF_PAYLOAD_LEN + 4].copy_from_slice(&MAX_PAYLOAD_LEN.to_le_bytes());
    fs::write(segment_path(td.path(), 1), &fr[..40]).unwrap();
    let reader = RecordLogReader::open(td.path()).unwrap();
    let ((records, report), peak) = peak_during(|| reader.scan().unwrap());
    assert!(records.is_empty());
    assert!(matches!(
        report.tail.unwrap().kind,
        CorruptKind::Truncated { available: 40, .. }
    ));
    assert!(
        peak <= MIB + SLACK,
        "a 40-byte file made the scan allocate {peak} bytes"
    );
    let (_, peak) = peak_during(|| RecordLog::open(td.path()).unwrap());
    assert!(
        peak <= MIB + SLACK,
        "a 40-byte file made the open allocate {peak} bytes"
    );
}
