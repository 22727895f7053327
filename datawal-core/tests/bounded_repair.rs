//! A writer's repair of a torn tail stays bounded whatever the tail holds:
//! memory and disk for a huge sparse tail, time for a tail crafted to make
//! counting its intact frames quadratic, and files when repairs are
//! interrupted again and again.

mod reliability_support;

use std::fs;
use std::os::unix::fs::FileExt as _;
use std::path::Path;

use datawal_core::format::{encode_into, HEADER_LEN};
use datawal_core::segment::segment_path;
use datawal_core::{RecordLog, RecordLogReader, RecordType};
use reliability_support::{child_dir, child_mode, say, ChildProc, Rng};

#[test]
fn child_entry() {
    let Some(mode) = child_mode() else { return };
    say("");
    let dir = child_dir();
    match mode.as_str() {
        "open" => {
            if let Ok(secs) = std::env::var("CPU_LIMIT_SECS") {
                let secs: u64 = secs.parse().unwrap();
                let lim = libc::rlimit {
                    rlim_cur: secs,
                    rlim_max: secs + 1,
                };
                // SAFETY: a valid rlimit struct.
                assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_CPU, &lim) }, 0);
            }
            if let Ok(bytes) = std::env::var("FSIZE_LIMIT") {
                let bytes: u64 = bytes.parse().unwrap();
                let lim = libc::rlimit {
                    rlim_cur: bytes,
                    rlim_max: bytes,
                };
                // SAFETY: a valid rlimit struct; ignoring SIGXFSZ turns a
                // write past the limit into EFBIG.
                unsafe {
                    assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &lim), 0);
                    libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                }
                let err = RecordLog::open(&dir).map(|_| ()).unwrap_err();
                say(&format!("FAILED {err}"));
                return;
            }
            let log = RecordLog::open(&dir).unwrap();
            let report = log.recovery_report().unwrap();
            // No tail: `intact=none` (what a test expecting one fails on).
            let intact = report.tail.map_or("none".to_string(), |t| {
                t.intact_frames_cut.unwrap().to_string()
            });
            say(&format!(
                "OPENED intact={intact} free={} hwm_kib={} cpu_ms={}",
                report.free_bytes,
                peak_rss_kib(),
                cpu_ms()
            ));
        }
        other => panic!("unknown mode {other}"),
    }
}

/// The process's peak resident set (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// CPU time this process has used, in milliseconds.
fn cpu_ms() -> u64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) }, 0);
    let ms = |t: libc::timeval| t.tv_sec as u64 * 1000 + t.tv_usec as u64 / 1000;
    ms(u.ru_utime) + ms(u.ru_stime)
}

/// A store of three records; returns the segment's path and length.
fn store(dir: &Path) -> (std::path::PathBuf, u64) {
    let mut log = RecordLog::open(dir).unwrap();
    for p in [&b"one"[..], b"two", b"three"] {
        log.append(p).unwrap();
    }
    log.fsync().unwrap();
    drop(log);
    let seg = segment_path(dir, 1);
    let len = fs::metadata(&seg).unwrap().len();
    (seg, len)
}

/// Open the store in a child process: (intact frames cut, peak RSS in KiB,
/// CPU milliseconds).
fn open_in_child(dir: &Path, env: &[(&str, String)]) -> (u64, u64, u64) {
    let f = open_in_child_fields(dir, env);
    let intact = f("intact=")
        .parse()
        .unwrap_or_else(|_| panic!("no torn tail"));
    let num = |name: &str| f(name).parse().unwrap();
    (intact, num("hwm_kib="), num("cpu_ms="))
}

/// Open the store in a child process; a field of what it printed, by name.
fn open_in_child_fields(dir: &Path, env: &[(&str, String)]) -> impl Fn(&str) -> String {
    let child = ChildProc::spawn("child_entry", "open", dir, env);
    let (lines, status) = child.wait();
    assert!(status.success(), "child failed: {status:?} {lines:?}");
    let line = lines
        .iter()
        .find_map(|l| l.strip_prefix("OPENED "))
        .unwrap_or_else(|| panic!("{lines:?}"));
    let line = line.to_string();
    move |name: &str| -> String {
        line.split(' ')
            .find_map(|f| f.strip_prefix(name))
            .unwrap()
            .to_string()
    }
}

fn torn_files(dir: &Path) -> (Vec<String>, Vec<String>) {
    let mut torn = Vec::new();
    let mut temp = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if name.contains(".torn.tmp.") {
            temp.push(name);
        } else if name.ends_with(".torn") {
            torn.push(name);
        }
    }
    (torn, temp)
}

/// A 4 GiB sparse tail (a file extended past its data, as a crash on some
/// file systems leaves it): the writer opens in bounded memory, and the
/// side file keeps the tail's length with no disk blocks behind it. Before:
/// the whole tail was read into memory (2 GiB took 2.1 GB) and written out
/// as zeros.
#[test]
fn a_huge_sparse_tail_is_repaired_in_bounded_memory_and_disk() {
    const TAIL: u64 = 4 << 30;
    let td = tempfile::tempdir().unwrap();
    let (seg, len) = store(td.path());
    fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len + TAIL)
        .unwrap();
    // One byte at its end: a torn tail, not free space.
    fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .write_all_at(&[1], len + TAIL - 1)
        .unwrap();
    let (intact, hwm_kib, _) = open_in_child(td.path(), &[]);
    assert_eq!(intact, 0);
    assert!(hwm_kib < 64 << 10, "peak RSS {hwm_kib} KiB");
    println!("peak RSS of the repairing writer: {} MiB", hwm_kib >> 10);
    assert_eq!(fs::metadata(&seg).unwrap().len(), len);
    let (torn, temp) = torn_files(td.path());
    assert_eq!((torn.len(), temp.len()), (1, 0), "{torn:?} {temp:?}");
    let meta = fs::metadata(td.path().join(&torn[0])).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(meta.len(), TAIL);
    assert!(meta.blocks() * 512 < 1 << 20, "{} blocks", meta.blocks());
    let (records, _) = RecordLogReader::open(td.path()).unwrap().scan().unwrap();
    assert_eq!(records.len(), 3);
}

/// A 4 GiB hole after the data and nothing else is free space: told from
/// a torn tail without reading it (its holes are stepped over; a CPU limit
/// of 10 s, where reading it took 35 s here), cut by the writer, no side
/// file.
#[test]
fn a_huge_hole_after_the_data_is_free_space_found_without_reading_it() {
    const HOLE: u64 = 4 << 30;
    let td = tempfile::tempdir().unwrap();
    let (seg, len) = store(td.path());
    fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len + HOLE)
        .unwrap();
    let f = open_in_child_fields(td.path(), &[("CPU_LIMIT_SECS", "10".into())]);
    assert_eq!(f("intact="), "none");
    assert_eq!(f("free=").parse::<u64>().unwrap(), HOLE);
    println!("CPU of the open: {} ms", f("cpu_ms="));
    assert_eq!(fs::metadata(&seg).unwrap().len(), len);
    let (torn, temp) = torn_files(td.path());
    assert_eq!((torn.len(), temp.len()), (0, 0), "{torn:?} {temp:?}");
}

/// A tail crafted to make counting its intact frames quadratic: a frame
/// header every 32 bytes, each claiming a 4 MiB payload with a wrong CRC,
/// then three intact frames. The count is one linear pass: the repair runs
/// under a CPU limit of 60 s (before: every header's CRC was computed over
/// its own 4 MiB, about 2.6e11 bytes for this 8 MiB tail, hours).
#[test]
fn a_crafted_tail_is_counted_in_linear_time() {
    let td = tempfile::tempdir().unwrap();
    let (seg, _) = store(td.path());
    let mut tail = Vec::with_capacity(9 << 20);
    let mut header = Vec::new();
    encode_into(&mut header, RecordType::Raw, 4, b"", b"");
    header.truncate(HEADER_LEN);
    header[20..24].copy_from_slice(&(4u32 << 20).to_le_bytes());
    while tail.len() < 8 << 20 {
        tail.extend_from_slice(&header);
        tail.extend_from_slice(&[0x5A; 8]);
    }
    for i in 0..3u64 {
        encode_into(&mut tail, RecordType::Raw, 100 + i, b"", b"intact");
    }
    reliability_support::append_bytes(&seg, &tail);
    let (intact, _, cpu_ms) = open_in_child(td.path(), &[("CPU_LIMIT_SECS", "60".into())]);
    println!("CPU time of the repairing writer: {cpu_ms} ms");
    assert_eq!(intact, 3);
    let (torn, _) = torn_files(td.path());
    assert_eq!(fs::read(td.path().join(&torn[0])).unwrap(), tail);
}

/// An 8 MiB torn tail, in `dir`'s store; returns the segment, its valid
/// length and the tail.
fn store_with_big_tail(dir: &Path, rng: &mut Rng) -> (std::path::PathBuf, u64, Vec<u8>) {
    let (seg, len) = store(dir);
    let mut tail = rng.bytes(8 << 20);
    // A frame header whose CRC does not match: a torn tail.
    let mut frame = Vec::new();
    encode_into(&mut frame, RecordType::Raw, 4, b"", &[0; 100]);
    tail[..HEADER_LEN].copy_from_slice(&frame[..HEADER_LEN]);
    reliability_support::append_bytes(&seg, &tail);
    (seg, len, tail)
}

/// Repairs of an 8 MiB tail interrupted again and again: 10 that fail
/// (the side file cannot grow past 1 MiB, `RLIMIT_FSIZE`), then 25
/// SIGKILLs at random moments of a repair (within as long as a whole
/// repair takes here; the same tail is appended again whenever a repair
/// completed). One side file, complete, and no leftover copy
/// once a repair finishes. Before: every interrupted repair left its own,
/// partial side file.
#[test]
fn interrupted_repairs_leave_one_side_file() {
    let mut rng = Rng::new(reliability_support::seed("interrupted_repairs"));
    // How long a whole repair takes, on a copy.
    let calibration = tempfile::tempdir().unwrap();
    store_with_big_tail(calibration.path(), &mut rng);
    let started = std::time::Instant::now();
    open_in_child(calibration.path(), &[]);
    let whole = started.elapsed();

    let td = tempfile::tempdir().unwrap();
    let (seg, len, tail) = store_with_big_tail(td.path(), &mut rng);
    for _ in 0..10 {
        let child = ChildProc::spawn(
            "child_entry",
            "open",
            td.path(),
            &[("FSIZE_LIMIT", (1u64 << 20).to_string())],
        );
        let (lines, _) = child.wait();
        assert!(lines.iter().any(|l| l.starts_with("FAILED")), "{lines:?}");
    }
    let (torn, temp) = torn_files(td.path());
    assert_eq!(
        (torn.len(), temp.len()),
        (0, 0),
        "failed repairs left {torn:?} {temp:?}"
    );
    let mut killed_mid_repair = 0;
    for _ in 0..25 {
        if fs::metadata(&seg).unwrap().len() == len {
            // A repair completed: the same tail again (what an interrupted
            // writer's page cache could bring back), to interrupt anew.
            reliability_support::append_bytes(&seg, &tail);
        }
        let child = ChildProc::spawn("child_entry", "open", td.path(), &[]);
        std::thread::sleep(whole.mul_f64(rng.below(1000) as f64 / 1000.0));
        let lines = child.kill();
        if !lines.iter().any(|l| l.starts_with("OPENED")) {
            killed_mid_repair += 1;
        }
        let (torn, _) = torn_files(td.path());
        assert!(torn.len() <= 1, "{torn:?}");
    }
    println!(
        "a whole repair: {} ms; repairs killed before they finished: {killed_mid_repair}",
        whole.as_millis()
    );
    assert!(killed_mid_repair > 0);
    let log = RecordLog::open(td.path()).unwrap();
    drop(log);
    let (torn, temp) = torn_files(td.path());
    assert_eq!((torn.len(), temp.len()), (1, 0), "{torn:?} {temp:?}");
    assert_eq!(fs::read(td.path().join(&torn[0])).unwrap(), tail);
    assert_eq!(fs::metadata(&seg).unwrap().len(), len);
}

/// Side files from a thousand earlier repairs at the same offset (each of
/// other bytes) do not stop the store from opening. Before: once 1,001
/// names were taken, the writer could never open the store again.
#[test]
fn a_thousand_side_files_do_not_stop_a_store_from_opening() {
    let td = tempfile::tempdir().unwrap();
    let (seg, len) = store(td.path());
    for n in 0..=1000 {
        let name = if n == 0 {
            format!("00000001-{len}.torn")
        } else {
            format!("00000001-{len}-{n}.torn")
        };
        fs::write(td.path().join(name), format!("earlier cut {n}")).unwrap();
    }
    reliability_support::append_bytes(&seg, b"DWAL\x01\x00torn");
    let log = RecordLog::open(td.path()).unwrap();
    let saved = log
        .recovery_report()
        .unwrap()
        .tail
        .unwrap()
        .saved_to
        .unwrap();
    assert_eq!(
        saved.file_name().unwrap().to_str().unwrap(),
        format!("00000001-{len}-1001.torn")
    );
    assert_eq!(fs::read(saved).unwrap(), b"DWAL\x01\x00torn");
}
