//! Indexes by name, as the host offers them to retriever plugins: a name resolves to the
//! live version of that index, opened.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::{Error, IndexVersion};

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

/// Resolves index names to their live versions. Implementations decide where the live
/// pointer comes from (the store, a fixed map in tests) and how long an opened version is
/// kept.
pub trait IndexResolver: Send + Sync {
    /// The live version of `name`.
    fn resolve(&self, name: &str) -> Result<Arc<LiveIndex>, Error>;
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
}

impl IndexResolver for OpenOnUse {
    fn resolve(&self, name: &str) -> Result<Arc<LiveIndex>, Error> {
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
