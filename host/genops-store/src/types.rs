//! The records the store reads and writes.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::{Error, Result};

/// An extracted document, keyed by the sha256 of its source bytes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Document {
    /// sha256 of the source bytes, lowercase hex.
    pub hash: String,
    /// Media type of the source (`text/markdown`, `application/pdf`, ...).
    pub media_type: String,
    /// Size of the source in bytes.
    pub byte_size: u64,
    /// The extracted text that chunk offsets point into.
    pub text: String,
    /// When it was first stored, unix milliseconds.
    pub created_at: i64,
}

/// A document to store.
#[derive(Debug, Clone, Copy)]
pub struct NewDocument<'a> {
    /// sha256 of the source bytes, lowercase hex ([`crate::sha256_hex`]).
    pub hash: &'a str,
    /// Media type of the source.
    pub media_type: &'a str,
    /// Size of the source in bytes.
    pub byte_size: u64,
    /// The extracted text.
    pub text: &'a str,
}

/// A chunk of a document's text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chunk {
    /// Row id, never reused.
    pub id: i64,
    /// The document it was cut from.
    pub document_hash: String,
    /// The chunker identity that cut it ([`crate::chunking_key`]).
    pub chunking_key: String,
    /// Position among the document's chunks for this chunker, from 0.
    pub ordinal: u32,
    /// Start of the chunk in the document's text, UTF-8 bytes.
    pub start: u64,
    /// End (exclusive) of the chunk in the document's text, UTF-8 bytes.
    pub end: u64,
    /// The chunk's text (may differ from the span, for chunkers that add context).
    pub text: String,
    /// sha256 of `text`: the embedding cache key.
    pub text_sha256: String,
    /// The chunker's metadata for this chunk.
    pub metadata: Value,
}

/// A chunk to store; its ordinal is its position in the slice given to
/// [`crate::Store::put_chunks`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewChunk {
    /// Start in the document's text, UTF-8 bytes.
    pub start: u64,
    /// End (exclusive) in the document's text, UTF-8 bytes.
    pub end: u64,
    /// The chunk's text.
    pub text: String,
    /// The chunker's metadata (`Value::Null` or an object, usually).
    pub metadata: Value,
}

/// A named index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// When it was created, unix milliseconds.
    pub created_at: i64,
    /// The number of the version queries are served from, if one has been finished.
    pub live_version: Option<u32>,
}

/// Where a version is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionStatus {
    /// Being written; never live. A crashed ingest leaves its version here.
    Building,
    /// Complete; can be live.
    Ready,
    /// Abandoned; its files are garbage.
    Failed,
}

impl VersionStatus {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Building => "building",
            VersionStatus::Ready => "ready",
            VersionStatus::Failed => "failed",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "building" => Ok(VersionStatus::Building),
            "ready" => Ok(VersionStatus::Ready),
            "failed" => Ok(VersionStatus::Failed),
            other => Err(Error::Corrupt(format!("unknown version status `{other}`"))),
        }
    }
}

impl fmt::Display for VersionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The chunker a version was built with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkerIdentity {
    /// The plugin's digest (`sha256:...` of the component bytes).
    pub digest: String,
    /// Its effective configuration.
    pub config: Value,
}

/// The embedding model a version was built with.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmbedderIdentity {
    /// The model's name, for people.
    pub model: String,
    /// The sha256 of the model weights: its identity.
    pub sha256: String,
    /// The embedding settings (pooling, normalisation, prefix, ...).
    pub settings: Value,
}

/// What [`crate::Store::begin_version`] needs to know about a new version.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVersion {
    /// The version this one is derived from (usually the live one), for lineage; it must
    /// be a ready version of the same index.
    pub parent: Option<u32>,
    /// The chunker.
    pub chunker: ChunkerIdentity,
    /// The embedder, or `None` for a full-text-only index.
    pub embedder: Option<EmbedderIdentity>,
}

/// Counts of a version, computed by the store when the version is finished.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct VersionCounts {
    /// Documents (source paths) in the version.
    pub documents: u64,
    /// Chunk rows in the version.
    pub chunks: u64,
    /// Paths that the parent does not have (all of them without a parent).
    pub added: u64,
    /// Paths whose content hash differs from the parent's.
    pub changed: u64,
    /// Paths of the parent that this version does not have.
    pub removed: u64,
    /// Paths with the same content hash as in the parent.
    pub unchanged: u64,
}

/// A version of an index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Version {
    /// Row id, never reused; the handle for the calls that build the version.
    pub id: i64,
    /// The index it belongs to.
    pub index: String,
    /// Its number in the index: 1, 2, 3, ...; never reused.
    pub number: u32,
    /// The version it was derived from; the parent may since have been deleted.
    pub parent: Option<u32>,
    /// Where it is in its life.
    pub status: VersionStatus,
    /// Whether it is the index's live version.
    pub live: bool,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was begun, unix milliseconds.
    pub created_at: i64,
    /// Last sign of life of the process building it, unix milliseconds.
    pub heartbeat_at: i64,
    /// When it became ready or failed, unix milliseconds.
    pub finished_at: Option<i64>,
    /// Its chunker.
    pub chunker: ChunkerIdentity,
    /// [`crate::chunking_key`] of its chunker.
    pub chunking_key: String,
    /// Its embedder, if it has vectors.
    pub embedder: Option<EmbedderIdentity>,
    /// [`crate::embedder_key`] of its embedder.
    pub embedder_key: Option<String>,
    /// Its counts (zero until it is finished).
    pub counts: VersionCounts,
    /// Folder of its on-disk files, relative to the data directory.
    pub folder: String,
    /// Extra statistics given when it was finished.
    pub stats: Value,
}

/// A document of a version: a source path and what it held.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VersionDocument {
    /// The source path, as the reader named it.
    pub path: String,
    /// The content hash of the source at that path.
    pub document_hash: String,
    /// The reader's metadata (title, tags, ...).
    pub metadata: Value,
    /// The absolute, canonical path of the file it was read from (`None` for documents
    /// recorded before genops kept it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The absolute, canonical path of what was given to ingest that found the file: a
    /// folder, a pattern's fixed prefix, or a named file's folder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root: Option<String>,
}

/// How version `to` of an index differs from version `from` ([`crate::Store::diff`]), by
/// source path and content hash.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    /// Paths only in `to`, sorted.
    pub added: Vec<String>,
    /// Paths only in `from`, sorted.
    pub removed: Vec<String>,
    /// Paths in both whose content hash differs, sorted.
    pub changed: Vec<String>,
    /// How many paths are in both with the same content hash.
    pub unchanged: u64,
}

/// What [`crate::Store::gc_orphans`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OrphanCounts {
    /// Documents no version refers to.
    pub documents: u64,
    /// Chunks of chunkings no version uses.
    pub chunks: u64,
    /// Cached embeddings of texts no chunk has, or of embedders no version uses.
    pub embeddings: u64,
}

/// Converts a count or size read from the database.
pub(crate) fn to_u64(value: i64, what: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| Error::Corrupt(format!("negative {what} {value}")))
}

/// Converts a version number read from the database.
pub(crate) fn to_u32(value: i64, what: &str) -> Result<u32> {
    u32::try_from(value).map_err(|_| Error::Corrupt(format!("{what} {value} out of range")))
}

/// Converts a count or offset to store. Values past `i64::MAX` cannot come from real input.
pub(crate) fn to_i64(value: u64, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::Invalid {
        what: what.to_string(),
        reason: format!("{value} is too large"),
    })
}

/// Parses JSON read from the database.
pub(crate) fn parse_json(text: &str, what: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| Error::Corrupt(format!("{what} is not JSON: {e}")))
}
