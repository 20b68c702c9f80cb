//! A retriever for the host's tests: ranks a tiny corpus given in its `corpus` config
//! (`id=text` entries separated by `|`) by the number of words shared with the query. The
//! `mode` config makes it break the contract on purpose (`too-many`, `unsorted`) so the host's
//! checks can be tested.

use genops_sdk::retriever::{
    config, Filter, FilterOp, Hit, PluginError, PluginInfo, Query, Retriever,
};

/// The exported plugin.
pub struct Keyword;

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn keep(id: &str, filters: &[Filter]) -> Result<bool, PluginError> {
    for f in filters {
        if f.field != "id" {
            return Err(PluginError::Unsupported(format!(
                "filters on `{}`; only `id` is supported",
                f.field
            )));
        }
        let ok = match f.op {
            FilterOp::Eq => id == f.value,
            FilterOp::NotEq => id != f.value,
            FilterOp::Prefix => id.starts_with(&f.value),
            _ => {
                return Err(PluginError::Unsupported(
                    "only eq, not-eq and prefix filters".into(),
                ))
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

impl Retriever for Keyword {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            "retriever-keyword",
            "ranks a configured corpus by shared words",
        )
        .option("corpus", "id=text entries separated by |", None)
        .option("mode", "normal, too-many or unsorted", Some("normal"))
    }

    fn retrieve(query: Query) -> Result<Vec<Hit>, PluginError> {
        let corpus = config::get("corpus").unwrap_or_default();
        let terms = words(&query.text);
        let mut hits = Vec::new();
        for entry in corpus.split('|').filter(|e| !e.trim().is_empty()) {
            let (id, text) = entry.split_once('=').ok_or_else(|| {
                PluginError::InvalidConfig(format!("corpus entry `{entry}` has no `=`"))
            })?;
            if !keep(id, &query.filters)? {
                continue;
            }
            let doc = words(text);
            let shared = terms.iter().filter(|t| doc.contains(t)).count();
            if shared > 0 {
                hits.push(Hit {
                    chunk_id: id.to_string(),
                    score: shared as f64,
                    metadata: vec![("shared".into(), shared.to_string())],
                });
            }
        }
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(a.chunk_id.cmp(&b.chunk_id))
        });
        match config::get("mode").as_deref() {
            Some("too-many") => {}
            Some("unsorted") => {
                hits.truncate(query.k as usize);
                hits.reverse();
            }
            _ => hits.truncate(query.k as usize),
        }
        Ok(hits)
    }
}

genops_sdk::export_retriever!(Keyword);
