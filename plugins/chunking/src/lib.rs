//! Chunking algorithms shared by the built-in chunker plugins, usable natively too.
//!
//! Four algorithms split a text into [`Span`]s, byte ranges into the text with metadata:
//! [`fixed`] windows of grapheme clusters or tokens, [`recursive`] splitting by paragraphs,
//! lines, sentences and words, [`sentence`] groups, and [`markdown`] sections. The plugins
//! `chunker-fixed`, `chunker-recursive`, `chunker-sentence` and `chunker-markdown` are thin
//! wrappers around these functions, so native callers (benchmarks, tests) get exactly the
//! chunks the plugins return.
//!
//! Every span starts and ends on an extended grapheme cluster boundary, so a chunk never
//! separates a character from its combining marks, breaks an emoji sequence or a flag, or
//! splits "\r\n". Lengths (`size`, `overlap`) count grapheme clusters, which this crate calls
//! chars. White-space-only input gives no chunks, and no chunk is empty.
//!
//! ```
//! use genops_chunking::{fixed, FixedConfig};
//!
//! let entries = vec![("size".to_string(), "5".to_string()), ("overlap".to_string(), "0".to_string())];
//! let config = FixedConfig::from_entries(&entries).unwrap();
//! let text = "naïve café";
//! let chunks: Vec<&str> = fixed(text, &config).iter().map(|s| s.text(text)).collect();
//! assert_eq!(chunks, ["naïve", " café"]);
//! ```

mod config;
mod fixed;
mod markdown;
mod recursive;
mod sentence;
mod text;

pub use config::{ConfigError, ConfigKey};
pub use fixed::{fixed, FixedConfig, Unit};
pub use markdown::{markdown, MarkdownConfig};
pub use recursive::{recursive, RecursiveConfig};
pub use sentence::{sentence, SentenceConfig};

/// Metadata key every chunk carries: its 0-based position in the result.
pub const CHUNK_INDEX: &str = "chunk_index";
/// Metadata key of [`sentence`] chunks: how many sentences the chunk holds.
pub const SENTENCES: &str = "sentences";
/// Metadata key of [`markdown`] chunks: the titles of the enclosing headings joined with
/// `" > "`; absent before the first heading.
pub const HEADING_PATH: &str = "heading_path";
/// Metadata key of [`markdown`] chunks: the level (1 to 6) of the section's heading; absent
/// before the first heading.
pub const HEADING_LEVEL: &str = "heading_level";

/// A chunk: `text[start..end]`, with metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of the first byte, on a grapheme cluster boundary.
    pub start: usize,
    /// Byte offset one past the last byte, on a grapheme cluster boundary; `start < end`.
    pub end: usize,
    /// Key/value pairs; [`CHUNK_INDEX`] comes first.
    pub metadata: Vec<(String, String)>,
}

impl Span {
    /// The chunk's text within the text it was cut from.
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        &source[self.start..self.end]
    }

    /// The value of one metadata key.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Appends a chunk numbered after the ones already in `out`.
fn push<'k>(
    out: &mut Vec<Span>,
    (start, end): (usize, usize),
    extra: impl IntoIterator<Item = (&'k str, String)>,
) {
    let mut metadata = vec![(CHUNK_INDEX.to_string(), out.len().to_string())];
    metadata.extend(extra.into_iter().map(|(k, v)| (k.to_string(), v)));
    out.push(Span {
        start,
        end,
        metadata,
    });
}

/// Defines a built-in chunker plugin over one of this crate's algorithms: the plugin struct,
/// its `describe()` built from the config's `KEYS`, its `split()`, the component export,
/// and `pub fn chunk(text, entries)`, which is `split` without a host (for native tests);
/// in test builds also the tests every built-in chunker must pass and helpers for the
/// crate's own tests (`test_support`).
///
/// For plugin crates that depend on this crate, `genops-sdk` (feature `chunker`) and, as a
/// dev-dependency, `genops-manifest`.
///
/// ```ignore
/// genops_chunking::chunker_plugin! {
///     /// The exported plugin.
///     Fixed,
///     name: "chunker-fixed",
///     description: "windows of a fixed number of grapheme clusters or tokens, with overlap",
///     config: genops_chunking::FixedConfig,
///     run: genops_chunking::fixed,
/// }
/// ```
#[macro_export]
macro_rules! chunker_plugin {
    (
        $(#[$doc:meta])*
        $plugin:ident,
        name: $name:literal,
        description: $description:expr,
        config: $config:ty,
        run: $run:path $(,)?
    ) => {
        /// The plugin's name, as in its manifest.
        pub const NAME: &str = $name;

        /// What the plugin does, in one sentence, for `describe()`.
        pub const DESCRIPTION: &str = $description;

        $(#[$doc])*
        pub struct $plugin;

        impl ::genops_sdk::chunker::Chunker for $plugin {
            fn describe() -> ::genops_sdk::chunker::PluginInfo {
                <$config>::KEYS.iter().fold(
                    ::genops_sdk::chunker::PluginInfo::new(NAME, DESCRIPTION),
                    |info, key| info.option(key.name, key.description, Some(key.default)),
                )
            }

            fn split(
                doc: ::genops_sdk::chunker::Document,
            ) -> Result<Vec<::genops_sdk::chunker::Chunk>, ::genops_sdk::chunker::PluginError>
            {
                let chunks = chunk(&doc.text, &::genops_sdk::chunker::config::entries())?;
                ::genops_sdk::chunker::log::debug(&format!(
                    "{NAME}: {} chunks for {}",
                    chunks.len(),
                    doc.id
                ));
                Ok(chunks)
            }
        }

        ::genops_sdk::export_chunker!($plugin);

        /// What `split` does once it has the configuration entries; callable without a host.
        pub fn chunk(
            text: &str,
            entries: &[(String, String)],
        ) -> Result<Vec<::genops_sdk::chunker::Chunk>, ::genops_sdk::chunker::PluginError> {
            let config = <$config>::from_entries(entries).map_err(|e| {
                ::genops_sdk::chunker::PluginError::InvalidConfig(e.to_string())
            })?;
            Ok($run(text, &config)
                .into_iter()
                .map(|span| ::genops_sdk::chunker::Chunk {
                    start: span.start as u64,
                    end: span.end as u64,
                    metadata: span.metadata,
                })
                .collect())
        }

        /// Helpers for the plugin crate's own tests.
        #[cfg(test)]
        mod test_support {
            use super::chunk;
            use ::genops_sdk::chunker::PluginError;

            /// Config entries from string pairs.
            pub fn entries(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            }

            /// Each chunk as its text and metadata.
            pub fn texts<'a>(
                text: &'a str,
                pairs: &[(&str, &str)],
            ) -> Vec<(&'a str, Vec<(String, String)>)> {
                chunk(text, &entries(pairs))
                    .unwrap()
                    .into_iter()
                    .map(|c| (&text[c.start as usize..c.end as usize], c.metadata))
                    .collect()
            }

            /// Expected metadata from string pairs.
            pub fn meta(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
                entries(pairs)
            }

            /// The message of the invalid-config error these entries must produce.
            pub fn invalid_config(pairs: &[(&str, &str)]) -> String {
                match chunk("Some text.", &entries(pairs)) {
                    Err(PluginError::InvalidConfig(message)) => message,
                    other => panic!("expected invalid-config, got {other:?}"),
                }
            }
        }

        /// What every built-in chunker promises about itself.
        #[cfg(test)]
        mod plugin_contract {
            use super::*;
            use ::genops_sdk::chunker::Chunker;

            #[test]
            fn describe_lists_every_key_with_description_and_default() {
                let info = $plugin::describe();
                assert_eq!(info.name, NAME);
                let names: Vec<&str> = info.config.iter().map(|o| o.name.as_str()).collect();
                let keys: Vec<&str> = <$config>::KEYS.iter().map(|k| k.name).collect();
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
                assert_eq!(manifest.kind, ::genops_manifest::Kind::Chunker);
                let info = $plugin::describe();
                for (key, value) in &manifest.config {
                    let option = info.config.iter().find(|o| &o.name == key);
                    let default = option.and_then(|o| o.default_value.as_deref());
                    assert_eq!(default, Some(value.as_str()), "manifest config `{key}`");
                }
                let defaults: Vec<(String, String)> = manifest.config.into_iter().collect();
                assert!(chunk("Some text.", &defaults).is_ok());
            }
        }
    };
}
