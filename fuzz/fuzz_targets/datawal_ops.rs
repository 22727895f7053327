//! `DataWal` operation sequences decoded from fuzz bytes, checked against a
//! `BTreeMap`: put, delete, fsync, rotate, reopen, compact (and switch to the
//! compacted store), with `get` checked after every step.
#![no_main]

use std::collections::BTreeMap;

use datawal_core::DataWal;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let td = tempfile::tempdir().unwrap();
    let mut dir = td.path().join("kv");
    let mut db = DataWal::open(&dir).unwrap();
    let mut model: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    let mut compactions = 0;
    let mut it = data.chunks(3);
    while let Some(c) = it.next() {
        let (op, a, b) = (c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0));
        let key = vec![b'k', a % 16];
        match op % 8 {
            0..=2 => {
                let value = vec![b; usize::from(a) * 3];
                db.put(&key, &value).unwrap();
                model.insert(key.clone(), value);
            }
            3 => {
                db.delete(&key).unwrap();
                model.remove(&key);
            }
            4 => db.fsync().unwrap(),
            5 => db.rotate().unwrap(),
            6 => {
                drop(db);
                db = DataWal::open(&dir).unwrap();
            }
            _ => {
                if compactions >= 4 {
                    continue;
                }
                compactions += 1;
                let out = td.path().join(format!("c{compactions}"));
                let stats = db.compact_to(&out).unwrap();
                assert_eq!(stats.live_keys, model.len() as u64);
                if b % 2 == 0 {
                    drop(db);
                    dir = out;
                    db = DataWal::open(&dir).unwrap();
                }
            }
        }
        assert_eq!(db.get(&key).unwrap(), model.get(&key).cloned());
        assert_eq!(db.len(), model.len());
    }
    let items: BTreeMap<Vec<u8>, Vec<u8>> = db.items().unwrap().into_iter().collect();
    assert_eq!(items, model);
});
