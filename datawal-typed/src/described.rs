//! How the typed handles keep a store's description ([`crate::describe`]
//! is the read side, which needs nothing of the handles): checked and merged at
//! open (refusing a handle of another kind, type or key), and updated
//! before the first record of a new codec is written.
//!
//! Durability: the description is written through
//! [`AtomicFile`](datawal_core::AtomicFile) (temporary sibling, fsync,
//! rename, fsync of the directory) at open and before the first write of a
//! (version, codec) it does not list yet, so it is durable before any
//! record it describes is even written.
//!
//! A store without a description (written by older code or the raw API)
//! is described at its first typed open only when its records are
//! consistent with the handle: every record of a log is a `Raw` record,
//! every record of a key/value store a `Put` or `Delete` whose key decodes
//! as the key type, and every payload a typed envelope of the handle's
//! type at a version no newer than its own (one pass over the log's
//! envelopes, at that open only). Otherwise it stays undescribed and the
//! handle works exactly as before descriptions existed.

use std::collections::BTreeSet;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use datawal_core::{AtomicFile, RecordLog, RecordType};

use crate::describe::{
    Description, KeyDescription, StoreKind, TypeDescription, VersionDescription, FILE_NAME, FORMAT,
};
use crate::envelope::Header;
use crate::error::{Error, Result};
use crate::payload::fingerprint_of;
use crate::{Codec, Record};

/// What a handle being opened is.
#[derive(Clone)]
pub(crate) struct Asked {
    kind: StoreKind,
    /// The key type of a key/value handle.
    key: Option<KeyDescription>,
    /// The handle's type, its one version without a schema (traced only
    /// when the description lacks it: see [`trace`](Self::trace)).
    ty: TypeDescription,
    mixed: bool,
    trace: fn() -> std::result::Result<crate::describe::Schema, String>,
}

impl Asked {
    pub(crate) fn of<T: Record>(kind: StoreKind, key: Option<KeyDescription>, mixed: bool) -> Self {
        Asked {
            kind,
            key,
            mixed,
            trace: crate::describe::trace::<T>,
            ty: TypeDescription {
                name: T::NAME.to_string(),
                fingerprint: fingerprint_of::<T>(),
                key: KeyDescription::of_key::<T::Key>(),
                versions: vec![VersionDescription {
                    version: T::VERSION,
                    rust_type: std::any::type_name::<T>().to_string(),
                    codecs: Vec::new(),
                    schema: None,
                    no_schema: None,
                }],
            },
        }
    }

    fn version(&self) -> u16 {
        self.ty.versions[0].version
    }

    /// The handle's version with its schema, or why it has none (tracing
    /// costs about 0.1-0.3 ms: done only for a version the description
    /// lists without a schema, or not at all).
    fn traced(&self) -> VersionDescription {
        let mut v = self.ty.versions[0].clone();
        match (self.trace)() {
            Ok(schema) => v.schema = Some(schema),
            Err(why) => v.no_schema = Some(why),
        }
        v
    }

    fn text(&self) -> String {
        let one = type_text(&self.ty);
        match (self.kind, &self.key) {
            (StoreKind::KeyValue, Some(key)) => {
                format!("key/value state of {one} keyed by `{}`", key.rust_type)
            }
            _ => format!("a log of {one}"),
        }
    }
}

fn type_text(ty: &TypeDescription) -> String {
    match ty.versions.iter().rev().find(|v| !v.rust_type.is_empty()) {
        Some(v) => format!("`{}` ({})", ty.name, v.rust_type),
        None => format!("`{}`", ty.name),
    }
}

/// What `description` says the store holds, in words.
fn holds(description: &Description) -> String {
    let types: Vec<String> = description.types.iter().map(type_text).collect();
    let types = match types.len() {
        0 => "no record yet".to_string(),
        1 => types[0].clone(),
        _ => format!("several types ({})", types.join(", ")),
    };
    match (description.kind, &description.key) {
        (StoreKind::KeyValue, Some(key)) => {
            format!("key/value state of {types} keyed by `{}`", key.rust_type)
        }
        (StoreKind::KeyValue, None) => format!("key/value state of {types}"),
        (StoreKind::Log, _) => format!("a log of {types}"),
    }
}

/// The description kept by an open handle, to update before writes.
#[derive(Debug)]
pub(crate) struct Recorder {
    dir: PathBuf,
    description: Description,
    /// Where the handle's type and version are in `description`.
    ty: usize,
    version: usize,
    /// The codecs the description lists for them (bit = codec id).
    codecs: u8,
}

impl Recorder {
    /// Before a record is written with `codec`: list the codec in the
    /// description (durably) if it is not yet.
    ///
    /// # Errors
    /// [`Error::Core`] when the description cannot be written.
    pub(crate) fn before_write(&mut self, codec: Codec) -> Result<()> {
        let bit = 1u8 << codec.id();
        if self.codecs & bit != 0 {
            return Ok(());
        }
        let codecs = &mut self.description.types[self.ty].versions[self.version].codecs;
        codecs.push(codec.name().to_string());
        save(&self.dir, &self.description)?;
        self.codecs |= bit;
        Ok(())
    }
}

/// Write `description` into `dir`, atomically and durably.
pub(crate) fn save(dir: &Path, description: &Description) -> Result<()> {
    let mut text = serde_json::to_vec_pretty(description).map_err(|e| Error::Encode {
        name: "store description",
        codec: Codec::Json,
        message: e.to_string(),
    })?;
    text.push(b'\n');
    let mut file = AtomicFile::create(dir.join(FILE_NAME))?;
    file.write_all(&text).map_err(|source| Error::Io {
        op: "write",
        path: file.temp_path().to_path_buf(),
        source,
    })?;
    Ok(file.commit()?)
}

/// Copy the description of the store in `from` (if any) into `to`.
///
/// # Errors
/// As [`Description::load`] and [`save`].
pub(crate) fn copy(from: &Path, to: &Path) -> Result<()> {
    match Description::load(from)? {
        Some(description) => save(to, &description),
        None => Ok(()),
    }
}

/// Check the store in `dir` against `asked` and record it: the recorder of
/// the handle, or `None` for a store left undescribed (see the module
/// documentation). `log` is the store's core log, scanned only when the
/// store has no description.
///
/// # Errors
/// [`Error::Refused`] for a store of another kind, type or key;
/// [`Error::Description`] for a description that cannot be read;
/// [`Error::Core`] when the scan or the write fails.
pub(crate) fn open(dir: &Path, asked: Asked, log: &RecordLog) -> Result<Option<Recorder>> {
    let mut description = match Description::load(dir)? {
        Some(description) => {
            check(dir, &description, &asked)?;
            description
        }
        None => {
            let Some(seen) = undescribed(log, &asked)? else {
                return Ok(None);
            };
            let mut description = Description {
                format: FORMAT,
                kind: asked.kind,
                mixed: asked.mixed,
                key: asked.key.clone(),
                types: Vec::new(),
            };
            if !seen.is_empty() {
                let mut ty = asked.ty.clone();
                ty.versions = seen_versions(&seen);
                description.types.push(ty);
            }
            description
        }
    };
    let before = description.clone();
    description.mixed |= asked.mixed;
    let ty = match description
        .types
        .iter()
        .position(|t| t.name == asked.ty.name)
    {
        Some(i) => i,
        None => {
            let mut ty = asked.ty.clone();
            ty.versions.clear();
            description.types.push(ty);
            description.types.len() - 1
        }
    };
    let versions = &mut description.types[ty].versions;
    let version = match versions.iter().position(|v| v.version == asked.version()) {
        Some(i) => {
            let v = &mut versions[i];
            if v.rust_type.is_empty() || v.schema.is_none() {
                let mine = asked.traced();
                v.rust_type = mine.rust_type;
                v.schema = mine.schema;
                v.no_schema = mine.no_schema;
            }
            i
        }
        None => {
            versions.push(asked.traced());
            versions.sort_by_key(|v| v.version);
            versions
                .iter()
                .position(|v| v.version == asked.version())
                .unwrap_or(0)
        }
    };
    let codecs = description.types[ty].versions[version]
        .codecs
        .iter()
        .filter_map(|name| Codec::ALL.into_iter().find(|c| c.name() == name))
        .fold(0u8, |bits, c| bits | 1 << c.id());
    if description != before || !dir.join(FILE_NAME).exists() {
        save(dir, &description)?;
    }
    Ok(Some(Recorder {
        dir: dir.to_path_buf(),
        description,
        ty,
        version,
        codecs,
    }))
}

/// Refuse a read-only handle ([`crate::TypedReader`],
/// [`crate::TypedFollower`]) of `asked` on a store whose description says
/// it holds something else: another kind or key, a type whose fingerprint
/// collides with the handle's, or records of other types only. Reads the
/// description and writes nothing; a store without one is read as before.
///
/// # Errors
/// [`Error::Refused`]; [`Error::Description`] for a description that
/// cannot be read.
pub(crate) fn check_reader(dir: &Path, asked: &Asked) -> Result<()> {
    let Some(description) = Description::load(dir)? else {
        return Ok(());
    };
    // A reader meets other types as its read policy says: several types
    // are no reason to refuse it, holding none of its own is.
    let reader = Asked {
        mixed: true,
        ..asked.clone()
    };
    check(dir, &description, &reader)?;
    let mine = description.types.iter().any(|t| t.name == asked.ty.name);
    if !mine && !description.types.is_empty() {
        return Err(Error::Refused {
            dir: dir.to_path_buf(),
            holds: holds(&description),
            asked: asked.text(),
        });
    }
    Ok(())
}

/// Refuse `asked` on a store described by `description`.
fn check(dir: &Path, description: &Description, asked: &Asked) -> Result<()> {
    let refuse = |asked: String| {
        Err(Error::Refused {
            dir: dir.to_path_buf(),
            holds: holds(description),
            asked,
        })
    };
    if description.kind != asked.kind {
        return refuse(asked.text());
    }
    if let (Some(held), Some(mine)) = (&description.key, &asked.key) {
        if !held.same_as(mine) {
            return refuse(asked.text());
        }
    }
    for other in description.types.iter().filter(|t| t.name != asked.ty.name) {
        if other.fingerprint == asked.ty.fingerprint {
            return refuse(format!(
                "{}, whose type fingerprint {:#010x} is also `{}`'s",
                asked.text(),
                asked.ty.fingerprint,
                other.name
            ));
        }
        if !asked.mixed {
            return refuse(format!(
                "{} alone (open with `Options::mixed_types()` to hold several types)",
                asked.text()
            ));
        }
    }
    Ok(())
}

/// The (version, codec) pairs of a store without a description, when every
/// record is consistent with `asked`; `None` otherwise.
fn undescribed(log: &RecordLog, asked: &Asked) -> Result<Option<BTreeSet<(u16, u8)>>> {
    let mut seen = BTreeSet::new();
    let key = asked.key.as_ref();
    let flow = log.cursor()?.try_for_each_view(|view| {
        let kind_ok = match asked.kind {
            StoreKind::Log => view.record_type == RecordType::Raw,
            StoreKind::KeyValue => {
                matches!(view.record_type, RecordType::Put | RecordType::Delete)
                    && key.is_none_or(|k| {
                        k.shape == crate::describe::KeyShape::Opaque || k.to_text(view.key).is_ok()
                    })
            }
        };
        if !kind_ok {
            return ControlFlow::Break(());
        }
        if view.record_type == RecordType::Delete {
            return ControlFlow::Continue(());
        }
        match Header::parse(view.payload) {
            Ok((h, _)) if h.fingerprint == asked.ty.fingerprint && h.version <= asked.version() => {
                seen.insert((h.version, h.codec.id()));
                ControlFlow::Continue(())
            }
            _ => ControlFlow::Break(()),
        }
    })?;
    Ok(match flow {
        ControlFlow::Continue(()) => Some(seen),
        ControlFlow::Break(()) => None,
    })
}

/// The versions a scan saw, without Rust types or schemas (their code is
/// not the handle's), with the codecs each was written with.
fn seen_versions(seen: &BTreeSet<(u16, u8)>) -> Vec<VersionDescription> {
    let mut out: Vec<VersionDescription> = Vec::new();
    for &(version, codec) in seen {
        let name = Codec::from_id(codec).map_or("unknown", Codec::name);
        match out.last_mut() {
            Some(v) if v.version == version => v.codecs.push(name.to_string()),
            _ => out.push(VersionDescription {
                version,
                rust_type: String::new(),
                codecs: vec![name.to_string()],
                schema: None,
                no_schema: Some("written before the store had a description".into()),
            }),
        }
    }
    out
}
