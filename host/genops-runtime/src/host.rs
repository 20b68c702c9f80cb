//! What a plugin instance sees of the host: WASI with nothing granted, the logging and config
//! imports, and the limits of its store.

use wasmtime::component::ResourceTable;
use wasmtime::ResourceLimiter;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::bindings::{config, logging, types};
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
}

impl HostState {
    pub(crate) fn new(
        plugin: PluginId,
        config: Vec<(String, String)>,
        memory_cap: u64,
        stderr: MemoryOutputPipe,
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
        }
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
