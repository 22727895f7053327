//! `RecordLog::append_record_at`: appending under a txid the caller gives
//! (what `datawal pull` uses to rebuild a store with the stream's txids).

use datawal_core::{Error, RecordLog, RecordType};

#[test]
fn append_at_keeps_the_given_txids_across_reopen() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut log = RecordLog::open(dir.path())?;
    // An empty log may start above 1 (a stream whose source was truncated).
    log.append_record_at(40, RecordType::Put, b"k", b"v")?;
    log.append_record_at(41, RecordType::Delete, b"k", b"")?;
    log.append_record_at(42, RecordType::Raw, b"", b"raw")?;
    log.fsync()?;
    drop(log);

    let mut log = RecordLog::open(dir.path())?;
    let got: Vec<(u64, RecordType)> = log
        .scan()?
        .iter()
        .map(|r| (r.txid, r.record_type))
        .collect();
    assert_eq!(
        got,
        vec![
            (40, RecordType::Put),
            (41, RecordType::Delete),
            (42, RecordType::Raw)
        ]
    );
    assert_eq!(log.next_txid(), 43);
    Ok(())
}

#[test]
fn append_at_refuses_going_back_and_gaps() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut log = RecordLog::open(dir.path())?;
    log.append_record_at(1, RecordType::Raw, b"", b"a")?;
    for txid in [0, 1, 3, u64::MAX] {
        match log.append_record_at(txid, RecordType::Raw, b"", b"b") {
            Err(Error::TxidNotNext { txid: t, next: 2 }) => assert_eq!(t, txid),
            other => panic!("txid {txid}: expected TxidNotNext, got {other:?}"),
        }
    }
    // Refusals wrote nothing and moved nothing.
    assert_eq!(log.next_txid(), 2);
    log.append(b"c")?;
    assert_eq!(
        log.scan()?.iter().map(|r| r.txid).collect::<Vec<_>>(),
        vec![1, 2]
    );
    Ok(())
}

#[test]
fn append_at_refused_lengths_leave_the_next_txid() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut log = RecordLog::open(dir.path())?;
    let key = vec![0u8; datawal_core::MAX_KEY_LEN as usize + 1];
    assert!(matches!(
        log.append_record_at(9, RecordType::Put, &key, b""),
        Err(Error::KeyTooLarge { .. })
    ));
    assert_eq!(log.next_txid(), 1);
    assert!(!log.is_poisoned());
    Ok(())
}
