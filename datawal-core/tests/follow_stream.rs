//! `Follower::into_stream` (cargo feature `async`) under an executor
//! (`futures-executor`'s `block_on`, no reactor): records appended by a
//! writer thread arrive in order, the task sleeps in between (the thread
//! wakes it), and a named consumer commits through the stream.

use std::future::poll_fn;
use std::pin::Pin;
use std::time::Duration;

use datawal_core::{Follower, FollowerStream, Record, RecordLog};
use futures_core::Stream;

async fn next(s: &mut FollowerStream) -> Option<datawal_core::Result<Record>> {
    poll_fn(|cx| Pin::new(&mut *s).poll_next(cx)).await
}

#[test]
fn a_stream_yields_what_a_writer_thread_appends() {
    let td = tempfile::tempdir().unwrap();
    let mut log = RecordLog::open(td.path()).unwrap();
    log.append(b"before").unwrap();
    let mut stream = Follower::open_named(td.path(), "async")
        .unwrap()
        .into_stream();
    let writer = std::thread::spawn(move || {
        for i in 2..=100u64 {
            log.append(&i.to_le_bytes()).unwrap();
            if i % 10 == 0 {
                log.rotate().unwrap();
                std::thread::sleep(Duration::from_millis(3));
            }
        }
    });
    let got = futures_executor::block_on(async {
        let mut got = Vec::new();
        while got.len() < 100 {
            let r = next(&mut stream).await.unwrap().unwrap();
            got.push(r.txid);
            if r.txid == 50 {
                stream.commit(50).unwrap();
            }
        }
        got
    });
    writer.join().unwrap();
    assert_eq!(got, (1..=100).collect::<Vec<_>>());
    drop(stream);
    // The commit made through the stream is where a new consumer resumes.
    let mut again = Follower::open_named(td.path(), "async").unwrap();
    assert_eq!(again.try_next().unwrap().unwrap().txid, 51);
}
