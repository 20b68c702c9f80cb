-- The genops store, schema version 1.
--
-- Portable on purpose, so that a PostgreSQL migration set can mirror it line for line:
-- TEXT, INTEGER, BLOB (bytea) and no SQLite-only types; JSON as TEXT; timestamps as
-- INTEGER unix milliseconds; explicit foreign keys. The one SQLite-specific spelling is
-- `INTEGER PRIMARY KEY AUTOINCREMENT` (PostgreSQL: BIGINT GENERATED ALWAYS AS IDENTITY):
-- AUTOINCREMENT so that ids are never reused, and an id written into an on-disk index file
-- of a crashed or deleted version can never point at a different row later.

-- Extracted text of source files, keyed by the sha256 of the source bytes. The text is
-- kept so that chunks can be re-read and an index rebuilt without the source file.
CREATE TABLE documents (
    hash       TEXT    NOT NULL PRIMARY KEY,
    media_type TEXT    NOT NULL,
    byte_size  INTEGER NOT NULL CHECK (byte_size >= 0),
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

-- One row per (document, chunker identity) that was chunked: the chunk cache's "done"
-- marker, so that a document that gives no chunks is cached too, and so that two writers
-- chunking the same document agree on one set of chunks.
CREATE TABLE chunkings (
    document_hash TEXT    NOT NULL REFERENCES documents (hash),
    chunking_key  TEXT    NOT NULL,
    chunk_count   INTEGER NOT NULL CHECK (chunk_count >= 0),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (document_hash, chunking_key)
);

-- Chunks of a document's text; offsets are UTF-8 byte offsets into documents.text.
-- text_sha256 keys the embedding cache, so identical text is embedded once whichever
-- document or chunker it came from.
CREATE TABLE chunks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    document_hash TEXT    NOT NULL,
    chunking_key  TEXT    NOT NULL,
    ordinal       INTEGER NOT NULL CHECK (ordinal >= 0),
    start_byte    INTEGER NOT NULL CHECK (start_byte >= 0),
    end_byte      INTEGER NOT NULL CHECK (end_byte >= start_byte),
    text          TEXT    NOT NULL,
    text_sha256   TEXT    NOT NULL,
    metadata      TEXT    NOT NULL,
    UNIQUE (document_hash, chunking_key, ordinal),
    FOREIGN KEY (document_hash, chunking_key) REFERENCES chunkings (document_hash, chunking_key)
);
CREATE INDEX chunks_by_text ON chunks (text_sha256);

-- Embedding cache: vectors as f32 little-endian, keyed by the embedder identity and the
-- sha256 of the embedded text.
CREATE TABLE embeddings (
    embedder_key TEXT    NOT NULL,
    text_sha256  TEXT    NOT NULL,
    dimensions   INTEGER NOT NULL CHECK (dimensions > 0),
    vector       BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (embedder_key, text_sha256)
);

-- Named indexes. live_version is the version queries are served from; the composite key
-- makes the database refuse a live version that belongs to another index.
-- next_version only grows, so a number is never given twice, even after gc.
CREATE TABLE indexes (
    name         TEXT    NOT NULL PRIMARY KEY,
    created_at   INTEGER NOT NULL,
    next_version INTEGER NOT NULL DEFAULT 1 CHECK (next_version >= 1),
    live_version INTEGER,
    FOREIGN KEY (name, live_version) REFERENCES index_versions (index_name, id)
);

-- Versions of an index. parent_number is lineage (the version this one was derived from)
-- and stays a plain number: it records history, which must survive the parent's deletion.
CREATE TABLE index_versions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    index_name        TEXT    NOT NULL REFERENCES indexes (name),
    number            INTEGER NOT NULL CHECK (number >= 1),
    parent_number     INTEGER CHECK (parent_number >= 1 AND parent_number < number),
    status            TEXT    NOT NULL CHECK (status IN ('building', 'ready', 'failed')),
    error             TEXT,
    created_at        INTEGER NOT NULL,
    heartbeat_at      INTEGER NOT NULL,
    finished_at       INTEGER,
    chunker_digest    TEXT    NOT NULL,
    chunker_config    TEXT    NOT NULL,
    chunking_key      TEXT    NOT NULL,
    embedder_model    TEXT,
    embedder_sha256   TEXT,
    embedder_settings TEXT,
    embedder_key      TEXT,
    document_count    INTEGER NOT NULL DEFAULT 0,
    chunk_count       INTEGER NOT NULL DEFAULT 0,
    added_count       INTEGER NOT NULL DEFAULT 0,
    changed_count     INTEGER NOT NULL DEFAULT 0,
    removed_count     INTEGER NOT NULL DEFAULT 0,
    unchanged_count   INTEGER NOT NULL DEFAULT 0,
    folder            TEXT    NOT NULL,
    stats             TEXT    NOT NULL DEFAULT '{}',
    UNIQUE (index_name, number),
    UNIQUE (index_name, id),
    CHECK ((status = 'building') = (finished_at IS NULL)),
    CHECK ((embedder_model IS NULL AND embedder_sha256 IS NULL
            AND embedder_settings IS NULL AND embedder_key IS NULL)
        OR (embedder_model IS NOT NULL AND embedder_sha256 IS NOT NULL
            AND embedder_settings IS NOT NULL AND embedder_key IS NOT NULL))
);
CREATE INDEX index_versions_by_status ON index_versions (status);

-- The document set of a version: source path -> content hash, with the reader's metadata.
CREATE TABLE version_documents (
    version_id    INTEGER NOT NULL REFERENCES index_versions (id) ON DELETE CASCADE,
    path          TEXT    NOT NULL,
    document_hash TEXT    NOT NULL REFERENCES documents (hash),
    metadata      TEXT    NOT NULL,
    PRIMARY KEY (version_id, path)
);
CREATE INDEX version_documents_by_document ON version_documents (document_hash);

-- The chunks of a version in the order of its on-disk files: row_index is the row in the
-- vector file and the key the full-text index stores with each chunk.
CREATE TABLE version_chunks (
    version_id INTEGER NOT NULL REFERENCES index_versions (id) ON DELETE CASCADE,
    row_index  INTEGER NOT NULL CHECK (row_index >= 0),
    chunk_id   INTEGER NOT NULL REFERENCES chunks (id),
    PRIMARY KEY (version_id, row_index)
);
CREATE INDEX version_chunks_by_chunk ON version_chunks (chunk_id);
