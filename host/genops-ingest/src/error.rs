use std::path::PathBuf;

/// Errors of ingestion and of the index commands built on it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another ingest of the same index is running.
    #[error("another ingest of index `{0}` is running; wait for it to finish (one ingest per index at a time)")]
    Busy(String),
    /// A file of the data directory could not be used.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// A path given on the command line matches nothing.
    #[error("{0} does not exist; give files, folders or glob patterns of {exts} files", exts = crate::read::EXTENSIONS)]
    NoSuchPath(String),
    /// A glob pattern is malformed.
    #[error("invalid glob pattern `{pattern}`: {message}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// What is wrong.
        message: String,
    },
    /// A file given by name has an extension genops does not read.
    #[error("{0} has an extension genops does not ingest; give {exts} files", exts = crate::read::EXTENSIONS)]
    UnknownFormat(PathBuf),
    /// Nothing to ingest.
    #[error("no {exts} files found under {0}; nothing to ingest", exts = crate::read::EXTENSIONS)]
    NothingFound(String),
    /// The chunker is not a chunker.
    #[error("{0} is not a chunker plugin; pass a chunker with --chunker")]
    NotAChunker(String),
    /// The embedding model is not an embedding model.
    #[error("model `{0}` is not an embedding model; pass one with --model")]
    NotAnEmbedder(String),
    /// A version number that does not exist.
    #[error(transparent)]
    Store(#[from] genops_store::Error),
    /// The index files failed.
    #[error(transparent)]
    Index(#[from] genops_index::Error),
    /// The chunker failed on a document.
    #[error("chunking {source_name}: {error}")]
    Chunker {
        /// The document.
        source_name: String,
        /// What the runtime said.
        error: genops_runtime::Error,
    },
    /// A document gave more chunks, or more chunk text, than the ingest limits allow.
    #[error("chunker {plugin} cut {source_name} ({bytes} bytes) into {found}, over the limit of {limit} (`{key}` under [ingest] in genops.toml); a chunker that repeats the document is broken, otherwise raise `{key}`")]
    ChunkLimit {
        /// The document.
        source_name: String,
        /// The chunker.
        plugin: String,
        /// The document's size.
        bytes: u64,
        /// What it gave (`2000 chunks`, `2097152000 bytes of chunk text`).
        found: String,
        /// The bound it passed.
        limit: String,
        /// The setting that sets the bound.
        key: &'static str,
    },
    /// An ingest limit is unusable.
    #[error("ingest limit `{key}` {message} (under [ingest] in genops.toml)")]
    BadLimit {
        /// The setting.
        key: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// Documents of the live version were read from a folder that is gone as a whole.
    #[error("{root} is missing, and the live version has {documents} documents read from it; --prune would drop them all: mount or restore it (or ingest from where it is now), then prune")]
    SourceRootMissing {
        /// The folder.
        root: PathBuf,
        /// How many documents it held.
        documents: usize,
    },
    /// The embedding model gave vectors an index version cannot hold.
    #[error("{0}; use another embedding model")]
    BadVectors(String),
    /// The plugin runtime failed outside a document.
    #[error(transparent)]
    Runtime(#[from] genops_runtime::Error),
    /// A model failed.
    #[error(transparent)]
    Models(#[from] genops_models::Error),
}
