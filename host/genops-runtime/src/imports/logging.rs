//! `genops:plugin/logging`: a plugin's log messages, into the host's tracing with the
//! plugin named, under a per-call budget.

use wasmtime::component::{HasData, Linker};

use super::HostState;
use crate::bindings::logging;
use crate::PluginId;

/// Messages one call may log before the host drops the rest, so a chatty or hostile plugin
/// cannot flood the log.
const LOG_BUDGET: u32 = 1000;
/// Longest message kept; the rest is cut.
const LOG_MAX_BYTES: usize = 4096;

pub(crate) struct LoggingState {
    plugin: PluginId,
    budget: u32,
}

impl LoggingState {
    pub(crate) fn new(plugin: PluginId) -> Self {
        Self {
            plugin,
            budget: LOG_BUDGET,
        }
    }

    pub(crate) fn begin_call(&mut self) {
        self.budget = LOG_BUDGET;
    }
}

struct Logging;

impl HasData for Logging {
    type Data<'a> = &'a mut LoggingState;
}

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    logging::add_to_linker::<HostState, Logging>(linker, |s| &mut s.logging)
}

impl logging::Host for LoggingState {
    fn log(&mut self, level: logging::Level, message: String) {
        if self.budget == 0 {
            return;
        }
        self.budget -= 1;
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
        if self.budget == 0 {
            tracing::warn!(%plugin, "plugin logged {LOG_BUDGET} messages in one call; dropping the rest");
        }
    }
}
