use std::fmt::Display;
use std::path::PathBuf;

use crate::VersionStatus;

/// Errors of the store.
///
/// Messages are lowercase, name what exists when something is missing, and say how to fix
/// what can be fixed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The folder of the database file could not be created.
    #[error("cannot create the folder {path} for the genops database: {source}; check the --data-dir path and its permissions")]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The database file could not be opened (not a database, no permission, ...).
    #[error("cannot open the genops database {path}: {source}; check that it is a genops database and that its folder is writable")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: sqlx::Error,
    },
    /// The store URL names a database that this build has no backend for. Only the scheme
    /// is kept: the rest of a URL may hold a password.
    #[error("cannot open a `{scheme}://` store: {backend} is not built into this genops yet; use a SQLite database (a file path or a `sqlite://` URL)")]
    UnsupportedBackend {
        /// The URL's scheme (`postgres`).
        scheme: String,
        /// The database it names (`PostgreSQL`).
        backend: &'static str,
    },
    /// The database was written by a newer genops: its schema has migrations this build
    /// does not know. It is left untouched.
    #[error("the genops database {path} was written by a newer genops (schema version {found}, this genops knows up to {supported}); upgrade genops to use it, or pass another --data-dir")]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// The newest schema version recorded in the database.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// The database records a schema migration that this build has under the same number
    /// with different contents, or does not have at all although it knows newer ones.
    #[error("the genops database {path} has schema migration {version} ({description}) that differs from this genops's; it was written by a different build of genops: use that build, or upgrade genops")]
    ForeignMigration {
        /// The database file.
        path: PathBuf,
        /// The migration's version.
        version: i64,
        /// The migration's description as recorded in the database.
        description: String,
    },
    /// Applying the schema migrations failed.
    #[error("cannot migrate the genops database {path}: {source}")]
    Migrate {
        /// The database file.
        path: PathBuf,
        /// What went wrong.
        source: sqlx::migrate::MigrateError,
    },
    /// Another connection held the write lock for longer than the busy timeout.
    #[error("the genops database is busy: another genops process held its write lock for longer than the busy timeout; retry when that process is done")]
    Busy,
    /// Any other database error. Seeing one is a bug or a damaged database.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// The database holds a value this build cannot read.
    #[error("the genops database is damaged: {0}; restore it from a backup, or move it away and ingest again")]
    Corrupt(String),

    /// An index name is not valid.
    #[error("invalid index name `{name}`: {reason}; use 1 to 64 characters among lowercase letters, digits, `-` and `_`, starting with a letter or a digit")]
    InvalidIndexName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `create_index` with a name that is taken.
    #[error("index `{0}` already exists")]
    IndexExists(String),
    /// No index has this name.
    #[error("no index `{name}` (indexes: {})", list(.existing))]
    UnknownIndex {
        /// The name asked for.
        name: String,
        /// The names of the indexes that exist.
        existing: Vec<String>,
    },
    /// The index has no version with this number.
    #[error("index `{index}` has no version {number} (versions: {})", list(.existing))]
    UnknownVersion {
        /// The index.
        index: String,
        /// The number asked for.
        number: u32,
        /// The numbers of the versions that exist.
        existing: Vec<u32>,
    },
    /// No version has this id (it never existed or was deleted).
    #[error("no index version with id {0}; it may have been deleted by gc")]
    UnknownVersionId(i64),
    /// `set_live` on a version that is not ready.
    #[error("version {number} of index `{index}` is {status}, and only a ready version can be live (ready versions: {})", list(.ready))]
    NotReady {
        /// The index.
        index: String,
        /// The version asked for.
        number: u32,
        /// Its status.
        status: VersionStatus,
        /// The numbers of the ready versions of the index.
        ready: Vec<u32>,
    },
    /// A change that only a building version accepts, on a version that is finished.
    #[error("version {number} of index `{index}` is {status}; only a building version can be {action}, so begin a new version")]
    NotBuilding {
        /// The index.
        index: String,
        /// The version.
        number: u32,
        /// Its status.
        status: VersionStatus,
        /// What was attempted (`finished`, `failed`, `given documents`, ...).
        action: &'static str,
    },
    /// `delete_version` on the live version.
    #[error(
        "version {number} is the live version of index `{index}`; make another version live first"
    )]
    VersionIsLive {
        /// The index.
        index: String,
        /// The version.
        number: u32,
    },
    /// `delete_version` on a version that is still building.
    #[error("version {number} of index `{index}` is still building; if the process building it is gone, mark it failed first")]
    VersionIsBuilding {
        /// The index.
        index: String,
        /// The version.
        number: u32,
    },
    /// `gc_orphans` while versions are building: their documents and chunks may not be
    /// referenced yet.
    #[error("cannot collect unreferenced documents while versions are building ({}); wait for them, or mark crashed ones failed", .0.join(", "))]
    VersionsBuilding(Vec<String>),
    /// The parent given to `begin_version` cannot be one.
    #[error("version {parent} of index `{index}` cannot be the parent of a new version: {reason}")]
    InvalidParent {
        /// The index.
        index: String,
        /// The parent asked for.
        parent: u32,
        /// Why not.
        reason: String,
    },
    /// A hash or key that must be a sha256 in lowercase hex is not.
    #[error("invalid {what} `{value}`: expected a sha256 as 64 lowercase hex digits")]
    InvalidHash {
        /// What the value is (`document hash`, `chunking key`, ...).
        what: &'static str,
        /// The value given.
        value: String,
    },
    /// A document hash that is not in the store.
    #[error("no document {0} in the store; put the document before referring to it")]
    UnknownDocument(String),
    /// A chunk id that is not in the store.
    #[error("no chunk with id {0} in the store; it may have been collected by gc")]
    UnknownChunk(i64),
    /// A version row number that the version does not have.
    #[error("version {number} of index `{index}` has no chunk at row {row} (it has {rows} rows)")]
    UnknownRow {
        /// The index.
        index: String,
        /// The version.
        number: u32,
        /// The row asked for.
        row: u64,
        /// How many rows the version has.
        rows: u64,
    },
    /// A source path given twice to one version.
    #[error("path `{path}` is given twice to version {number} of index `{index}`; a version maps each path to one document")]
    DuplicatePath {
        /// The index.
        index: String,
        /// The version.
        number: u32,
        /// The path.
        path: String,
    },
    /// Any other input that cannot be stored as given.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// What was given (`chunk 3`, `document path`, `embedding`, ...).
        what: String,
        /// Why it cannot be stored.
        reason: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        if is_busy(&error) {
            Error::Busy
        } else {
            Error::Database(error)
        }
    }
}

/// Whether SQLite gave up waiting for a lock (SQLITE_BUSY and its extended codes).
fn is_busy(error: &sqlx::Error) -> bool {
    const SQLITE_BUSY: i64 = 5;
    error
        .as_database_error()
        .and_then(|e| e.code())
        .and_then(|code| code.parse::<i64>().ok())
        .is_some_and(|code| code & 0xff == SQLITE_BUSY)
}

/// Whether the error is a UNIQUE or PRIMARY KEY violation.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

fn list<T: Display>(items: &[T]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}
