//! Keys as text, from a [`KeyShape`]: each element is decoded and encoded
//! by the `Key` impl of its type in `key.rs` (the one home of the key
//! encoding); this module only walks the shape.
//!
//! Text forms (`docs/canon-typed.md`): a string key is its text; an integer
//! key its decimal digits; `bool` `true`/`false`; every other key its JSON
//! form, compact: a char or string is a JSON string, an integer a JSON
//! number (a 128-bit integer beyond 64 bits a JSON string of its digits),
//! `()` and `None` are `null`, `Some(k)` is `k`'s form, bytes an array of
//! numbers, a tuple an array (`["apples",1]`).

use serde_json::Value;

use crate::Key;

/// The encoding of one key, described (see [`Key::key_shape`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KeyShape {
    /// Not described: the key's bytes have no text form (the default of
    /// [`Key::key_shape`], for key types outside datawal-typed).
    Opaque,
    /// `()` (no bytes).
    Unit,
    /// `bool`.
    Bool,
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `u128`.
    U128,
    /// `i8`.
    I8,
    /// `i16`.
    I16,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `i128`.
    I128,
    /// `char`.
    Char,
    /// `String`.
    Str,
    /// `Vec<u8>`.
    Bytes,
    /// `Option<K>`.
    Option(Box<KeyShape>),
    /// A tuple of keys, concatenated.
    Tuple(Vec<KeyShape>),
}

/// Decode one key of `shape` from the front of `bytes`: its JSON form and
/// the bytes used.
fn to_json(shape: &KeyShape, bytes: &[u8]) -> Result<(Value, usize), String> {
    fn leaf<K: Key>(bytes: &[u8], f: impl Fn(K) -> Value) -> Result<(Value, usize), String> {
        K::decode_key(bytes)
            .map(|(k, used)| (f(k), used))
            .map_err(|e| e.to_string())
    }
    fn wide<T: ToString + Copy>(v: T, fits: Option<Value>) -> Value {
        fits.unwrap_or_else(|| Value::String(v.to_string()))
    }
    match shape {
        KeyShape::Opaque => Err("the key type is not described (opaque)".into()),
        KeyShape::Unit => Ok((Value::Null, 0)),
        KeyShape::Bool => leaf::<bool>(bytes, Value::Bool),
        KeyShape::U8 => leaf::<u8>(bytes, Value::from),
        KeyShape::U16 => leaf::<u16>(bytes, Value::from),
        KeyShape::U32 => leaf::<u32>(bytes, Value::from),
        KeyShape::U64 => leaf::<u64>(bytes, Value::from),
        KeyShape::U128 => leaf::<u128>(bytes, |v| wide(v, u64::try_from(v).ok().map(Value::from))),
        KeyShape::I8 => leaf::<i8>(bytes, Value::from),
        KeyShape::I16 => leaf::<i16>(bytes, Value::from),
        KeyShape::I32 => leaf::<i32>(bytes, Value::from),
        KeyShape::I64 => leaf::<i64>(bytes, Value::from),
        KeyShape::I128 => leaf::<i128>(bytes, |v| wide(v, i64::try_from(v).ok().map(Value::from))),
        KeyShape::Char => leaf::<char>(bytes, |c| Value::String(c.to_string())),
        KeyShape::Str => leaf::<String>(bytes, Value::String),
        KeyShape::Bytes => leaf::<Vec<u8>>(bytes, |b| b.into_iter().map(Value::from).collect()),
        KeyShape::Option(inner) => match bytes.first() {
            Some(0) => Ok((Value::Null, 1)),
            Some(1) => to_json(inner, &bytes[1..]).map(|(v, used)| (v, used + 1)),
            Some(other) => Err(format!(
                "option tag {other:#04x} is neither 0x00 (None) nor 0x01 (Some)"
            )),
            None => Err("the key ends before an option's tag".into()),
        },
        KeyShape::Tuple(items) => {
            let (mut out, mut used) = (Vec::new(), 0);
            for item in items {
                let (v, n) = to_json(item, &bytes[used..])?;
                out.push(v);
                used += n;
            }
            Ok((Value::Array(out), used))
        }
    }
}

/// The text form of a whole key (`bytes` must hold exactly one).
pub(crate) fn key_to_text(shape: &KeyShape, bytes: &[u8]) -> Result<String, String> {
    let (value, used) = to_json(shape, bytes)?;
    if used != bytes.len() {
        return Err(format!(
            "{} trailing bytes after the key",
            bytes.len() - used
        ));
    }
    Ok(match value {
        // A string key is its text; a 128-bit integer beyond 64 bits its
        // digits, unquoted like every integer key.
        Value::String(s) if *shape == KeyShape::Str || is_integer(shape) => s,
        other => other.to_string(),
    })
}

/// The bytes of the key whose text form is `text`.
pub(crate) fn text_to_key(shape: &KeyShape, text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    if *shape == KeyShape::Str {
        text.to_string().encode_key(&mut out);
        return Ok(out);
    }
    if is_integer(shape) {
        // Decimal digits, read as such (JSON would read 2^100 as a float).
        from_json(shape, &Value::String(text.trim().to_string()), &mut out)?;
        return Ok(out);
    }
    let value: Value = serde_json::from_str(text.trim())
        .map_err(|e| format!("not the JSON form of a key: {e}"))?;
    from_json(shape, &value, &mut out)?;
    Ok(out)
}

fn is_integer(shape: &KeyShape) -> bool {
    matches!(
        shape,
        KeyShape::U8
            | KeyShape::U16
            | KeyShape::U32
            | KeyShape::U64
            | KeyShape::U128
            | KeyShape::I8
            | KeyShape::I16
            | KeyShape::I32
            | KeyShape::I64
            | KeyShape::I128
    )
}

fn from_json(shape: &KeyShape, value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    fn int<T: Key + std::str::FromStr>(value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
        let text = match value {
            Value::Number(n) => n.to_string(),
            Value::String(s) => s.clone(),
            other => return Err(format!("expected an integer, found {other}")),
        };
        let v: T = text
            .parse()
            .map_err(|_| format!("`{text}` is not a {}", std::any::type_name::<T>()))?;
        v.encode_key(out);
        Ok(())
    }
    match (shape, value) {
        (KeyShape::Opaque, _) => return Err("the key type is not described (opaque)".into()),
        (KeyShape::Unit, Value::Null) => {}
        (KeyShape::Bool, Value::Bool(b)) => b.encode_key(out),
        (KeyShape::U8, v) => int::<u8>(v, out)?,
        (KeyShape::U16, v) => int::<u16>(v, out)?,
        (KeyShape::U32, v) => int::<u32>(v, out)?,
        (KeyShape::U64, v) => int::<u64>(v, out)?,
        (KeyShape::U128, v) => int::<u128>(v, out)?,
        (KeyShape::I8, v) => int::<i8>(v, out)?,
        (KeyShape::I16, v) => int::<i16>(v, out)?,
        (KeyShape::I32, v) => int::<i32>(v, out)?,
        (KeyShape::I64, v) => int::<i64>(v, out)?,
        (KeyShape::I128, v) => int::<i128>(v, out)?,
        (KeyShape::Char, Value::String(s)) => {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c.encode_key(out),
                _ => return Err(format!("expected one character, found {s:?}")),
            }
        }
        (KeyShape::Str, Value::String(s)) => s.encode_key(out),
        (KeyShape::Bytes, Value::Array(items)) => {
            let bytes = items
                .iter()
                .map(|v| {
                    v.as_u64()
                        .and_then(|b| u8::try_from(b).ok())
                        .ok_or_else(|| format!("expected a byte (0..=255), found {v}"))
                })
                .collect::<Result<Vec<u8>, String>>()?;
            bytes.encode_key(out);
        }
        (KeyShape::Option(_), Value::Null) => out.push(0),
        (KeyShape::Option(inner), v) => {
            out.push(1);
            from_json(inner, v, out)?;
        }
        (KeyShape::Tuple(items), Value::Array(values)) if items.len() == values.len() => {
            for (item, v) in items.iter().zip(values) {
                from_json(item, v, out)?;
            }
        }
        (shape, other) => return Err(format!("{other} is not a key of shape {shape:?}")),
    }
    Ok(())
}
