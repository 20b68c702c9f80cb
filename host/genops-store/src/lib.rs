//! The metadata store of genops's RAG data pipeline: documents, chunks, the embedding
//! cache, indexes, index versions and their lineage.
//!
//! It is one SQLite file, `<data-dir>/genops.db` ([`DATABASE_FILE`]), reached through sqlx,
//! behind a seam that lets another database (PostgreSQL) be added without touching the
//! callers (see [Backends](#backends)).
//! The full-text and vector files of an index version live on disk in the version's folder
//! ([`Version::folder`], `indexes/<name>/v<n>` under the data directory) and are not in the
//! database; the database says which folders exist, which one is live, and how they were
//! made.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), genops_store::Error> {
//! use genops_store::*;
//! use serde_json::json;
//!
//! let store = Store::open_in_memory().await?; // Store::open_in(data_dir) for real
//! store.create_index("docs").await?;
//! let chunker = ChunkerIdentity { digest: "sha256:0f1e".into(), config: json!({"size": 400}) };
//! let version = store
//!     .begin_version("docs", &NewVersion { parent: None, chunker: chunker.clone(), embedder: None })
//!     .await?;
//!
//! let text = "Hello. World.";
//! let hash = sha256_hex(text.as_bytes());
//! store.put_document(NewDocument { hash: &hash, media_type: "text/plain", byte_size: 13, text }).await?;
//! let key = chunking_key(&chunker.digest, &chunker.config);
//! let chunks = match store.chunks_for(&hash, &key).await? {
//!     Some(cached) => cached,
//!     None => {
//!         let new = [NewChunk { start: 0, end: 6, text: "Hello.".into(), metadata: json!({}) }];
//!         store.put_chunks(&hash, &key, &new).await?
//!     }
//! };
//! store
//!     .put_version_documents(version.id, &[VersionDocument {
//!         path: "hello.txt".into(),
//!         document_hash: hash.clone(),
//!         metadata: json!({"title": "Hello"}),
//!         ..VersionDocument::default()
//!     }])
//!     .await?;
//! let ids: Vec<i64> = chunks.iter().map(|c| c.id).collect();
//! let rows = store.append_version_chunks(version.id, &ids).await?;
//! // ... write the version's files for rows 0..1 into its folder, then:
//! let ready = store.finish_version(version.id, &json!({"seconds": 0.1})).await?;
//! assert!(ready.live);
//! assert_eq!(store.version_chunk(ready.id, rows.start).await?.text, "Hello.");
//! # Ok(())
//! # }
//! ```
//!
//! # Schema
//!
//! The migrations in `migrations/` (embedded at compile time, applied at open) create:
//!
//! - `documents`: extracted text keyed by the sha256 of the source bytes, with media type
//!   and size. The text is kept so that an index can be rebuilt without the source files.
//! - `chunkings` and `chunks`: the chunk cache. A chunking is one document cut by one
//!   chunker identity, the [`chunking_key`] (sha256 of the plugin digest and its canonical
//!   config JSON); its chunks have an ordinal, byte offsets into the document text, text,
//!   the text's sha256, and the chunker's metadata. The `chunkings` row is the "done"
//!   marker, so that a document that gave no chunks is cached too.
//! - `embeddings`: the vector cache, f32 little-endian, keyed by ([`embedder_key`], sha256
//!   of the chunk text). Keying by text rather than by chunk id means an edited document
//!   re-embeds only the chunks whose text changed, and identical text is embedded once.
//! - `indexes`: name, live version, and a counter that numbers versions.
//! - `index_versions`: number, parent, status, chunker and embedder identities, counts,
//!   folder, free-form stats.
//! - `version_documents`: the document set of a version, source path -> content hash plus
//!   the reader's metadata. A version *is* this mapping; [`Store::diff`] compares two.
//! - `version_chunks`: the chunks of a version in the order of its on-disk rows, so that a
//!   vector row or a full-text hit maps back to a chunk.
//!
//! SQL is kept portable for a PostgreSQL backend to follow: TEXT, INTEGER and BLOB only,
//! JSON as TEXT, times as INTEGER unix milliseconds, `$n` parameters, explicit foreign keys
//! and `ON CONFLICT`/`RETURNING`, which both databases have. Only the DDL of row ids
//! differs (`AUTOINCREMENT` here, identity columns there).
//!
//! # Backends
//!
//! [`Store`] is a struct around a private enum with one variant per database this build
//! has; today the only one is SQLite (`src/sqlite/`, one module per concern: documents and
//! caches, version lifecycle, lineage and reads, diff, gc). Each method of `Store` checks
//! what needs no database (hash formats, index names, chunk spans, vector lengths) and then
//! forwards the call with a `match`, so every backend refuses the same input with the same
//! error, and `Store`'s own logic (`gc_candidates`, `version_chunk`) is written once.
//!
//! An enum rather than a `dyn` trait: the backends are known at compile time, a `match` is
//! plain async code without boxed futures, generic methods such as
//! [`Store::put_embeddings`] stay generic, and adding a variant makes the compiler list
//! every operation the new backend must implement. The enum is private, so a new variant
//! changes nothing for callers.
//!
//! [`Store::connect`] picks the backend from a URL: `sqlite://<path>` (or a plain path, as
//! [`Store::open_with`]) and `sqlite::memory:` open SQLite; `postgres://` is refused with
//! [`Error::UnsupportedBackend`] ("PostgreSQL is not built into this genops yet") until
//! the backend exists.
//!
//! A PostgreSQL backend adds a `Postgres` variant (behind a cargo feature, with sqlx's
//! `postgres` feature) that implements each forwarded method with the same meaning, its
//! own migrations numbered like `migrations/` (identity columns for row ids, `BYTEA` for
//! vectors, otherwise the same DDL), and a `postgres://` arm in `connect`. The statements
//! can mostly be carried over as they are. What differs is SQLite's own: the busy timeout
//! and WAL mode; `BEGIN IMMEDIATE`, which takes the single write lock up front (PostgreSQL
//! locks rows, so the transactions that read and then write, such as version numbering,
//! `finish_version` and `gc_orphans`, need `SELECT ... FOR UPDATE` on the index row or
//! `SERIALIZABLE` with a retry); `PRAGMA synchronous` for the durable commits (a PostgreSQL commit is already
//! durable); SQLite's busy error code, mapped to [`Error::Busy`] (a lock timeout there);
//! and the lock `migrate` holds while it migrates (an advisory lock there). The tests of
//! `tests/store` that go through `Store` alone (caches, versions) can run against both.
//!
//! # Lineage
//!
//! Every derived thing names what made it: a chunk names its document's hash and its
//! chunking key; a version names its chunker (digest and config), its embedder (model name,
//! model sha256 and settings), and the version it was derived from. Version numbers only
//! grow (a counter on the index, never reused even after gc), and a version's parent is a
//! plain number, so the history survives the parent's deletion. Re-ingesting the same files
//! with the same chunker and embedder recomputes nothing: documents are found by hash,
//! chunks by (hash, chunking key), vectors by (embedder key, text hash).
//!
//! # Crash safety
//!
//! A version is begun `building`, filled (documents, chunk rows, files on disk), and
//! finished by [`Store::finish_version`], which marks it `ready` and moves the index's live
//! pointer to it in one transaction. Until that transaction commits, queries are served from
//! the previous live version, whose rows and files nothing touches. A process killed at
//! any point before leaves a `building` version that is never live;
//! [`Store::stale_building_versions`] finds it later and [`Store::fail_version`] retires
//! it. The database enforces the rest: the live version must be a version of the same index
//! (a composite foreign key), and a live version cannot be deleted.
//!
//! # Durability and concurrency
//!
//! The file runs in WAL mode: readers never wait for the writer and see the last commit.
//! Every write transaction is `BEGIN IMMEDIATE`, so writers (in this process or another)
//! queue on the write lock for up to the busy timeout ([`StoreOptions`]) instead of failing
//! on a lock upgrade; past it, [`Error::Busy`].
//!
//! `synchronous = NORMAL` is the default: in WAL mode it never corrupts the file, and a
//! power cut can only lose the last commits. Losing cache rows (documents, chunks,
//! vectors) costs a recompute, and losing a version's rows leaves it building, which the
//! crash-safety story already handles. The commits the caller then acts on outside the
//! database, [`Store::finish_version`], [`Store::fail_version`], [`Store::set_live`] and
//! [`Store::delete_version`] (after which the caller may delete folders), run with
//! `synchronous = FULL`, so they are on disk before the call returns; since the WAL is
//! written in order, everything committed before them is too.
//!
//! # Garbage collection
//!
//! [`Store::gc_candidates`] lists versions that are neither live, nor building, nor among
//! the N most recent ready ones; the caller deletes each with [`Store::delete_version`]
//! (rows first, then the folder, so that a crash leaves an unnamed folder rather than a
//! version without files). [`Store::gc_orphans`] then deletes the documents, chunks and
//! vectors no remaining version uses.
//!
//! # Schema versions
//!
//! A database whose schema is newer than this build's (written by a newer genops) is
//! refused with [`Error::TooNew`] before anything is written to it, and one with a
//! migration that differs from this build's with [`Error::ForeignMigration`].

mod error;
mod keys;
mod sqlite;
mod store;
mod types;

pub use error::{Error, Result};
pub use keys::{
    canonical_json, chunking_key, embedder_key, sha256_hex, validate_index_name, version_folder,
    MAX_INDEX_NAME_LEN,
};
pub use store::{Store, StoreOptions, DATABASE_FILE};
pub use types::{
    Chunk, ChunkerIdentity, Diff, Document, EmbedderIdentity, Index, NewChunk, NewDocument,
    NewVersion, OrphanCounts, Version, VersionCounts, VersionDocument, VersionStatus,
};
