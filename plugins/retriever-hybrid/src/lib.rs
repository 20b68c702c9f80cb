//! The built-in `retriever-hybrid` plugin: a BM25 search and a vector search of the same
//! index, fused by reciprocal rank fusion ([`genops_retrieval::rrf`]).
//!
//! BM25 finds the chunks that share the query's words (names, codes, rare terms), the vector
//! search those that share its meaning in other words; fusing their ranks (not their scores,
//! which live on scales that cannot be added) surfaces both. Each search returns `depth`
//! candidates (`auto`: max(k, 50)), a chunk scores `sum of weight / (rrf-k + rank)` over the
//! searches that found it, and its hit's metadata says where it came from: `text-rank` and
//! `text-score` (BM25), `vector-rank` and `vector-score` (cosine), for each search that
//! found it. A weight of 0 skips that search.

use genops_retrieval::{rrf, HybridConfig, RankedList};
use genops_sdk::retriever::search::{self, Scored};
use genops_sdk::retriever::{Hit, PluginError, Query};

genops_retrieval::retriever_plugin! {
    /// The exported plugin.
    Hybrid,
    name: "retriever-hybrid",
    description: "BM25 and vector search fused by reciprocal rank fusion",
    config: HybridConfig,
    retrieve: retrieve,
}

fn retrieve(query: &Query, config: &HybridConfig) -> Result<Vec<Hit>, PluginError> {
    let depth = config.depth_for(query.k);
    let filters = search::filters(query);
    let text = if config.text_weight > 0.0 {
        search::search_text(&query.index, &query.text, depth, &filters)?
    } else {
        Vec::new()
    };
    let vector = if config.vector_weight > 0.0 {
        let embedded = search::embed_query(&query.index, &query.text)?;
        search::search_vector(
            &query.index,
            &embedded,
            depth,
            &filters,
            search_support::vector_mode(config.mode),
        )?
    } else {
        Vec::new()
    };
    Ok(fuse(&text, &vector, config, query.k as usize))
}

/// The best `k` chunks of the two searches' results by reciprocal rank fusion, each with
/// its rank and score in the searches that found it.
fn fuse(text: &[Scored], vector: &[Scored], config: &HybridConfig, k: usize) -> Vec<Hit> {
    let text_ids: Vec<&str> = text.iter().map(|s| s.chunk_id.as_str()).collect();
    let vector_ids: Vec<&str> = vector.iter().map(|s| s.chunk_id.as_str()).collect();
    let fused = rrf(
        &[
            RankedList::new(&text_ids, config.text_weight),
            RankedList::new(&vector_ids, config.vector_weight),
        ],
        config.rrf_k,
        k,
    );
    fused
        .into_iter()
        .map(|f| {
            let mut metadata = Vec::new();
            for (name, found, rank) in [("text", text, f.ranks[0]), ("vector", vector, f.ranks[1])]
            {
                if let Some(rank) = rank {
                    metadata.push((format!("{name}-rank"), rank.to_string()));
                    metadata.push((format!("{name}-score"), found[rank - 1].score.to_string()));
                }
            }
            Hit {
                chunk_id: f.id,
                score: f.score,
                metadata,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{entries, invalid_config};

    fn scored(pairs: &[(&str, f64)]) -> Vec<Scored> {
        pairs
            .iter()
            .map(|(id, score)| Scored {
                chunk_id: id.to_string(),
                score: *score,
            })
            .collect()
    }

    fn meta(hit: &Hit) -> Vec<(&str, &str)> {
        hit.metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn hits_say_which_search_found_them_at_what_rank_and_score() {
        let text = scored(&[("a", 7.5), ("b", 3.25)]);
        let vector = scored(&[("c", 0.75), ("b", 0.5)]);
        let hits = fuse(&text, &vector, &HybridConfig::default(), 10);
        let ids: Vec<&str> = hits.iter().map(|h| h.chunk_id.as_str()).collect();
        assert_eq!(ids, ["b", "a", "c"]);
        assert_eq!(hits[0].score, 2.0 / 62.0);
        assert_eq!(
            meta(&hits[0]),
            [
                ("text-rank", "2"),
                ("text-score", "3.25"),
                ("vector-rank", "2"),
                ("vector-score", "0.5")
            ]
        );
        assert_eq!(meta(&hits[1]), [("text-rank", "1"), ("text-score", "7.5")]);
        assert_eq!(
            meta(&hits[2]),
            [("vector-rank", "1"), ("vector-score", "0.75")]
        );
        assert_eq!(fuse(&text, &vector, &HybridConfig::default(), 1).len(), 1);
    }

    #[test]
    fn configured_weights_and_rank_constant_are_used() {
        let config = crate::parse_config(&entries(&[
            ("rrf-k", "0"),
            ("text-weight", "0.5"),
            ("vector-weight", "2"),
        ]))
        .unwrap();
        let text = scored(&[("t", 1.0)]);
        let vector = scored(&[("v", 1.0)]);
        let hits = fuse(&text, &vector, &config, 2);
        assert_eq!(hits[0].chunk_id, "v");
        assert_eq!(hits[0].score, 2.0);
        assert_eq!(hits[1].score, 0.5);
    }

    #[test]
    fn bad_values_are_invalid_config_naming_key_and_value() {
        assert_eq!(
            invalid_config(&[("rrf-k", "-1")]),
            "config `rrf-k` has value `-1`; expected a number, 0 or more"
        );
        assert_eq!(
            invalid_config(&[("depth", "lots")]),
            "config `depth` has value `lots`; expected `auto` or a whole number from 1 to 10000"
        );
        assert_eq!(
            invalid_config(&[("text-weight", "heavy")]),
            "config `text-weight` has value `heavy`; expected a number, 0 or more"
        );
        assert!(
            invalid_config(&[("text-weight", "0"), ("vector-weight", "0")])
                .contains("no search to run")
        );
    }
}
