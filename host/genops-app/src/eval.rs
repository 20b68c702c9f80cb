//! Retrieval evaluation: judged queries in, recall@k, MRR and nDCG@k out.

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

use crate::{Error, Searcher};

/// A query and the documents that answer it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JudgedQuery {
    /// The query.
    pub query: String,
    /// Ids of the relevant documents: a source as ingested (`docs/a.md`), its tail after a
    /// `/`, or a .jsonl record's id.
    pub relevant: BTreeSet<String>,
}

/// One query's scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryScore {
    /// The query.
    pub query: String,
    /// Relevant documents in the top k, over all relevant ones.
    pub recall: f64,
    /// 1 / rank of the first relevant document (0 when none is found).
    pub rr: f64,
    /// nDCG@k with binary relevance.
    pub ndcg: f64,
    /// The top k documents.
    pub top: Vec<String>,
}

/// The averages of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetrievalSummary {
    /// The index.
    pub index: String,
    /// Its live version.
    pub version: u32,
    /// The retriever, with its digest.
    pub retriever: String,
    /// The retriever's config overrides.
    pub config: BTreeMap<String, String>,
    /// The cut-off.
    pub k: usize,
    /// How many queries.
    pub queries: usize,
    /// Mean recall@k.
    pub recall_at_k: f64,
    /// Mean reciprocal rank.
    pub mrr: f64,
    /// Mean nDCG@k.
    pub ndcg_at_k: f64,
}

/// A retrieval evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetrievalReport {
    /// The averages.
    pub summary: RetrievalSummary,
    /// One row per query, in the file's order.
    pub queries: Vec<QueryScore>,
}

/// Reads JSON Lines of `{"query": "...", "relevant": ["doc", ...]}`.
pub fn read_judged(path: &Path) -> Result<Vec<JudgedQuery>, Error> {
    let file = std::fs::File::open(path).map_err(|e| Error::io("cannot read", path, e))?;
    let mut out = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let bad = |message: String| Error::Qrels {
            path: path.to_path_buf(),
            line: n + 1,
            message,
        };
        let line = line.map_err(|_| bad("not UTF-8 text".into()))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| bad(format!("not JSON ({e})")))?;
        let query = v["query"]
            .as_str()
            .filter(|q| !q.trim().is_empty())
            .ok_or_else(|| bad("no `query` string".into()))?;
        let relevant = v["relevant"]
            .as_array()
            .ok_or_else(|| bad("no `relevant` list".into()))?
            .iter()
            .map(|r| {
                r.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad("`relevant` holds something other than strings".into()))
            })
            .collect::<Result<BTreeSet<_>, _>>()?;
        if relevant.is_empty() {
            return Err(bad("`relevant` is empty".into()));
        }
        out.push(JudgedQuery {
            query: query.to_string(),
            relevant,
        });
    }
    if out.is_empty() {
        return Err(Error::NoQueries(path.to_path_buf()));
    }
    Ok(out)
}

/// Whether a judged document id names the document a chunk came from: its source as
/// ingested, that source's tail after a `/` (so `docs/a.md` matches a corpus ingested as
/// `examples/corpus/docs/a.md`), or a .jsonl record's id.
pub fn names(id: &str, source: &str) -> bool {
    source == id
        || source
            .strip_suffix(id)
            .is_some_and(|head| head.ends_with('/'))
        || source
            .split_once('#')
            .is_some_and(|(_, record)| record == id)
}

/// Recall@k, reciprocal rank and nDCG@k of one ranked list of documents.
pub fn metrics(ranked: &[String], relevant: &BTreeSet<String>, k: usize) -> (f64, f64, f64) {
    let top = &ranked[..ranked.len().min(k)];
    let found = top.iter().filter(|d| relevant.contains(*d)).count();
    let recall = found as f64 / relevant.len().max(1) as f64;
    let rr = ranked
        .iter()
        .position(|d| relevant.contains(d))
        .map_or(0.0, |p| 1.0 / (p + 1) as f64);
    let dcg: f64 = top
        .iter()
        .enumerate()
        .filter(|(_, d)| relevant.contains(*d))
        .map(|(i, _)| 1.0 / ((i + 2) as f64).log2())
        .sum();
    let ideal: f64 = (0..relevant.len().min(k))
        .map(|i| 1.0 / ((i + 2) as f64).log2())
        .sum();
    (recall, rr, if ideal > 0.0 { dcg / ideal } else { 0.0 })
}

impl Searcher {
    /// Scores the retriever on `judged` at cut-off `k`.
    pub async fn evaluate(&self, judged: &[JudgedQuery], k: u32) -> Result<RetrievalReport, Error> {
        // Chunks are ranked; documents are judged: ask for more chunks than k so that k
        // distinct documents remain after merging chunks of the same document.
        let depth = k.saturating_mul(4).clamp(k, 10_000);
        let found = self
            .search_many(judged.iter().map(|j| (j.query.clone(), depth)).collect())
            .await?;
        let k = k as usize;
        let mut rows = Vec::with_capacity(judged.len());
        for (j, hits) in judged.iter().zip(found) {
            let mut ranked: Vec<String> = Vec::new();
            for hit in &hits {
                let id = j
                    .relevant
                    .iter()
                    .find(|r| names(r, &hit.source))
                    .cloned()
                    .unwrap_or_else(|| hit.source.clone());
                if !ranked.contains(&id) {
                    ranked.push(id);
                }
            }
            let (recall, rr, ndcg) = metrics(&ranked, &j.relevant, k);
            ranked.truncate(k);
            rows.push(QueryScore {
                query: j.query.clone(),
                recall,
                rr,
                ndcg,
                top: ranked,
            });
        }
        let n = rows.len().max(1) as f64;
        let mean = |f: fn(&QueryScore) -> f64| rows.iter().map(f).sum::<f64>() / n;
        let summary = RetrievalSummary {
            index: self.index().to_string(),
            version: self.version(),
            retriever: self.plugin().id().to_string(),
            config: self.overrides().clone(),
            k,
            queries: rows.len(),
            recall_at_k: mean(|r| r.recall),
            mrr: mean(|r| r.rr),
            ndcg_at_k: mean(|r| r.ndcg),
        };
        Ok(RetrievalReport {
            summary,
            queries: rows,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn judged_ids_name_sources_by_path_tail_or_record_id() {
        assert!(names("docs/a.md", "docs/a.md"));
        assert!(names("docs/a.md", "examples/corpus/docs/a.md"));
        assert!(!names("docs/a.md", "examples/corpus/xdocs/a.md"));
        assert!(names("q7", "data/faq.jsonl#q7"));
        assert!(!names("q7", "data/faq.jsonl#q70"));
    }

    #[test]
    fn metrics_of_known_rankings() {
        let rel = set(&["a", "b"]);
        let ranked: Vec<String> = ["x", "a", "y", "b"].iter().map(|s| s.to_string()).collect();
        let (recall, rr, ndcg) = metrics(&ranked, &rel, 2);
        assert_eq!(recall, 0.5);
        assert_eq!(rr, 0.5);
        let ideal = 1.0 + 1.0 / 3f64.log2();
        assert!((ndcg - (1.0 / 3f64.log2()) / ideal).abs() < 1e-12);
        let (recall, rr, ndcg) = metrics(&["a".into(), "b".into()], &rel, 10);
        assert_eq!((recall, rr, ndcg), (1.0, 1.0, 1.0));
        let (recall, rr, ndcg) = metrics(&[], &rel, 10);
        assert_eq!((recall, rr, ndcg), (0.0, 0.0, 0.0));
    }

    #[test]
    fn judged_files_are_checked_line_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.jsonl");
        std::fs::write(
            &path,
            "{\"query\": \"a\", \"relevant\": [\"x\"]}\n\n{\"query\": \"b\"}\n",
        )
        .unwrap();
        let err = read_judged(&path).unwrap_err().to_string();
        assert!(
            err.contains("line 3") && err.contains("no `relevant` list"),
            "{err}"
        );
        std::fs::write(&path, "\n").unwrap();
        let err = read_judged(&path).unwrap_err().to_string();
        assert!(err.contains("holds no queries"), "{err}");
        std::fs::write(&path, "{\"query\": \"a\", \"relevant\": [\"x\", \"y\"]}\n").unwrap();
        let judged = read_judged(&path).unwrap();
        assert_eq!(judged[0].relevant, set(&["x", "y"]));
    }
}
