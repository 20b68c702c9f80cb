//! The seam between callers and a database backend: [`Store`], the URL that picks the
//! backend, and the argument checks every backend shares.
//!
//! `Store` holds a private [`Backend`] enum with one variant per database this build has
//! (today only SQLite) and forwards each call with a `match` (the `dispatch!` macro). A
//! new backend is a new variant: the compiler then points at every `match` it must fill,
//! which is the list of operations the backend must implement. Checks that need no
//! database (hash formats, index names, chunk spans, vector lengths) run here, before the
//! call reaches a backend, so that every backend refuses the same input with the same
//! error.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::keys::{check_sha256, validate_index_name};
use crate::sqlite::SqliteStore;
use crate::types::to_i64;
use crate::{
    Chunk, Diff, Document, Error, Index, NewChunk, NewDocument, NewVersion, OrphanCounts, Result,
    Version, VersionDocument, VersionStatus,
};

/// The file name of the database in the data directory.
pub const DATABASE_FILE: &str = "genops.db";

/// How the store opens its database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How long a write waits for another process's write lock before failing with
    /// [`Error::Busy`].
    pub busy_timeout: Duration,
    /// Connections in the pool. SQLite has one writer at a time; more connections let
    /// readers run beside it (WAL).
    pub max_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            busy_timeout: Duration::from_secs(10),
            max_connections: 4,
        }
    }
}

/// The metadata store: a handle on the database, cheap to clone and to share between
/// tasks.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
}

/// The databases this build can run on. Private, so that adding one is not a breaking
/// change for callers.
#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqliteStore),
}

/// Forwards a call to the backend's method of the same name and awaits it.
macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* $(,)? )) => {
        match &$self.backend {
            Backend::Sqlite(backend) => backend.$method($($arg),*).await,
        }
    };
}

impl Store {
    /// Opens (creating if missing) the database at `<data_dir>/genops.db`.
    pub async fn open_in(data_dir: &Path) -> Result<Store> {
        Store::open(&data_dir.join(DATABASE_FILE)).await
    }

    /// Opens (creating if missing) the database file at `path` and brings its schema up to
    /// date, with the default options.
    pub async fn open(path: &Path) -> Result<Store> {
        Store::open_with(path, &StoreOptions::default()).await
    }

    /// Opens (creating if missing) the SQLite database file at `path` and brings its schema
    /// up to date.
    ///
    /// Every connection runs in WAL mode (readers never wait for the writer), with foreign
    /// keys enforced and `synchronous = NORMAL`; see the crate documentation for why NORMAL
    /// and which commits are made FULL. [`Store::connect`] opens a database by URL instead.
    pub async fn open_with(path: &Path, options: &StoreOptions) -> Result<Store> {
        let backend = SqliteStore::open(path, options).await?;
        Ok(Store {
            backend: Backend::Sqlite(backend),
        })
    }

    /// Opens the database a URL names, the backend chosen by its scheme:
    ///
    /// - `sqlite://<path>` or `sqlite:<path>`: a SQLite file, as [`Store::open_with`]
    ///   (`sqlite:///abs/genops.db` for an absolute path);
    /// - `sqlite::memory:`: a fresh database in memory, as [`Store::open_in_memory`];
    /// - `postgres://...` or `postgresql://...`: refused with [`Error::UnsupportedBackend`],
    ///   as this build has no PostgreSQL backend yet;
    /// - anything without a `scheme://`: a SQLite file path.
    ///
    /// Errors never repeat the URL, which may hold a password.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Store> {
        if let Some(rest) = url.strip_prefix("sqlite:") {
            if rest == ":memory:" {
                return Store::open_in_memory().await;
            }
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(Error::Invalid {
                    what: "store URL".into(),
                    reason: "the `sqlite:` URL names no file; give one, as in `sqlite://genops.db`"
                        .into(),
                });
            }
            return Store::open_with(Path::new(path), options).await;
        }
        let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some(scheme @ ("postgres" | "postgresql")) => Err(Error::UnsupportedBackend {
                scheme: scheme.to_string(),
                backend: "PostgreSQL",
            }),
            Some(scheme) => Err(Error::Invalid {
                what: "store URL".into(),
                reason: format!(
                    "unknown scheme `{scheme}`; use a SQLite file path or a `sqlite://` URL"
                ),
            }),
            None => Store::open_with(Path::new(url), options).await,
        }
    }

    /// A fresh database in memory, for tests. It lives as long as the store.
    pub async fn open_in_memory() -> Result<Store> {
        let backend = SqliteStore::open_in_memory().await?;
        Ok(Store {
            backend: Backend::Sqlite(backend),
        })
    }

    /// The database file, or `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Sqlite(backend) => backend.path(),
        }
    }

    /// Closes every connection (for SQLite, checkpointing the WAL into the database file).
    /// Calls made after this fail.
    pub async fn close(&self) {
        dispatch!(self.close())
    }

    /// The newest schema version this build knows. Every backend numbers its migrations
    /// alike, so that one number names one schema.
    pub fn schema_version() -> i64 {
        SqliteStore::schema_version()
    }

    /// The backend's own handle, for the tests that look under the seam.
    #[cfg(test)]
    pub(crate) fn sqlite(&self) -> &SqliteStore {
        match &self.backend {
            Backend::Sqlite(backend) => backend,
        }
    }

    // Documents, chunks and the embedding cache.

    /// Stores a document unless one with the same hash is stored; returns whether it was
    /// inserted.
    ///
    /// The hash names the source bytes, so a stored document is never replaced: the first
    /// extraction of a content is the one its chunks point into.
    pub async fn put_document(&self, document: NewDocument<'_>) -> Result<bool> {
        check_sha256("document hash", document.hash)?;
        to_i64(document.byte_size, "document byte size")?;
        dispatch!(self.put_document(document))
    }

    /// The document with this hash, if stored.
    pub async fn document(&self, hash: &str) -> Result<Option<Document>> {
        check_sha256("document hash", hash)?;
        dispatch!(self.document(hash))
    }

    /// The chunks of a document for a chunker identity in ordinal order, or `None` if the
    /// document was never chunked with it. `Some(vec![])` is a document that gave no
    /// chunks.
    pub async fn chunks_for(
        &self,
        document_hash: &str,
        chunking_key: &str,
    ) -> Result<Option<Vec<Chunk>>> {
        check_sha256("document hash", document_hash)?;
        check_sha256("chunking key", chunking_key)?;
        dispatch!(self.chunks_for(document_hash, chunking_key))
    }

    /// Stores the chunks of a document for a chunker identity, in one transaction; the
    /// ordinal of each chunk is its position in `chunks`. Returns the stored chunks.
    ///
    /// If the document was already chunked with this identity (by another process in the
    /// meantime, say), nothing is written and the chunks already stored are returned: the
    /// first writer wins, so every version sees one set of chunks per document and chunker.
    pub async fn put_chunks(
        &self,
        document_hash: &str,
        chunking_key: &str,
        chunks: &[NewChunk],
    ) -> Result<Vec<Chunk>> {
        check_sha256("document hash", document_hash)?;
        check_sha256("chunking key", chunking_key)?;
        for (ordinal, chunk) in chunks.iter().enumerate() {
            if chunk.start > chunk.end {
                return Err(Error::Invalid {
                    what: format!("chunk {ordinal} of document {document_hash}"),
                    reason: format!("it starts at {} after its end {}", chunk.start, chunk.end),
                });
            }
            to_i64(chunk.end, "chunk end")?;
        }
        dispatch!(self.put_chunks(document_hash, chunking_key, chunks))
    }

    /// Cached vectors of these chunks for an embedder identity ([`crate::embedder_key`]),
    /// by chunk id; chunks without a cached vector are absent.
    ///
    /// The cache is keyed by the chunk's text, so a chunk whose text was embedded before
    /// under another document or chunker is a hit too.
    pub async fn embeddings(
        &self,
        chunk_ids: &[i64],
        embedder_key: &str,
    ) -> Result<HashMap<i64, Vec<f32>>> {
        check_sha256("embedder key", embedder_key)?;
        dispatch!(self.embeddings(chunk_ids, embedder_key))
    }

    /// Caches vectors of chunks for an embedder identity, in one transaction. A text that
    /// already has a vector for this embedder keeps it.
    ///
    /// All vectors of one embedder have one dimension; a vector of another length is
    /// refused, as is an unknown chunk id.
    pub async fn put_embeddings<V: AsRef<[f32]>>(
        &self,
        embedder_key: &str,
        vectors: &[(i64, V)],
    ) -> Result<()> {
        check_sha256("embedder key", embedder_key)?;
        let Some((_, first)) = vectors.first() else {
            return Ok(());
        };
        let dimensions = first.as_ref().len();
        if dimensions == 0 {
            return Err(Error::Invalid {
                what: "embedding".into(),
                reason: "the vector is empty".into(),
            });
        }
        if let Some((id, v)) = vectors.iter().find(|(_, v)| v.as_ref().len() != dimensions) {
            return Err(Error::Invalid {
                what: format!("embedding of chunk {id}"),
                reason: format!(
                    "it has {} dimensions where the others have {dimensions}",
                    v.as_ref().len()
                ),
            });
        }
        dispatch!(self.put_embeddings(embedder_key, vectors))
    }

    // Indexes and the life of their versions.

    /// Creates an empty index; fails if the name is invalid or taken.
    pub async fn create_index(&self, name: &str) -> Result<Index> {
        validate_index_name(name)?;
        dispatch!(self.create_index(name))
    }

    /// The index with this name, created empty if there is none.
    pub async fn ensure_index(&self, name: &str) -> Result<Index> {
        validate_index_name(name)?;
        dispatch!(self.ensure_index(name))
    }

    /// Begins a new version of an index, numbered after every version the index ever had,
    /// with status `building`. It is not live until [`Store::finish_version`].
    ///
    /// Begin the version before storing the documents and chunks it will refer to:
    /// [`Store::gc_orphans`] refuses to run while a version is building, and would otherwise
    /// be free to collect them in between.
    pub async fn begin_version(&self, index: &str, new: &NewVersion) -> Result<Version> {
        if new.chunker.digest.is_empty() {
            return Err(Error::Invalid {
                what: "chunker identity".into(),
                reason: "the plugin digest is empty".into(),
            });
        }
        if let Some(embedder) = &new.embedder {
            if embedder.sha256.is_empty() || embedder.model.is_empty() {
                return Err(Error::Invalid {
                    what: "embedder identity".into(),
                    reason: "the model name or its sha256 is empty".into(),
                });
            }
        }
        dispatch!(self.begin_version(index, new))
    }

    /// Records a sign of life of the process building a version, so that
    /// [`Store::stale_building_versions`] does not take it for crashed. Every write to a
    /// building version does this too.
    pub async fn touch_version(&self, version_id: i64) -> Result<()> {
        dispatch!(self.touch_version(version_id))
    }

    /// Adds documents (source path -> content hash, with metadata) to a building version,
    /// in one transaction; may be called several times. A path given twice is refused, as
    /// is a hash that is not stored.
    pub async fn put_version_documents(
        &self,
        version_id: i64,
        documents: &[VersionDocument],
    ) -> Result<()> {
        for document in documents {
            check_sha256("document hash", &document.document_hash)?;
            if document.path.is_empty() {
                return Err(Error::Invalid {
                    what: "document path".into(),
                    reason: format!("the path of document {} is empty", document.document_hash),
                });
            }
        }
        dispatch!(self.put_version_documents(version_id, documents))
    }

    /// Appends chunks to a building version's rows, in one transaction, and returns the
    /// rows they got: the next free rows, in the order given. Row `r` is the `r`-th vector
    /// of the version's vector file and the key its full-text index stores.
    pub async fn append_version_chunks(
        &self,
        version_id: i64,
        chunk_ids: &[i64],
    ) -> Result<Range<u64>> {
        dispatch!(self.append_version_chunks(version_id, chunk_ids))
    }

    /// Marks a building version ready and makes it the index's live version, in one
    /// transaction; returns it. Its counts are computed here from its documents and chunk
    /// rows and compared with its parent's; `stats` is kept as given.
    ///
    /// Call it after the version's files are complete on disk: until this commits, the
    /// previous live version is served, and a crash leaves this one `building` and never
    /// live. The commit is durable before this returns.
    pub async fn finish_version(&self, version_id: i64, stats: &Value) -> Result<Version> {
        dispatch!(self.finish_version(version_id, stats))
    }

    /// Marks a building version failed with a message; returns it. The live version does
    /// not change. Used for an ingest that gave up, and for versions a crashed process left
    /// building ([`Store::stale_building_versions`]). The commit is durable before this
    /// returns.
    pub async fn fail_version(&self, version_id: i64, message: &str) -> Result<Version> {
        dispatch!(self.fail_version(version_id, message))
    }

    /// Makes a ready version live (a rollback, or a roll forward); returns it. Refuses a
    /// version that is building or failed. The commit is durable before this returns.
    pub async fn set_live(&self, index: &str, number: u32) -> Result<Version> {
        dispatch!(self.set_live(index, number))
    }

    // Reading indexes and versions back.

    /// The index with this name.
    pub async fn index(&self, name: &str) -> Result<Index> {
        dispatch!(self.index(name))
    }

    /// Every index, by name.
    pub async fn list_indexes(&self) -> Result<Vec<Index>> {
        dispatch!(self.list_indexes())
    }

    /// The version with this id.
    pub async fn version_by_id(&self, version_id: i64) -> Result<Version> {
        dispatch!(self.version_by_id(version_id))
    }

    /// The versions of an index, oldest first.
    pub async fn versions(&self, index: &str) -> Result<Vec<Version>> {
        dispatch!(self.versions(index))
    }

    /// Version `number` of an index.
    pub async fn version(&self, index: &str, number: u32) -> Result<Version> {
        dispatch!(self.version(index, number))
    }

    /// The live version of an index, if it has one.
    pub async fn live_version(&self, index: &str) -> Result<Option<Version>> {
        dispatch!(self.live_version(index))
    }

    /// The documents of a version, by path.
    pub async fn version_documents(&self, version_id: i64) -> Result<Vec<VersionDocument>> {
        dispatch!(self.version_documents(version_id))
    }

    /// The chunk at a row of a version.
    pub async fn version_chunk(&self, version_id: i64, row: u64) -> Result<Chunk> {
        let mut chunks = self.version_chunks_at(version_id, &[row]).await?;
        chunks
            .pop()
            .ok_or_else(|| Error::Corrupt("a chunk row vanished".into()))
    }

    /// The chunks at these rows of a version, in the order of `rows` (for mapping search
    /// hits back to chunks). A row the version does not have is an error.
    pub async fn version_chunks_at(&self, version_id: i64, rows: &[u64]) -> Result<Vec<Chunk>> {
        dispatch!(self.version_chunks_at(version_id, rows))
    }

    /// Every chunk of a version in row order: element `r` is row `r`.
    pub async fn version_chunks(&self, version_id: i64) -> Result<Vec<Chunk>> {
        dispatch!(self.version_chunks(version_id))
    }

    /// How version `to` of an index differs from version `from`, by source path and
    /// content hash. Versions of any status can be compared.
    pub async fn diff(&self, index: &str, from: u32, to: u32) -> Result<Diff> {
        dispatch!(self.diff(index, from, to))
    }

    // Garbage collection.

    /// Versions of every index still `building` whose last sign of life is at least
    /// `older_than` ago, oldest first. A process that crashed mid-ingest leaves these; the
    /// caller marks them failed ([`Store::fail_version`]) once it knows their builder is gone
    /// (`Duration::ZERO` lists every building version).
    pub async fn stale_building_versions(&self, older_than: Duration) -> Result<Vec<Version>> {
        dispatch!(self.stale_building_versions(older_than))
    }

    /// Versions of an index that gc may delete, oldest first: those that are neither live,
    /// nor building, nor among the `keep` most recent ready versions (kept for rollback).
    /// Failed versions are always candidates.
    pub async fn gc_candidates(&self, index: &str, keep: usize) -> Result<Vec<Version>> {
        let versions = self.versions(index).await?;
        let kept: std::collections::HashSet<i64> = versions
            .iter()
            .rev()
            .filter(|v| v.status == VersionStatus::Ready)
            .take(keep)
            .map(|v| v.id)
            .collect();
        Ok(versions
            .into_iter()
            .filter(|v| !v.live && v.status != VersionStatus::Building && !kept.contains(&v.id))
            .collect())
    }

    /// Deletes a version's rows (its documents and chunk rows with it) and returns it, so
    /// that the caller can remove its folder. Refuses the live version and a building one.
    ///
    /// Delete the rows first and the folder after: a crash in between leaves a folder that
    /// no version names (garbage to sweep), never a version whose files are gone. The commit
    /// is durable before this returns.
    pub async fn delete_version(&self, index: &str, number: u32) -> Result<Version> {
        dispatch!(self.delete_version(index, number))
    }

    /// Deletes, in one transaction, what no version refers to any more: chunks of chunkings
    /// that no version uses, documents in no version's document set, and cached embeddings
    /// of texts no chunk has or of embedders no version uses. Failed versions still count
    /// as users, so a retried ingest finds its work cached; delete them first to free it.
    ///
    /// Refuses to run while a version is building: its documents and chunks may be stored
    /// but not yet referenced.
    pub async fn gc_orphans(&self) -> Result<OrphanCounts> {
        dispatch!(self.gc_orphans())
    }
}
