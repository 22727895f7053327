//! Opens with and without hint files.

use std::path::Path;

use datawal_core::{DataWal, RecordLog};

use crate::harness::{duel, timed, Dirs};
use crate::table::{Row, Target};
use crate::{key, payload, Sizes};

/// Copy the store `from` into `to`: segments and the floor, and the hint
/// files when `hints`.
fn copy_store(from: &Path, to: &Path, hints: bool) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".hint") && !hints || name.starts_with('.') {
            continue;
        }
        std::fs::copy(e.path(), to.join(&name)).unwrap();
    }
}

/// `DataWal::open` and `RecordLog::open` of stores written and synced by
/// this crate, whose segments have hint files (`{id:08}.hint`): with the
/// hints, without them (a full replay, as before hints existed), and with
/// a byte of a hint's entries changed (the worst damage: found only as the
/// entries are applied, after which the open replays without that hint;
/// the writer's open then removes it, so it is put back before each
/// round). The published crate opens the same data.
pub fn hint_rows(sizes: &Sizes, dirs: &Dirs, rows: &mut Vec<Row>) {
    let p = payload();
    for &keys in &sizes.hint_keys {
        let ours = dirs.fresh("hinted");
        let theirs = dirs.fresh("hinted-theirs");
        {
            let mut db = DataWal::open(&ours).unwrap();
            let mut tdb = datawal015::DataWal::open(&theirs).unwrap();
            for i in 0..keys {
                db.put(&key(i), &p).unwrap();
                tdb.put(&key(i), &p).unwrap();
            }
            db.fsync().unwrap();
            tdb.fsync().unwrap();
            // Dropped synced: the active segment gets its hint.
        }
        assert!(
            datawal_core::hint_path(&ours, 1).exists(),
            "no hint written"
        );
        let bare = dirs.fresh("unhinted");
        copy_store(&ours, &bare, false);
        let damaged = dirs.fresh("damaged");
        copy_store(&ours, &damaged, true);
        let spoiled = {
            let mut b = std::fs::read(datawal_core::hint_path(&damaged, 1)).unwrap();
            let at = b.len() - 3;
            b[at] ^= 0x20;
            b
        };
        let open = |dir: &Path, from_hints: bool| {
            let (t, db) = timed(|| DataWal::open(dir).unwrap());
            assert_eq!(db.len(), keys);
            let used = db.log().recovery_report().unwrap().bytes_from_hints;
            assert_eq!(used > 0, from_hints, "{}", dir.display());
            drop(db);
            t
        };
        let theirs_open = || {
            let (t, db) = timed(|| datawal015::DataWal::open(&theirs).unwrap());
            assert_eq!(db.len(), keys);
            drop(db);
            t
        };
        for (label, dir, from_hints, target) in [
            ("hints present", &ours, true, keys <= 100_000),
            ("no hints", &bare, false, false),
            ("a hint's entries damaged", &damaged, false, false),
        ] {
            let times = duel(
                sizes.rounds,
                || {
                    if dir == &damaged {
                        std::fs::write(datawal_core::hint_path(dir, 1), &spoiled).unwrap();
                    }
                    open(dir, from_hints)
                },
                theirs_open,
            );
            rows.push(Row {
                name: format!("DataWal::open, {keys} keys, {label}"),
                unit: "open",
                ops: 1,
                ours: times.0,
                theirs: Some(times.1),
                target: match (from_hints, target) {
                    (true, true) => Target::MillisAtMost(3.0),
                    (true, false) => Target::MillisAtMost(25.0),
                    _ => Target::None,
                },
                fsync: false,
            });
        }
        // The log alone: hint headers only, against a read of every frame.
        let log_open = |dir: &Path| {
            let (t, log) = timed(|| RecordLog::open(dir).unwrap());
            assert_eq!(log.next_txid(), keys as u64 + 1);
            drop(log);
            t
        };
        let times = duel(sizes.rounds, || log_open(&ours), || log_open(&bare));
        rows.push(Row {
            name: format!(
                "RecordLog::open, {keys} records, hints (theirs: our open without hints)"
            ),
            unit: "open",
            ops: 1,
            ours: times.0,
            theirs: Some(times.1),
            target: Target::None,
            fsync: false,
        });
        for d in [&ours, &theirs, &bare, &damaged] {
            std::fs::remove_dir_all(d).unwrap();
        }
    }
}
