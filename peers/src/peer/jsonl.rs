//! Hand-written JSON Lines: one `{"id":…,"v":"…"}` object per line appended
//! to one file with `write`, made durable with `fdatasync`; read back with a
//! buffered reader and serde_json. No checksum: a torn or damaged line is
//! found only if it no longer parses.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use serde::{Deserialize, Serialize};

use super::{check_scan, on_threads, thread_ids, timed, Peer, TypedTimes, Workload};
use crate::data::{event, fold, payload, Event, PAYLOAD_LEN};

/// JSONL + fdatasync.
pub struct Jsonl;

/// One line of W1-W6.
#[derive(Serialize, Deserialize)]
struct Line<'a> {
    id: u64,
    v: &'a str,
}

fn path(dir: &Path) -> PathBuf {
    dir.join("log.jsonl")
}

/// Create the file, durably (file and directory), before the clock starts.
fn create(dir: &Path) -> Result<File> {
    std::fs::create_dir_all(dir)?;
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path(dir))?;
    file.sync_all()?;
    File::open(dir)?.sync_all()?;
    Ok(file)
}

/// Append line `i` to `buf`.
fn push_line(buf: &mut Vec<u8>, i: u64) -> Result<()> {
    let p = payload(i);
    let v = std::str::from_utf8(&p)?;
    serde_json::to_writer(&mut *buf, &Line { id: i, v })?;
    buf.push(b'\n');
    Ok(())
}

impl Peer for Jsonl {
    fn name(&self) -> &'static str {
        "jsonl"
    }

    fn label(&self, _: Workload) -> String {
        "JSONL + fdatasync (hand-written)".into()
    }

    fn durable(&self) -> &'static str {
        "`fdatasync` of the file returned after the `write` of the line (or batch); \
         the file and its directory were fsynced once at creation. W3: each thread \
         takes a mutex, writes, fdatasyncs, releases"
    }

    fn runs(&self, w: Workload) -> bool {
        w != Workload::W7 && w != Workload::W6Store
    }

    fn w1(&self, dir: &Path, n: usize) -> Result<Duration> {
        let mut file = create(dir)?;
        let mut buf = Vec::with_capacity(128);
        let (t, ()) = timed(|| {
            for i in 0..n as u64 {
                buf.clear();
                push_line(&mut buf, i)?;
                file.write_all(&buf)?;
                file.sync_data()?;
            }
            Ok(())
        })?;
        Ok(t)
    }

    fn w2(&self, dir: &Path, batches: usize, batch: usize) -> Result<Duration> {
        let mut file = create(dir)?;
        let mut buf = Vec::with_capacity(128 * batch);
        let (t, ()) = timed(|| {
            for b in 0..batches {
                let first = (b * batch) as u64;
                buf.clear();
                for i in first..first + batch as u64 {
                    push_line(&mut buf, i)?;
                }
                file.write_all(&buf)?;
                file.sync_data()?;
            }
            Ok(())
        })?;
        Ok(t)
    }

    fn w3(&self, dir: &Path, threads: usize, per_thread: usize) -> Result<Duration> {
        let file = Mutex::new(create(dir)?);
        let t = on_threads(threads, |t| {
            let mut buf = Vec::with_capacity(128);
            for i in thread_ids(t, per_thread) {
                buf.clear();
                push_line(&mut buf, i)?;
                let mut file = file.lock().unwrap();
                file.write_all(&buf)?;
                file.sync_data()?;
            }
            Ok(())
        })?;
        Ok(t)
    }

    fn w4(&self, dir: &Path, n: usize) -> Result<Duration> {
        let file = create(dir)?;
        let (t, ()) = timed(|| {
            let mut out = BufWriter::with_capacity(1 << 16, file);
            let mut buf = Vec::with_capacity(128);
            for i in 0..n as u64 {
                buf.clear();
                push_line(&mut buf, i)?;
                out.write_all(&buf)?;
            }
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_data()?;
            Ok(())
        })?;
        Ok(t)
    }

    fn w5(&self, dir: &Path, n: usize) -> Result<Duration> {
        let (t, (count, folded)) = timed(|| {
            let mut reader = BufReader::with_capacity(1 << 16, File::open(path(dir))?);
            let (mut count, mut folded) = (0u64, 0u64);
            let mut line = String::new();
            while reader.read_line(&mut line)? > 0 {
                let parsed: Line<'_> = serde_json::from_str(&line)?;
                ensure!(parsed.v.len() == PAYLOAD_LEN, "JSONL W5: line {count}");
                count += 1;
                folded = fold(folded, parsed.v.as_bytes());
                line.clear();
            }
            Ok((count, folded))
        })?;
        check_scan("JSONL W5", count, folded, n)?;
        Ok(t)
    }

    fn w6_log(&self, dir: &Path) -> Result<Duration> {
        let (t, first) = timed(|| {
            // Ready to append: the file ends with a whole line.
            let mut file = OpenOptions::new().read(true).append(true).open(path(dir))?;
            let len = file.seek(SeekFrom::End(0))?;
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(len.saturating_sub(1)))?;
            file.read_exact(&mut last)?;
            ensure!(last[0] == b'\n', "JSONL W6: the file ends inside a line");
            file.seek(SeekFrom::Start(0))?;
            let mut line = String::new();
            BufReader::new(file).read_line(&mut line)?;
            let parsed: Line<'_> = serde_json::from_str(&line)?;
            Ok(parsed.v.as_bytes().to_vec())
        })?;
        ensure!(first == payload(0), "JSONL W6: first record");
        Ok(t)
    }

    fn w8(&self, dir: &Path, n: usize) -> Result<TypedTimes> {
        let events: Vec<Event> = (0..n as u64).map(event).collect();
        let file = create(dir)?;
        let (append, ()) = timed(|| {
            let mut out = BufWriter::with_capacity(1 << 16, file);
            for e in &events {
                serde_json::to_writer(&mut out, e)?;
                out.write_all(b"\n")?;
            }
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_data()?;
            Ok(())
        })?;
        let (scan, read) = timed(|| {
            let reader = BufReader::with_capacity(1 << 16, File::open(path(dir))?);
            let mut read = Vec::new();
            for line in reader.lines() {
                read.push(serde_json::from_str::<Event>(&line?).context("JSONL W8")?);
            }
            Ok(read)
        })?;
        ensure!(read == events, "JSONL W8: read back differs");
        Ok(TypedTimes { append, scan })
    }
}
