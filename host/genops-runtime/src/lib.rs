//! The genops plugin runtime: a sandboxed wasmtime host for chunker, retriever, evaluator
//! and guardrail components.
//!
//! A [`Runtime`] owns one engine (pooling allocator, epoch deadlines, optional fuel), the
//! linker with the host imports, and a cache of compiled components keyed by component
//! digest and engine settings. [`Runtime::load_dir`] reads a plugin folder, checks that the
//! component implements a world this host supports and that its manifest's limits fit the
//! operator's ceilings, and pre-links it. A [`Session`] instantiates it and calls it under
//! those limits: traps, timeouts and memory exhaustion come back as [`Error::Fault`] naming
//! the plugin, and the host keeps serving. A [`Registry`] holds plugins by name with atomic
//! hot swap and rollback; a [`Catalog`] is the installed plugins on disk.
//!
//! [`Runtime::with_models`] attaches native ONNX models ([`genops_models::Models`]), which
//! plugins then call through the `genops:plugin/models` import, each plugin limited to the
//! models its manifest grants under `[capabilities] models`.
//!
//! ```no_run
//! use std::collections::BTreeMap;
//! use genops_runtime::{Document, Runtime, RuntimeConfig};
//!
//! let runtime = Runtime::new(RuntimeConfig::default(), None)?;
//! let plugin = runtime.load_dir("plugins/chunker-fixed/dist/chunker-fixed".as_ref())?;
//! let mut session = plugin.session(&BTreeMap::from([("size".into(), "200".into())]));
//! let doc = Document { id: "a.txt".into(), text: "some text".into(), ..Default::default() };
//! for chunk in session.split(&doc)? {
//!     println!("{}", &doc.text[chunk.start..chunk.end]);
//! }
//! # Ok::<(), genops_runtime::Error>(())
//! ```

mod bindings;
mod cache;
mod catalog;
mod config;
mod error;
mod imports;
mod kinds;
mod plugin;
mod registry;
mod runtime;
pub mod typed;

pub use cache::CompileCache;
pub use catalog::{Catalog, Installed};
pub use config::{Allocator, RuntimeConfig};
pub use error::{Error, Fault, PluginError};
pub use genops_manifest::{Kind, Manifest};
/// The search port retrievers reach the host's indexes through; re-exported so callers of
/// [`Runtime::set_indexes`] need not name the crate.
pub use genops_search::{Indexes, SearchIndex};
pub use kinds::{
    CheckRequest, Decision, Filter, FilterOp, Finding, Hit, Metric, Query, Sample, Score, Stage,
    Verdict,
};
pub use plugin::{
    CallLimits, Chunk, ConfigOption, Document, Plugin, PluginId, PluginInfo, Session,
};
pub use registry::Registry;
pub use runtime::{inspect_bytes, Inspection, LoadSource, Runtime};
pub use typed::{TypedPlugin, TypedSession};

/// The version of the `genops:plugin` WIT package this host implements. The host loads
/// components built against any earlier version of the same line (0.1.0 to this one): a
/// 0.1.x release only adds items, each marked `@since` in `wit/plugin@0.1/`.
pub const WORLD_VERSION: &str = "0.1.2";
