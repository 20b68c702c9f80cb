//! The data directory's layout: the only place that spells where genops keeps its state.

use std::path::{Path, PathBuf};

/// Where everything lives under one data directory.
///
/// ```text
/// <data-dir>/
///   genops.toml            configuration (optional)
///   genops.db              the store: documents, chunks, index versions, lineage
///   plugins/<name>/<ver>/  installed plugins
///   cache/compiled/        compiled plugin artifacts (private)
///   cache.key              the key that authenticates compiled artifacts
///   models/<name>/         installed ONNX models
///   lib/                   the ONNX Runtime library
///   indexes/<name>/v<n>/   index versions, recorded by the store relative to the root
///   indexes/<name>.lock    the per-index ingest lock, taken by genops-ingest
/// ```
///
/// The two index paths are still spelled by genops-store (each version row records its
/// folder) and genops-ingest (the lock); [`Layout::version_dir`] resolves what the store
/// recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The data directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `genops.toml`, read when no `--config` is given.
    pub fn config_file(&self) -> PathBuf {
        self.root.join("genops.toml")
    }

    /// The SQLite store.
    pub fn database(&self) -> PathBuf {
        self.root.join(genops_store::DATABASE_FILE)
    }

    /// Installed plugins, one folder per name and version.
    pub fn plugins(&self) -> PathBuf {
        self.root.join("plugins")
    }

    /// Compiled plugin artifacts.
    pub fn compiled_cache(&self) -> PathBuf {
        self.root.join("cache").join("compiled")
    }

    /// The secret that authenticates compiled artifacts; kept outside the cache folder so
    /// that whoever can write into the cache cannot forge it.
    pub fn cache_key(&self) -> PathBuf {
        self.root.join("cache.key")
    }

    /// Installed ONNX models.
    pub fn models(&self) -> PathBuf {
        self.root.join("models")
    }

    /// The ONNX Runtime library.
    pub fn onnx_runtime(&self) -> PathBuf {
        self.root.join("lib")
    }

    /// A version's folder, from the folder the store records for it (relative to the
    /// data directory, so a data directory can be moved).
    pub fn version_dir(&self, recorded: &str) -> PathBuf {
        self.root.join(recorded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_under_the_root() {
        let layout = Layout::new("/data");
        for path in [
            layout.config_file(),
            layout.database(),
            layout.plugins(),
            layout.compiled_cache(),
            layout.cache_key(),
            layout.models(),
            layout.onnx_runtime(),
            layout.version_dir("indexes/docs/v3"),
        ] {
            assert!(path.starts_with("/data"), "{}", path.display());
        }
        assert!(!layout.cache_key().starts_with(layout.compiled_cache()));
    }
}
