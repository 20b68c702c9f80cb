//! `genops bench ...`

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use genops_app::App;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Plugin runtime figures: plugin vs native throughput, instantiation (pooling vs
    /// on-demand), load from cache vs compile, call overhead vs a native trait call.
    Runtime {
        /// Folder of built plugins (one folder per plugin) to measure.
        #[arg(long, value_name = "DIR")]
        plugins: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Scale every iteration count (0.1 for a quick look).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
    },
    /// Native model figures: embedding throughput versus Python onnxruntime and
    /// sentence-transformers, fraction of peak FLOPs, concurrent callers versus one batch,
    /// mixed versus sorted lengths. Run from the repository (it uses tests/data and
    /// scripts/models/reference.py).
    Models {
        /// The embedding model.
        #[arg(long, default_value = genops_models::catalog::DEFAULT_EMBEDDING_MODEL)]
        model: String,
        /// Sentences to embed, one per line.
        #[arg(long, default_value = "tests/data/sentences.txt", value_name = "FILE")]
        sentences: PathBuf,
        /// The Python reference script.
        #[arg(
            long,
            default_value = "scripts/models/reference.py",
            value_name = "FILE"
        )]
        reference: PathBuf,
        /// A sentence-transformers folder of the same model; found in the Python packages
        /// when not given.
        #[arg(long, value_name = "DIR")]
        st_model: Option<PathBuf>,
        /// The Python that runs the reference (with onnxruntime and tokenizers, and
        /// sentence-transformers for that figure); `scripts/bench-models.sh` makes one.
        #[arg(long, value_name = "PATH")]
        python: Option<PathBuf>,
        /// Inputs per batch.
        #[arg(long, default_value_t = 32)]
        batch: usize,
        /// Threads per engine.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Timed repetitions of each throughput figure (the best counts).
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Scale the rounds of the concurrency figure (0.1 for a quick look).
        #[arg(long, default_value_t = 1.0)]
        scale: f64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Retrieval figures: BM25 through a retriever plugin vs bare tantivy, hybrid vs its two
    /// searches, exact vector scan vs memory bandwidth, HNSW vs exact, ingestion rate. Run
    /// from the repository (it uses tests/data and examples/rag-corpus).
    Retrieval {
        /// Folder of built plugins (retriever-bm25, retriever-vector, retriever-hybrid,
        /// chunker-recursive).
        #[arg(long, value_name = "DIR")]
        plugins: PathBuf,
        /// Chunks in the BM25 and hybrid index.
        #[arg(long, default_value_t = 50_000)]
        chunks: usize,
        /// Random vectors in the exact-scan figure.
        #[arg(long, default_value_t = 300_000)]
        vectors: usize,
        /// Clustered vectors in the HNSW figure (the graph takes about a minute per 30,000).
        #[arg(long, default_value_t = 30_000)]
        ann_vectors: usize,
        /// Queries timed per figure.
        #[arg(long, default_value_t = 200)]
        queries: usize,
        /// The embedding model (queries and ingestion).
        #[arg(long, default_value = genops_models::catalog::DEFAULT_EMBEDDING_MODEL)]
        model: String,
        /// Sentences the BM25 index is made of, one per line.
        #[arg(long, default_value = "tests/data/sentences.txt", value_name = "FILE")]
        sentences: PathBuf,
        /// The corpus ingested for the ingestion figure.
        #[arg(long, default_value = "examples/rag-corpus/docs", value_name = "DIR")]
        corpus: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: BenchCommand, app: &App) -> Result<()> {
    match cmd {
        BenchCommand::Runtime {
            plugins,
            json,
            scale,
        } => {
            let report =
                genops_bench::run_runtime(&plugins, scale, &mut |line| eprintln!("{line}"))?;
            print_report(&report, json)
        }
        BenchCommand::Retrieval {
            plugins,
            chunks,
            vectors,
            ann_vectors,
            queries,
            model,
            sentences,
            corpus,
            json,
        } => {
            for (what, path) in [("sentences", &sentences), ("corpus", &corpus)] {
                if !path.exists() {
                    anyhow::bail!(
                        "{what} {} not found; run `genops bench retrieval` from the repository, or pass its path",
                        path.display()
                    );
                }
            }
            let opts = genops_bench::RetrievalBench {
                data_dir: app.data_dir().to_path_buf(),
                plugins,
                sentences,
                corpus,
                chunks,
                vector_rows: vectors,
                ann_rows: ann_vectors,
                queries,
                model,
                onnxruntime: app.config().models.onnxruntime.clone(),
            };
            let report = genops_bench::run_retrieval(&opts, &mut |line| eprintln!("{line}"))?;
            print_report(&report, json)
        }
        BenchCommand::Models {
            model,
            sentences,
            reference,
            st_model,
            python,
            batch,
            threads,
            repeat,
            scale,
            json,
        } => {
            for (what, path) in [("sentences", &sentences), ("reference script", &reference)] {
                if !path.is_file() {
                    anyhow::bail!(
                        "{what} {} not found; run `genops bench models` from the repository, or pass its path",
                        path.display()
                    );
                }
            }
            let opts = genops_bench::ModelsBench {
                data_dir: app.data_dir().to_path_buf(),
                model,
                sentences,
                reference,
                python: python.unwrap_or_else(genops_models::catalog::WheelFetcher::default_python),
                st_model,
                batch_size: batch,
                threads,
                repeat,
                scale,
                onnxruntime: app.config().models.onnxruntime.clone(),
            };
            let report = genops_bench::run_models(&opts, &mut |line| eprintln!("{line}"))?;
            print_report(&report, json)
        }
    }
}

fn print_report(report: &genops_bench::Report, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}
