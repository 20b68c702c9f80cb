//! The built-in `retriever-bm25` plugin: BM25 full-text search over the chunks of an index's
//! live version, through the host's `search` import.
//!
//! The hits are the host's `search-text` results unchanged (same chunks, same order, same
//! BM25 scores), with the query's `k` and filters passed through, so the plugin is the
//! reference the other retrievers are compared with.

use genops_retrieval::Bm25Config;
use genops_sdk::retriever::{search, Hit, PluginError, Query};

genops_retrieval::retriever_plugin! {
    /// The exported plugin.
    Bm25,
    name: "retriever-bm25",
    description: "BM25 full-text search over the chunks of an index's live version",
    config: Bm25Config,
    retrieve: retrieve,
}

fn retrieve(query: &Query, _config: &Bm25Config) -> Result<Vec<Hit>, PluginError> {
    let found = search::search_text(&query.index, &query.text, query.k, &search::filters(query))?;
    Ok(search_support::hits(found))
}

#[cfg(test)]
mod tests {
    use crate::test_support::invalid_config;

    #[test]
    fn every_key_is_refused() {
        assert_eq!(
            invalid_config(&[("mode", "exact")]),
            "unknown config key `mode`; this retriever reads no config keys"
        );
    }
}
