//! Plugins by name, with atomic hot swap and rollback.

use std::collections::BTreeMap;
use std::sync::RwLock;

use crate::{Error, Plugin, PluginId};

/// The plugins a process serves, by name.
///
/// [`Registry::get`] hands out a clone of the active version; a call keeps that clone until
/// it ends. [`Registry::install`] swaps the active version under a short write lock, so calls
/// in flight finish on the version they started with and calls that start afterwards get the
/// new one. Replaced versions are kept, newest last, for [`Registry::rollback`].
#[derive(Default)]
pub struct Registry {
    entries: RwLock<BTreeMap<String, Entry>>,
}

struct Entry {
    active: Plugin,
    previous: Vec<Plugin>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// The active version of `name`.
    pub fn get(&self, name: &str) -> Result<Plugin, Error> {
        let entries = self.entries.read().expect("registry lock poisoned");
        entries
            .get(name)
            .map(|e| e.active.clone())
            .ok_or_else(|| Error::UnknownPlugin {
                name: name.to_string(),
                available: entries.keys().cloned().collect(),
            })
    }

    /// Makes `plugin` the active version of its name; returns the version it replaced.
    pub fn install(&self, plugin: Plugin) -> Option<Plugin> {
        let name = plugin.id().name.clone();
        let mut entries = self.entries.write().expect("registry lock poisoned");
        match entries.get_mut(&name) {
            Some(entry) => {
                let old = std::mem::replace(&mut entry.active, plugin);
                entry.previous.push(old.clone());
                tracing::info!(from = %old.id(), to = %entry.active.id(), "plugin swapped");
                Some(old)
            }
            None => {
                tracing::info!(plugin = %plugin.id(), "plugin installed");
                entries.insert(
                    name,
                    Entry {
                        active: plugin,
                        previous: Vec::new(),
                    },
                );
                None
            }
        }
    }

    /// Makes the version before the active one active again; returns the now active plugin.
    /// The rolled-back version is dropped once no call holds it any more.
    pub fn rollback(&self, name: &str) -> Result<Plugin, Error> {
        let mut entries = self.entries.write().expect("registry lock poisoned");
        let available: Vec<String> = entries.keys().cloned().collect();
        let entry = entries.get_mut(name).ok_or_else(|| Error::UnknownPlugin {
            name: name.to_string(),
            available,
        })?;
        let previous = entry
            .previous
            .pop()
            .ok_or_else(|| Error::NothingToRollBack {
                name: name.to_string(),
            })?;
        let dropped = std::mem::replace(&mut entry.active, previous);
        tracing::info!(from = %dropped.id(), to = %entry.active.id(), "plugin rolled back");
        Ok(entry.active.clone())
    }

    /// Removes a plugin and its history.
    pub fn remove(&self, name: &str) -> Option<Plugin> {
        let mut entries = self.entries.write().expect("registry lock poisoned");
        entries.remove(name).map(|e| e.active)
    }

    /// The active version of every plugin, by name.
    pub fn list(&self) -> Vec<Plugin> {
        let entries = self.entries.read().expect("registry lock poisoned");
        entries.values().map(|e| e.active.clone()).collect()
    }

    /// The versions `rollback` would return to, oldest first.
    pub fn history(&self, name: &str) -> Vec<PluginId> {
        let entries = self.entries.read().expect("registry lock poisoned");
        entries
            .get(name)
            .map(|e| e.previous.iter().map(|p| p.id().clone()).collect())
            .unwrap_or_default()
    }
}
