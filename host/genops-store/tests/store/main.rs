//! Tests of the store against real SQLite files in temporary folders.

mod caches;
mod concurrency;
mod open;
mod versions;

use std::fmt::Debug;

use genops_store::{
    chunking_key, sha256_hex, ChunkerIdentity, EmbedderIdentity, Error, NewChunk, NewDocument,
    NewVersion, Store, StoreOptions, Version, VersionDocument,
};
use serde_json::json;
use tempfile::TempDir;

/// A store on a fresh file, with the folder that holds it.
async fn temp_store() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).await.unwrap();
    (dir, store)
}

/// A store with a short busy timeout, so lock tests stay fast.
async fn open_impatient(dir: &TempDir) -> Store {
    let options = StoreOptions {
        busy_timeout: std::time::Duration::from_millis(200),
        ..StoreOptions::default()
    };
    Store::open_with(&dir.path().join("genops.db"), &options)
        .await
        .unwrap()
}

fn chunker() -> ChunkerIdentity {
    ChunkerIdentity {
        digest: "sha256:c0ffee".into(),
        config: json!({"size": 400, "overlap": 0}),
    }
}

fn embedder() -> EmbedderIdentity {
    EmbedderIdentity {
        model: "all-minilm-l6-v2".into(),
        sha256: "ab".repeat(32),
        settings: json!({"pooling": "mean", "normalize": true}),
    }
}

fn new_version(parent: Option<u32>) -> NewVersion {
    NewVersion {
        parent,
        chunker: chunker(),
        embedder: Some(embedder()),
    }
}

/// The error of a call that must fail, with its message checked to be lowercase.
fn err<T: Debug>(result: Result<T, Error>) -> Error {
    let error = result.expect_err("the call should fail");
    let message = error.to_string();
    assert!(
        message.starts_with(|c: char| !c.is_uppercase()),
        "message not lowercase: {message}"
    );
    error
}

/// Stores a document with this text and its chunks (one per line) with [`chunker`];
/// returns its hash and chunk ids.
async fn put_text(store: &Store, text: &str) -> (String, Vec<i64>) {
    let hash = sha256_hex(text.as_bytes());
    store
        .put_document(NewDocument {
            hash: &hash,
            media_type: "text/plain",
            byte_size: text.len() as u64,
            text,
        })
        .await
        .unwrap();
    let key = chunking_key(&chunker().digest, &chunker().config);
    let mut chunks = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        chunks.push(NewChunk {
            start: start as u64,
            end: (start + line.len()) as u64,
            text: line.trim_end().to_string(),
            metadata: json!({"line": chunks.len()}),
        });
        start += line.len();
    }
    let stored = match store.chunks_for(&hash, &key).await.unwrap() {
        Some(cached) => cached,
        None => store.put_chunks(&hash, &key, &chunks).await.unwrap(),
    };
    (hash, stored.iter().map(|c| c.id).collect())
}

/// Builds and finishes a version of `index` holding `files` (path, text).
async fn build_version(
    store: &Store,
    index: &str,
    parent: Option<u32>,
    files: &[(&str, &str)],
) -> Version {
    let version = begin_with_files(store, index, parent, files).await;
    store
        .finish_version(version.id, &json!({"files": files.len()}))
        .await
        .unwrap()
}

/// Begins a version of `index` holding `files` (path, text), without finishing it.
async fn begin_with_files(
    store: &Store,
    index: &str,
    parent: Option<u32>,
    files: &[(&str, &str)],
) -> Version {
    store.ensure_index(index).await.unwrap();
    let version = store
        .begin_version(index, &new_version(parent))
        .await
        .unwrap();
    for (path, text) in files {
        let (hash, ids) = put_text(store, text).await;
        store
            .put_version_documents(
                version.id,
                &[VersionDocument {
                    path: path.to_string(),
                    document_hash: hash,
                    metadata: json!({"title": path}),
                    ..VersionDocument::default()
                }],
            )
            .await
            .unwrap();
        store.append_version_chunks(version.id, &ids).await.unwrap();
    }
    version
}
