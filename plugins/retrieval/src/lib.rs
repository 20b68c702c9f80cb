//! Retrieval algorithms shared by the built-in retriever plugins, usable natively too.
//!
//! - [`rrf`]: reciprocal rank fusion of ranked lists (the `retriever-hybrid` plugin fuses
//!   a BM25 and a vector search with it);
//! - [`mmr`]: maximal marginal relevance, a greedy reranking that keeps near-duplicates out
//!   of the first hits (`retriever-mmr`);
//! - the retrievers' typed configurations ([`VectorConfig`], [`HybridConfig`],
//!   [`MmrConfig`], [`Bm25Config`]), read from the host's `key = value` entries with errors
//!   that name the key and the value;
//! - [`retriever_plugin!`], which turns one of these configurations and a `retrieve`
//!   function into a plugin, with the tests every built-in retriever must pass.
//!
//! The plugins `retriever-bm25`, `retriever-vector`, `retriever-hybrid` and `retriever-mmr`
//! only call the host's `search` import and these functions, so native callers (tests,
//! benchmarks, a service fusing results itself) get exactly what the plugins compute.
//!
//! ```
//! use genops_retrieval::{rrf, HybridConfig, RankedList, RetrieverConfig};
//!
//! let entries = vec![("rrf-k".to_string(), "10".to_string())];
//! let config = HybridConfig::from_entries(&entries).unwrap();
//! let text = ["intro", "setup"];
//! let vector = ["setup", "faq"];
//! let fused = rrf(
//!     &[
//!         RankedList::new(&text, config.text_weight),
//!         RankedList::new(&vector, config.vector_weight),
//!     ],
//!     config.rrf_k,
//!     5,
//! );
//! assert_eq!(fused[0].id, "setup");
//! assert_eq!(fused[0].score, 1.0 / 12.0 + 1.0 / 11.0);
//! ```

mod config;
mod mmr;
mod rrf;

pub use config::{
    Bm25Config, ConfigError, ConfigKey, Depth, HybridConfig, MmrConfig, RetrieverConfig,
    VectorConfig, VectorMode, MAX_SEARCH_K,
};
pub use mmr::{cosine, mmr, Candidate, Pick, DEFAULT_LAMBDA};
pub use rrf::{rrf, Fused, RankedList, DEFAULT_RRF_K};

/// Defines a built-in retriever plugin over one of this crate's configurations: the plugin
/// struct, its `describe()` built from the configuration's `KEYS`, its `retrieve()` (which
/// reads the configuration, so a bad value is `invalid-config` naming the key and the value,
/// then calls the given function), the component export, and `pub fn parse_config(entries)`,
/// callable without a host. It also defines `search_support` (the vector mode and hits in
/// the `search` import's types) and, in test builds, the tests every built-in retriever must
/// pass and helpers for the crate's own tests (`test_support`).
///
/// The function is `fn(&Query, &Config) -> Result<Vec<Hit>, PluginError>`. For plugin crates
/// that depend on this crate, `genops-sdk` (feature `retriever`) and, as a dev-dependency,
/// `genops-manifest`.
///
/// ```ignore
/// genops_retrieval::retriever_plugin! {
///     /// The exported plugin.
///     Bm25,
///     name: "retriever-bm25",
///     description: "BM25 over the chunk text of an index",
///     config: genops_retrieval::Bm25Config,
///     retrieve: retrieve,
/// }
/// ```
#[macro_export]
macro_rules! retriever_plugin {
    (
        $(#[$doc:meta])*
        $plugin:ident,
        name: $name:literal,
        description: $description:expr,
        config: $config:ty,
        retrieve: $retrieve:path $(,)?
    ) => {
        /// The plugin's name, as in its manifest.
        pub const NAME: &str = $name;

        /// What the plugin does, in one sentence, for `describe()`.
        pub const DESCRIPTION: &str = $description;

        $(#[$doc])*
        pub struct $plugin;

        impl ::genops_sdk::retriever::Retriever for $plugin {
            fn describe() -> ::genops_sdk::retriever::PluginInfo {
                <$config as $crate::RetrieverConfig>::KEYS.iter().fold(
                    ::genops_sdk::retriever::PluginInfo::new(NAME, DESCRIPTION),
                    |info, key| info.option(key.name, key.description, Some(key.default)),
                )
            }

            fn retrieve(
                query: ::genops_sdk::retriever::Query,
            ) -> Result<
                Vec<::genops_sdk::retriever::Hit>,
                ::genops_sdk::retriever::PluginError,
            > {
                let config = parse_config(&::genops_sdk::retriever::config::entries())?;
                let hits = $retrieve(&query, &config)?;
                ::genops_sdk::retriever::log::debug(&format!(
                    "{NAME}: {} hits from index {}",
                    hits.len(),
                    query.index
                ));
                Ok(hits)
            }
        }

        ::genops_sdk::export_retriever!($plugin);

        /// The configuration `retrieve` reads from the entries of a call; callable without a
        /// host.
        pub fn parse_config(
            entries: &[(String, String)],
        ) -> Result<$config, ::genops_sdk::retriever::PluginError> {
            <$config as $crate::RetrieverConfig>::from_entries(entries).map_err(|e| {
                ::genops_sdk::retriever::PluginError::InvalidConfig(e.to_string())
            })
        }

        /// This crate's values in the types of the host's `search` import.
        // Not every retriever searches by vector, or returns the search's hits unchanged.
        #[allow(dead_code)]
        mod search_support {
            use ::genops_sdk::retriever::search;

            /// The configured vector mode, as the search import takes it.
            pub(crate) fn vector_mode(mode: $crate::VectorMode) -> search::VectorMode {
                match mode {
                    $crate::VectorMode::Auto => search::VectorMode::Auto,
                    $crate::VectorMode::Exact => search::VectorMode::Exact,
                    $crate::VectorMode::Approximate => search::VectorMode::Approximate,
                }
            }

            /// A search's results as hits, in the same order and with the same scores.
            pub(crate) fn hits(
                found: Vec<search::Scored>,
            ) -> Vec<::genops_sdk::retriever::Hit> {
                found
                    .into_iter()
                    .map(|s| ::genops_sdk::retriever::Hit {
                        chunk_id: s.chunk_id,
                        score: s.score,
                        metadata: Vec::new(),
                    })
                    .collect()
            }
        }

        /// Helpers for the plugin crate's own tests.
        #[cfg(test)]
        mod test_support {
            use ::genops_sdk::retriever::PluginError;

            /// Config entries from string pairs.
            pub fn entries(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }

            /// The message of the invalid-config error these entries must produce.
            pub fn invalid_config(pairs: &[(&str, &str)]) -> String {
                match super::parse_config(&entries(pairs)) {
                    Err(PluginError::InvalidConfig(message)) => message,
                    other => panic!("expected invalid-config, got {other:?}"),
                }
            }
        }

        /// What every built-in retriever promises about itself.
        #[cfg(test)]
        mod plugin_contract {
            use super::*;
            use ::genops_sdk::retriever::{PluginError, Retriever};

            #[test]
            fn describe_lists_every_key_with_description_and_default() {
                let info = $plugin::describe();
                assert_eq!(info.name, NAME);
                assert!(!info.description.is_empty());
                let names: Vec<&str> = info.config.iter().map(|o| o.name.as_str()).collect();
                let keys: Vec<&str> = <$config as $crate::RetrieverConfig>::KEYS
                    .iter()
                    .map(|k| k.name)
                    .collect();
                assert_eq!(names, keys);
                for option in &info.config {
                    assert!(!option.description.is_empty(), "{}", option.name);
                    assert!(option.default_value.is_some(), "{}", option.name);
                }
            }

            #[test]
            fn manifest_agrees_with_the_crate_and_describe() {
                let path = ::std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join(::genops_manifest::FILE_NAME);
                let manifest = ::genops_manifest::Manifest::from_file(&path).unwrap();
                assert_eq!(manifest.name, env!("CARGO_PKG_NAME"));
                assert_eq!(manifest.name, NAME);
                assert_eq!(manifest.kind, ::genops_manifest::Kind::Retriever);
                let world = &manifest.world;
                assert!(
                    (world.major, world.minor, world.patch) >= (0, 1, 2),
                    "the search import needs world 0.1.2, the manifest says {world}"
                );
                assert!(
                    !manifest.capabilities.indexes.is_empty(),
                    "a retriever that may search no index cannot retrieve"
                );
                // Every key in the manifest with describe's default, and the other way round,
                // so `genops plugin inspect` and the manifest tell the same story.
                let mut described: Vec<(String, Option<String>)> = $plugin::describe()
                    .config
                    .into_iter()
                    .map(|o| (o.name, o.default_value))
                    .collect();
                described.sort();
                let in_manifest: Vec<(String, Option<String>)> = manifest
                    .config
                    .iter()
                    .map(|(k, v)| (k.clone(), Some(v.clone())))
                    .collect();
                assert_eq!(in_manifest, described, "manifest [config] vs describe()");
                let defaults: Vec<(String, String)> = manifest.config.into_iter().collect();
                assert!(parse_config(&defaults).is_ok());
            }

            #[test]
            fn unknown_keys_are_invalid_config_naming_the_key() {
                match parse_config(&[("no-such-key".to_string(), "1".to_string())]) {
                    Err(PluginError::InvalidConfig(message)) => {
                        assert!(message.contains("`no-such-key`"), "{message}")
                    }
                    other => panic!("expected invalid-config, got {other:?}"),
                }
            }
        }
    };
}
