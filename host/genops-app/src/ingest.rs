//! Ingestion: files in, a new index version out, reusing what earlier versions did.

use std::collections::BTreeMap;

use genops_index::AnnConfig;
use genops_ingest::{IngestOptions, IngestReport, JsonlFields, Progress};
use genops_runtime::typed::Chunker;

use crate::{App, Error};

/// The chunker `ingest` uses when none is given.
pub const DEFAULT_CHUNKER: &str = "chunker-recursive";

/// Chunks from which [`AnnChoice::Auto`] builds the approximate graph. The exact scan runs
/// at memory bandwidth (14.5 ms for 300,000 x 384 on one core), while HNSW needed ef_search
/// 512 or more for recall@10 of 0.95 on the benchmark's vectors and was then slower than
/// the scan (docs/benchmarks.md): below this size exact is both faster and exact.
pub const ANN_AUTO_ROWS: usize = 500_000;

/// When to build the approximate nearest-neighbour graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AnnChoice {
    /// From [`ANN_AUTO_ROWS`] chunks on.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never: vector search scans every vector.
    Never,
}

/// One ingest run.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    /// The index to add a version to; created when new.
    pub index: String,
    /// The chunker: an installed plugin's name or a path.
    pub chunker: String,
    /// Chunker config keys over its manifest's defaults.
    pub chunker_config: BTreeMap<String, String>,
    /// The embedding model; `None` builds a text-only (BM25) version.
    pub model: Option<String>,
    /// Drop documents of the live version whose files no longer exist.
    pub prune: bool,
    /// How .jsonl records map to documents.
    pub jsonl: JsonlFields,
    /// When to build the approximate graph.
    pub ann: AnnChoice,
    /// Files, folders and glob patterns.
    pub paths: Vec<String>,
}

impl App {
    /// Reads `request.paths` into a new version of `request.index`.
    pub async fn ingest(
        &self,
        request: IngestRequest,
        progress: &mut dyn Progress,
    ) -> Result<IngestReport, Error> {
        // Paths first: a typo in a path is the likeliest mistake, and the cheapest to report.
        let files = genops_ingest::expand(&request.paths)?;
        let chunker = self
            .load_kind::<Chunker>(&request.chunker, "--chunker")?
            .into_plugin();
        let models = self.models()?;
        if let Some(model) = &request.model {
            if !models.exists(model) {
                return Err(Error::ModelNotInstalled {
                    model: model.clone(),
                });
            }
        }
        let (ann, ann_min_rows) = match request.ann {
            AnnChoice::Never => (None, 0),
            AnnChoice::Always => (Some(AnnConfig::default()), 0),
            AnnChoice::Auto => (Some(AnnConfig::default()), ANN_AUTO_ROWS),
        };
        let options = IngestOptions {
            index: request.index,
            files,
            chunker,
            chunker_config: request.chunker_config,
            model: request.model,
            prune: request.prune,
            jsonl: request.jsonl,
            ann,
            ann_min_rows,
            limits: self.config().ingest.clone(),
        };
        let store = self.store().await?;
        Ok(genops_ingest::ingest(store, self.data_dir(), &models, options, progress).await?)
    }
}
