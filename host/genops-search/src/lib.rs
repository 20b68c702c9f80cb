//! The search port of genops: what the plugin runtime needs of an index, and nothing of how
//! an index is stored.
//!
//! The runtime offers indexes to retriever plugins through the `genops:plugin/search` import.
//! It asks an [`Indexes`] for an index by name and gets a [`SearchIndex`] that describes
//! itself, searches by text and by vector, and reads chunks back by id. `genops-index`
//! implements the port over its version folders; tests and other hosts may implement it over
//! anything. Keeping the port apart keeps the runtime free of tantivy and the vector files,
//! and lets both sides change without the other.
//!
//! [`Filter`] is the one metadata filter type of genops, with its one parser
//! ([`Filter::parse`]): what a caller hands a retriever is what the index evaluates.
//!
//! ```
//! use genops_search::{Filter, FilterOp};
//!
//! let f = Filter::parse("year>=2021").unwrap();
//! assert_eq!((f.field.as_str(), f.op, f.value.as_str()), ("year", FilterOp::Gte, "2021"));
//! assert!(f.matches(Some("2024")) && !f.matches(Some("999")));
//! ```

mod error;
mod filter;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use error::Error;
pub use filter::{Filter, FilterOp};

/// Indexes by name, as the host offers them to retriever plugins. Implementations decide
/// where the live version of a name comes from and how long an opened one is kept.
pub trait Indexes: Send + Sync {
    /// The live version of index `name`; [`Error::UnknownIndex`] when there is none.
    fn resolve(&self, name: &str) -> Result<Arc<dyn SearchIndex>, Error>;
}

/// One opened index version that plugins may search.
pub trait SearchIndex: Send + Sync {
    /// What the index holds.
    fn info(&self) -> IndexInfo;

    /// The `k` chunks whose text best matches `query` (BM25), best first, among those that
    /// pass every filter.
    fn search_text(&self, query: &str, k: usize, filters: &[Filter]) -> Result<Vec<Scored>, Error>;

    /// The `k` chunks whose vectors are nearest `vector`, best first, among those that pass
    /// every filter.
    fn search_vector(
        &self,
        vector: &[f32],
        k: usize,
        filters: &[Filter],
        mode: VectorMode,
    ) -> Result<Vec<Scored>, Error>;

    /// Chunks by id, in the order asked; an id the index does not have is
    /// [`Error::InvalidQuery`].
    fn fetch(&self, ids: &[&str], with_vectors: bool) -> Result<Vec<ChunkRecord>, Error>;
}

/// What an index says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexInfo {
    /// The index's name.
    pub name: String,
    /// The number of the version being searched.
    pub version: u32,
    /// Number of chunks.
    pub chunks: u64,
    /// The embedding model of the chunk vectors, if the index has vectors; queries must be
    /// embedded with it to be comparable.
    pub embedder: Option<String>,
    /// Dimensions of the chunk vectors (0 without vectors).
    pub dimensions: u32,
    /// Whether an approximate nearest-neighbour graph is available.
    pub approximate: bool,
    /// The fields filters may name.
    pub fields: Vec<String>,
}

/// A search result: a chunk and its score (higher is better). Where the chunk sits inside
/// an index (genops-index's row numbers) is the index's business, and not part of a result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// The chunk's id.
    pub chunk_id: String,
    /// BM25, or the cosine of the query and chunk vectors.
    pub score: f64,
}

/// A chunk read back from an index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkRecord {
    /// The chunk's id.
    pub chunk_id: String,
    /// The document's path as ingested.
    pub source: String,
    /// The document's content hash: the same text ingested under two paths has one hash,
    /// and a changed document a new one.
    pub document: String,
    /// The chunk's text.
    pub text: String,
    /// Byte offsets in the document's text.
    pub start: u64,
    /// End offset (exclusive).
    pub end: u64,
    /// Document and chunk metadata.
    pub metadata: BTreeMap<String, String>,
    /// The chunk's vector, when asked for and the index has vectors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<Vec<f32>>,
}

/// How a vector search finds its neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VectorMode {
    /// The graph when the index has one and the query has no filters, else exact.
    #[default]
    Auto,
    /// Scan every vector: exact, and the reference for recall.
    Exact,
    /// The approximate graph; an error when the index has none.
    Approximate,
}
