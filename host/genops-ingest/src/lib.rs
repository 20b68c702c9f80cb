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
mod gc;
mod ingest;
mod limits;
mod lock;
pub mod read;
mod sources;
pub mod stages;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use genops_index::LiveLocation;
use genops_store::Store;
use serde::Serialize;

pub use error::Error;
pub use gc::{gc_index, GcDeleted, GcReport};
pub use ingest::{document_hash, ingest, IngestOptions, IngestReport, SkippedEntry};
pub use limits::IngestLimits;
pub use read::{Format, JsonlFields};
pub use sources::{expand_in, SourceFile};

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
/// read recursively for the extensions genops ingests (links to folders are not followed);
/// a file named explicitly must have one of them. Relative paths are taken from the working
/// directory; [`expand_in`] takes them from a folder given.
pub fn expand(paths: &[String]) -> Result<Vec<SourceFile>, Error> {
    expand_in(&working_dir()?, paths)
}

fn working_dir() -> Result<std::path::PathBuf, Error> {
    std::env::current_dir().map_err(|e| Error::Io {
        action: "cannot read",
        path: ".".into(),
        source: e,
    })
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
/// Relative paths are taken from the working directory; [`status_in`] takes them from a
/// folder given.
pub async fn status(
    store: &Store,
    index: &str,
    paths: &[String],
    jsonl: &JsonlFields,
) -> Result<Status, Error> {
    status_in(
        store,
        &working_dir()?,
        index,
        paths,
        jsonl,
        &IngestLimits::default(),
    )
    .await
}

/// [`status`] with relative paths taken from `base`, and files read within `limits`.
/// Documents are found by the file they were recorded from, so the answer is the same
/// from any folder; documents whose whole root folder is missing are reported unreadable,
/// not removed.
pub async fn status_in(
    store: &Store,
    base: &Path,
    index: &str,
    paths: &[String],
    jsonl: &JsonlFields,
    limits: &IngestLimits,
) -> Result<Status, Error> {
    store.index(index).await?;
    let live = store.live_version(index).await?;
    let files = expand_in(base, paths)?;
    let read = stages::read::read_files(&files, jsonl, limits, &mut Silent);
    let indexed = match &live {
        Some(v) => store.version_documents(v.id).await?,
        None => Vec::new(),
    };
    let hashes: BTreeMap<&str, &str> = indexed
        .iter()
        .map(|d| (d.path.as_str(), d.document_hash.as_str()))
        .collect();
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
    let on_disk: BTreeSet<&str> = read.docs.iter().map(|d| d.doc.source.as_str()).collect();
    for r in &read.docs {
        let source = &r.doc.source;
        match hashes.get(source.as_str()) {
            None => status.added.push(source.clone()),
            Some(hash) if *hash != document_hash(&r.doc) => status.changed.push(source.clone()),
            Some(_) => status.unchanged += 1,
        }
    }
    let mut missing_roots = BTreeSet::new();
    for d in &indexed {
        match ingest::presence(d, base, &read, &on_disk) {
            ingest::Presence::Here => {}
            ingest::Presence::Gone => status.removed.push(d.path.clone()),
            ingest::Presence::RootMissing(root) => {
                if missing_roots.insert(root.clone()) {
                    status.unreadable.push(SkippedEntry {
                        source: root.display().to_string(),
                        reason: "is missing, with documents of the live version read from it; mount or restore it".into(),
                    });
                }
            }
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
