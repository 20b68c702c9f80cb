//! Indexes by name, as the host offers them to retriever plugins: a name resolves to the
//! live version of that index, opened. This is genops-index's implementation of the search
//! port ([`genops_search::Indexes`]), which is all the plugin runtime knows of indexes.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use genops_search::{ChunkRecord, IndexInfo, Scored, SearchIndex, VectorMode};

use crate::{Error, Filter, IndexVersion};

/// An index's live version, opened, with what a query needs to know about it.
#[derive(Debug)]
pub struct LiveIndex {
    /// The index's name.
    pub name: String,
    /// The live version's number.
    pub version: u32,
    /// The embedding model the chunk vectors were made with, if any; queries must be
    /// embedded with the same model to be comparable.
    pub embedder: Option<String>,
    /// The version's files.
    pub data: IndexVersion,
}

/// Where one index's live version is, before it is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveLocation {
    /// The live version's number.
    pub version: u32,
    /// Its folder.
    pub dir: PathBuf,
    /// Its embedding model, if any.
    pub embedder: Option<String>,
}

/// A resolver over a fixed set of indexes whose live versions were looked up up front
/// (one query of the store), each opened on first use and then kept.
#[derive(Debug, Default)]
pub struct OpenOnUse {
    locations: BTreeMap<String, LiveLocation>,
    opened: Mutex<BTreeMap<String, Arc<LiveIndex>>>,
}

impl OpenOnUse {
    /// A resolver over `locations`, by index name.
    pub fn new(locations: BTreeMap<String, LiveLocation>) -> Self {
        Self {
            locations,
            opened: Mutex::default(),
        }
    }

    /// The live version of `name`, opened on first use.
    pub fn live(&self, name: &str) -> Result<Arc<LiveIndex>, Error> {
        let mut opened = self.opened.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(live) = opened.get(name) {
            return Ok(live.clone());
        }
        let location = self
            .locations
            .get(name)
            .ok_or_else(|| Error::UnknownIndex {
                name: name.to_string(),
                known: self.locations.keys().cloned().collect(),
            })?;
        let live = Arc::new(LiveIndex {
            name: name.to_string(),
            version: location.version,
            embedder: location.embedder.clone(),
            data: IndexVersion::open(&location.dir)?,
        });
        opened.insert(name.to_string(), live.clone());
        Ok(live)
    }
}

impl genops_search::Indexes for OpenOnUse {
    fn resolve(&self, name: &str) -> Result<Arc<dyn SearchIndex>, genops_search::Error> {
        Ok(self.live(name)?)
    }
}

impl SearchIndex for LiveIndex {
    fn info(&self) -> IndexInfo {
        let meta = self.data.meta();
        IndexInfo {
            name: self.name.clone(),
            version: self.version,
            chunks: u64::from(meta.rows),
            embedder: self.embedder.clone(),
            dimensions: meta.dimensions.unwrap_or(0),
            approximate: meta.ann,
            fields: meta.fields.clone(),
        }
    }

    fn search_text(
        &self,
        query: &str,
        k: usize,
        filters: &[Filter],
    ) -> Result<Vec<Scored>, genops_search::Error> {
        Ok(self.data.search_text(query, k, filters)?)
    }

    fn search_vector(
        &self,
        vector: &[f32],
        k: usize,
        filters: &[Filter],
        mode: VectorMode,
    ) -> Result<Vec<Scored>, genops_search::Error> {
        Ok(self.data.search_vector(vector, k, filters, mode)?)
    }

    fn fetch(
        &self,
        ids: &[&str],
        with_vectors: bool,
    ) -> Result<Vec<ChunkRecord>, genops_search::Error> {
        Ok(self.data.fetch(ids, with_vectors)?)
    }
}

/// The port's case of an index error: what the caller asked wrongly, or what failed.
impl From<Error> for genops_search::Error {
    fn from(e: Error) -> Self {
        if matches!(e, Error::UnknownIndex { .. }) {
            genops_search::Error::UnknownIndex(e.to_string())
        } else if e.is_bad_request() {
            genops_search::Error::InvalidQuery(e.to_string())
        } else {
            genops_search::Error::Failed(e.to_string())
        }
    }
}
