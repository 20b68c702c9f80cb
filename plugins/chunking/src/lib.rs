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
/// and `pub fn chunk(text, entries)`, which is `split` without a host (for native tests).
///
/// For plugin crates that depend on both this crate and `genops-sdk` (feature `chunker`).
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
    };
}
