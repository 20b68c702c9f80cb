//! One ingest run: read the files, plan the version's document set, then chunk, embed and
//! index it (the stages of [`crate::stages`]) into a new version that goes live only when
//! it is complete.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use genops_index::AnnConfig;
use genops_models::{Models, Task};
use genops_runtime::{Kind, Plugin};
use genops_store::{ChunkerIdentity, EmbedderIdentity, NewVersion, Store, VersionDocument};
use serde::Serialize;
use serde_json::{json, Value};

use crate::lock::{lock_index, recover_crashed};
use crate::read::{JsonlFields, Skipped, SourceDoc};
use crate::sources::file_of;
use crate::stages::chunk::{ChunkStage, PlannedDoc};
use crate::stages::embed::{EmbedStage, Embedder, ModelEmbedder};
use crate::stages::index::IndexStage;
use crate::stages::read::{read_files, ReadFiles};
use crate::{Error, IngestLimits, Progress, SourceFile};

/// What one ingest run does.
pub struct IngestOptions {
    /// The index to add a version to (created when new).
    pub index: String,
    /// The files to read, as [`crate::expand`] found them.
    pub files: Vec<SourceFile>,
    /// The chunker plugin.
    pub chunker: Plugin,
    /// Config keys set for the chunker, over its manifest's defaults.
    pub chunker_config: BTreeMap<String, String>,
    /// The embedding model; `None` builds a text-only (BM25) version.
    pub model: Option<String>,
    /// Drop documents of the live version whose files no longer exist (a file that exists
    /// but was not named in this run keeps its documents).
    pub prune: bool,
    /// How JSON Lines records map to documents.
    pub jsonl: JsonlFields,
    /// Build the approximate nearest-neighbour graph over the vectors...
    pub ann: Option<AnnConfig>,
    /// ...when the version has at least this many chunks (below, an exact scan is fast).
    pub ann_min_rows: usize,
    /// What one file and one document may cost (`[ingest]` in genops.toml).
    pub limits: IngestLimits,
}

/// What an ingest run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestReport {
    /// The index.
    pub index: String,
    /// The new live version, or `None` when nothing changed.
    pub version: Option<u32>,
    /// The version it was derived from.
    pub parent: Option<u32>,
    /// Documents in the version.
    pub documents: u64,
    /// Chunks in the version.
    pub chunks: u64,
    /// Documents added, changed, removed and unchanged against the parent.
    pub added: u64,
    /// See `added`.
    pub changed: u64,
    /// See `added`.
    pub removed: u64,
    /// See `added`.
    pub unchanged: u64,
    /// Documents chunked in this run (the rest reused the store's chunks).
    pub chunked_documents: u64,
    /// Chunks embedded in this run (the rest reused the store's vectors).
    pub embedded_chunks: u64,
    /// Files and lines skipped, with the reason.
    pub skipped: Vec<SkippedEntry>,
    /// Wall time of the whole run, and of its stages.
    pub seconds: f64,
    /// Time spent chunking.
    pub chunk_seconds: f64,
    /// Time spent embedding.
    pub embed_seconds: f64,
    /// Time spent writing the index version.
    pub index_seconds: f64,
}

/// A file or line that was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedEntry {
    /// The file, with the line for JSONL records.
    pub source: String,
    /// Why, and what to do.
    pub reason: String,
}

impl From<Skipped> for SkippedEntry {
    fn from(s: Skipped) -> Self {
        Self {
            source: s.source,
            reason: s.reason,
        }
    }
}

/// The content hash of a document: what it says and what is known about it, so a change
/// of either makes it a changed document.
pub fn document_hash(doc: &SourceDoc) -> String {
    let metadata: Value = doc
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let mut bytes = Vec::with_capacity(doc.text.len() + 64);
    bytes.extend_from_slice(doc.media_type.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(genops_store::canonical_json(&metadata).as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(doc.text.as_bytes());
    genops_store::sha256_hex(&bytes)
}

/// Whether a document of the live version is still on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Presence {
    /// Its file exists (or was found but could not be read), and still holds it.
    Here,
    /// Its file was re-read and no longer holds it, or its file is gone.
    Gone,
    /// Its file is gone with the whole folder it was found under: missing, not deleted.
    RootMissing(PathBuf),
}

/// The file a document of a version was read from: as recorded, or (for documents
/// recorded before genops kept it) its name taken from `base`.
fn recorded_file(d: &VersionDocument, base: &Path) -> PathBuf {
    match &d.file {
        Some(f) => PathBuf::from(f),
        None => {
            let p = base.join(file_of(&d.path));
            std::fs::canonicalize(&p).unwrap_or(p)
        }
    }
}

/// Where a document of the live version stands against this run's reading. `on_disk` is
/// the sources read in this run.
pub(crate) fn presence(
    d: &VersionDocument,
    base: &Path,
    read: &ReadFiles,
    on_disk: &BTreeSet<&str>,
) -> Presence {
    let file = recorded_file(d, base);
    if read.read.contains(&file) {
        return if on_disk.contains(d.path.as_str()) {
            Presence::Here
        } else {
            Presence::Gone
        };
    }
    if read.found.contains(&file) || file.exists() {
        return Presence::Here;
    }
    match &d.root {
        Some(root) if !Path::new(root).exists() => Presence::RootMissing(PathBuf::from(root)),
        _ => Presence::Gone,
    }
}

/// The document set of the new version: the parent's, with every file read in this run
/// replaced by what it holds now, and (with `prune`) the documents whose files are gone
/// dropped. Refuses to prune documents whose whole root folder is missing. Relative names
/// of documents recorded without their file are taken from `base`.
pub(crate) fn plan_documents(
    previous: &[VersionDocument],
    read: ReadFiles,
    prune: bool,
    base: &Path,
) -> Result<BTreeMap<String, PlannedDoc>, Error> {
    let on_disk: BTreeSet<&str> = read.docs.iter().map(|d| d.doc.source.as_str()).collect();
    let mut set = BTreeMap::new();
    let mut missing_roots: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for d in previous {
        if read.read.contains(&recorded_file(d, base)) {
            // Replaced by what the file holds now.
            continue;
        }
        let keep = match presence(d, base, &read, &on_disk) {
            Presence::Here => true,
            Presence::Gone => !prune,
            Presence::RootMissing(root) => {
                *missing_roots.entry(root).or_default() += 1;
                true
            }
        };
        if keep {
            set.insert(
                d.path.clone(),
                PlannedDoc {
                    hash: d.document_hash.clone(),
                    metadata: metadata_map(&d.metadata),
                    media_type: String::new(),
                    text: None,
                    file: d.file.clone(),
                    root: d.root.clone(),
                },
            );
        }
    }
    if prune {
        if let Some((root, documents)) = missing_roots.into_iter().next() {
            return Err(Error::SourceRootMissing { root, documents });
        }
    }
    for r in read.docs {
        let hash = document_hash(&r.doc);
        set.insert(
            r.doc.source,
            PlannedDoc {
                hash,
                metadata: r.doc.metadata,
                media_type: r.doc.media_type,
                text: Some(r.doc.text),
                file: Some(r.file.display().to_string()),
                root: Some(r.root.display().to_string()),
            },
        );
    }
    Ok(set)
}

pub(crate) fn metadata_map(value: &Value) -> BTreeMap<String, String> {
    value
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Runs one ingest.
pub async fn ingest(
    store: &Store,
    data_dir: &Path,
    models: &Models,
    options: IngestOptions,
    progress: &mut dyn Progress,
) -> Result<IngestReport, Error> {
    let started = Instant::now();
    options.limits.validate()?;
    let plugin = &options.chunker;
    if plugin.kind() != Kind::Chunker {
        return Err(Error::NotAChunker(plugin.id().to_string()));
    }
    // Unknown keys are refused before any work, with the keys the plugin does read.
    plugin.check_config(&options.chunker_config)?;
    let mut session = plugin.session(&options.chunker_config);
    let embedder = match &options.model {
        None => None,
        Some(name) => {
            let model = models.load(name)?;
            if model.task != Task::Embedding {
                return Err(Error::NotAnEmbedder(name.clone()));
            }
            Some(model)
        }
    };

    store.ensure_index(&options.index).await?;
    let _lock = lock_index(data_dir, &options.index)?;
    recover_crashed(store, data_dir, &options.index).await?;
    let parent = store.live_version(&options.index).await?;

    // The effective config: the manifest's defaults overlaid with what was set, so the
    // chunking key changes whenever the chunker would behave differently.
    let mut config = plugin.manifest().config.clone();
    config.extend(options.chunker_config.clone());
    let chunker = ChunkerIdentity {
        digest: plugin.id().digest.clone(),
        config: json!(config),
    };
    let chunking_key = genops_store::chunking_key(&chunker.digest, &chunker.config);
    let embedder_identity = embedder.as_ref().map(|m| EmbedderIdentity {
        model: m.name.clone(),
        sha256: m.sha256.clone(),
        settings: json!({"max_length": m.max_length}),
    });
    let embedder_key = embedder_identity
        .as_ref()
        .map(|e| genops_store::embedder_key(&e.sha256, &e.settings));

    let read = read_files(&options.files, &options.jsonl, &options.limits, progress);
    let mut report = IngestReport {
        index: options.index.clone(),
        parent: parent.as_ref().map(|p| p.number),
        skipped: read
            .skipped
            .iter()
            .cloned()
            .map(SkippedEntry::from)
            .collect(),
        ..IngestReport::default()
    };
    let previous: Vec<VersionDocument> = match &parent {
        Some(p) => store.version_documents(p.id).await?,
        None => Vec::new(),
    };
    // Files are absolute already; only documents recorded before files were kept have
    // relative names, which meant the working directory then too.
    let base = std::env::current_dir().unwrap_or_default();
    let set = plan_documents(&previous, read, options.prune, &base)?;
    if set.is_empty() {
        let names: Vec<&str> = options.files.iter().map(|f| f.name.as_str()).collect();
        return Err(Error::NothingFound(names.join(" ")));
    }

    if let Some(p) = &parent {
        let same_set = previous.len() == set.len()
            && previous
                .iter()
                .all(|d| set.get(&d.path).is_some_and(|e| e.hash == d.document_hash));
        if same_set && p.chunking_key == chunking_key && p.embedder_key == embedder_key {
            report.documents = p.counts.documents;
            report.chunks = p.counts.chunks;
            report.unchanged = p.counts.documents;
            report.seconds = started.elapsed().as_secs_f64();
            return Ok(report);
        }
    }

    let version = store
        .begin_version(
            &options.index,
            &NewVersion {
                parent: parent.as_ref().map(|p| p.number),
                chunker,
                embedder: embedder_identity.clone(),
            },
        )
        .await?;
    let mut model_embedder = embedder
        .as_ref()
        .zip(embedder_key.as_deref())
        .map(|(m, key)| ModelEmbedder {
            models,
            model: &m.name,
            key,
        });
    let build = Build {
        store,
        data_dir,
        version: &version,
        session: &mut session,
        plugin: plugin.id().to_string(),
        chunking_key: &chunking_key,
        embedder: model_embedder.as_mut().map(|e| e as &mut dyn Embedder),
        ann: options.ann.as_ref(),
        ann_min_rows: options.ann_min_rows,
        limits: &options.limits,
    };
    match build.run(set, &mut report, progress).await {
        Ok(stats) => {
            let finished = store.finish_version(version.id, &stats).await?;
            report.version = Some(finished.number);
            report.documents = finished.counts.documents;
            report.chunks = finished.counts.chunks;
            report.added = finished.counts.added;
            report.changed = finished.counts.changed;
            report.removed = finished.counts.removed;
            report.unchanged = finished.counts.unchanged;
            report.seconds = started.elapsed().as_secs_f64();
            Ok(report)
        }
        Err(e) => {
            // The live version stays as it was; the failed one is kept for `index show`.
            let _ = store.fail_version(version.id, &e.to_string()).await;
            Err(e)
        }
    }
}

/// Everything the stages of one version need.
struct Build<'a> {
    store: &'a Store,
    data_dir: &'a Path,
    version: &'a genops_store::Version,
    session: &'a mut genops_runtime::Session,
    plugin: String,
    chunking_key: &'a str,
    embedder: Option<&'a mut dyn Embedder>,
    ann: Option<&'a AnnConfig>,
    ann_min_rows: usize,
    limits: &'a IngestLimits,
}

impl Build<'_> {
    /// Chunks, embeds and indexes `set` into the version, and records its documents and
    /// rows in the store. Returns the statistics to finish the version with.
    async fn run(
        self,
        set: BTreeMap<String, PlannedDoc>,
        report: &mut IngestReport,
        progress: &mut dyn Progress,
    ) -> Result<Value, Error> {
        let started = Instant::now();
        let chunked = ChunkStage {
            store: self.store,
            session: self.session,
            plugin: self.plugin.clone(),
            chunking_key: self.chunking_key,
            limits: self.limits,
            version_id: self.version.id,
        }
        .run(&set, progress)
        .await?;
        drop(set);
        report.chunked_documents = chunked.chunked_documents;
        report.chunk_seconds = started.elapsed().as_secs_f64();

        let started = Instant::now();
        let embedded = EmbedStage {
            store: self.store,
            version_id: self.version.id,
        }
        .run(chunked.docs, self.embedder, progress)
        .await?;
        report.embedded_chunks = embedded.embedded_chunks;
        report.embed_seconds = started.elapsed().as_secs_f64();

        let started = Instant::now();
        let indexed = IndexStage {
            dir: self.data_dir.join(&self.version.folder),
            dimensions: embedded.dimensions,
            ann: self.ann,
            ann_min_rows: self.ann_min_rows,
            extra: json!({
                "index": self.version.index,
                "version": self.version.number,
                "embedder": self.version.embedder.as_ref().map(|e| &e.model),
            }),
        }
        .write(embedded.chunks, progress)?;
        self.store
            .put_version_documents(self.version.id, &chunked.version_documents)
            .await?;
        self.store
            .append_version_chunks(self.version.id, &indexed.chunk_ids)
            .await?;
        report.index_seconds = started.elapsed().as_secs_f64();
        let meta = indexed.meta;
        Ok(json!({
            "rows": meta.rows,
            "dimensions": meta.dimensions,
            "ann": meta.ann,
            "fields": meta.fields,
            "chunked_documents": report.chunked_documents,
            "embedded_chunks": report.embedded_chunks,
            "skipped": report.skipped.len(),
            "seconds": {
                "chunk": report.chunk_seconds,
                "embed": report.embed_seconds,
                "index": report.index_seconds,
            },
        }))
    }
}
