//! `genops:plugin/search` (retrievers): the host's indexes through the search port
//! (`genops-search`), each plugin limited to the indexes its manifest grants.

use std::sync::Arc;
use std::time::Instant;

use genops_models::Models;
use genops_search::{Indexes, SearchIndex};
use wasmtime::component::{HasData, Linker};

use super::HostState;
use crate::bindings::search;
use crate::PluginId;

/// The most results or chunks one search call may ask for: enough for any reranking stage,
/// small enough that a plugin cannot make the host allocate without bound.
const MAX_SEARCH_K: u32 = 10_000;

/// The indexes a retriever may search: the runtime's indexes, if it has any, and the names
/// the plugin's manifest grants (`*`: every index).
pub(crate) struct SearchState {
    plugin: PluginId,
    indexes: Option<Arc<dyn Indexes>>,
    granted: Arc<[String]>,
    /// The models that embed queries with an index's own model.
    models: Option<Models>,
}

impl SearchState {
    pub(crate) fn new(
        plugin: PluginId,
        indexes: Option<Arc<dyn Indexes>>,
        granted: Arc<[String]>,
        models: Option<Models>,
    ) -> Self {
        Self {
            plugin,
            indexes,
            granted,
            models,
        }
    }

    /// The index, if the plugin may search it: the grant is checked first, so an ungranted
    /// plugin learns nothing about which indexes exist. A grant matches an index by exact
    /// name or is `*`; names are checked at load to be plain lowercase names, so no path,
    /// case or pattern trick widens a grant.
    fn access(&self, index: &str) -> Result<Arc<dyn SearchIndex>, search::SearchError> {
        if !granted(&self.granted, index) {
            let list = if self.granted.is_empty() {
                "it grants none".to_string()
            } else {
                format!("it grants {}", self.granted.join(", "))
            };
            return Err(search::SearchError::NotGranted(format!(
                "{} may not search index `{index}`: its manifest does not grant it ({list}); add \"{index}\" (or \"*\") to `[capabilities] indexes` in its genops-plugin.toml",
                self.plugin
            )));
        }
        let indexes = self.indexes.as_ref().ok_or_else(|| {
            search::SearchError::Failed(format!(
                "this host runs without indexes, so index `{index}` cannot be searched; run the retriever through `genops search` or a service with indexes"
            ))
        })?;
        indexes.resolve(index).map_err(search_error)
    }
}

fn granted(grants: &[String], index: &str) -> bool {
    grants.iter().any(|g| g == "*" || g == index)
}

/// What one search call sees: the import's state and the call's deadline, which the host
/// state holds for every import.
struct SearchCall<'a> {
    state: &'a mut SearchState,
    deadline: Option<Instant>,
}

struct Search;

impl HasData for Search {
    type Data<'a> = SearchCall<'a>;
}

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    search::add_to_linker::<HostState, Search>(linker, |s| SearchCall {
        state: &mut s.search,
        deadline: s.deadline,
    })
}

fn check_k(what: &str, k: u32) -> Result<usize, search::SearchError> {
    if k > MAX_SEARCH_K {
        return Err(search::SearchError::InvalidQuery(format!(
            "{what} is {k}; ask for at most {MAX_SEARCH_K}"
        )));
    }
    Ok(k as usize)
}

fn filters(list: Vec<search::Filter>) -> Vec<genops_search::Filter> {
    use genops_search::FilterOp as Op;
    list.into_iter()
        .map(|f| genops_search::Filter {
            field: f.field,
            op: match f.op {
                search::FilterOp::Eq => Op::Eq,
                search::FilterOp::NotEq => Op::NotEq,
                search::FilterOp::Lt => Op::Lt,
                search::FilterOp::Lte => Op::Lte,
                search::FilterOp::Gt => Op::Gt,
                search::FilterOp::Gte => Op::Gte,
                search::FilterOp::Prefix => Op::Prefix,
            },
            value: f.value,
        })
        .collect()
}

fn scored(hits: Vec<genops_search::Scored>) -> Vec<search::Scored> {
    hits.into_iter()
        .map(|h| search::Scored {
            chunk_id: h.chunk_id,
            score: h.score,
        })
        .collect()
}

fn late_query(model: &str) -> search::SearchError {
    search::SearchError::Failed(format!(
        "the call's deadline passed before the query could be embedded with model `{model}`; raise limits.timeout-ms, or search by text"
    ))
}

/// The WIT case of a port error.
fn search_error(e: genops_search::Error) -> search::SearchError {
    use genops_search::Error as E;
    match e {
        E::UnknownIndex(m) => search::SearchError::UnknownIndex(m),
        E::InvalidQuery(m) => search::SearchError::InvalidQuery(m),
        e @ E::InvalidFilter { .. } => search::SearchError::InvalidQuery(e.to_string()),
        E::Failed(m) => search::SearchError::Failed(m),
    }
}

// Searches run in the calling plugin's thread, like model calls: the epoch deadline keeps
// counting, and a plugin whose deadline passed during a search traps when it is back in wasm.
// Embedding a query runs a model, which cannot be interrupted: it is refused once the deadline
// has passed, as the models import refuses its calls.
impl search::Host for SearchCall<'_> {
    fn describe_index(&mut self, index: String) -> Result<search::IndexInfo, search::SearchError> {
        let info = self.state.access(&index)?.info();
        Ok(search::IndexInfo {
            name: info.name,
            version: info.version,
            chunks: info.chunks,
            embedder: info.embedder,
            dimensions: info.dimensions,
            approximate: info.approximate,
            fields: info.fields,
        })
    }

    fn search_text(
        &mut self,
        index: String,
        query: String,
        k: u32,
        filter_list: Vec<search::Filter>,
    ) -> Result<Vec<search::Scored>, search::SearchError> {
        let k = check_k("k", k)?;
        let hits = self
            .state
            .access(&index)?
            .search_text(&query, k, &filters(filter_list))
            .map_err(search_error)?;
        Ok(scored(hits))
    }

    fn embed_query(
        &mut self,
        index: String,
        text: String,
    ) -> Result<Vec<f32>, search::SearchError> {
        let info = self.state.access(&index)?.info();
        let model = info.embedder.as_deref().ok_or_else(|| {
            search::SearchError::InvalidQuery(format!(
                "index `{index}` has no vectors (it was ingested without --model), so there is no model to embed the query with; search it by text"
            ))
        })?;
        let models = self.state.models.as_ref().ok_or_else(|| {
            search::SearchError::Failed(format!(
                "this host runs without native models, so the query cannot be embedded with `{model}`"
            ))
        })?;
        let texts = [text];
        let result = match self.deadline {
            Some(deadline) => models.embed_before(model, &texts, deadline),
            None => models.embed(model, &texts).map(Some),
        };
        let mut out = result
            .map_err(|e| match e {
                genops_models::Error::InvalidInput(_) => {
                    search::SearchError::InvalidQuery(e.to_string())
                }
                _ => search::SearchError::Failed(e.to_string()),
            })?
            .ok_or_else(|| late_query(model))?;
        Ok(out.pop().map(|e| e.vector).unwrap_or_default())
    }

    fn search_vector(
        &mut self,
        index: String,
        vector: Vec<f32>,
        k: u32,
        filter_list: Vec<search::Filter>,
        mode: search::VectorMode,
    ) -> Result<Vec<search::Scored>, search::SearchError> {
        let k = check_k("k", k)?;
        let mode = match mode {
            search::VectorMode::Auto => genops_search::VectorMode::Auto,
            search::VectorMode::Exact => genops_search::VectorMode::Exact,
            search::VectorMode::Approximate => genops_search::VectorMode::Approximate,
        };
        let hits = self
            .state
            .access(&index)?
            .search_vector(&vector, k, &filters(filter_list), mode)
            .map_err(search_error)?;
        Ok(scored(hits))
    }

    fn fetch_chunks(
        &mut self,
        index: String,
        ids: Vec<String>,
        vectors: bool,
    ) -> Result<Vec<search::ChunkRecord>, search::SearchError> {
        check_k(
            "the number of ids",
            u32::try_from(ids.len()).unwrap_or(u32::MAX),
        )?;
        let found = self.state.access(&index)?;
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let records = found.fetch(&ids, vectors).map_err(search_error)?;
        Ok(records
            .into_iter()
            .map(|r| search::ChunkRecord {
                chunk_id: r.chunk_id,
                source: r.source,
                text: r.text,
                start: r.start,
                end: r.end,
                metadata: r.metadata.into_iter().collect(),
                vector: r.vector,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use search::Host as _;

    /// One index with vectors made by `model`, and nothing in it: `embed-query` reads only
    /// its description.
    struct Embedded(&'static str);

    impl Indexes for Embedded {
        fn resolve(&self, _: &str) -> Result<Arc<dyn SearchIndex>, genops_search::Error> {
            Ok(Arc::new(Embedded(self.0)))
        }
    }

    impl SearchIndex for Embedded {
        fn info(&self) -> genops_search::IndexInfo {
            genops_search::IndexInfo {
                name: "docs".into(),
                version: 1,
                chunks: 0,
                embedder: Some(self.0.into()),
                dimensions: 3,
                approximate: false,
                fields: Vec::new(),
            }
        }
        fn search_text(
            &self,
            _: &str,
            _: usize,
            _: &[genops_search::Filter],
        ) -> Result<Vec<genops_search::Scored>, genops_search::Error> {
            Ok(Vec::new())
        }
        fn search_vector(
            &self,
            _: &[f32],
            _: usize,
            _: &[genops_search::Filter],
            _: genops_search::VectorMode,
        ) -> Result<Vec<genops_search::Scored>, genops_search::Error> {
            Ok(Vec::new())
        }
        fn fetch(
            &self,
            _: &[&str],
            _: bool,
        ) -> Result<Vec<genops_search::ChunkRecord>, genops_search::Error> {
            Ok(Vec::new())
        }
    }

    /// Regression: `embed-query` ran the model whatever the call's deadline was. Past the
    /// deadline it is now refused before the model is looked up, let alone run.
    #[test]
    fn embedding_a_query_past_the_deadline_is_refused() {
        let store = tempfile::tempdir().unwrap();
        let models = Models::new(
            genops_models::ModelStore::new(store.path()),
            genops_models::ModelsConfig::default(),
        )
        .unwrap();
        let mut state = SearchState::new(
            PluginId {
                name: "p".into(),
                version: semver::Version::new(1, 0, 0),
                digest: "sha256:0123456789abcdef0123".into(),
            },
            Some(Arc::new(Embedded("no-such-model"))),
            Arc::from(vec!["*".to_string()]),
            Some(models),
        );
        let mut late = SearchCall {
            state: &mut state,
            deadline: Some(Instant::now()),
        };
        match late.embed_query("docs".into(), "a question".into()) {
            Err(search::SearchError::Failed(m)) => {
                assert!(m.contains("deadline passed"), "{m}");
                assert!(m.contains("limits.timeout-ms"), "{m}");
            }
            other => panic!("expected failed, got {other:?}"),
        }
        // In time, the same call reaches the model (which this store lacks): the deadline,
        // not the model, refused the late call.
        let mut in_time = SearchCall {
            state: &mut state,
            deadline: None,
        };
        match in_time.embed_query("docs".into(), "a question".into()) {
            Err(search::SearchError::Failed(m)) => {
                assert!(!m.contains("deadline"), "{m}");
                assert!(m.contains("no-such-model"), "{m}");
            }
            other => panic!("expected failed, got {other:?}"),
        }
    }

    #[test]
    fn grants_match_whole_names_only() {
        let grants: Vec<String> = vec!["docs".into()];
        assert!(granted(&grants, "docs"));
        for other in ["Docs", "docs2", "doc", "../docs", "docs/..", "*", ""] {
            assert!(!granted(&grants, other), "{other}");
        }
        assert!(granted(&["*".to_string()], "anything"));
    }
}
