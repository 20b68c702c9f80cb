//! Write genops plugins in Rust.
//!
//! A plugin is a struct, an implementation of the trait for its kind, and one export macro.
//! Enable exactly one kind feature (`chunker`, `retriever`, `evaluator` or `guardrail`) in
//! the plugin crate, build it for `wasm32-wasip2` with `genops plugin build <dir>`, and the
//! result is a sandboxed WebAssembly component the genops host loads.
//!
//! ```ignore
//! use genops_sdk::chunker::{Chunk, Chunker, Document, PluginError, PluginInfo};
//! use genops_sdk::chunker::{config, log};
//!
//! struct Lines;
//!
//! impl Chunker for Lines {
//!     fn describe() -> PluginInfo {
//!         PluginInfo::new("lines", "one chunk per non-empty line")
//!             .option("min-bytes", "shorter lines are skipped", Some("1"))
//!     }
//!
//!     fn split(doc: Document) -> Result<Vec<Chunk>, PluginError> {
//!         let min: usize = config::parse("min-bytes", 1)?;
//!         let mut chunks = Vec::new();
//!         let mut start = 0;
//!         for line in doc.text.split_inclusive('\n') {
//!             let body = line.trim_end_matches(['\r', '\n']);
//!             if body.len() >= min {
//!                 chunks.push(Chunk::new(start, start + body.len()));
//!             }
//!             start += line.len();
//!         }
//!         log::debug(&format!("{} chunks", chunks.len()));
//!         Ok(chunks)
//!     }
//! }
//!
//! genops_sdk::export_chunker!(Lines);
//! ```
//!
//! Offsets are byte offsets into `doc.text` on UTF-8 character boundaries; the host checks
//! them and rejects a plugin that returns anything else. Return [`PluginError`]s for bad
//! configuration or input: a panic is a trap, which the host reports as a plugin fault.
//!
//! Plugins may call the host's native models (embedding, classification, tokenisation)
//! through `genops_sdk::models`, with the `models` feature enabled and each model
//! granted in the manifest:
//!
//! ```toml
//! [capabilities]
//! models = ["all-minilm-l6-v2"]
//! ```
//!
//! [`PluginError`]: chunker::PluginError
#![deny(missing_docs)]

/// Bindings of the `models` host interface alone, generated once and shared by every kind's
/// bindings (through wit-bindgen's `with`), so that `models` has one set of types whatever
/// the kind. Nothing is imported by a component that does not call a model: the linker drops
/// unused imports.
#[doc(hidden)]
#[allow(missing_docs, clippy::all)]
pub mod models_bindings {
    wit_bindgen::generate!({
        inline: "package genops:sdk;\nworld models { import genops:plugin/models@0.1.2; }\n",
        path: "../../wit/plugin@0.1",
        world: "genops:sdk/models",
        with: { "genops:plugin/models@0.1.2": generate },
        // Borrowed parameters: `embed` takes `&[&str]`, with no copy of the texts.
        ownership: Borrowing { duplicate_if_necessary: false },
    });
}

#[cfg(feature = "models")]
pub mod models;

/// Adds the helpers every kind shares (configuration, logging, constructors) to one kind's
/// module. Each kind gets its own copy because wit-bindgen generates distinct types per world.
macro_rules! kind_helpers {
    () => {
        pub use bindings::genops::plugin::types::{
            ConfigOption, Metadata, PluginError, PluginInfo,
        };

        /// The configuration of the current call: manifest defaults overlaid with what the
        /// caller set.
        pub mod config {
            use super::bindings::genops::plugin::config as host;
            use super::PluginError;

            /// The value of `key`, if set.
            pub fn get(key: &str) -> Option<String> {
                host::get(key)
            }

            /// Every key and value that is set, sorted by key.
            pub fn entries() -> Vec<(String, String)> {
                host::entries()
            }

            /// Parses `key` as `T`, or returns `default` when it is not set.
            ///
            /// A value that does not parse is an [`PluginError::InvalidConfig`] that names
            /// the key and the value, so the caller sees what to fix.
            pub fn parse<T>(key: &str, default: T) -> Result<T, PluginError>
            where
                T: std::str::FromStr,
                T::Err: std::fmt::Display,
            {
                match host::get(key) {
                    None => Ok(default),
                    Some(raw) => raw.trim().parse::<T>().map_err(|e| {
                        PluginError::InvalidConfig(format!(
                            "config `{key}` has value `{raw}` which does not parse: {e}"
                        ))
                    }),
                }
            }
        }

        /// Messages into the host's log, tagged with this plugin's identity.
        pub mod log {
            use super::bindings::genops::plugin::logging::{log, Level};

            /// Logs at trace level.
            pub fn trace(message: &str) {
                log(Level::Trace, message)
            }
            /// Logs at debug level.
            pub fn debug(message: &str) {
                log(Level::Debug, message)
            }
            /// Logs at info level.
            pub fn info(message: &str) {
                log(Level::Info, message)
            }
            /// Logs at warn level.
            pub fn warn(message: &str) {
                log(Level::Warn, message)
            }
            /// Logs at error level.
            pub fn error(message: &str) {
                log(Level::Error, message)
            }
        }

        #[cfg(feature = "models")]
        impl From<crate::models::ModelError> for PluginError {
            /// A model error as the plugin's `host` error, so `?` works in a plugin's calls;
            /// the message names the case (`not-granted: ...`).
            fn from(e: crate::models::ModelError) -> Self {
                PluginError::Host(format!("{}: {}", e.case(), e.message()))
            }
        }

        impl PluginInfo {
            /// A description with no configuration keys yet.
            pub fn new(name: &str, description: &str) -> Self {
                Self {
                    name: name.to_string(),
                    description: description.to_string(),
                    config: Vec::new(),
                }
            }

            /// Adds one configuration key the plugin reads.
            pub fn option(mut self, name: &str, description: &str, default: Option<&str>) -> Self {
                self.config.push(ConfigOption {
                    name: name.to_string(),
                    description: description.to_string(),
                    default_value: default.map(str::to_string),
                });
                self
            }
        }
    };
}

/// Exports the struct given as this component's chunker.
#[cfg(feature = "chunker")]
#[macro_export]
macro_rules! export_chunker {
    ($plugin:ident) => {
        // Native builds (unit tests of a plugin crate) must not export the component
        // symbols: their names hold `:`, which native linkers refuse.
        #[cfg(target_arch = "wasm32")]
        $crate::chunker::bindings::export_chunker!($plugin with_types_in $crate::chunker::bindings);
    };
}

/// Exports the struct given as this component's retriever.
#[cfg(feature = "retriever")]
#[macro_export]
macro_rules! export_retriever {
    ($plugin:ident) => {
        // Native builds (unit tests of a plugin crate) must not export the component
        // symbols: their names hold `:`, which native linkers refuse.
        #[cfg(target_arch = "wasm32")]
        $crate::retriever::bindings::export_retriever!($plugin with_types_in $crate::retriever::bindings);
    };
}

/// Exports the struct given as this component's evaluator.
#[cfg(feature = "evaluator")]
#[macro_export]
macro_rules! export_evaluator {
    ($plugin:ident) => {
        // Native builds (unit tests of a plugin crate) must not export the component
        // symbols: their names hold `:`, which native linkers refuse.
        #[cfg(target_arch = "wasm32")]
        $crate::evaluator::bindings::export_evaluator!($plugin with_types_in $crate::evaluator::bindings);
    };
}

/// Exports the struct given as this component's guardrail.
#[cfg(feature = "guardrail")]
#[macro_export]
macro_rules! export_guardrail {
    ($plugin:ident) => {
        // Native builds (unit tests of a plugin crate) must not export the component
        // symbols: their names hold `:`, which native linkers refuse.
        #[cfg(target_arch = "wasm32")]
        $crate::guardrail::bindings::export_guardrail!($plugin with_types_in $crate::guardrail::bindings);
    };
}

#[cfg(feature = "chunker")]
pub mod chunker {
    //! Chunkers split a document into chunks given as byte offsets.
    //!
    //! Implement [`Chunker`] and export it with [`export_chunker!`](crate::export_chunker).

    #[doc(hidden)]
    #[allow(missing_docs, clippy::all)]
    pub mod bindings {
        wit_bindgen::generate!({
            path: "../../wit/plugin@0.1",
            world: "chunker-plugin",
            pub_export_macro: true,
            export_macro_name: "export_chunker",
            default_bindings_module: "genops_sdk::chunker::bindings",
            with: { "genops:plugin/models@0.1.2": crate::models_bindings::genops::plugin::models },
        });
    }

    pub use bindings::exports::genops::plugin::chunker::Guest as Chunker;
    pub use bindings::genops::plugin::types::{Chunk, Document};

    kind_helpers!();

    impl Chunk {
        /// A chunk covering `text[start..end]`, with no metadata.
        pub fn new(start: usize, end: usize) -> Self {
            Self {
                start: start as u64,
                end: end as u64,
                metadata: Vec::new(),
            }
        }

        /// Adds one metadata entry.
        pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
            self.metadata.push((key.to_string(), value.into()));
            self
        }
    }

    impl Document {
        /// The value of a document metadata key, if present.
        pub fn meta(&self, key: &str) -> Option<&str> {
            self.metadata
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        }
    }
}

#[cfg(feature = "retriever")]
pub mod retriever {
    //! Retrievers turn a query into ranked chunk ids with scores.
    //!
    //! Implement [`Retriever`] and export it with
    //! [`export_retriever!`](crate::export_retriever).

    #[doc(hidden)]
    #[allow(missing_docs, clippy::all)]
    pub mod bindings {
        wit_bindgen::generate!({
            path: "../../wit/plugin@0.1",
            world: "retriever-plugin",
            pub_export_macro: true,
            export_macro_name: "export_retriever",
            default_bindings_module: "genops_sdk::retriever::bindings",
            with: { "genops:plugin/models@0.1.2": crate::models_bindings::genops::plugin::models },
        });
    }

    pub use bindings::exports::genops::plugin::retriever::{
        Filter, FilterOp, Guest as Retriever, Hit, Query,
    };

    /// The host's indexes: BM25 and vector search over an index's live version, query
    /// embedding with the index's own model, and chunks read back by id. A retriever may
    /// search only the indexes its manifest grants:
    ///
    /// ```toml
    /// world = "0.1.2"            # the search import arrived in genops:plugin 0.1.2
    ///
    /// [capabilities]
    /// indexes = ["*"]            # or the names of the indexes it may search
    /// ```
    ///
    /// Inside a retriever's `retrieve`, `?` turns a [`search::SearchError`] into
    /// `PluginError::Host`, whose message names the case (`not-granted: ...`).
    pub mod search {
        pub use super::bindings::genops::plugin::search::*;

        impl From<super::FilterOp> for FilterOp {
            fn from(op: super::FilterOp) -> Self {
                use super::FilterOp as Q;
                match op {
                    Q::Eq => FilterOp::Eq,
                    Q::NotEq => FilterOp::NotEq,
                    Q::Lt => FilterOp::Lt,
                    Q::Lte => FilterOp::Lte,
                    Q::Gt => FilterOp::Gt,
                    Q::Gte => FilterOp::Gte,
                    Q::Prefix => FilterOp::Prefix,
                }
            }
        }

        impl From<&super::Filter> for Filter {
            fn from(f: &super::Filter) -> Self {
                Filter {
                    field: f.field.clone(),
                    op: f.op.into(),
                    value: f.value.clone(),
                }
            }
        }

        /// The query's filters, as the search functions take them.
        pub fn filters(query: &super::Query) -> Vec<Filter> {
            query.filters.iter().map(Filter::from).collect()
        }

        impl SearchError {
            /// The case's name, as in WIT (`not-granted`).
            pub fn case(&self) -> &'static str {
                match self {
                    SearchError::UnknownIndex(_) => "unknown-index",
                    SearchError::NotGranted(_) => "not-granted",
                    SearchError::InvalidQuery(_) => "invalid-query",
                    SearchError::Failed(_) => "failed",
                }
            }

            /// The message, which says what to change.
            pub fn message(&self) -> &str {
                match self {
                    SearchError::UnknownIndex(m)
                    | SearchError::NotGranted(m)
                    | SearchError::InvalidQuery(m)
                    | SearchError::Failed(m) => m,
                }
            }
        }

        impl From<SearchError> for super::PluginError {
            fn from(e: SearchError) -> Self {
                super::PluginError::Host(format!("{}: {}", e.case(), e.message()))
            }
        }
    }

    kind_helpers!();
}

#[cfg(feature = "evaluator")]
pub mod evaluator {
    //! Evaluators score a batch of question/answer samples with named metrics.
    //!
    //! Implement [`Evaluator`] and export it with
    //! [`export_evaluator!`](crate::export_evaluator).

    #[doc(hidden)]
    #[allow(missing_docs, clippy::all)]
    pub mod bindings {
        wit_bindgen::generate!({
            path: "../../wit/plugin@0.1",
            world: "evaluator-plugin",
            pub_export_macro: true,
            export_macro_name: "export_evaluator",
            default_bindings_module: "genops_sdk::evaluator::bindings",
            with: { "genops:plugin/models@0.1.2": crate::models_bindings::genops::plugin::models },
        });
    }

    pub use bindings::exports::genops::plugin::evaluator::{
        Guest as Evaluator, Metric, Sample, Score,
    };

    kind_helpers!();
}

#[cfg(feature = "guardrail")]
pub mod guardrail {
    //! Guardrails allow, block or rewrite text going into or out of a model.
    //!
    //! Implement [`Guardrail`] and export it with
    //! [`export_guardrail!`](crate::export_guardrail).

    #[doc(hidden)]
    #[allow(missing_docs, clippy::all)]
    pub mod bindings {
        wit_bindgen::generate!({
            path: "../../wit/plugin@0.1",
            world: "guardrail-plugin",
            pub_export_macro: true,
            export_macro_name: "export_guardrail",
            default_bindings_module: "genops_sdk::guardrail::bindings",
            with: { "genops:plugin/models@0.1.2": crate::models_bindings::genops::plugin::models },
        });
    }

    pub use bindings::exports::genops::plugin::guardrail::{
        CheckRequest, Decision, Finding, Guest as Guardrail, Stage, Verdict,
    };

    kind_helpers!();
}
