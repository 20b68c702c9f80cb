//! What a plugin instance sees of the host, one module per import: WASI with nothing
//! granted ([`wasi`]), `logging`, `config`, `models` and `search`. Each module owns the
//! state of its import, checks its own grant and links itself with one `add_to_linker`;
//! [`add_to_linker`] links them all. A new import is a new module here plus a line in
//! [`add_to_linker`] and a field in [`HostState`].

use std::time::Instant;

use wasmtime::component::Linker;
use wasmtime::ResourceLimiter;

use crate::PluginId;

pub(crate) mod config;
pub(crate) mod logging;
pub(crate) mod models;
pub(crate) mod search;
pub(crate) mod wasi;

/// The store data of one plugin instance: the state of each import and the limits of the
/// current call.
pub(crate) struct HostState {
    pub(crate) wasi: wasi::WasiState,
    pub(crate) logging: logging::LoggingState,
    pub(crate) config: config::ConfigState,
    pub(crate) models: models::ModelsState,
    pub(crate) search: search::SearchState,
    pub(crate) limiter: Limiter,
    /// When the current call must end; imports that block check it.
    pub(crate) deadline: Option<Instant>,
}

impl HostState {
    pub(crate) fn new(
        plugin: PluginId,
        config: Vec<(String, String)>,
        memory_cap: u64,
        models: models::ModelsState,
        search: search::SearchState,
    ) -> Self {
        Self {
            wasi: wasi::WasiState::new(),
            logging: logging::LoggingState::new(plugin),
            config: config::ConfigState::new(config),
            models,
            search,
            limiter: Limiter::new(memory_cap),
            deadline: None,
        }
    }

    /// Called before each export call with the call's deadline.
    pub(crate) fn begin_call(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
        self.logging.begin_call();
        self.models.deadline = Some(deadline);
        self.limiter.exceeded = None;
    }
}

/// Links every host import a plugin may use.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasi::add_to_linker(linker)?;
    logging::add_to_linker(linker)?;
    config::add_to_linker(linker)?;
    // Linked whether or not the host has models or indexes: a plugin that imports them
    // loads on every host, and without them (or without a grant) its calls return an error
    // it can handle.
    models::add_to_linker(linker)?;
    search::add_to_linker(linker)?;
    Ok(())
}

/// Caps the memory of a whole plugin instance: the sum of all its linear memories, since a
/// component may hold many (componentize-py components hold several, a hostile one may
/// declare as many as the pool allows). Remembers a refused growth, so a trap caused by the
/// cap is reported as such rather than as a generic trap.
pub(crate) struct Limiter {
    cap: usize,
    /// Bytes of all memories of the store so far. Memories are never shrunk or freed before
    /// the store is dropped, so the total only grows.
    total: usize,
    pub(crate) exceeded: Option<u64>,
}

impl Limiter {
    fn new(cap: u64) -> Self {
        Self {
            cap: usize::try_from(cap).unwrap_or(usize::MAX),
            total: 0,
            exceeded: None,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Called for each memory when it is created (current 0) and at each growth.
        let growth = desired.saturating_sub(current);
        let total = self.total.saturating_add(growth);
        if total > self.cap {
            let asked = total as u64;
            self.exceeded = Some(asked);
            wasmtime::bail!(
                "memory growth to {asked} bytes in all refused: the cap is {} bytes",
                self.cap
            );
        }
        self.total = total;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_cap_counts_every_memory_of_the_instance() {
        let mut limiter = Limiter::new(100);
        assert!(limiter.memory_growing(0, 40, None).unwrap());
        assert!(limiter.memory_growing(0, 40, None).unwrap());
        // A third memory of 40 would bring the instance to 120, above the cap of 100.
        assert!(limiter.memory_growing(0, 40, None).is_err());
        assert_eq!(limiter.exceeded, Some(120));
        // Growing the first memory by 20 fits exactly.
        assert!(limiter.memory_growing(40, 60, None).unwrap());
        assert!(limiter.memory_growing(60, 61, None).is_err());
    }

    /// Regression: the cap counted each linear memory alone, so a component with 7 extra
    /// memories under a 256 MiB cap reached 1.8 GB. Here a component built from WAT holds
    /// eight core instances with a memory each; growing them all is refused at the cap.
    #[test]
    fn extra_memories_count_against_the_cap() {
        const PAGE: usize = 64 << 10;
        let memories = 8;
        let mut wat = String::from(
            "(component (core module $m (memory 1) (func (export \"grow\") (param i32) (result i32) local.get 0 memory.grow))",
        );
        for i in 0..memories {
            wat.push_str(&format!(
                " (core instance $i{i} (instantiate $m)) (func (export \"grow{i}\") (param \"pages\" u32) (result s32) (canon lift (core func $i{i} \"grow\")))"
            ));
        }
        wat.push(')');
        let engine = wasmtime::Engine::default();
        let component = wasmtime::component::Component::new(&engine, &wat).unwrap();
        // 64 pages in all: the eight initial pages and seven growths of eight pages fit.
        let mut store = wasmtime::Store::new(&engine, Limiter::new((64 * PAGE) as u64));
        store.limiter(|l| l);
        let instance = wasmtime::component::Linker::new(&engine)
            .instantiate(&mut store, &component)
            .unwrap();
        for i in 0..memories {
            let grow = instance
                .get_typed_func::<(u32,), (i32,)>(&mut store, &format!("grow{i}"))
                .unwrap();
            let result = grow.call(&mut store, (8,));
            if i < memories - 1 {
                assert_eq!(result.unwrap(), (1,), "memory {i} grows from its one page");
            } else {
                assert!(result.is_err(), "the eighth growth passes the cap");
                assert_eq!(store.data().exceeded, Some((72 * PAGE) as u64));
            }
        }
    }
}
