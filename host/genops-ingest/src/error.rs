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
    #[error(
        "{0} is not a chunker plugin; pass a chunker with --chunker (see `genops plugin list`)"
    )]
    NotAChunker(String),
    /// The embedding model is not an embedding model.
    #[error(
        "model `{0}` is not an embedding model; pass one with --model (see `genops models list`)"
    )]
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
    /// The plugin runtime failed outside a document.
    #[error(transparent)]
    Runtime(#[from] genops_runtime::Error),
    /// A model failed.
    #[error(transparent)]
    Models(#[from] genops_models::Error),
}
