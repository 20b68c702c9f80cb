//! `genops:plugin/config`: the configuration of the current session, the manifest's
//! defaults overlaid with what the caller set.

use wasmtime::component::{HasData, Linker};

use super::HostState;
use crate::bindings::config;

pub(crate) struct ConfigState {
    /// Sorted by key, for binary search.
    entries: Vec<(String, String)>,
}

impl ConfigState {
    pub(crate) fn new(mut entries: Vec<(String, String)>) -> Self {
        entries.sort();
        entries.dedup_by(|a, b| a.0 == b.0);
        Self { entries }
    }
}

struct Config;

impl HasData for Config {
    type Data<'a> = &'a mut ConfigState;
}

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    config::add_to_linker::<HostState, Config>(linker, |s| &mut s.config)
}

impl config::Host for ConfigState {
    fn get(&mut self, key: String) -> Option<String> {
        self.entries
            .binary_search_by(|(k, _)| k.as_str().cmp(&key))
            .ok()
            .map(|i| self.entries[i].1.clone())
    }

    fn entries(&mut self) -> Vec<(String, String)> {
        self.entries.clone()
    }
}
