//! The data directory and `genops.toml`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use genops_models::{ModelStore, Models, ModelsConfig};
use genops_runtime::{Catalog, Runtime, RuntimeConfig};
use serde::Deserialize;

/// `genops.toml`. Unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    /// Limits and ceilings of the plugin runtime.
    #[serde(default)]
    pub runtime: RuntimeConfig,
    /// The ONNX Runtime library, threads and batching of native models.
    #[serde(default)]
    pub models: ModelsConfig,
}

pub struct Settings {
    pub data_dir: PathBuf,
    pub config: ConfigFile,
}

impl Settings {
    pub fn load(data_dir: Option<PathBuf>, config_path: Option<PathBuf>) -> Result<Settings> {
        let data_dir = match data_dir {
            Some(dir) => dir,
            None => default_data_dir()?,
        };
        let (path, required) = match config_path {
            Some(path) => (path, true),
            None => (data_dir.join("genops.toml"), false),
        };
        let config = if path.is_file() || required {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read config file {}", path.display()))?;
            let config: ConfigFile = toml::from_str(&text).map_err(|e| {
                anyhow::anyhow!(
                    "invalid config file {}: {}",
                    path.display(),
                    e.to_string().trim_end().replace('\n', " ")
                )
            })?;
            config
                .runtime
                .validate()
                .with_context(|| format!("in config file {}", path.display()))?;
            config
                .models
                .validate()
                .with_context(|| format!("in config file {}", path.display()))?;
            config
        } else {
            ConfigFile::default()
        };
        Ok(Settings { data_dir, config })
    }

    pub fn catalog(&self) -> Catalog {
        Catalog::new(self.data_dir.join("plugins"))
    }

    pub fn model_store(&self) -> ModelStore {
        ModelStore::new(&self.data_dir)
    }

    pub fn models(&self) -> Result<Models> {
        Ok(Models::new(self.model_store(), self.config.models.clone())?)
    }

    /// The store of documents, chunks and index versions: `genops.db` in the data directory.
    pub async fn store(&self) -> Result<genops_store::Store> {
        Ok(genops_store::Store::open_in(&self.data_dir).await?)
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.data_dir.join("cache").join("compiled")
    }

    /// The plugin runtime, with the data directory's models attached: models load on first
    /// use, so a plugin that calls none costs nothing, and a plugin granted a model that is
    /// not installed is refused when it loads.
    pub fn runtime(&self) -> Result<Runtime> {
        Ok(Runtime::with_models(
            self.config.runtime.clone(),
            Some(self.cache_dir()),
            Some(self.models()?),
        )?)
    }
}

fn default_data_dir() -> Result<PathBuf> {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(Path::new(&xdg).join("genops"));
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .context("cannot find a data directory: set --data-dir or GENOPS_DATA_DIR")?;
    Ok(Path::new(&home).join(".local/share/genops"))
}
