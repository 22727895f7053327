//! `decode_frame` on arbitrary bytes: never panics, and every outcome is
//! consistent (a frame re-encodes to exactly its bytes; `Incomplete` asks
//! for more than is there; an error is a typed `CorruptKind`).
#![no_main]

use datawal_core::format::{decode_frame, Decoded, MAX_FRAME_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match decode_frame(data) {
        Ok(Decoded::Frame(f)) => {
            let len = f.header.frame_len();
            assert!(len <= MAX_FRAME_LEN && len as usize <= data.len());
            assert_eq!(&f.to_vec()[..], &data[..len as usize]);
        }
        Ok(Decoded::Incomplete { available, needed }) => {
            assert_eq!(available, data.len() as u64);
            assert!(needed > available && needed <= MAX_FRAME_LEN);
        }
        Err(kind) => {
            let _ = kind.to_string();
        }
    }
});
