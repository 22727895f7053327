//! One log written alternately by two program versions and three codecs:
//! the newer program reads everything, the older one reads its own records
//! and stops at (or skips) exactly the newer ones.

use datawal::{Codec, DecodeError, Error, ReadPolicy, Record, TypedLog};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "reading", version = 1)]
struct ReadingV1 {
    #[record(key)]
    sensor: u32,
    celsius: i16,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "reading", version = 2, from = ReadingV1)]
struct Reading {
    #[record(key)]
    sensor: u32,
    millikelvin: u64,
    label: Option<String>,
}

impl From<ReadingV1> for Reading {
    fn from(v1: ReadingV1) -> Reading {
        let mk = (i64::from(v1.celsius) * 1000 + 273_150) as u64;
        Reading {
            sensor: v1.sensor,
            millikelvin: mk,
            label: None,
        }
    }
}

fn v1(sensor: u32) -> ReadingV1 {
    ReadingV1 {
        sensor,
        celsius: sensor as i16 - 5,
    }
}

fn v2(sensor: u32) -> Reading {
    Reading {
        sensor,
        millikelvin: 300_000 + u64::from(sensor),
        label: Some(format!("s{sensor}")),
    }
}

/// Writes: v1 (bincode), v2 (json), v1 (postcard), v2 (postcard), v1 (json),
/// reopening the directory for every write.
fn write_mixed(dir: &std::path::Path) {
    let plan: [(u32, bool, Codec); 5] = [
        (1, false, Codec::Bincode),
        (2, true, Codec::Json),
        (3, false, Codec::Postcard),
        (4, true, Codec::Postcard),
        (5, false, Codec::Json),
    ];
    for (sensor, new, codec) in plan {
        if new {
            let mut log = TypedLog::<Reading>::open_with(dir, codec).unwrap();
            log.append(&v2(sensor)).unwrap();
            log.close().unwrap();
        } else {
            let mut log = TypedLog::<ReadingV1>::open_with(dir, codec).unwrap();
            log.append(&v1(sensor)).unwrap();
            log.close().unwrap();
        }
    }
}

#[test]
fn the_newer_program_reads_every_record() {
    let dir = tempfile::tempdir().unwrap();
    write_mixed(dir.path());
    let log = TypedLog::<Reading>::open(dir.path()).unwrap();
    let want = vec![
        Reading::from(v1(1)),
        v2(2),
        Reading::from(v1(3)),
        v2(4),
        Reading::from(v1(5)),
    ];
    assert_eq!(log.scan().unwrap(), want);
    let meta: Vec<(u16, Codec)> = log
        .scan_entries()
        .unwrap()
        .iter()
        .map(|e| (e.version, e.codec))
        .collect();
    assert_eq!(
        meta,
        [
            (1, Codec::Bincode),
            (2, Codec::Json),
            (1, Codec::Postcard),
            (2, Codec::Postcard),
            (1, Codec::Json)
        ]
    );
}

#[test]
fn the_older_program_stops_at_the_first_newer_record() {
    let dir = tempfile::tempdir().unwrap();
    write_mixed(dir.path());
    let log = TypedLog::<ReadingV1>::open(dir.path()).unwrap();
    let mut iter = log.iter().unwrap();
    assert_eq!(iter.next().unwrap().unwrap().value, v1(1));
    let e = iter.next().unwrap().unwrap_err();
    assert!(iter.next().is_none(), "the iterator ends after an error");
    let Error::Decode {
        expected,
        version,
        codec,
        location,
        source,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!((*expected, *version, *codec), ("reading", 2, Codec::Json));
    assert_eq!(location.txid, Some(2));
    assert!(matches!(
        **source,
        DecodeError::TooNew {
            version: 2,
            latest: 1,
            ..
        }
    ));
    let msg = e.to_string();
    assert!(
        msg.contains("txid 2") && msg.contains("`reading` version 2 is newer"),
        "{msg}"
    );
}

#[test]
fn the_older_program_can_skip_the_newer_records() {
    let dir = tempfile::tempdir().unwrap();
    write_mixed(dir.path());
    let log = TypedLog::<ReadingV1>::open_with(dir.path(), ReadPolicy::Skip).unwrap();
    let mut iter = log.iter().unwrap();
    let read: Vec<ReadingV1> = (&mut iter).map(|e| e.unwrap().value).collect();
    assert_eq!(read, [v1(1), v1(3), v1(5)]);
    let skipped: Vec<Option<u64>> = iter.skipped().iter().map(|s| s.location.txid).collect();
    assert_eq!(skipped, [Some(2), Some(4)]);
    assert!(iter.recovery_report().records_replayed >= 5);
}

#[test]
fn codec_can_change_on_an_open_handle() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<Reading>::open(dir.path()).unwrap();
    for (i, codec) in Codec::ALL.into_iter().enumerate() {
        log.set_codec(codec);
        log.append(&v2(i as u32)).unwrap();
    }
    let codecs: Vec<Codec> = log
        .scan_entries()
        .unwrap()
        .iter()
        .map(|e| e.codec)
        .collect();
    assert_eq!(codecs, Codec::ALL);
    assert_eq!(log.options().codec, Codec::Json);
}
