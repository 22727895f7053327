//! Positions and following on the typed handles: `read_at`,
//! `cursor_from` and `last` on `TypedLog` and `TypedReader`, and
//! `TypedFollower`, each under the handle's read policy.

use std::time::Duration;

use datawal_typed::{Entry, Error, ReadPolicy, TypedFollower, TypedLog, TypedReader};

fn values(entries: &[Entry<u64>]) -> Vec<u64> {
    entries.iter().map(|e| e.value).collect()
}

#[test]
fn positions_on_the_writer_and_the_reader() {
    let td = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<u64>::open(td.path()).unwrap();
    let mut refs = Vec::new();
    for v in 0..30u64 {
        refs.push(log.append(&(v * 10)).unwrap());
        if v % 7 == 6 {
            log.rotate().unwrap();
        }
    }
    log.fsync().unwrap();
    let reader = TypedReader::<u64>::open(td.path(), ReadPolicy::Stop).unwrap();
    for (i, r) in refs.iter().enumerate() {
        let e = log.read_at(*r).unwrap();
        assert_eq!(
            (e.value, e.txid, e.position()),
            (i as u64 * 10, i as u64 + 1, *r)
        );
        assert_eq!(reader.read_at(*r).unwrap().value, e.value);
    }
    let from_12: Vec<Entry<u64>> = log.cursor_from(12).unwrap().map(Result::unwrap).collect();
    assert_eq!(
        values(&from_12),
        (11..30).map(|v| v * 10).collect::<Vec<_>>()
    );
    let from_12r: Vec<Entry<u64>> = reader
        .cursor_from(12)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(from_12, from_12r);
    assert_eq!(log.last().unwrap().unwrap().value, 290);
    assert_eq!(reader.last().unwrap().unwrap().value, 290);
    // A position that is not a record.
    let mut bad = refs[3];
    bad.offset += 1;
    assert!(matches!(
        log.read_at(bad),
        Err(Error::Core(datawal_core::Error::NoRecordAt { .. }))
    ));
}

/// The newest record does not decode: `last` under `Stop` says so, under
/// `Skip` it is the newest one that decodes.
#[test]
fn last_follows_the_read_policy() {
    let td = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<u64>::open(td.path()).unwrap();
    log.append(&7).unwrap();
    for _ in 0..100 {
        log.raw_mut().append(b"not a typed record").unwrap();
    }
    assert!(log.last().is_err());
    log.set_read_policy(ReadPolicy::Skip);
    let last = log.last().unwrap().unwrap();
    assert_eq!((last.value, last.txid), (7, 1));
    let reader = TypedReader::<u64>::open(td.path(), ReadPolicy::Skip).unwrap();
    assert_eq!(reader.last().unwrap().unwrap().value, 7);
    let stop = TypedReader::<u64>::open(td.path(), ReadPolicy::Stop).unwrap();
    assert!(stop.last().is_err());
}

#[test]
fn a_typed_follower_decodes_under_its_policy() {
    let td = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<String>::open(td.path()).unwrap();
    let mut skip = TypedFollower::<String>::open(td.path(), 0, ReadPolicy::Skip).unwrap();
    let mut stop = TypedFollower::<String>::open(td.path(), 0, ReadPolicy::Stop).unwrap();
    let writer = std::thread::spawn(move || {
        log.append(&"a".to_string()).unwrap();
        log.raw_mut().append(b"raw bytes").unwrap();
        log.rotate().unwrap();
        log.append(&"b".to_string()).unwrap();
        log
    });
    let got: Vec<String> = skip.by_ref().take(2).map(|e| e.unwrap().value).collect();
    assert_eq!(got, ["a", "b"]);
    assert_eq!(skip.skipped().len(), 1);
    assert_eq!(skip.skipped()[0].location.txid, Some(2));
    writer.join().unwrap();
    assert_eq!(
        stop.next_timeout(Duration::from_secs(10))
            .unwrap()
            .unwrap()
            .value,
        "a"
    );
    assert!(matches!(stop.try_next(), Err(Error::Envelope { .. })));
    assert_eq!(stop.try_next().unwrap().unwrap().value, "b");
    assert_eq!(stop.try_next().unwrap(), None);
}

#[test]
fn a_named_typed_follower_resumes_after_its_commit() {
    let td = tempfile::tempdir().unwrap();
    let mut log = TypedLog::<u64>::open(td.path()).unwrap();
    for v in 1..=5u64 {
        log.append(&v).unwrap();
    }
    let mut f = TypedFollower::<u64>::open_named(td.path(), "sum", ReadPolicy::Stop).unwrap();
    let first: Vec<u64> = (0..3)
        .map(|_| f.try_next().unwrap().unwrap().value)
        .collect();
    assert_eq!(first, [1, 2, 3]);
    f.commit(3).unwrap();
    drop(f);
    let reader = TypedReader::<u64>::open(td.path(), ReadPolicy::Stop).unwrap();
    let mut f = reader.follow_from(0).unwrap();
    assert_eq!(f.try_next().unwrap().unwrap().value, 1);
    let mut f = TypedFollower::<u64>::open_named(td.path(), "sum", ReadPolicy::Stop).unwrap();
    assert_eq!(f.try_next().unwrap().unwrap().value, 4);
}
