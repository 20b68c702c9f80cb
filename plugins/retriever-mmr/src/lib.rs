//! The built-in `retriever-mmr` plugin: vector candidates reranked by maximal marginal
//! relevance ([`genops_retrieval::mmr`]), so near-duplicates do not crowd the first hits.
//!
//! The query is embedded with the index's own model, `fetch-k` candidates (`auto`:
//! max(4k, 20)) come from the vector search with the query's filters, their vectors from
//! `fetch-chunks`, and MMR picks `k` of them, each maximising
//! `lambda * similarity - (1 - lambda) * redundancy` (its greatest cosine to an earlier pick).
//!
//! A hit's score is that marginal relevance when it was picked, which never rises from one
//! pick to the next, so the hits are best first as the host requires; the metadata keeps
//! what it was made of: `similarity` (the vector search's cosine), `vector-rank` (the
//! candidate's rank in the vector search) and `redundancy`. With `lambda = 1` the hits are
//! the vector search's, scores included.

use genops_retrieval::{mmr, Candidate, MmrConfig};
use genops_sdk::retriever::search::{self, ChunkRecord, Scored};
use genops_sdk::retriever::{Hit, PluginError, Query};

genops_retrieval::retriever_plugin! {
    /// The exported plugin.
    Mmr,
    name: "retriever-mmr",
    description: "vector candidates reranked by maximal marginal relevance, so near-duplicates do not crowd the first hits",
    config: MmrConfig,
    retrieve: retrieve,
}

fn retrieve(query: &Query, config: &MmrConfig) -> Result<Vec<Hit>, PluginError> {
    let embedded = search::embed_query(&query.index, &query.text)?;
    let found = search::search_vector(
        &query.index,
        &embedded,
        config.fetch_k_for(query.k),
        &search::filters(query),
        search_support::vector_mode(config.mode),
    )?;
    let ids: Vec<String> = found.iter().map(|s| s.chunk_id.clone()).collect();
    let records = search::fetch_chunks(&query.index, &ids, true)?;
    rerank(&found, &records, config.lambda, query.k as usize)
}

/// The `k` candidates MMR picks from the vector search's results, given the same chunks
/// read back with their vectors.
fn rerank(
    found: &[Scored],
    records: &[ChunkRecord],
    lambda: f64,
    k: usize,
) -> Result<Vec<Hit>, PluginError> {
    if records.len() != found.len() {
        return Err(PluginError::Other(format!(
            "the host read back {} chunks for {} ids",
            records.len(),
            found.len()
        )));
    }
    let candidates = found
        .iter()
        .zip(records)
        .map(|(s, r)| match &r.vector {
            Some(vector) if r.chunk_id == s.chunk_id => Ok(Candidate {
                relevance: s.score,
                vector,
            }),
            Some(_) => Err(PluginError::Other(format!(
                "the host read back chunk `{}` where `{}` was asked for",
                r.chunk_id, s.chunk_id
            ))),
            None => Err(PluginError::Other(format!(
                "the host read back chunk `{}` without its vector",
                r.chunk_id
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(mmr(&candidates, lambda, k)
        .into_iter()
        .map(|pick| Hit {
            chunk_id: found[pick.index].chunk_id.clone(),
            score: pick.score,
            metadata: vec![
                ("similarity".to_string(), pick.relevance.to_string()),
                ("vector-rank".to_string(), (pick.index + 1).to_string()),
                ("redundancy".to_string(), pick.redundancy.to_string()),
            ],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::invalid_config;

    fn candidates(items: &[(&str, f64, Option<[f32; 2]>)]) -> (Vec<Scored>, Vec<ChunkRecord>) {
        let found = items
            .iter()
            .map(|(id, score, _)| Scored {
                chunk_id: id.to_string(),
                score: *score,
            })
            .collect();
        let records = items
            .iter()
            .map(|(id, _, vector)| ChunkRecord {
                chunk_id: id.to_string(),
                source: "doc.txt".into(),
                text: String::new(),
                start: 0,
                end: 0,
                metadata: Vec::new(),
                vector: vector.map(|v| v.to_vec()),
            })
            .collect();
        (found, records)
    }

    #[test]
    fn a_copy_of_the_first_hit_falls_back_and_the_metadata_says_why() {
        let (found, records) = candidates(&[
            ("a", 0.9, Some([1.0, 0.0])),
            ("a-copy", 0.9, Some([1.0, 0.0])),
            ("b", 0.6, Some([0.0, 1.0])),
        ]);
        let hits = rerank(&found, &records, 0.5, 3).unwrap();
        let ids: Vec<&str> = hits.iter().map(|h| h.chunk_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "a-copy"]);
        assert_eq!(hits[0].score, 0.45);
        assert_eq!(hits[1].score, 0.3);
        assert!(hits[2].score < 0.0);
        assert_eq!(
            hits[2].metadata,
            [
                ("similarity".to_string(), "0.9".to_string()),
                ("vector-rank".to_string(), "2".to_string()),
                ("redundancy".to_string(), "1".to_string()),
            ]
        );
        let plain = rerank(&found, &records, 1.0, 2).unwrap();
        assert_eq!(plain[0].chunk_id, "a");
        assert_eq!(plain[1].chunk_id, "a-copy");
        assert_eq!(
            plain[1].score, 0.9,
            "with lambda = 1 the score is the similarity"
        );
    }

    #[test]
    fn a_chunk_without_its_vector_is_an_error_naming_it() {
        let (found, records) = candidates(&[("a", 0.9, Some([1.0, 0.0])), ("b", 0.5, None)]);
        match rerank(&found, &records, 0.5, 2) {
            Err(PluginError::Other(m)) => assert!(m.contains("`b` without its vector"), "{m}"),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn bad_values_are_invalid_config_naming_key_and_value() {
        assert_eq!(
            invalid_config(&[("lambda", "2")]),
            "config `lambda` has value `2`; expected a number from 0 to 1"
        );
        assert_eq!(
            invalid_config(&[("fetch-k", "0")]),
            "config `fetch-k` has value `0`; expected `auto` or a whole number from 1 to 10000"
        );
        assert_eq!(
            invalid_config(&[("mode", "sideways")]),
            "config `mode` has value `sideways`; expected `auto`, `exact` or `approximate`"
        );
    }
}
