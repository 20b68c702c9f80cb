//! The composition root: configuration, store, models, runtime and catalog, each built once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use genops_index::{LiveLocation, OpenOnUse};

use genops_models::{ModelStore, Models};
use genops_runtime::{Catalog, CompileCache, Runtime};
use genops_store::{Store, StoreOptions};

use crate::{Config, Error, Layout};

/// Where every index's live version was when it was opened, and the opened versions.
type Live = (BTreeMap<String, LiveLocation>, Arc<OpenOnUse>);

/// One genops installation: a data directory and its configuration, with the parts that
/// work on it built on first use and then shared. Front ends hold one `App` for their
/// lifetime (a CLI command, a server process) and call its services.
pub struct App {
    layout: Layout,
    config: Config,
    models: OnceLock<Models>,
    runtime: OnceLock<Runtime>,
    store: tokio::sync::OnceCell<Store>,
    /// The live versions retrievers search, with where they were when opened: reused while
    /// no index moves, so a long-running front end does not reopen them per search.
    live: Mutex<Option<Live>>,
}

impl App {
    /// Opens the data directory `data_dir` (or the default one: `$XDG_DATA_HOME/genops`,
    /// else `~/.local/share/genops`) with the configuration at `config` (required when
    /// given) or its `genops.toml` (optional).
    pub fn open(data_dir: Option<PathBuf>, config: Option<PathBuf>) -> Result<App, Error> {
        let layout = Layout::new(match data_dir {
            Some(dir) => dir,
            None => default_data_dir()?,
        });
        let config = match config {
            Some(path) => Config::load(&path, true)?,
            None => Config::load(&layout.config_file(), false)?,
        };
        Ok(App::with_config(layout, config))
    }

    /// An app over `layout` with `config`, for tests and embedders.
    pub fn with_config(layout: Layout, config: Config) -> App {
        App {
            layout,
            config,
            models: OnceLock::new(),
            runtime: OnceLock::new(),
            store: tokio::sync::OnceCell::new(),
            live: Mutex::new(None),
        }
    }

    /// Where everything lives.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.layout.root()
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The installed plugins. Installs are checked against this configuration's runtime
    /// ceilings, so a plugin that no load would accept is refused at install.
    pub fn catalog(&self) -> Catalog {
        Catalog::new(self.layout.plugins()).with_ceilings(&self.config.runtime)
    }

    /// The installed models, on disk.
    pub fn model_store(&self) -> ModelStore {
        ModelStore::at(self.layout.models(), self.layout.onnx_runtime())
    }

    /// The native models; they load on first use, so asking costs nothing.
    pub fn models(&self) -> Result<Models, Error> {
        if let Some(models) = self.models.get() {
            return Ok(models.clone());
        }
        let models = Models::new(self.model_store(), self.config.models.clone())?;
        Ok(self.models.get_or_init(|| models).clone())
    }

    /// The plugin runtime, with the models attached: a plugin granted a model that is not
    /// installed is refused when it loads.
    pub fn runtime(&self) -> Result<Runtime, Error> {
        if let Some(runtime) = self.runtime.get() {
            return Ok(runtime.clone());
        }
        let cache = CompileCache::new(self.layout.compiled_cache(), self.layout.cache_key());
        let runtime = Runtime::with_cache(
            self.config.runtime.clone(),
            Some(cache),
            Some(self.models()?),
        )?;
        Ok(self.runtime.get_or_init(|| runtime).clone())
    }

    /// The store, opened (and migrated) on first use: `[store] url` when the configuration
    /// names one, else `genops.db` in the data directory.
    pub async fn store(&self) -> Result<&Store, Error> {
        self.store
            .get_or_try_init(|| async {
                match &self.config.store.url {
                    Some(url) => Store::connect(url, &StoreOptions::default()).await,
                    None => Store::open(&self.layout.database()).await,
                }
            })
            .await
            .map_err(Error::from)
    }

    /// The live version of every index, opened on first use, as the runtime offers them to
    /// retrievers. Read from the store each time; the opened versions are kept until an
    /// index's live version moves (an ingest or a rollback), and then reopened.
    pub async fn live_indexes(&self) -> Result<Arc<OpenOnUse>, Error> {
        let locations = genops_ingest::live_locations(self.store().await?, self.data_dir()).await?;
        let runtime = self.runtime()?;
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((known, resolver)) = live.as_ref() {
            if *known == locations {
                return Ok(resolver.clone());
            }
        }
        let resolver = Arc::new(OpenOnUse::new(locations.clone()));
        runtime.set_indexes(Some(resolver.clone()));
        *live = Some((locations, resolver.clone()));
        Ok(resolver)
    }

    /// Closes the store if it was opened; call before the process exits so SQLite
    /// checkpoints its log.
    pub async fn close(&self) {
        if let Some(store) = self.store.get() {
            store.close().await;
        }
    }
}

fn default_data_dir() -> Result<PathBuf, Error> {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return Ok(Path::new(&xdg).join("genops"));
    }
    let home = std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .ok_or(Error::NoDataDir)?;
    Ok(Path::new(&home).join(".local/share/genops"))
}
