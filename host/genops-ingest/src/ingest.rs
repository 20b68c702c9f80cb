//! One ingest run: read the files, reuse what the store has, chunk and embed the rest, and
//! write a new index version that goes live only when it is complete.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use genops_index::{AnnConfig, NewRow, VersionBuilder};
use genops_models::{Models, Task};
use genops_runtime::{Document, Kind, Plugin};
use genops_store::{
    ChunkerIdentity, EmbedderIdentity, NewChunk, NewDocument, NewVersion, Store, VersionDocument,
};
use serde::Serialize;
use serde_json::{json, Value};

use crate::read::{read_source, JsonlFields, Skipped, SourceDoc};
use crate::{Error, Progress, SourceFile};

/// Texts embedded per call of the model: large enough to keep the batching queue full,
/// small enough that progress moves.
const EMBED_BATCH: usize = 256;

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

/// One document of the version being built.
struct Entry {
    hash: String,
    metadata: BTreeMap<String, String>,
    media_type: String,
    /// The text, when this run read it; documents carried over read theirs from the store
    /// only if they must be chunked again.
    text: Option<String>,
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

/// Reads the files of `paths`: the documents by source, the files that were read, the
/// files that were found, and what was skipped.
pub(crate) struct ReadFiles {
    pub(crate) docs: Vec<SourceDoc>,
    pub(crate) read: BTreeSet<String>,
    pub(crate) found: BTreeSet<String>,
    pub(crate) skipped: Vec<Skipped>,
}

pub(crate) fn read_files(
    files: &[SourceFile],
    jsonl: &JsonlFields,
    progress: &mut dyn Progress,
) -> ReadFiles {
    let mut out = ReadFiles {
        docs: Vec::new(),
        read: BTreeSet::new(),
        found: BTreeSet::new(),
        skipped: Vec::new(),
    };
    progress.stage("reading", files.len() as u64);
    for SourceFile {
        name: display,
        path,
        format,
    } in files
    {
        out.found.insert(display.clone());
        let result = std::fs::read(path)
            .map_err(|e| format!("cannot be read ({e}); check its permissions"))
            .and_then(|bytes| read_source(display, &bytes, *format, jsonl));
        match result {
            Ok((docs, skipped)) => {
                out.read.insert(display.clone());
                out.docs.extend(docs);
                out.skipped.extend(skipped);
            }
            Err(reason) => out.skipped.push(Skipped {
                source: display.clone(),
                reason,
            }),
        }
        progress.advance(1);
    }
    progress.finish_stage();
    out
}

/// Whether a document of the live version is gone from disk: its file was re-read and no
/// longer holds it (a .jsonl record), or its file does not exist any more. A file that
/// exists but was not named, or could not be read, keeps its documents.
pub(crate) fn is_gone(
    source: &str,
    read: &ReadFiles,
    on_disk: &std::collections::BTreeSet<String>,
) -> bool {
    let file = file_of(source);
    if read.read.contains(file) {
        return !on_disk.contains(source);
    }
    !read.found.contains(file) && !Path::new(file).exists()
}

/// The file a document came from (`a.jsonl#7` came from `a.jsonl`).
pub(crate) fn file_of(source: &str) -> &str {
    source.split_once('#').map_or(source, |(file, _)| file)
}

fn metadata_map(value: &Value) -> BTreeMap<String, String> {
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

fn metadata_value(map: &BTreeMap<String, String>) -> Value {
    map.iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect::<serde_json::Map<_, _>>()
        .into()
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

    let read = read_files(&options.files, &options.jsonl, progress);
    let mut report = IngestReport {
        index: options.index.clone(),
        parent: parent.as_ref().map(|p| p.number),
        skipped: read.skipped.into_iter().map(SkippedEntry::from).collect(),
        ..IngestReport::default()
    };

    // The document set: the parent's, with every file read in this run replaced by what
    // it holds now, and (with --prune) the files no longer found dropped.
    let previous: Vec<VersionDocument> = match &parent {
        Some(p) => store.version_documents(p.id).await?,
        None => Vec::new(),
    };
    let mut set: BTreeMap<String, Entry> = BTreeMap::new();
    for d in &previous {
        let file = file_of(&d.path);
        let replaced = read.read.contains(file);
        let pruned = options.prune && !read.found.contains(file) && !Path::new(file).exists();
        if !replaced && !pruned {
            set.insert(
                d.path.clone(),
                Entry {
                    hash: d.document_hash.clone(),
                    metadata: metadata_map(&d.metadata),
                    media_type: String::new(),
                    text: None,
                },
            );
        }
    }
    for doc in read.docs {
        let hash = document_hash(&doc);
        set.insert(
            doc.source.clone(),
            Entry {
                hash,
                metadata: doc.metadata,
                media_type: doc.media_type,
                text: Some(doc.text),
            },
        );
    }
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
    let built = build_version(
        store,
        data_dir,
        models,
        &version,
        set,
        &mut session,
        &chunking_key,
        embedder
            .as_ref()
            .map(|m| m.name.as_str())
            .zip(embedder_key.as_deref()),
        options.ann.as_ref(),
        options.ann_min_rows,
        &mut report,
        progress,
    )
    .await;
    match built {
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

/// Takes the index's ingest lock: one ingest per index at a time. The operating system
/// releases it when the process ends, however it ends, so holding it proves that no other
/// ingest of the index is alive.
fn lock_index(data_dir: &Path, index: &str) -> Result<std::fs::File, Error> {
    let dir = data_dir.join("indexes");
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
        action: "cannot create",
        path: dir.clone(),
        source: e,
    })?;
    let path = dir.join(format!("{index}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::Io {
            action: "cannot open",
            path: path.clone(),
            source: e,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Busy(index.to_string())),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::Io {
            action: "cannot lock",
            path,
            source: e,
        }),
    }
}

/// Marks versions of `index` left `building` by a process that died as failed, and removes
/// their half-written folders, so they are neither live nor in the way. Called with the
/// index's lock held, so every building version of the index belongs to a dead process.
async fn recover_crashed(store: &Store, data_dir: &Path, index: &str) -> Result<(), Error> {
    for v in store.stale_building_versions(Duration::ZERO).await? {
        if v.index == index {
            store
                .fail_version(v.id, "the ingest that built it stopped before it finished")
                .await?;
            tracing::warn!(
                index,
                version = v.number,
                "a crashed ingest left this version unfinished; marked failed"
            );
        }
    }
    genops_index::remove_partial_builds(&data_dir.join("indexes").join(index))?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn build_version(
    store: &Store,
    data_dir: &Path,
    models: &Models,
    version: &genops_store::Version,
    set: BTreeMap<String, Entry>,
    session: &mut genops_runtime::Session,
    chunking_key: &str,
    embedder: Option<(&str, &str)>,
    ann: Option<&AnnConfig>,
    ann_min_rows: usize,
    report: &mut IngestReport,
    progress: &mut dyn Progress,
) -> Result<Value, Error> {
    // Chunk: the store's chunks when this document was chunked this way before.
    progress.stage("chunking", set.len() as u64);
    let chunk_started = Instant::now();
    let mut rows: Vec<(
        String,
        String,
        BTreeMap<String, String>,
        genops_store::Chunk,
    )> = Vec::new();
    let mut version_documents = Vec::with_capacity(set.len());
    for (source, entry) in &set {
        if let Some(text) = &entry.text {
            store
                .put_document(NewDocument {
                    hash: &entry.hash,
                    media_type: &entry.media_type,
                    byte_size: text.len() as u64,
                    text,
                })
                .await?;
        }
        let chunks = match store.chunks_for(&entry.hash, chunking_key).await? {
            Some(chunks) => chunks,
            None => {
                let (text, media_type) = match &entry.text {
                    Some(t) => (t.clone(), entry.media_type.clone()),
                    None => {
                        let doc = store.document(&entry.hash).await?.ok_or_else(|| {
                            Error::Store(genops_store::Error::Corrupt(format!(
                                "document {} of {source} is missing from the store",
                                entry.hash
                            )))
                        })?;
                        (doc.text, doc.media_type)
                    }
                };
                let mut metadata: Vec<(String, String)> = entry
                    .metadata
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                metadata.push(("source".into(), source.clone()));
                let doc = Document {
                    id: entry.hash.clone(),
                    text,
                    media_type,
                    metadata,
                };
                let pieces = session.split(&doc).map_err(|error| Error::Chunker {
                    source_name: source.clone(),
                    error,
                })?;
                let new: Vec<NewChunk> = pieces
                    .iter()
                    .map(|c| NewChunk {
                        start: c.start as u64,
                        end: c.end as u64,
                        text: doc.text[c.start..c.end].to_string(),
                        metadata: c
                            .metadata
                            .iter()
                            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                            .collect::<serde_json::Map<_, _>>()
                            .into(),
                    })
                    .collect();
                report.chunked_documents += 1;
                store.put_chunks(&entry.hash, chunking_key, &new).await?
            }
        };
        for chunk in chunks {
            rows.push((
                source.clone(),
                entry.hash.clone(),
                entry.metadata.clone(),
                chunk,
            ));
        }
        version_documents.push(VersionDocument {
            path: source.clone(),
            document_hash: entry.hash.clone(),
            metadata: metadata_value(&entry.metadata),
        });
        store.touch_version(version.id).await?;
        progress.advance(1);
    }
    progress.finish_stage();
    report.chunk_seconds = chunk_started.elapsed().as_secs_f64();

    // Embed: only chunks the store has no vector for under this model and settings.
    let mut vectors: Vec<Option<Vec<f32>>> = vec![None; rows.len()];
    let embed_started = Instant::now();
    if let Some((model, key)) = embedder {
        let ids: Vec<i64> = rows.iter().map(|r| r.3.id).collect();
        let mut cached = store.embeddings(&ids, key).await?;
        let mut seen = std::collections::HashSet::new();
        let missing: Vec<usize> = (0..rows.len())
            .filter(|&i| !cached.contains_key(&ids[i]) && seen.insert(ids[i]))
            .collect();
        progress.stage("embedding", missing.len() as u64);
        for batch in missing.chunks(EMBED_BATCH) {
            let texts: Vec<&str> = batch.iter().map(|&i| rows[i].3.text.as_str()).collect();
            let embedded = models.embed(model, &texts)?;
            let pairs: Vec<(i64, Vec<f32>)> = batch
                .iter()
                .zip(embedded)
                .map(|(&i, e)| (ids[i], e.vector))
                .collect();
            store.put_embeddings(key, &pairs).await?;
            report.embedded_chunks += pairs.len() as u64;
            cached.extend(pairs);
            store.touch_version(version.id).await?;
            progress.advance(batch.len() as u64);
        }
        progress.finish_stage();
        for (i, id) in ids.iter().enumerate() {
            // Two sources with the same content share chunks, so a vector may serve twice.
            vectors[i] = cached.get(id).cloned();
        }
    }
    report.embed_seconds = embed_started.elapsed().as_secs_f64();

    // Index: a new folder, renamed into place when complete.
    let index_started = Instant::now();
    let dimensions = vectors.iter().flatten().next().map(|v| v.len() as u32);
    let dimensions = if embedder.is_some() {
        Some(dimensions.unwrap_or(0))
    } else {
        None
    };
    let dir = data_dir.join(&version.folder);
    progress.stage("indexing", rows.len() as u64);
    let mut builder = VersionBuilder::create(&dir, dimensions)?;
    let mut chunk_ids = Vec::with_capacity(rows.len());
    for ((source, hash, doc_metadata, chunk), vector) in rows.into_iter().zip(vectors) {
        let mut metadata = doc_metadata;
        metadata.extend(metadata_map(&chunk.metadata));
        chunk_ids.push(chunk.id);
        builder.add(NewRow {
            chunk_id: chunk.id.to_string(),
            source,
            document: hash,
            start: chunk.start,
            end: chunk.end,
            text: chunk.text,
            metadata,
            vector,
        })?;
        progress.advance(1);
    }
    store
        .put_version_documents(version.id, &version_documents)
        .await?;
    store.append_version_chunks(version.id, &chunk_ids).await?;
    let extra = json!({
        "index": version.index,
        "version": version.number,
        "embedder": embedder.map(|(m, _)| m),
    });
    let ann = ann.filter(|_| builder.len() as usize >= ann_min_rows.max(1));
    let meta = builder.finish(ann, extra)?;
    progress.finish_stage();
    report.index_seconds = index_started.elapsed().as_secs_f64();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_ingest_per_index_holds_the_lock() {
        let data = tempfile::tempdir().unwrap();
        let held = lock_index(data.path(), "docs").unwrap();
        let err = lock_index(data.path(), "docs").unwrap_err();
        assert!(matches!(err, Error::Busy(_)), "{err}");
        assert!(err.to_string().contains("another ingest of index `docs`"));
        // Another index is free, and the lock is free again once released.
        drop(lock_index(data.path(), "other").unwrap());
        drop(held);
        assert!(lock_index(data.path(), "docs").is_ok());
    }

    #[test]
    fn the_file_of_a_jsonl_record_is_the_part_before_the_hash() {
        assert_eq!(file_of("data/faq.jsonl#q1"), "data/faq.jsonl");
        assert_eq!(file_of("docs/a.md"), "docs/a.md");
    }
}
