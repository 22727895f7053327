//! What a directory holds, for tests that check what an operation left
//! behind (no temporary file, no stray entry). Included by path from the
//! other packages' tests too.

use std::path::Path;

/// The names of the entries of `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
