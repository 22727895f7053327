//! `datawal get DIR KEY`.

use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;

use anyhow::{bail, Context as _, Result};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use datawal_core::DataWalReader;

use crate::cli::GetArgs;
use crate::exit::Outcome;
use crate::lens::Lens;
use crate::render::{bytes_text, payload_text, record_json};
use crate::store::require_dir;

/// Print the live value of a key, from a lock-free snapshot.
///
/// # Errors
/// A key that does not decode, a missing or invalid directory, corruption, I/O.
pub fn run(args: &GetArgs) -> Result<Outcome> {
    require_dir(&args.dir)?;
    let lens = Lens::load(&args.dir, &args.type_names);
    let key = if args.hex {
        let text = args
            .key
            .to_str()
            .context("--hex: the key is not ASCII hex")?;
        decode_hex(text)?
    } else if args.base64 {
        let text = args
            .key
            .to_str()
            .context("--base64: the key is not base64")?;
        B64.decode(text.trim())
            .map_err(|e| anyhow::anyhow!("--base64: the key is not standard base64: {e}"))?
    } else {
        lens.key_from_text(args.key.as_bytes())?
    };
    let snapshot = DataWalReader::open(&args.dir)?;
    let Some(r) = snapshot.get_record(&key)? else {
        crate::exit::say(&format!(
            "datawal: key {} is not live in {} (never written, or deleted)",
            lens.key_token(&key, &[])
                .unwrap_or_else(|| bytes_text(&key, Some(200))),
            args.dir.display()
        ));
        return Ok(Outcome::NotFound);
    };
    let mut out = std::io::stdout().lock();
    if args.raw {
        out.write_all(&r.payload)?;
    } else if args.json {
        let view = r.view();
        writeln!(out, "{}", record_json(&view, &lens))?;
    } else {
        writeln!(out, "{}", payload_text(&r.payload, None, &lens))?;
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

/// Decode hex digits (either case, even count).
fn decode_hex(text: &str) -> Result<Vec<u8>> {
    let text = text.trim();
    let text = text.strip_prefix("0x").unwrap_or(text);
    if !text.len().is_multiple_of(2) {
        bail!("--hex: the key has an odd number of hex digits");
    }
    let digit = |c: u8| -> Result<u8> {
        match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => bail!("--hex: {:?} is not a hex digit", char::from(c)),
        }
    };
    text.as_bytes()
        .chunks_exact(2)
        .map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::decode_hex;

    #[test]
    fn hex_keys() {
        assert_eq!(decode_hex("00ffA1").unwrap(), vec![0x00, 0xff, 0xa1]);
        assert_eq!(decode_hex("0x0a").unwrap(), vec![0x0a]);
        assert_eq!(decode_hex("").unwrap(), Vec::<u8>::new());
        assert!(decode_hex("abc").is_err());
        assert!(decode_hex("zz").is_err());
        assert!(decode_hex("é1").is_err());
    }
}
