//! The built-in `retriever-vector` plugin: the query embedded with the index's own model
//! (the host's `embed-query`), then the chunks whose vectors are nearest (`search-vector`).
//!
//! The hits are the host's results unchanged, scored by the dot product of unit vectors
//! (cosine), with the query's `k` and filters passed through. The `mode` config chooses
//! between the approximate graph and the exact scan.

use genops_retrieval::VectorConfig;
use genops_sdk::retriever::{search, Hit, PluginError, Query};

genops_retrieval::retriever_plugin! {
    /// The exported plugin.
    Vector,
    name: "retriever-vector",
    description: "the query embedded with the index's own model, then the chunks with the nearest vectors",
    config: VectorConfig,
    retrieve: retrieve,
}

fn retrieve(query: &Query, config: &VectorConfig) -> Result<Vec<Hit>, PluginError> {
    let vector = search::embed_query(&query.index, &query.text)?;
    let found = search::search_vector(
        &query.index,
        &vector,
        query.k,
        &search::filters(query),
        search_support::vector_mode(config.mode),
    )?;
    Ok(search_support::hits(found))
}

#[cfg(test)]
mod tests {
    use crate::parse_config;
    use crate::test_support::{entries, invalid_config};
    use genops_retrieval::VectorMode;

    #[test]
    fn every_mode_parses() {
        for (text, mode) in [
            ("auto", VectorMode::Auto),
            ("exact", VectorMode::Exact),
            ("approximate", VectorMode::Approximate),
        ] {
            assert_eq!(
                parse_config(&entries(&[("mode", text)])).unwrap().mode,
                mode
            );
        }
    }

    #[test]
    fn a_bad_mode_is_invalid_config_naming_key_and_value() {
        assert_eq!(
            invalid_config(&[("mode", "sideways")]),
            "config `mode` has value `sideways`; expected `auto`, `exact` or `approximate`"
        );
    }
}
