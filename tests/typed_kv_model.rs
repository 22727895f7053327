//! Model-based test: `TypedWal<(String, i32), V>` against a `BTreeMap`
//! under random puts, deletes and reopens. The store's key order must be the
//! `BTreeMap`'s (the key encoding preserves order).

use std::collections::BTreeMap;

use datawal::{Codec, TypedWal};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Put(String, i32, u64),
    Delete(String, i32),
    Reopen(Codec),
}

fn op() -> impl Strategy<Value = Op> {
    let name = prop_oneof![
        Just(String::new()),
        Just("a".to_string()),
        Just("a\0".to_string()),
        "[ab\\x00]{0,3}"
    ];
    let n = prop_oneof![Just(i32::MIN), Just(-1), Just(0), Just(1), -3i32..3];
    prop_oneof![
        4 => (name.clone(), n.clone(), any::<u64>()).prop_map(|(s, n, v)| Op::Put(s, n, v)),
        2 => (name, n).prop_map(|(s, n)| Op::Delete(s, n)),
        1 => prop_oneof![Just(Codec::Bincode), Just(Codec::Postcard), Just(Codec::Json)].prop_map(Op::Reopen),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn kv_matches_a_btreemap(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let mut kv = TypedWal::<(String, i32), u64>::open(dir.path()).unwrap();
        let mut model = BTreeMap::new();
        for op in ops {
            match op {
                Op::Put(s, n, v) => {
                    kv.put(&(s.clone(), n), &v).unwrap();
                    model.insert((s, n), v);
                }
                Op::Delete(s, n) => {
                    kv.delete(&(s.clone(), n)).unwrap();
                    model.remove(&(s, n));
                }
                Op::Reopen(codec) => {
                    kv.fsync().unwrap();
                    drop(kv);
                    kv = TypedWal::open_with(dir.path(), codec).unwrap();
                }
            }
            prop_assert_eq!(kv.len(), model.len());
        }
        let items = kv.items().unwrap();
        let want: Vec<((String, i32), u64)> = model.clone().into_iter().collect();
        prop_assert_eq!(items, want);
        prop_assert_eq!(kv.keys().unwrap(), model.keys().cloned().collect::<Vec<_>>());
        for (k, v) in &model {
            prop_assert_eq!(kv.get(k).unwrap(), Some(*v));
        }
    }
}
