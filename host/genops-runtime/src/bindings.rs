//! Host bindings of the four plugin worlds. The chunker world generates the shared
//! interfaces (types, logging, config); the others reuse them through `with`, so one
//! implementation of the host imports serves every kind.

pub mod chunker {
    wasmtime::component::bindgen!({
        path: "../../wit/plugin@0.1.0",
        world: "chunker-plugin",
    });
}

pub mod retriever {
    wasmtime::component::bindgen!({
        path: "../../wit/plugin@0.1.0",
        world: "retriever-plugin",
        with: {
            "genops:plugin/types": crate::bindings::chunker::genops::plugin::types,
            "genops:plugin/logging": crate::bindings::chunker::genops::plugin::logging,
            "genops:plugin/config": crate::bindings::chunker::genops::plugin::config,
        },
    });
}

pub mod evaluator {
    wasmtime::component::bindgen!({
        path: "../../wit/plugin@0.1.0",
        world: "evaluator-plugin",
        with: {
            "genops:plugin/types": crate::bindings::chunker::genops::plugin::types,
            "genops:plugin/logging": crate::bindings::chunker::genops::plugin::logging,
            "genops:plugin/config": crate::bindings::chunker::genops::plugin::config,
        },
    });
}

pub mod guardrail {
    wasmtime::component::bindgen!({
        path: "../../wit/plugin@0.1.0",
        world: "guardrail-plugin",
        with: {
            "genops:plugin/types": crate::bindings::chunker::genops::plugin::types,
            "genops:plugin/logging": crate::bindings::chunker::genops::plugin::logging,
            "genops:plugin/config": crate::bindings::chunker::genops::plugin::config,
        },
    });
}

pub use chunker::genops::plugin::{config, logging, types};
