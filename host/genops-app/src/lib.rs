//! The genops application layer: the one composition root that every front end (the CLI,
//! the HTTP server, the experiment runner, the benchmarks) uses, so none of them
//! orchestrates on its own.
//!
//! An [`App`] owns a data directory ([`Layout`], the only place that spells its paths) and
//! its configuration ([`Config`], `genops.toml`), and builds the store, the native models
//! and the plugin runtime once, on first use. Its services return typed, serde-serialisable
//! results that a CLI prints (`--json`) and a server returns as they are:
//! - [`App::indexes`]: list, show, diff, roll back, freshness and garbage collection;
//! - [`App::searcher`]: a retriever bound to an index, returning hits joined with their
//!   chunks, and [`Searcher::evaluate`] for retrieval quality (recall, MRR, nDCG);
//! - [`App::ingest`]: files into a new index version;
//! - [`App::resolve_plugin`] and [`App::load_kind`]: installed plugins by name,
//!   folders and files by path.
//!
//! Errors carry an [`ErrorKind`] (a server's status) and, where one exists, a [`Fix`] that
//! a front end phrases in its own terms.
//!
//! ```no_run
//! # async fn run() -> Result<(), genops_app::Error> {
//! let app = genops_app::App::open(None, None)?;
//! for index in app.indexes().list().await? {
//!     println!("{} v{:?}", index.name, index.live_version);
//! }
//! let searcher = app.searcher("docs", "retriever-hybrid", Default::default()).await?;
//! let results = searcher.search("how do I roll back?", 5, vec![]).await?;
//! println!("{}", serde_json::to_string_pretty(&results).unwrap());
//! app.close().await;
//! # Ok(()) }
//! ```

mod app;
mod config;
mod error;
mod eval;
mod indexes;
mod ingest;
mod layout;
mod plugins;
mod search;

pub use app::App;
pub use config::{Config, StoreConfig};
pub use error::{fix_of, Error, ErrorKind, Fix};
pub use eval::{
    metrics, names, read_judged, JudgedQuery, QueryScore, RetrievalReport, RetrievalSummary,
};
pub use indexes::{GcReport, IndexSummary, Indexes};
pub use ingest::{AnnChoice, IngestRequest, ANN_AUTO_ROWS, DEFAULT_CHUNKER};
pub use layout::Layout;
pub use plugins::{is_path, Resolved};
pub use search::{SearchHit, SearchResults, Searcher};

pub use genops_ingest::{IngestReport, JsonlFields, Progress, Silent, Status};
