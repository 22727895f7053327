//! `export_jsonl`: the live projection as JSON lines, written atomically.

use std::io::Write;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Serialize;

use crate::atomic::AtomicFile;
use crate::error::{Error, Result};
use crate::kv::DataWal;
use crate::projection::Values;

#[derive(Serialize)]
struct Row<'a> {
    key_b64: &'a str,
    value_b64: &'a str,
}

impl DataWal {
    /// Write every live pair as `{"key_b64":"...","value_b64":"..."}`, one
    /// per line, sorted by key bytes, standard base64 with padding: the
    /// published crate's format, byte for byte.
    ///
    /// The file is written through an [`AtomicFile`]: a temporary sibling
    /// created exclusively under a random name, fsynced and renamed over
    /// `out`. `out` is either the old file or the complete new one, and a
    /// failed export leaves no temporary behind.
    ///
    /// # Errors
    /// Read errors as [`get`](Self::get), [`Error::Io`].
    pub fn export_jsonl(&self, out: impl AsRef<Path>) -> Result<()> {
        self.values().export_jsonl(out.as_ref())
    }
}

impl Values<'_> {
    /// [`DataWal::export_jsonl`], for the writer and the lock-free reader.
    pub(crate) fn export_jsonl(&self, out: &Path) -> Result<()> {
        let mut file = AtomicFile::create(out)?;
        let temp = file.temp_path().to_path_buf();
        self.write_jsonl(&mut file, &temp)?;
        file.commit()
    }

    /// The export's lines, written to `w` (`path` names it in errors).
    pub(crate) fn write_jsonl(&self, w: &mut impl Write, path: &Path) -> Result<()> {
        let (mut k64, mut v64) = (String::new(), String::new());
        let entries = self.proj.sorted_entries();
        for (batch, values) in self.value_batches(&entries) {
            for ((key, _), value) in batch.iter().zip(values) {
                let value = value?;
                k64.clear();
                v64.clear();
                B64.encode_string(key, &mut k64);
                B64.encode_string(&value, &mut v64);
                let row = Row {
                    key_b64: &k64,
                    value_b64: &v64,
                };
                let written = serde_json::to_writer(&mut *w, &row)
                    .map_err(std::io::Error::from)
                    .and_then(|()| w.write_all(b"\n"));
                written.map_err(|e| Error::io("write", path, e))?;
            }
        }
        Ok(())
    }
}
