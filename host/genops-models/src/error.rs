use std::path::PathBuf;

/// Errors of the model store and the model runners.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What the store was doing (`cannot read`, `cannot write`, ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// No ONNX Runtime library was found.
    #[error("the ONNX Runtime library was not found (looked for {}); install the pinned one, or set GENOPS_ONNXRUNTIME (or `onnxruntime` in genops.toml [models]) to the path of libonnxruntime.so 1.24 or newer", list_paths(.searched))]
    RuntimeMissing {
        /// Every place that was looked at.
        searched: Vec<PathBuf>,
    },
    /// The ONNX Runtime library exists but cannot be used.
    #[error("cannot use the ONNX Runtime library {path}: {message}; point GENOPS_ONNXRUNTIME at libonnxruntime.so 1.24 or newer, or install the pinned one")]
    RuntimeLibrary {
        /// The library file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A file's sha256 differs from the one pinned for it (the ONNX Runtime wheel or
    /// library); it is never used.
    #[error("{what} {path} has sha256 {found}, but {} pins sha256 {}; the file is corrupt or was replaced, so genops will not use it: {}", .pin.pinned_by, .pin.sha256, .pin.fix)]
    Sha256Mismatch {
        /// What the file is.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The file's hash.
        found: String,
        /// The hash it must have, who pinned it and how to fix a mismatch.
        pin: Box<crate::catalog::Sha256Pin>,
    },
    /// genops pins no ONNX Runtime build for this platform.
    #[error("genops has no pinned ONNX Runtime build for {platform} (pinned: {}); install the library by hand: get libonnxruntime 1.24 or newer built for this platform, set GENOPS_ONNXRUNTIME to its path and GENOPS_ONNXRUNTIME_SHA256 to its sha256 (`sha256sum <file>`)", .known.join(", "))]
    UnsupportedPlatform {
        /// This host's `<os>-<arch>`.
        platform: String,
        /// The platforms with a pinned build.
        known: Vec<String>,
    },
    /// The name is neither an installed model nor a model folder.
    #[error("unknown model `{name}` (installed: {}); install it, or pass the path of a model folder", if .installed.is_empty() { "none".to_string() } else { .installed.join(", ") })]
    UnknownModel {
        /// The name asked for.
        name: String,
        /// The names that are installed.
        installed: Vec<String>,
    },
    /// The name is not one of the models genops knows how to install from packages.
    #[error("`{name}` is not a model genops can install from packages (known: {}); add your own model from a folder of its ONNX export", .known.join(", "))]
    NotInCatalog {
        /// The name asked for.
        name: String,
        /// The names the catalog knows.
        known: Vec<String>,
    },
    /// A model folder lacks a file it needs.
    #[error("model `{model}` cannot be used: {path} is missing; {hint}")]
    MissingFile {
        /// The model.
        model: String,
        /// The file that is missing.
        path: PathBuf,
        /// How to fix it.
        hint: &'static str,
    },
    /// The model manifest (`genops-model.toml`) or an exporter's `config.json` is invalid.
    #[error("invalid model manifest {path}: {message}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The weights are not the ones the manifest names.
    #[error("the weights of model `{model}` ({path}) have sha256 {actual}, but its manifest says {expected}; the file is corrupt or was replaced: reinstall the model, or fix `sha256` in its genops-model.toml")]
    HashMismatch {
        /// The model.
        model: String,
        /// The weights file.
        path: PathBuf,
        /// The hash in the manifest.
        expected: String,
        /// The hash of the file.
        actual: String,
    },
    /// The tokenizer could not be loaded or failed on an input.
    #[error("tokenizer of model `{model}`: {message}")]
    Tokenizer {
        /// The model.
        model: String,
        /// What the tokenizer said.
        message: String,
    },
    /// ONNX Runtime refused the model or failed to run it.
    #[error("ONNX Runtime, model `{model}`: {message}")]
    Onnx {
        /// The model.
        model: String,
        /// What ONNX Runtime said.
        message: String,
    },
    /// The model's inputs or outputs are not what its task needs.
    #[error("model `{model}` does not fit its task: {message}")]
    Shape {
        /// The model.
        model: String,
        /// What does not fit.
        message: String,
    },
    /// The model cannot do what was asked (embedding with a classifier, and so on).
    #[error("model `{model}` is a {task} model; {operation} needs {needs}")]
    WrongTask {
        /// The model.
        model: String,
        /// Its task.
        task: crate::Task,
        /// What was asked.
        operation: &'static str,
        /// Which tasks would do.
        needs: &'static str,
    },
    /// The request itself is invalid (too many texts, a missing pair, ...).
    #[error("{0}")]
    InvalidInput(String),
    /// Installing from a package failed.
    #[error("cannot install {what} from the package {package}: {message}")]
    Install {
        /// What was being installed.
        what: String,
        /// The package (`name==version`).
        package: String,
        /// What went wrong and how to fix it.
        message: String,
    },
    /// The configuration is invalid.
    #[error("invalid models configuration: {0}")]
    Config(String),
    /// The model's worker stopped (it panicked or the service is shutting down).
    #[error("the worker of model `{0}` stopped; the model is reloaded on the next call")]
    WorkerStopped(String),
}

impl Error {
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

fn list_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "nothing".into();
    }
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
