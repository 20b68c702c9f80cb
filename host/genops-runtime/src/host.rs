//! What a plugin instance sees of the host: WASI with nothing granted, the logging, config
//! and models imports, and the limits of its store.

use std::sync::Arc;

use genops_index::{IndexResolver, LiveIndex};
use genops_models::Models;
use wasmtime::component::ResourceTable;
use wasmtime::ResourceLimiter;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::{config, logging, models, search, types};
use crate::PluginId;

/// Messages one call may log before the host drops the rest, so a chatty or hostile plugin
/// cannot flood the log.
const LOG_BUDGET: u32 = 1000;
/// Longest message kept; the rest is cut.
const LOG_MAX_BYTES: usize = 4096;
/// Bytes of stderr kept per instance, for fault reports.
pub(crate) const STDERR_BYTES: usize = 16 * 1024;

pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: Limiter,
    config: Vec<(String, String)>,
    plugin: PluginId,
    log_budget: u32,
    models: ModelAccess,
    indexes: IndexAccess,
}

/// The models a plugin may call: the runtime's models, if it has any, and the names the
/// plugin's manifest grants. Cheap to clone.
#[derive(Clone)]
pub(crate) struct ModelAccess {
    pub(crate) models: Option<Models>,
    pub(crate) granted: Arc<[String]>,
}

/// The indexes a retriever may search: the runtime's resolver, if it has one, and the names
/// the plugin's manifest grants (`*`: every index).
#[derive(Clone)]
pub(crate) struct IndexAccess {
    pub(crate) indexes: Option<Arc<dyn IndexResolver>>,
    pub(crate) granted: Arc<[String]>,
}

impl HostState {
    pub(crate) fn new(
        plugin: PluginId,
        config: Vec<(String, String)>,
        memory_cap: u64,
        stderr: MemoryOutputPipe,
        models: ModelAccess,
        indexes: IndexAccess,
    ) -> Self {
        // Nothing is granted: no files, no environment, no arguments, no network.
        let wasi = WasiCtxBuilder::new().stderr(stderr).build();
        Self {
            wasi,
            table: ResourceTable::new(),
            limiter: Limiter {
                memory_cap: usize::try_from(memory_cap).unwrap_or(usize::MAX),
                exceeded: None,
            },
            config,
            plugin,
            log_budget: LOG_BUDGET,
            models,
            indexes,
        }
    }

    /// The models, if the plugin may use `model`: the grant is checked before anything
    /// else, so an ungranted plugin learns nothing about what the host has installed.
    fn model_access(&self, model: &str) -> Result<&Models, models::ModelError> {
        let granted = &self.models.granted;
        if !granted.iter().any(|g| g == model) {
            let list = if granted.is_empty() {
                "it grants none".to_string()
            } else {
                format!("it grants {}", granted.join(", "))
            };
            return Err(models::ModelError::NotGranted(format!(
                "{} may not use model `{model}`: its manifest does not grant it ({list}); add \"{model}\" to `[capabilities] models` in its genops-plugin.toml",
                self.plugin
            )));
        }
        self.models.models.as_ref().ok_or_else(|| {
            models::ModelError::Failed(format!(
                "this host runs without native models, so model `{model}` cannot run; the operator installs it with `genops models install {model}` and runs the plugin in a host started with models"
            ))
        })
    }

    /// Logs a failed model call at debug level: the plugin gets the error and decides
    /// whether it matters, so it is not the host's warning to give.
    fn model_result<T>(
        &self,
        model: &str,
        call: &str,
        result: Result<T, genops_models::Error>,
    ) -> Result<T, models::ModelError> {
        result.map_err(|e| {
            let plugin = &self.plugin;
            tracing::debug!(%plugin, model, call, "model call failed: {e}");
            model_error(e)
        })
    }

    /// Called before each export call.
    pub(crate) fn reset_for_call(&mut self) {
        self.log_budget = LOG_BUDGET;
        self.limiter.exceeded = None;
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl types::Host for HostState {}

impl logging::Host for HostState {
    fn log(&mut self, level: logging::Level, message: String) {
        if self.log_budget == 0 {
            return;
        }
        self.log_budget -= 1;
        let mut message = message;
        if message.len() > LOG_MAX_BYTES {
            let mut cut = LOG_MAX_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str(" [cut]");
        }
        let plugin = &self.plugin;
        match level {
            logging::Level::Trace => tracing::trace!(%plugin, "{message}"),
            logging::Level::Debug => tracing::debug!(%plugin, "{message}"),
            logging::Level::Info => tracing::info!(%plugin, "{message}"),
            logging::Level::Warn => tracing::warn!(%plugin, "{message}"),
            logging::Level::Error => tracing::error!(%plugin, "{message}"),
        }
        if self.log_budget == 0 {
            tracing::warn!(%plugin, "plugin logged {LOG_BUDGET} messages in one call; dropping the rest");
        }
    }
}

impl config::Host for HostState {
    fn get(&mut self, key: String) -> Option<String> {
        self.config
            .binary_search_by(|(k, _)| k.as_str().cmp(&key))
            .ok()
            .map(|i| self.config[i].1.clone())
    }

    fn entries(&mut self) -> Vec<(String, String)> {
        self.config.clone()
    }
}

// A model call blocks the plugin's call until the model has run. The epoch deadline keeps
// counting meanwhile: wasm code cannot be interrupted inside a host function, so a call whose
// deadline passed during the model run traps as a timeout as soon as it is back in wasm.
impl models::Host for HostState {
    fn embed(
        &mut self,
        model: String,
        texts: Vec<String>,
    ) -> Result<Vec<models::Embedding>, models::ModelError> {
        let result = self.model_access(&model)?.embed(&model, &texts);
        Ok(self
            .model_result(&model, "embed", result)?
            .into_iter()
            .map(|e| models::Embedding {
                vector: e.vector,
                tokens: e.tokens,
                truncated: e.truncated,
            })
            .collect())
    }

    fn embed_tokens(
        &mut self,
        model: String,
        text: String,
    ) -> Result<models::TokenEmbeddings, models::ModelError> {
        let result = self.model_access(&model)?.embed_tokens(&model, &text);
        let out = self.model_result(&model, "embed-tokens", result)?;
        Ok(models::TokenEmbeddings {
            tokens: out
                .tokens
                .into_iter()
                .map(|t| models::Token {
                    text: t.token,
                    start: t.start,
                    end: t.end,
                    special: t.special,
                })
                .collect(),
            vectors: out.vectors,
            truncated: out.truncated,
        })
    }

    fn classify(
        &mut self,
        model: String,
        inputs: Vec<models::ClassifyInput>,
    ) -> Result<Vec<models::Classification>, models::ModelError> {
        let inputs: Vec<genops_models::ClassifyInput> = inputs
            .into_iter()
            .map(|i| genops_models::ClassifyInput {
                text: i.text,
                pair: i.pair,
            })
            .collect();
        let result = self.model_access(&model)?.classify(&model, &inputs);
        Ok(self
            .model_result(&model, "classify", result)?
            .into_iter()
            .map(|c| models::Classification {
                scores: c
                    .scores
                    .into_iter()
                    .map(|s| models::LabelScore {
                        label: s.label,
                        score: s.score,
                    })
                    .collect(),
                truncated: c.truncated,
            })
            .collect())
    }

    fn count_tokens(
        &mut self,
        model: String,
        texts: Vec<String>,
    ) -> Result<Vec<u32>, models::ModelError> {
        let result = self.model_access(&model)?.count_tokens(&model, &texts);
        self.model_result(&model, "count-tokens", result)
    }
}

/// The most results or chunks one search call may ask for: enough for any reranking stage,
/// small enough that a plugin cannot make the host allocate without bound.
const MAX_SEARCH_K: u32 = 10_000;

impl HostState {
    /// The live version of `index`, if the plugin may search it: the grant is checked first,
    /// so an ungranted plugin learns nothing about which indexes exist.
    fn index_access(&self, index: &str) -> Result<Arc<LiveIndex>, search::SearchError> {
        let granted = &self.indexes.granted;
        if !granted.iter().any(|g| g == "*" || g == index) {
            let list = if granted.is_empty() {
                "it grants none".to_string()
            } else {
                format!("it grants {}", granted.join(", "))
            };
            return Err(search::SearchError::NotGranted(format!(
                "{} may not search index `{index}`: its manifest does not grant it ({list}); add \"{index}\" (or \"*\") to `[capabilities] indexes` in its genops-plugin.toml",
                self.plugin
            )));
        }
        let resolver = self.indexes.indexes.as_ref().ok_or_else(|| {
            search::SearchError::Failed(format!(
                "this host runs without indexes, so index `{index}` cannot be searched; run the retriever through `genops search` or a service with indexes"
            ))
        })?;
        resolver.resolve(index).map_err(search_error)
    }
}

fn check_k(what: &str, k: u32) -> Result<usize, search::SearchError> {
    if k > MAX_SEARCH_K {
        return Err(search::SearchError::InvalidQuery(format!(
            "{what} is {k}; ask for at most {MAX_SEARCH_K}"
        )));
    }
    Ok(k as usize)
}

fn filters(list: Vec<search::Filter>) -> Vec<genops_index::Filter> {
    use genops_index::FilterOp as Op;
    list.into_iter()
        .map(|f| genops_index::Filter {
            field: f.field,
            op: match f.op {
                search::FilterOp::Eq => Op::Eq,
                search::FilterOp::NotEq => Op::NotEq,
                search::FilterOp::Lt => Op::Lt,
                search::FilterOp::Lte => Op::Lte,
                search::FilterOp::Gt => Op::Gt,
                search::FilterOp::Gte => Op::Gte,
                search::FilterOp::Prefix => Op::Prefix,
            },
            value: f.value,
        })
        .collect()
}

fn scored(hits: Vec<genops_index::Scored>) -> Vec<search::Scored> {
    hits.into_iter()
        .map(|h| search::Scored {
            chunk_id: h.chunk_id,
            score: h.score,
        })
        .collect()
}

/// The WIT case of an index error: what the plugin asked wrongly, or what failed.
fn search_error(e: genops_index::Error) -> search::SearchError {
    if matches!(e, genops_index::Error::UnknownIndex { .. }) {
        search::SearchError::UnknownIndex(e.to_string())
    } else if e.is_bad_request() {
        search::SearchError::InvalidQuery(e.to_string())
    } else {
        search::SearchError::Failed(e.to_string())
    }
}

// Searches run in the calling plugin's thread, like model calls: the epoch deadline keeps
// counting, and a plugin whose deadline passed during a search traps when it is back in wasm.
impl search::Host for HostState {
    fn describe_index(&mut self, index: String) -> Result<search::IndexInfo, search::SearchError> {
        let live = self.index_access(&index)?;
        let meta = live.data.meta();
        Ok(search::IndexInfo {
            name: live.name.clone(),
            version: live.version,
            chunks: u64::from(meta.rows),
            embedder: live.embedder.clone(),
            dimensions: meta.dimensions.unwrap_or(0),
            approximate: meta.ann,
            fields: meta.fields.clone(),
        })
    }

    fn search_text(
        &mut self,
        index: String,
        query: String,
        k: u32,
        filter_list: Vec<search::Filter>,
    ) -> Result<Vec<search::Scored>, search::SearchError> {
        let k = check_k("k", k)?;
        let live = self.index_access(&index)?;
        let hits = live
            .data
            .search_text(&query, k, &filters(filter_list))
            .map_err(search_error)?;
        Ok(scored(hits))
    }

    fn embed_query(
        &mut self,
        index: String,
        text: String,
    ) -> Result<Vec<f32>, search::SearchError> {
        let live = self.index_access(&index)?;
        let model = live.embedder.as_deref().ok_or_else(|| {
            search::SearchError::InvalidQuery(format!(
                "index `{index}` has no vectors (it was ingested without --model), so there is no model to embed the query with; search it by text"
            ))
        })?;
        let models = self.models.models.as_ref().ok_or_else(|| {
            search::SearchError::Failed(format!(
                "this host runs without native models, so the query cannot be embedded with `{model}`"
            ))
        })?;
        let mut out = models.embed(model, &[text]).map_err(|e| match e {
            genops_models::Error::InvalidInput(_) => {
                search::SearchError::InvalidQuery(e.to_string())
            }
            _ => search::SearchError::Failed(e.to_string()),
        })?;
        Ok(out.pop().map(|e| e.vector).unwrap_or_default())
    }

    fn search_vector(
        &mut self,
        index: String,
        vector: Vec<f32>,
        k: u32,
        filter_list: Vec<search::Filter>,
        mode: search::VectorMode,
    ) -> Result<Vec<search::Scored>, search::SearchError> {
        let k = check_k("k", k)?;
        let live = self.index_access(&index)?;
        let mode = match mode {
            search::VectorMode::Auto => genops_index::VectorMode::Auto,
            search::VectorMode::Exact => genops_index::VectorMode::Exact,
            search::VectorMode::Approximate => genops_index::VectorMode::Approximate,
        };
        let hits = live
            .data
            .search_vector(&vector, k, &filters(filter_list), mode)
            .map_err(search_error)?;
        Ok(scored(hits))
    }

    fn fetch_chunks(
        &mut self,
        index: String,
        ids: Vec<String>,
        vectors: bool,
    ) -> Result<Vec<search::ChunkRecord>, search::SearchError> {
        check_k(
            "the number of ids",
            u32::try_from(ids.len()).unwrap_or(u32::MAX),
        )?;
        let live = self.index_access(&index)?;
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let records = live.data.fetch(&ids, vectors).map_err(search_error)?;
        Ok(records
            .into_iter()
            .map(|r| search::ChunkRecord {
                chunk_id: r.chunk_id,
                source: r.source,
                text: r.text,
                start: r.start,
                end: r.end,
                metadata: r.metadata.into_iter().collect(),
                vector: r.vector,
            })
            .collect())
    }
}

/// The WIT case of a model error; the message is the error's own, which says what to do.
fn model_error(e: genops_models::Error) -> models::ModelError {
    use genops_models::Error as E;
    match e {
        E::UnknownModel { .. } => models::ModelError::UnknownModel(e.to_string()),
        E::InvalidInput(_) | E::WrongTask { .. } => models::ModelError::InvalidInput(e.to_string()),
        _ => models::ModelError::Failed(e.to_string()),
    }
}

/// Caps each linear memory of an instance and remembers a refused growth, so a trap caused
/// by the cap is reported as such rather than as a generic trap.
pub(crate) struct Limiter {
    memory_cap: usize,
    pub(crate) exceeded: Option<u64>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_cap {
            self.exceeded = Some(desired as u64);
            wasmtime::bail!(
                "memory growth to {desired} bytes refused: the cap is {} bytes",
                self.memory_cap
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(maximum.is_none_or(|max| desired <= max))
    }
}
