//! A directory of 1-3 segment files made of fuzz bytes, opened by a reader
//! and by the writer: never a panic; records are valid frames; errors are
//! typed; when the writer opens, its repair is durable and an append after
//! it survives a reopen.
#![no_main]

use std::fs;

use datawal_core::format::encode_into;
use datawal_core::segment::segment_path;
use datawal_core::{Error, RecordLog, RecordLogReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let nsegs = 1 + (head % 3) as usize;
    let td = tempfile::tempdir().unwrap();
    let dir = td.path();
    // Split the rest into `nsegs` files at points taken from `head`.
    let mut parts = Vec::new();
    let mut rest = rest;
    for i in 0..nsegs {
        if i + 1 == nsegs {
            parts.push(rest);
        } else {
            let cut = if rest.is_empty() {
                0
            } else {
                (usize::from(head >> 2) * (i + 1) * 7) % (rest.len() + 1)
            };
            let (a, b) = rest.split_at(cut);
            parts.push(a);
            rest = b;
        }
    }
    for (i, p) in parts.iter().enumerate() {
        fs::write(segment_path(dir, i as u32 + 1), p).unwrap();
    }
    let typed = |e: &Error| matches!(e, Error::Corrupt { .. });
    match RecordLogReader::open(dir).unwrap().scan() {
        Ok((records, _)) => {
            for r in &records {
                let file = fs::read(segment_path(dir, r.segment)).unwrap();
                let mut again = Vec::new();
                encode_into(&mut again, r.record_type, r.txid, &r.key, &r.payload);
                let at = r.offset as usize;
                assert_eq!(&file[at..at + r.len as usize], &again[..]);
            }
        }
        Err(e) => assert!(typed(&e), "{e:?}"),
    }
    match RecordLog::open(dir) {
        Ok(mut log) => {
            let n = log.scan().unwrap().len();
            log.append(b"after").unwrap();
            log.fsync().unwrap();
            drop(log);
            let mut log = RecordLog::open(dir).unwrap();
            assert!(log.recovery_report().unwrap().tail.is_none());
            let rs = log.scan().unwrap();
            assert_eq!(rs.len(), n + 1);
            assert_eq!(rs[n].payload, b"after");
        }
        Err(e) => assert!(typed(&e), "{e:?}"),
    }
});
