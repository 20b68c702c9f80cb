//! One error type for every front end, with a kind a server maps to an HTTP status and,
//! where one exists, the fix a front end renders in its own terms (a CLI command, an API
//! hint).

use std::path::PathBuf;

use genops_runtime::Kind;

/// What sort of failure an error is; a server maps it to a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Something named does not exist (an index, a version, a plugin, a model): 404.
    NotFound,
    /// The request is wrong (bad config, bad input, wrong plugin kind): 400.
    Invalid,
    /// The request is valid but the state forbids it (rolling back to a damaged version,
    /// deleting the live one): 409.
    Conflict,
    /// Someone else holds what is needed (an ingest of the same index): 503, retry later.
    Busy,
    /// The host, a plugin or a file failed: 500.
    Internal,
}

impl ErrorKind {
    /// The HTTP status a server answers with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::NotFound => 404,
            ErrorKind::Invalid => 400,
            ErrorKind::Conflict => 409,
            ErrorKind::Busy => 503,
            ErrorKind::Internal => 500,
        }
    }
}

/// The action that fixes an error, for a front end to phrase (the CLI as a command, a
/// server as a hint). Library messages say what is wrong; the fix says what to run.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "fix")]
pub enum Fix {
    /// Install this model.
    InstallModel {
        /// The model.
        model: String,
    },
    /// Install the pinned ONNX Runtime library and the default model.
    InstallModels,
    /// Reinstall a model whose files do not match its pins.
    ReinstallModel {
        /// The model.
        model: String,
    },
    /// Add a model of one's own from a folder of its ONNX export.
    AddModel {
        /// The name to give it.
        name: String,
    },
    /// See which models are installed.
    ListModels,
    /// Install the built-in plugins, or the one named.
    InstallPlugin {
        /// The plugin.
        name: String,
    },
    /// See which plugins are installed.
    ListPlugins,
    /// Build the plugin from its source folder.
    BuildPlugin,
    /// Ingest documents into this index.
    Ingest {
        /// The index.
        index: String,
    },
    /// Ingest the index again: its files on disk are damaged or missing.
    Reingest,
    /// Roll the index back to another version, or ingest it again.
    Rollback,
    /// Name a plugin folder as a path rather than as a bare name.
    UsePath {
        /// The path to write.
        path: String,
    },
}

/// The fix of any error genops's libraries return, found by walking `error`'s causes: what
/// a front end shows after the message. `None` when no action of the user's fixes it.
pub fn fix_of(error: &(dyn std::error::Error + 'static)) -> Option<Fix> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        let fix = if let Some(e) = e.downcast_ref::<Error>() {
            e.fix()
        } else if let Some(e) = e.downcast_ref::<genops_store::Error>() {
            store_fix(e)
        } else if let Some(e) = e.downcast_ref::<genops_index::Error>() {
            index_fix(e)
        } else if let Some(e) = e.downcast_ref::<genops_vectors::Error>() {
            vectors_fix(e)
        } else if let Some(e) = e.downcast_ref::<genops_ingest::Error>() {
            ingest_fix(e)
        } else if let Some(e) = e.downcast_ref::<genops_models::Error>() {
            models_fix(e)
        } else if let Some(e) = e.downcast_ref::<genops_runtime::Error>() {
            runtime_fix(e)
        } else {
            None
        };
        if fix.is_some() {
            return fix;
        }
        cause = e.source();
    }
    None
}

fn store_fix(e: &genops_store::Error) -> Option<Fix> {
    match e {
        genops_store::Error::UnknownIndex { name, .. } => Some(Fix::Ingest {
            index: name.clone(),
        }),
        _ => None,
    }
}

fn index_fix(e: &genops_index::Error) -> Option<Fix> {
    use genops_index::Error as E;
    match e {
        E::UnknownIndex { name, .. } => Some(Fix::Ingest {
            index: name.clone(),
        }),
        E::NotAVersion(_) => Some(Fix::Reingest),
        E::Damaged { .. } => Some(Fix::Rollback),
        E::Vectors(e) => vectors_fix(e),
        _ => None,
    }
}

fn vectors_fix(e: &genops_vectors::Error) -> Option<Fix> {
    use genops_vectors::Error as E;
    match e {
        E::Empty { .. }
        | E::BadMagic { .. }
        | E::UnsupportedVersion { .. }
        | E::CorruptHeader { .. }
        | E::Truncated { .. }
        | E::Oversized { .. }
        | E::ChecksumMismatch { .. }
        | E::AnnCorrupt { .. }
        | E::AnnStale { .. } => Some(Fix::Reingest),
        _ => None,
    }
}

fn ingest_fix(e: &genops_ingest::Error) -> Option<Fix> {
    use genops_ingest::Error as E;
    match e {
        E::NotAChunker(_) => Some(Fix::ListPlugins),
        E::NotAnEmbedder(_) => Some(Fix::ListModels),
        E::Store(e) => store_fix(e),
        E::Index(e) => index_fix(e),
        E::Runtime(e) => runtime_fix(e),
        E::Models(e) => models_fix(e),
        _ => None,
    }
}

fn models_fix(e: &genops_models::Error) -> Option<Fix> {
    use genops_models::Error as E;
    match e {
        E::UnknownModel { name, .. } => Some(Fix::InstallModel {
            model: name.clone(),
        }),
        E::NotInCatalog { name, .. } => Some(Fix::AddModel { name: name.clone() }),
        E::RuntimeMissing { .. } | E::RuntimeLibrary { .. } => Some(Fix::InstallModels),
        E::HashMismatch { model, .. } => Some(Fix::ReinstallModel {
            model: model.clone(),
        }),
        _ => None,
    }
}

fn runtime_fix(e: &genops_runtime::Error) -> Option<Fix> {
    use genops_runtime::Error as E;
    match e {
        E::NotWasm { .. } | E::CoreModule { .. } => Some(Fix::BuildPlugin),
        E::UnknownPlugin { name, .. } => Some(Fix::InstallPlugin { name: name.clone() }),
        E::ModelUnavailable { .. } => Some(Fix::ListModels),
        _ => None,
    }
}

/// Errors of the application layer: its own, and those of the crates it composes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No data directory was given and none can be derived from the environment.
    #[error("cannot find a data directory: neither --data-dir, GENOPS_DATA_DIR, XDG_DATA_HOME nor HOME is set")]
    NoDataDir,
    /// The configuration file is invalid.
    #[error("invalid config file {path}: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`cannot read`, ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// A plugin was named by a name that no installed plugin has.
    #[error("no installed plugin named `{name}`{}", if *.folder_here { "; a folder of that name is in the current directory, but bare names mean installed plugins only" } else { "" })]
    PluginNotFound {
        /// The name.
        name: String,
        /// Whether a folder of that name is in the current directory.
        folder_here: bool,
    },
    /// A plugin path does not exist.
    #[error(
        "{0} does not exist; give a .wasm file, a plugin folder or an installed plugin's name"
    )]
    NoSuchPath(String),
    /// A plugin of another kind was given where one kind is needed.
    #[error("{plugin} is a {found} plugin; {role} needs a {expected}")]
    WrongKind {
        /// The plugin.
        plugin: String,
        /// What was needed.
        expected: Kind,
        /// What it is.
        found: Kind,
        /// Who needed it (`--chunker`, `genops chunk`).
        role: String,
    },
    /// An embedding model is not installed.
    #[error("embedding model `{model}` is not installed")]
    ModelNotInstalled {
        /// The model.
        model: String,
    },
    /// A file of judged queries is malformed.
    #[error("{path} line {line}: {message}; each line is {{\"query\": \"...\", \"relevant\": [\"doc id\", ...]}}")]
    Qrels {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A file of judged queries holds none.
    #[error("{0} holds no queries")]
    NoQueries(PathBuf),
    /// A rollback target's files cannot be opened.
    #[error("cannot roll {index} back to version {version}: its files cannot be opened ({source}); the live version is unchanged")]
    DamagedVersion {
        /// The index.
        index: String,
        /// The version.
        version: u32,
        /// Why it cannot be opened.
        source: genops_index::Error,
    },
    /// A retriever returned a chunk id that its index does not have.
    #[error("{plugin} returned a chunk id that index {index} does not have: {source}")]
    UnknownHit {
        /// The retriever.
        plugin: String,
        /// The index.
        index: String,
        /// The index's answer.
        source: genops_search::Error,
    },
    /// A blocking task (a plugin call) panicked or was cancelled.
    #[error("a background task failed: {0}")]
    Task(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] genops_store::Error),
    /// An index version failed.
    #[error(transparent)]
    Index(#[from] genops_index::Error),
    /// A search through the search port failed.
    #[error(transparent)]
    Search(#[from] genops_search::Error),
    /// Ingestion failed.
    #[error(transparent)]
    Ingest(#[from] genops_ingest::Error),
    /// The plugin runtime failed.
    #[error(transparent)]
    Runtime(#[from] genops_runtime::Error),
    /// A native model failed.
    #[error(transparent)]
    Models(#[from] genops_models::Error),
    /// A manifest is invalid.
    #[error(transparent)]
    Manifest(#[from] genops_manifest::Error),
}

impl Error {
    /// What sort of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::PluginNotFound { .. }
            | Error::NoSuchPath(_)
            | Error::ModelNotInstalled { .. } => ErrorKind::NotFound,
            Error::Config { .. }
            | Error::WrongKind { .. }
            | Error::Qrels { .. }
            | Error::NoQueries(_)
            | Error::Manifest(_) => ErrorKind::Invalid,
            Error::DamagedVersion { .. } => ErrorKind::Conflict,
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                ErrorKind::NotFound
            }
            Error::NoDataDir | Error::Io { .. } | Error::UnknownHit { .. } | Error::Task(_) => {
                ErrorKind::Internal
            }
            Error::Store(e) => store_kind(e),
            Error::Index(e) => index_kind(e),
            Error::Search(e) => search_kind(e),
            Error::Ingest(e) => ingest_kind(e),
            Error::Runtime(e) => runtime_kind(e),
            Error::Models(e) => models_kind(e),
        }
    }

    /// The action that fixes this error, if there is one.
    pub fn fix(&self) -> Option<Fix> {
        match self {
            Error::ModelNotInstalled { model } => Some(Fix::InstallModel {
                model: model.clone(),
            }),
            Error::PluginNotFound { name, folder_here } => Some(if *folder_here {
                Fix::UsePath {
                    path: format!("./{name}"),
                }
            } else {
                Fix::InstallPlugin { name: name.clone() }
            }),
            Error::NoSuchPath(_) | Error::WrongKind { .. } => Some(Fix::ListPlugins),
            Error::DamagedVersion { .. } => Some(Fix::Reingest),
            Error::Store(e) => store_fix(e),
            Error::Index(e) => index_fix(e),
            Error::Ingest(e) => ingest_fix(e),
            Error::Runtime(e) => runtime_fix(e),
            Error::Models(e) => models_fix(e),
            _ => None,
        }
    }

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

fn store_kind(e: &genops_store::Error) -> ErrorKind {
    use genops_store::Error as E;
    match e {
        E::UnknownIndex { .. }
        | E::UnknownVersion { .. }
        | E::UnknownVersionId(_)
        | E::UnknownDocument(_)
        | E::UnknownChunk(_)
        | E::UnknownRow { .. } => ErrorKind::NotFound,
        E::InvalidIndexName { .. }
        | E::UnsupportedBackend { .. }
        | E::InvalidParent { .. }
        | E::InvalidHash { .. }
        | E::Invalid { .. } => ErrorKind::Invalid,
        E::IndexExists(_)
        | E::NotReady { .. }
        | E::NotBuilding { .. }
        | E::VersionIsLive { .. }
        | E::VersionIsBuilding { .. }
        | E::VersionsBuilding(_)
        | E::DuplicatePath { .. } => ErrorKind::Conflict,
        E::Busy => ErrorKind::Busy,
        _ => ErrorKind::Internal,
    }
}

fn index_kind(e: &genops_index::Error) -> ErrorKind {
    match e {
        genops_index::Error::UnknownIndex { .. } => ErrorKind::NotFound,
        e if e.is_bad_request() => ErrorKind::Invalid,
        _ => ErrorKind::Internal,
    }
}

fn search_kind(e: &genops_search::Error) -> ErrorKind {
    use genops_search::Error as E;
    match e {
        E::UnknownIndex(_) => ErrorKind::NotFound,
        E::InvalidQuery(_) | E::InvalidFilter { .. } => ErrorKind::Invalid,
        _ => ErrorKind::Internal,
    }
}

fn ingest_kind(e: &genops_ingest::Error) -> ErrorKind {
    use genops_ingest::Error as E;
    match e {
        E::Busy(_) => ErrorKind::Busy,
        E::NoSuchPath(_)
        | E::BadPattern { .. }
        | E::UnknownFormat(_)
        | E::NothingFound(_)
        | E::NotAChunker(_)
        | E::NotAnEmbedder(_)
        | E::ChunkLimit { .. }
        | E::BadLimit { .. }
        | E::SourceRootMissing { .. } => ErrorKind::Invalid,
        E::Store(e) => store_kind(e),
        E::Index(e) => index_kind(e),
        E::Runtime(e) => runtime_kind(e),
        E::Models(e) => models_kind(e),
        _ => ErrorKind::Internal,
    }
}

fn runtime_kind(e: &genops_runtime::Error) -> ErrorKind {
    use genops_runtime::{Error as E, PluginError};
    match e {
        E::UnknownPlugin { .. } => ErrorKind::NotFound,
        E::Manifest(_)
        | E::Config(_)
        | E::NotWasm { .. }
        | E::CoreModule { .. }
        | E::UnsupportedWorld { .. }
        | E::UnsupportedManifestWorld { .. }
        | E::ModelUnavailable { .. }
        | E::UnknownConfigKey { .. }
        | E::InvalidGrant { .. }
        | E::WrongKind { .. }
        | E::LimitAboveCeiling { .. }
        | E::DocumentTooLarge { .. } => ErrorKind::Invalid,
        E::Plugin {
            error: PluginError::InvalidConfig(_) | PluginError::InvalidInput(_),
            ..
        } => ErrorKind::Invalid,
        E::NothingToRollBack { .. } => ErrorKind::Conflict,
        _ => ErrorKind::Internal,
    }
}

fn models_kind(e: &genops_models::Error) -> ErrorKind {
    use genops_models::Error as E;
    match e {
        E::UnknownModel { .. } | E::NotInCatalog { .. } => ErrorKind::NotFound,
        E::InvalidInput(_) | E::Config(_) | E::WrongTask { .. } => ErrorKind::Invalid,
        _ => ErrorKind::Internal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_statuses() {
        let missing = Error::Store(genops_store::Error::UnknownIndex {
            name: "docs".into(),
            existing: vec![],
        });
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        assert_eq!(missing.kind().http_status(), 404);
        assert_eq!(
            missing.fix(),
            Some(Fix::Ingest {
                index: "docs".into()
            })
        );
        let busy = Error::Ingest(genops_ingest::Error::Busy("docs".into()));
        assert_eq!(busy.kind().http_status(), 503);
        let wrong = Error::WrongKind {
            plugin: "p".into(),
            expected: Kind::Chunker,
            found: Kind::Retriever,
            role: "--chunker".into(),
        };
        assert_eq!(wrong.kind(), ErrorKind::Invalid);
        assert_eq!(
            wrong.to_string(),
            "p is a retriever plugin; --chunker needs a chunker"
        );
    }

    #[test]
    fn library_errors_carry_their_fix_through_any_wrapping() {
        let models = genops_models::Error::UnknownModel {
            name: "m".into(),
            installed: vec![],
        };
        assert!(!models.to_string().contains("`genops "), "{models}");
        assert_eq!(
            fix_of(&models),
            Some(Fix::InstallModel { model: "m".into() })
        );
        let wrapped = Error::Ingest(genops_ingest::Error::Models(models));
        assert_eq!(
            fix_of(&wrapped),
            Some(Fix::InstallModel { model: "m".into() })
        );
        let missing = genops_index::Error::UnknownIndex {
            name: "docs".into(),
            known: vec![],
        };
        assert!(!missing.to_string().contains("`genops "), "{missing}");
        assert_eq!(
            fix_of(&missing),
            Some(Fix::Ingest {
                index: "docs".into()
            })
        );
        let io = std::io::Error::other("disk on fire");
        assert_eq!(fix_of(&io), None);
    }

    #[test]
    fn a_folder_named_like_a_plugin_gets_a_path_fix() {
        let e = Error::PluginNotFound {
            name: "chunker-x".into(),
            folder_here: true,
        };
        assert_eq!(
            e.fix(),
            Some(Fix::UsePath {
                path: "./chunker-x".into()
            })
        );
    }
}
