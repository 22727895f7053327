//! The floor under W1: what one `pwrite` of a record's bytes and one
//! `fdatasync` cost on this disk, with no library in the way, depending on
//! what the sync must also commit (the file's new length, the allocation of
//! its blocks, or nothing but the data).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::Duration;

use anyhow::Result;
use rustix::fs::{fallocate, FallocateFlags};

use crate::peer::timed;

/// Bytes of one write: the frame datawal writes for a 64-byte payload
/// (24-byte header, no key, 64-byte payload, 4-byte CRC).
pub const RECORD: usize = 24 + crate::data::PAYLOAD_LEN + 4;

/// How the file is prepared before the timed writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Floor {
    /// An empty file: each write makes it longer and allocates blocks as it goes.
    Growing,
    /// Blocks reserved past the end with `fallocate(FALLOC_FL_KEEP_SIZE)`:
    /// each write still makes the file longer (what datawal does today).
    ReservedKeepSize,
    /// `fallocate` to the full size: the length never changes, but each
    /// write turns unwritten extents into written ones.
    Fallocated,
    /// Zeros written and synced to the full size first: each sync has only
    /// the data to write.
    ZeroFilled,
}

impl Floor {
    /// Every mode, in the table's order.
    pub const ALL: [Floor; 4] = [
        Floor::Growing,
        Floor::ReservedKeepSize,
        Floor::Fallocated,
        Floor::ZeroFilled,
    ];

    /// The row label.
    pub fn label(self) -> &'static str {
        match self {
            Floor::Growing => "floor: pwrite + fdatasync, growing file",
            Floor::ReservedKeepSize => {
                "floor: pwrite + fdatasync, fallocate KEEP_SIZE ahead (length grows)"
            }
            Floor::Fallocated => {
                "floor: pwrite + fdatasync, fallocated to full size (unwritten extents)"
            }
            Floor::ZeroFilled => "floor: pwrite + fdatasync, preallocated by writing zeros",
        }
    }

    /// `n` writes of [`RECORD`] bytes, each followed by `fdatasync`, into a
    /// file prepared as `self` in `dir`.
    pub fn run(self, dir: &Path, n: usize) -> Result<Duration> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("floor");
        let file = OpenOptions::new()
            .create_new(true)
            .read(true)
            .write(true)
            .open(&path)?;
        let total = (n * RECORD) as u64;
        match self {
            Floor::Growing => {}
            Floor::ReservedKeepSize => fallocate(&file, FallocateFlags::KEEP_SIZE, 0, total)?,
            Floor::Fallocated => fallocate(&file, FallocateFlags::empty(), 0, total)?,
            Floor::ZeroFilled => write_zeros(&file, total)?,
        }
        file.sync_all()?;
        File::open(dir)?.sync_all()?;
        let record = [0x5au8; RECORD];
        let (t, ()) = timed(|| {
            for i in 0..n {
                file.write_all_at(&record, (i * RECORD) as u64)?;
                file.sync_data()?;
            }
            Ok(())
        })?;
        Ok(t)
    }
}

fn write_zeros(file: &File, total: u64) -> Result<()> {
    let zeros = vec![0u8; 1 << 20];
    let mut at = 0;
    while at < total {
        let len = (total - at).min(zeros.len() as u64) as usize;
        file.write_all_at(&zeros[..len], at)?;
        at += len as u64;
    }
    Ok(())
}
