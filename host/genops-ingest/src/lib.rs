//! Ingestion of genops: turns a team's files into versioned, reproducible index versions.
//!
//! An ingest run ([`ingest`]) reads `.txt`, `.md`, `.html` (visible text) and `.jsonl` (a
//! document per line) files, and builds a new version of an index from the live one:
//! every file read in the run replaces what it held before, files not given keep their
//! documents, and with `prune` the documents of files that no longer exist are dropped. Work is
//! content-addressed in the store (genops-store): a document chunked before by the same
//! chunker digest and config is not chunked again, and a chunk text embedded before by the
//! same model is not embedded again. A run that changes nothing makes no version.
//!
//! The new version's files (genops-index) are written into a folder of their own and the
//! store moves the index's live pointer to it in one transaction, after the folder is
//! complete: a process killed at any point leaves the live version as it was. The next run
//! marks the dead run's version failed and clears its partial folder.
//!
//! [`status`] tells what changed on disk since the live version (freshness) without
//! writing anything; [`live_locations`] gives the live versions to a search resolver.

mod error;
mod ingest;
pub mod read;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use genops_index::LiveLocation;
use genops_store::Store;
use serde::Serialize;

pub use error::Error;
pub use ingest::{document_hash, ingest, IngestOptions, IngestReport, SkippedEntry};
pub use read::{Format, JsonlFields};

/// A file to ingest, as [`expand`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The name its documents go by in the index: the path as given, or as found under a
    /// folder or by a pattern.
    pub name: String,
    /// Where to read it.
    pub path: PathBuf,
    /// How to read it.
    pub format: Format,
}

/// Where a long run reports how far it is. Stages are `reading`, `chunking`, `embedding`
/// and `indexing`.
pub trait Progress {
    /// A stage begins with `total` steps.
    fn stage(&mut self, name: &str, total: u64);
    /// `n` more steps are done.
    fn advance(&mut self, n: u64);
    /// The stage is over.
    fn finish_stage(&mut self);
}

/// Progress that goes nowhere, for tests and quiet runs.
pub struct Silent;

impl Progress for Silent {
    fn stage(&mut self, _: &str, _: u64) {}
    fn advance(&mut self, _: u64) {}
    fn finish_stage(&mut self) {}
}

/// The files named by `paths`, with the name each goes by in the index (the path as given,
/// or as found under a folder or by a pattern), sorted and without duplicates. Folders are
/// read recursively for the extensions genops ingests; a file named explicitly must have
/// one of them.
pub fn expand(paths: &[String]) -> Result<Vec<SourceFile>, Error> {
    let mut out: BTreeMap<String, (PathBuf, Format)> = BTreeMap::new();
    for given in paths {
        let path = Path::new(given);
        if given.contains(['*', '?', '[']) {
            let matches = glob::glob(given).map_err(|e| Error::BadPattern {
                pattern: given.clone(),
                message: e.to_string(),
            })?;
            let mut any = false;
            for m in matches.flatten() {
                if let Some(format) = m.is_file().then(|| Format::of(&m)).flatten() {
                    out.insert(m.display().to_string(), (m.clone(), format));
                    any = true;
                }
            }
            if !any {
                return Err(Error::NothingFound(given.clone()));
            }
        } else if path.is_dir() {
            let before = out.len();
            walk(path, &mut out);
            if out.len() == before {
                return Err(Error::NothingFound(given.clone()));
            }
        } else if path.is_file() {
            let format =
                Format::of(path).ok_or_else(|| Error::UnknownFormat(path.to_path_buf()))?;
            out.insert(given.clone(), (path.to_path_buf(), format));
        } else {
            return Err(Error::NoSuchPath(given.clone()));
        }
    }
    Ok(out
        .into_iter()
        .map(|(name, (path, format))| SourceFile { name, path, format })
        .collect())
}

fn walk(dir: &Path, out: &mut BTreeMap<String, (PathBuf, Format)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, out);
        } else if let Some(format) = Format::of(&path) {
            out.insert(path.display().to_string(), (path, format));
        }
    }
}

/// What changed on disk since an index's live version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The index.
    pub index: String,
    /// Its live version.
    pub version: Option<u32>,
    /// Documents on disk that the live version lacks.
    pub added: Vec<String>,
    /// Documents whose content changed.
    pub changed: Vec<String>,
    /// Documents of the live version that are gone: a record no longer in its re-read
    /// .jsonl file, or a document whose file no longer exists.
    pub removed: Vec<String>,
    /// Documents as indexed.
    pub unchanged: u64,
    /// Files that could not be read, with the reason.
    pub unreadable: Vec<SkippedEntry>,
}

impl Status {
    /// Whether the live version matches the disk.
    pub fn is_fresh(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

/// Compares the files under `paths` with the live version of `index`, writing nothing.
pub async fn status(
    store: &Store,
    index: &str,
    paths: &[String],
    jsonl: &JsonlFields,
) -> Result<Status, Error> {
    store.index(index).await?;
    let live = store.live_version(index).await?;
    let files = expand(paths)?;
    let read = ingest::read_files(&files, jsonl, &mut Silent);
    let indexed: BTreeMap<String, String> = match &live {
        Some(v) => store
            .version_documents(v.id)
            .await?
            .into_iter()
            .map(|d| (d.path, d.document_hash))
            .collect(),
        None => BTreeMap::new(),
    };
    let mut status = Status {
        index: index.to_string(),
        version: live.as_ref().map(|v| v.number),
        unreadable: read
            .skipped
            .iter()
            .cloned()
            .map(SkippedEntry::from)
            .collect(),
        ..Status::default()
    };
    let mut on_disk = std::collections::BTreeSet::new();
    for doc in &read.docs {
        on_disk.insert(doc.source.clone());
        match indexed.get(&doc.source) {
            None => status.added.push(doc.source.clone()),
            Some(hash) if *hash != document_hash(doc) => status.changed.push(doc.source.clone()),
            Some(_) => status.unchanged += 1,
        }
    }
    for path in indexed.keys() {
        if ingest::is_gone(path, &read, &on_disk) {
            status.removed.push(path.clone());
        }
    }
    Ok(status)
}

/// The live version of every index, for a search resolver
/// ([`genops_index::OpenOnUse`]).
pub async fn live_locations(
    store: &Store,
    data_dir: &Path,
) -> Result<BTreeMap<String, LiveLocation>, Error> {
    let mut out = BTreeMap::new();
    for index in store.list_indexes().await? {
        if let Some(v) = store.live_version(&index.name).await? {
            out.insert(
                index.name.clone(),
                LiveLocation {
                    version: v.number,
                    dir: data_dir.join(&v.folder),
                    embedder: v.embedder.map(|e| e.model),
                },
            );
        }
    }
    Ok(out)
}
