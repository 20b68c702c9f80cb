//! The one error type of the crate.

use std::path::PathBuf;

/// What the hint at the end of a damaged-file message tells the user to do.
const REBUILD: &str = "ingest the index again to rebuild it";

/// Everything that can go wrong in this crate. Messages are lowercase, say what is wrong and,
/// where the user can act, what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system call on a file or folder failed.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done, as a verb phrase ("open", "write", "rename into place").
        action: &'static str,
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// The vectors file has no bytes at all.
    #[error("vectors file {} is empty; {REBUILD}", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },

    /// The file does not start with the magic bytes of a genops vectors file.
    #[error(
        "{} is not a genops vectors file (its first bytes are {found:02x?}); \
         point to the vectors file of an index version, or {REBUILD}",
        path.display()
    )]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// The first bytes found (up to eight).
        found: Vec<u8>,
    },

    /// The file was written in a format version this build cannot read.
    #[error(
        "vectors file {} has format version {found} but this build of genops reads version \
         {supported}; upgrade genops or {REBUILD}",
        path.display()
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },

    /// The header is inconsistent: its checksum fails or a field is out of range.
    #[error("vectors file {} has a corrupt header ({reason}); {REBUILD}", path.display())]
    CorruptHeader {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The file is shorter than its header says.
    #[error(
        "vectors file {} is truncated: expected {expected} bytes, found {found}; {REBUILD}",
        path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The size the header calls for.
        expected: u64,
        /// The size on disk.
        found: u64,
    },

    /// The file is longer than its header says.
    #[error(
        "vectors file {} has trailing bytes: expected {expected} bytes, found {found}; {REBUILD}",
        path.display()
    )]
    Oversized {
        /// The file.
        path: PathBuf,
        /// The size the header calls for.
        expected: u64,
        /// The size on disk.
        found: u64,
    },

    /// The payload does not hash to the checksum in the header.
    #[error(
        "vectors file {} is corrupt: its header records crc32 {expected:08x} but the vectors \
         hash to {found:08x}; {REBUILD}",
        path.display()
    )]
    ChecksumMismatch {
        /// The file.
        path: PathBuf,
        /// The checksum in the header.
        expected: u32,
        /// The checksum of the payload on disk.
        found: u32,
    },

    /// A query or a written row has another length than the file's dimension.
    #[error(
        "{what} has {found} dimensions but the vectors have {expected}; embed it with the model \
         the index version was built with"
    )]
    DimensionMismatch {
        /// "query" or "row N".
        what: String,
        /// The dimension of the file.
        expected: usize,
        /// The length given.
        found: usize,
    },

    /// A dimension of zero, or one larger than the format holds.
    #[error("invalid dimension {0}: a vector needs between 1 and 4294967295 values")]
    InvalidDimension(usize),

    /// A query or a written row holds NaN or an infinity.
    #[error(
        "{what} has a non-finite value ({value}) at position {position}; check the embedding \
         model's output"
    )]
    NonFinite {
        /// "query" or "row N".
        what: String,
        /// Index of the first bad value.
        position: usize,
        /// The value itself.
        value: f32,
    },

    /// More rows than a row number (`u32`) can address.
    #[error(
        "a vectors file holds at most {max} rows; split the corpus into several index versions"
    )]
    TooManyRows {
        /// The largest row count.
        max: u64,
    },

    /// An [`AnnConfig`](crate::AnnConfig) or bench argument out of range.
    #[error("invalid setting: {0}")]
    InvalidConfig(String),

    /// No saved ANN index next to the vectors file.
    #[error(
        "no ann index for {}: {} is missing; build one with `AnnIndex::build` and save it",
        vectors.display(), missing.display()
    )]
    AnnMissing {
        /// The vectors file.
        vectors: PathBuf,
        /// The first missing file.
        missing: PathBuf,
    },

    /// The saved ANN index was built from other vectors than the file it is loaded for.
    #[error(
        "ann index {} is stale ({reason}); build it again from the current vectors file and save it",
        path.display()
    )]
    AnnStale {
        /// The ANN metadata file.
        path: PathBuf,
        /// What differs.
        reason: String,
    },

    /// A saved ANN file is damaged.
    #[error(
        "ann index file {} is corrupt ({reason}); build the ann index again and save it",
        path.display()
    )]
    AnnCorrupt {
        /// The damaged file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The HNSW library reported a failure.
    #[error("hnsw index: {0}")]
    Hnsw(String),
}

impl Error {
    /// Wraps an I/O error with the action and the path it concerns.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
