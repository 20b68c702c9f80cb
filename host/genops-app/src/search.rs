//! The search service: a retriever plugin over an index's live version, returning typed
//! hits joined with their chunk records. Plugins run on blocking threads, never on the
//! async runtime's own: a plugin that blocks in WASI must not stall (or panic) the runtime.

use std::collections::BTreeMap;
use std::sync::Arc;

use genops_index::Filter;
use genops_runtime::typed::Retriever;
use genops_runtime::{Plugin, Query, TypedPlugin, TypedSession};
use genops_search::{IndexInfo, Indexes, SearchIndex};
use serde::Serialize;

use crate::{App, Error};

/// One ranked chunk.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    /// 1 for the best.
    pub rank: usize,
    /// The chunk's id in the index version.
    pub chunk_id: String,
    /// The retriever's score; higher is better.
    pub score: f64,
    /// The document the chunk was cut from, as ingested.
    pub source: String,
    /// Byte offsets in the document's extracted text.
    pub start: u64,
    /// End offset (exclusive).
    pub end: u64,
    /// The chunk's text.
    pub text: String,
    /// Document and chunk metadata.
    pub metadata: BTreeMap<String, String>,
    /// How the retriever found it (its own keys).
    pub retriever: BTreeMap<String, String>,
}

/// The answer to one search.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    /// The index searched.
    pub index: String,
    /// Its live version at the time.
    pub version: u32,
    /// The retriever, with its digest.
    pub retriever: String,
    /// Best first.
    pub hits: Vec<SearchHit>,
}

/// A retriever bound to an index's live version, ready to serve queries; cheap to clone
/// and safe to share between tasks.
#[derive(Clone)]
pub struct Searcher {
    plugin: TypedPlugin<Retriever>,
    overrides: BTreeMap<String, String>,
    index: Arc<dyn SearchIndex>,
    info: IndexInfo,
}

impl App {
    /// Loads `retriever` (an installed name or a path), checks `overrides` against the keys
    /// it reads, and binds it to the live version of `index`.
    pub async fn searcher(
        &self,
        index: &str,
        retriever: &str,
        overrides: BTreeMap<String, String>,
    ) -> Result<Searcher, Error> {
        let runtime = self.runtime()?;
        let resolver = self.live_indexes().await?;
        let resolved = self.resolve_plugin(retriever)?;
        let index = index.to_string();
        blocking(move || {
            let plugin = runtime.load_file(&resolved.component, resolved.manifest)?;
            let plugin = crate::plugins::typed::<Retriever>(plugin, "--retriever")?;
            plugin.check_config(&overrides)?;
            let index = resolver.resolve(&index)?;
            Ok(Searcher {
                plugin,
                overrides,
                info: index.info(),
                index,
            })
        })
        .await
    }
}

impl Searcher {
    /// The index's name.
    pub fn index(&self) -> &str {
        &self.info.name
    }

    /// The live version searched.
    pub fn version(&self) -> u32 {
        self.info.version
    }

    /// The retriever.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// The config overrides the retriever runs with.
    pub fn overrides(&self) -> &BTreeMap<String, String> {
        &self.overrides
    }

    /// Runs one query.
    pub async fn search(
        &self,
        text: &str,
        k: u32,
        filters: Vec<Filter>,
    ) -> Result<SearchResults, Error> {
        let me = self.clone();
        let text = text.to_string();
        let hits = blocking(move || {
            let mut session = me.plugin.session(&me.overrides);
            me.retrieve(&mut session, &text, k, &filters)
        })
        .await?;
        Ok(SearchResults {
            index: self.info.name.clone(),
            version: self.info.version,
            retriever: self.plugin.id().to_string(),
            hits,
        })
    }

    /// Runs many queries in one plugin instance, in order.
    pub async fn search_many(
        &self,
        queries: Vec<(String, u32)>,
    ) -> Result<Vec<Vec<SearchHit>>, Error> {
        let me = self.clone();
        blocking(move || {
            let mut session = me.plugin.session(&me.overrides);
            queries
                .iter()
                .map(|(text, k)| me.retrieve(&mut session, text, *k, &[]))
                .collect()
        })
        .await
    }

    /// Runs the retriever and reads its hits back from the index.
    fn retrieve(
        &self,
        session: &mut TypedSession<Retriever>,
        text: &str,
        k: u32,
        filters: &[Filter],
    ) -> Result<Vec<SearchHit>, Error> {
        let hits = session.retrieve(&Query {
            text: text.to_string(),
            k,
            filters: filters.to_vec(),
            index: self.info.name.clone(),
        })?;
        let ids: Vec<&str> = hits.iter().map(|h| h.chunk_id.as_str()).collect();
        let records = self
            .index
            .fetch(&ids, false)
            .map_err(|source| Error::UnknownHit {
                plugin: self.plugin.id().to_string(),
                index: self.info.name.clone(),
                source,
            })?;
        Ok(hits
            .into_iter()
            .zip(records)
            .enumerate()
            .map(|(i, (hit, chunk))| SearchHit {
                rank: i + 1,
                chunk_id: hit.chunk_id,
                score: hit.score,
                source: chunk.source,
                start: chunk.start,
                end: chunk.end,
                text: chunk.text,
                metadata: chunk.metadata,
                retriever: hit.metadata.into_iter().collect(),
            })
            .collect())
    }
}

/// Runs plugin work on a blocking thread.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Task(e.to_string()))?
}
