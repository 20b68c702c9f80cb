use std::path::{Path, PathBuf};

/// Errors of index versions.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`cannot read`, `cannot write`, ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// tantivy failed.
    #[error("{context}: {message}")]
    Tantivy {
        /// What was being done.
        context: &'static str,
        /// tantivy's message.
        message: String,
    },
    /// The vector store failed.
    #[error(transparent)]
    Vectors(#[from] genops_vectors::Error),
    /// The version folder to build exists already.
    #[error("{0} exists already; index versions are written once: build a new version instead")]
    Exists(PathBuf),
    /// The folder is not an index version.
    #[error("{0} is not an index version (no version.json); ingest the index again")]
    NotAVersion(PathBuf),
    /// A file of the version is damaged.
    #[error("index version file {path} is damaged ({message}); roll back to another version, or ingest again")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The folder was written by a newer genops.
    #[error("index version {path} has format {found}, newer than this genops reads ({}); upgrade genops", crate::FORMAT)]
    NewerFormat {
        /// The folder.
        path: PathBuf,
        /// Its format.
        found: u32,
    },
    /// A filter names a field no chunk of the version has.
    #[error("unknown filter field `{field}`; this index version has {}", .known.join(", "))]
    UnknownField {
        /// The field asked for.
        field: String,
        /// The fields that exist.
        known: Vec<String>,
    },
    /// A filter could not be parsed.
    #[error("{0}")]
    InvalidFilter(String),
    /// A text query the parser must not be given (too long, or nested too deep).
    #[error("invalid query: {0}")]
    BadQuery(String),
    /// No index of that name, or none with a live version.
    #[error("no index `{name}` (indexes: {})", if .known.is_empty() { "none".to_string() } else { .known.join(", ") })]
    UnknownIndex {
        /// The name asked for.
        name: String,
        /// The indexes that have a live version.
        known: Vec<String>,
    },
    /// A chunk id the version does not have.
    #[error("no chunk `{chunk}` in index version {dir}")]
    UnknownChunk {
        /// The id.
        chunk: String,
        /// The version's folder.
        dir: PathBuf,
    },
    /// A vector search on a version built without vectors.
    #[error("index version {dir} has no vectors (it was ingested without --model); search it by text, or re-ingest with an embedding model")]
    NoVectors {
        /// The version's folder.
        dir: PathBuf,
    },
    /// An approximate search on a version built without the graph.
    #[error("index version {dir} has no approximate-search graph; search it exactly, or re-ingest with the graph enabled")]
    NoAnn {
        /// The version's folder.
        dir: PathBuf,
    },
    /// A version with more rows than row numbers.
    #[error(
        "index version {dir} would have more than {} chunks; split the index",
        u32::MAX
    )]
    TooManyRows {
        /// The version's folder.
        dir: PathBuf,
    },
    /// A row without a vector in a version with vectors.
    #[error("chunk {chunk} has no vector, but the version is built with vectors")]
    MissingVector {
        /// The chunk.
        chunk: String,
    },
    /// A row with a vector in a version without vectors.
    #[error("chunk {chunk} has a vector, but the version is built without vectors")]
    UnexpectedVector {
        /// The chunk.
        chunk: String,
    },
}

impl Error {
    /// Whether the caller asked wrongly (a bad filter, a vector of the wrong length or with
    /// NaNs, an unknown chunk, a vector search without vectors) rather than the index
    /// failing.
    pub fn is_bad_request(&self) -> bool {
        match self {
            Error::UnknownField { .. }
            | Error::InvalidFilter(_)
            | Error::BadQuery(_)
            | Error::UnknownChunk { .. }
            | Error::NoVectors { .. }
            | Error::NoAnn { .. } => true,
            Error::Vectors(e) => matches!(
                e,
                genops_vectors::Error::DimensionMismatch { .. }
                    | genops_vectors::Error::NonFinite { .. }
            ),
            _ => false,
        }
    }

    pub(crate) fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn tantivy(context: &'static str, e: impl std::fmt::Display) -> Self {
        Error::Tantivy {
            context,
            message: e.to_string(),
        }
    }
}
