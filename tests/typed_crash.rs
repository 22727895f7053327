//! Crash safety through the typed layer: a child process appends typed
//! records and reports each fsync; the parent kills it (SIGKILL) mid-stream.
//! On reopen every acknowledged value is there, in order, and nothing torn
//! is ever decoded as a value.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use datawal::{Codec, Record, TypedLog, TypedWal};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Record)]
#[record(name = "tick", version = 1)]
struct Tick {
    #[record(key)]
    n: u64,
    pad: String,
}

fn tick(n: u64) -> Tick {
    Tick {
        n,
        pad: "x".repeat((n % 97) as usize),
    }
}

const DIR_VAR: &str = "DATAWAL_TYPED_CRASH_DIR";

/// The child: runs only when spawned by the parent test.
#[test]
fn child_writer() {
    let Ok(dir) = std::env::var(DIR_VAR) else {
        return;
    };
    let codec = match std::env::var("DATAWAL_TYPED_CRASH_CODEC").as_deref() {
        Ok("json") => Codec::Json,
        Ok("postcard") => Codec::Postcard,
        _ => Codec::Bincode,
    };
    let mut log = TypedLog::<Tick>::open_with(format!("{dir}/log"), codec).unwrap();
    let mut kv = TypedWal::<u64, Tick>::open_with(format!("{dir}/kv"), codec).unwrap();
    let mut n = log.scan().unwrap().len() as u64;
    // The store may trail the log by the records of a kill between the two
    // fsyncs: catch up first.
    for i in kv.len() as u64..n {
        kv.insert(&tick(i)).unwrap();
    }
    loop {
        let batch: Vec<Tick> = (n..n + 7).map(tick).collect();
        log.append_batch(&batch).unwrap();
        for t in &batch {
            kv.insert(t).unwrap();
        }
        log.fsync().unwrap();
        kv.fsync().unwrap();
        n += 7;
        println!("acked {n}");
    }
}

fn run_and_kill(dir: &std::path::Path, codec: &str, acks: usize) -> u64 {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", "child_writer", "--nocapture", "--test-threads=1"])
        .env(DIR_VAR, dir)
        .env("DATAWAL_TYPED_CRASH_CODEC", codec)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut last = 0;
    let mut seen = 0;
    while seen < acks {
        let Some(line) = lines.next() else { break };
        if let Some(n) = line.unwrap().strip_prefix("acked ") {
            last = n.parse().unwrap();
            seen += 1;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        seen == acks,
        "the child stopped early after {seen} acknowledgements"
    );
    last
}

#[test]
fn killed_writers_lose_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut acked = 0;
    for (round, codec) in ["bincode", "postcard", "json", "bincode"]
        .into_iter()
        .enumerate()
    {
        acked = run_and_kill(dir.path(), codec, 20 + round * 15);
        let log = TypedLog::<Tick>::open(dir.path().join("log")).unwrap();
        let values = log.scan().unwrap();
        assert!(
            values.len() as u64 >= acked,
            "round {round}: {} < {acked}",
            values.len()
        );
        for (i, v) in values.iter().enumerate() {
            assert_eq!(v, &tick(i as u64), "round {round}: value {i}");
        }
        drop(log);
        let kv = TypedWal::<u64, Tick>::open(dir.path().join("kv")).unwrap();
        let keys = kv.keys().unwrap();
        assert!(keys.len() as u64 >= acked);
        assert_eq!(keys, (0..keys.len() as u64).collect::<Vec<_>>());
        assert_eq!(kv.get(&(acked - 1)).unwrap(), Some(tick(acked - 1)));
    }
    assert!(acked > 0);
}
