//! Host bindings of the four plugin worlds, generated from the newest WIT of the 0.1 line.
//! The chunker world generates the shared interfaces (types, logging, config, models); the
//! others reuse them through `with`, so one implementation of the host imports serves every
//! kind. The retriever world alone imports `search`, so its bindings generate it.
//!
//! Components built against an older 0.1.x load too: wasmtime looks names up
//! semver-compatibly (`genops:plugin/chunker@0.1.2` finds an export named `@0.1.0`, and an
//! import of `genops:plugin/logging@0.1.0` finds the linker's `@0.1.2`), and a 0.1.x release
//! only adds items, so an older component's exports have the types these bindings expect.

pub mod chunker {
    wasmtime::component::bindgen!({
        path: "../../wit/plugin@0.1",
        world: "chunker-plugin",
    });
}

pub mod retriever {
    wasmtime::component::bindgen!({
        path: "../../wit/plugin@0.1",
        world: "retriever-plugin",
        with: {
            "genops:plugin/types": crate::bindings::chunker::genops::plugin::types,
            "genops:plugin/logging": crate::bindings::chunker::genops::plugin::logging,
            "genops:plugin/config": crate::bindings::chunker::genops::plugin::config,
            "genops:plugin/models": crate::bindings::chunker::genops::plugin::models,
        },
    });
}

pub mod evaluator {
    wasmtime::component::bindgen!({
        path: "../../wit/plugin@0.1",
        world: "evaluator-plugin",
        with: {
            "genops:plugin/types": crate::bindings::chunker::genops::plugin::types,
            "genops:plugin/logging": crate::bindings::chunker::genops::plugin::logging,
            "genops:plugin/config": crate::bindings::chunker::genops::plugin::config,
            "genops:plugin/models": crate::bindings::chunker::genops::plugin::models,
        },
    });
}

pub mod guardrail {
    wasmtime::component::bindgen!({
        path: "../../wit/plugin@0.1",
        world: "guardrail-plugin",
        with: {
            "genops:plugin/types": crate::bindings::chunker::genops::plugin::types,
            "genops:plugin/logging": crate::bindings::chunker::genops::plugin::logging,
            "genops:plugin/config": crate::bindings::chunker::genops::plugin::config,
            "genops:plugin/models": crate::bindings::chunker::genops::plugin::models,
        },
    });
}

pub use chunker::genops::plugin::{config, logging, models, types};
pub use retriever::genops::plugin::search;
