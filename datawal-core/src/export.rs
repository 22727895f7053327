//! `export_jsonl`: the live projection as JSON lines, written atomically.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::kv::DataWal;
use crate::segment::{fsync_dir, temp_sibling};

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
    /// The file is written to a temporary sibling, fsynced and renamed over
    /// `out`: `out` is either the old file or the complete new one.
    ///
    /// # Errors
    /// Read errors as [`get`](Self::get), [`Error::Io`].
    pub fn export_jsonl(&self, out: impl AsRef<Path>) -> Result<()> {
        let out = out.as_ref();
        let (parent, tmp) = temp_sibling(out, "tmp")?;
        let written = self.write_jsonl(&tmp);
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        fs::rename(&tmp, out).map_err(|e| {
            let _ = fs::remove_file(&tmp);
            Error::io("rename export into place", out, e)
        })?;
        fsync_dir(&parent)
    }

    fn write_jsonl(&self, tmp: &Path) -> Result<()> {
        let file = File::create(tmp).map_err(|e| Error::io("create export file", tmp, e))?;
        let mut w = BufWriter::new(file);
        let io = |e| Error::io("write export file", tmp, e);
        let (mut k64, mut v64) = (String::new(), String::new());
        let entries = self.sorted_entries();
        for (batch, values) in self.value_batches(&entries) {
            for ((key, _), value) in batch.iter().zip(values) {
                let value = value?;
                k64.clear();
                v64.clear();
                B64.encode_string(key, &mut k64);
                B64.encode_string(&value, &mut v64);
                serde_json::to_writer(
                    &mut w,
                    &Row {
                        key_b64: &k64,
                        value_b64: &v64,
                    },
                )
                .map_err(|e| io(e.into()))?;
                w.write_all(b"\n").map_err(io)?;
            }
        }
        let file = w.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)
    }
}
