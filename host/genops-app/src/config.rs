//! `genops.toml`: the runtime's limits, the native models' settings. Unknown keys are errors.

use std::path::Path;

use genops_ingest::IngestLimits;
use genops_models::ModelsConfig;
use genops_runtime::RuntimeConfig;
use serde::Deserialize;

use crate::Error;

/// The configuration file. Every section is optional; a missing one takes its defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Limits and ceilings of the plugin runtime.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// The ONNX Runtime library, threads and batching of native models.
    #[serde(default)]
    pub models: ModelsConfig,
    /// What ingestion accepts from files and chunkers.
    #[serde(default)]
    pub ingest: IngestLimits,
    /// Where the store is.
    #[serde(default)]
    pub store: StoreConfig,
}

/// `[store]`: the metadata store. By default `genops.db` in the data directory.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct StoreConfig {
    /// A store URL instead of the data directory's SQLite file: `sqlite://<path>` today;
    /// `postgres://` is refused with a clear error until that backend is built in.
    pub url: Option<String>,
}

impl Config {
    /// Parses and validates a configuration. `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Config, Error> {
        let invalid = |message: String| Error::Config {
            path: origin.to_path_buf(),
            message,
        };
        let config: Config = toml::from_str(text)
            .map_err(|e| invalid(e.to_string().trim_end().replace('\n', " ")))?;
        config
            .runtime
            .validate()
            .map_err(|e| invalid(e.to_string()))?;
        config
            .models
            .validate()
            .map_err(|e| invalid(e.to_string()))?;
        config
            .ingest
            .validate()
            .map_err(|e| invalid(e.to_string()))?;
        Ok(config)
    }

    /// Reads `path`. When `required` is false, a missing file is the default config.
    pub fn load(path: &Path, required: bool) -> Result<Config, Error> {
        if !required && !path.exists() {
            return Ok(Config::default());
        }
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            action: "cannot read config file",
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_refused_with_the_file_named() {
        let err = Config::parse("[runtime]\nmax-memroy-mb = 3\n", Path::new("g.toml")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("g.toml") && text.contains("max-memroy-mb"),
            "{text}"
        );
        assert_eq!(err.kind(), crate::ErrorKind::Invalid);
    }

    #[test]
    fn ingest_limits_are_read_and_checked() {
        let config = Config::parse(
            "[ingest]\nmax-chunks-per-document = 50\n",
            Path::new("g.toml"),
        )
        .unwrap();
        assert_eq!(config.ingest.max_chunks_per_document, 50);
        let err = Config::parse("[ingest]\nmax-chunk-bytes-ratio = 0\n", Path::new("g.toml"))
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Invalid, "{err}");
        let err = Config::parse("[ingest]\nmax-files = 3\n", Path::new("g.toml")).unwrap_err();
        assert!(err.to_string().contains("max-files"), "{err}");
    }

    #[test]
    fn a_store_url_is_read_and_other_store_keys_are_refused() {
        let config = Config::parse(
            "[store]\nurl = \"sqlite:///tmp/x.db\"\n",
            Path::new("g.toml"),
        )
        .unwrap();
        assert_eq!(config.store.url.as_deref(), Some("sqlite:///tmp/x.db"));
        let err = Config::parse("[store]\npath = \"x\"\n", Path::new("g.toml")).unwrap_err();
        assert!(err.to_string().contains("path"), "{err}");
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        Config::parse("", Path::new("g.toml")).unwrap();
    }

    #[test]
    fn a_missing_optional_file_is_the_defaults_but_a_missing_required_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("genops.toml");
        Config::load(&path, false).unwrap();
        let err = Config::load(&path, true).unwrap_err();
        assert!(err.to_string().contains("cannot read config file"), "{err}");
    }
}
