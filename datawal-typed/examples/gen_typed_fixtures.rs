//! Regenerate the typed layer's golden fixtures in `tests/fixtures/`.
//!
//! ```text
//! cargo run -p datawal-typed --example gen_typed_fixtures -- --write
//! ```
//!
//! Only for a deliberate change: the fixtures freeze the envelope, the key
//! encoding and the bytes of every shipped (type, version) and codec. After
//! regenerating, review `git diff --stat datawal-typed/tests/fixtures`: a
//! changed file means stores already written would read differently.

#[path = "../tests/common/fixture_types.rs"]
mod fixture_types;
#[path = "../tests/common/gen.rs"]
mod gen;

use std::path::Path;

fn main() -> anyhow::Result<()> {
    if std::env::args().nth(1).as_deref() != Some("--write") {
        anyhow::bail!(
            "this overwrites datawal-typed/tests/fixtures; pass --write if that is intended"
        );
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    gen::generate(&dir)?;
    println!("wrote {}", dir.display());
    Ok(())
}
