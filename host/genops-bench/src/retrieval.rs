//! `genops bench retrieval`: the RAG data pipeline's figures, each beside its peer.
//!
//! - BM25 through the `retriever-bm25` plugin (a fresh session per query, as a service
//!   handles a request) against bare tantivy on the same index version, p50 and p99.
//! - Hybrid retrieval through `retriever-hybrid` against the sum of its two searches made
//!   through `retriever-bm25` and `retriever-vector` at the same depth.
//! - Exact vector search over random 384-dimension vectors: GB/s scanned against the
//!   machine's read bandwidth measured in the same run.
//! - HNSW queries per second against the exact scan of the same vectors, at the smallest
//!   `ef_search` that reaches recall@10 of 0.95. On clustered vectors, as embeddings of real
//!   text are: on uniform random vectors in 384 dimensions HNSW needs a 30-minute build at
//!   300,000 rows and still does not reach 0.95 (docs/benchmarks.md).
//! - Ingestion of the example corpus end to end: chunks per second, and the share of the
//!   time spent embedding.
//!
//! The BM25 and hybrid index is built from the real sentences of `tests/data/sentences.txt`,
//! three to a chunk, with random unit vectors: the cost of a vector scan does not depend on
//! what the vectors mean, and embedding tens of thousands of chunks would take minutes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use genops_index::{IndexVersion, LiveLocation, NewRow, OpenOnUse, VersionBuilder};
use genops_models::{Models, ModelsConfig};
use genops_runtime::{Plugin, Query, Runtime, RuntimeConfig};
use genops_vectors::synth::{self, Rng};
use genops_vectors::{AnnConfig, AnnIndex, VectorFile, VectorWriter};

use crate::{micros, model_store, percentile, Error, Report, Row};

/// What `genops bench retrieval` measures with.
#[derive(Debug, Clone)]
pub struct RetrievalBench {
    /// The data directory holding the embedding model and ONNX Runtime.
    pub data_dir: PathBuf,
    /// The folder of built plugins (`retriever-bm25`, `retriever-vector`,
    /// `retriever-hybrid`, `chunker-recursive`).
    pub plugins: PathBuf,
    /// One sentence per line, the text of the BM25 index.
    pub sentences: PathBuf,
    /// The corpus folder ingested for the ingestion figure.
    pub corpus: PathBuf,
    /// Chunks in the BM25 and hybrid index.
    pub chunks: usize,
    /// Random vectors of the exact-scan figure.
    pub vector_rows: usize,
    /// Clustered vectors of the HNSW figure (building the graph is slow: about a minute
    /// for 30,000 on two cores).
    pub ann_rows: usize,
    /// Queries timed per figure.
    pub queries: usize,
    /// The embedding model.
    pub model: String,
    /// The ONNX Runtime library, when genops.toml names one.
    pub onnxruntime: Option<PathBuf>,
}

const DIMENSIONS: usize = 384;
const K: u32 = 10;
/// How deep the hybrid retriever searches each way in the figure, and so the depth of the
/// two searches it is compared with.
const HYBRID_DEPTH: u32 = 50;
/// Noise per coordinate of the clustered vectors: a noise vector of norm about 0.6 around a
/// unit centre, so neighbours within a topic have cosines of 0.7 to 0.8, as sentence
/// embeddings of one topic do. (Noise of norm above 1 makes the vectors nearly uniform.)
const SPREAD: f32 = 0.03;

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn sorted(mut v: Vec<Duration>) -> Vec<Duration> {
    v.sort();
    v
}

fn plugin_dir(plugins: &Path, name: &str) -> Result<PathBuf, Error> {
    let dir = plugins.join(name);
    if dir.join("genops-plugin.toml").is_file() {
        Ok(dir)
    } else {
        Err(Error::MissingPlugin {
            name: name.into(),
            dir: plugins.to_path_buf(),
        })
    }
}

/// Builds the bench index: `chunks` chunks of three real sentences each, random unit
/// vectors.
fn build_index(dir: &Path, sentences: &[String], chunks: usize) -> Result<IndexVersion, Error> {
    let mut rng = Rng::new(7);
    let mut builder = VersionBuilder::create(dir, Some(DIMENSIONS as u32))?;
    for i in 0..chunks {
        let text: Vec<&str> = (0..3)
            .map(|_| sentences[(rng.next_u64() % sentences.len() as u64) as usize].as_str())
            .collect();
        let mut vector: Vec<f32> = (0..DIMENSIONS)
            .map(|_| rng.next_f64() as f32 - 0.5)
            .collect();
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        vector.iter_mut().for_each(|x| *x /= norm);
        builder.add(NewRow {
            chunk_id: i.to_string(),
            source: format!("bench/{}.txt", i / 10),
            document: format!("doc{}", i / 10),
            start: 0,
            end: 0,
            text: text.join(" "),
            metadata: BTreeMap::from([("part".to_string(), (i % 10).to_string())]),
            vector: Some(vector),
        })?;
    }
    builder.finish(None, serde_json::json!({"bench": true}))?;
    Ok(IndexVersion::open(dir)?)
}

/// Query texts: four to six consecutive words of real sentences.
fn queries(sentences: &[String], n: usize) -> Vec<String> {
    let mut rng = Rng::new(11);
    (0..n)
        .map(|_| {
            let s = &sentences[(rng.next_u64() % sentences.len() as u64) as usize];
            let words: Vec<&str> = s.split_whitespace().collect();
            let len = 4 + (rng.next_u64() % 3) as usize;
            let start = (rng.next_u64() as usize) % words.len().saturating_sub(len).max(1);
            words[start..(start + len).min(words.len())].join(" ")
        })
        .collect()
}

fn retrieve(
    plugin: &Plugin,
    config: &[(&str, &str)],
    text: &str,
    k: u32,
) -> Result<Vec<genops_runtime::Hit>, Error> {
    let sets = config
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    // A fresh session per query: what a service does per request, instantiation included.
    Ok(plugin.session(&sets).retrieve(&Query {
        text: text.to_string(),
        k,
        filters: vec![],
        index: "bench".into(),
    })?)
}

/// Runs every retrieval figure.
pub fn run_retrieval(
    opts: &RetrievalBench,
    progress: &mut dyn FnMut(&str),
) -> Result<Report, Error> {
    let sentences: Vec<String> = std::fs::read_to_string(&opts.sentences)
        .map_err(|e| Error::Reference(format!("cannot read {}: {e}", opts.sentences.display())))?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    let work = tempfile::tempdir()?;

    progress(&format!(
        "bench: building an index of {} chunks",
        opts.chunks
    ));
    let index_dir = work.path().join("bench-index");
    let bare = build_index(&index_dir, &sentences, opts.chunks)?;
    let config = ModelsConfig {
        onnxruntime: opts.onnxruntime.clone(),
        ..ModelsConfig::default()
    };
    let models = Models::new(model_store(&opts.data_dir), config)?;
    let runtime = Runtime::with_models(
        RuntimeConfig::default(),
        Some(work.path().join("cache")),
        Some(models.clone()),
    )?;
    runtime.set_indexes(Some(Arc::new(OpenOnUse::new(BTreeMap::from([(
        "bench".to_string(),
        LiveLocation {
            version: 1,
            dir: index_dir.clone(),
            embedder: Some(opts.model.clone()),
        },
    )])))));
    let bm25 = runtime.load_dir(&plugin_dir(&opts.plugins, "retriever-bm25")?)?;
    let vector = runtime.load_dir(&plugin_dir(&opts.plugins, "retriever-vector")?)?;
    let hybrid = runtime.load_dir(&plugin_dir(&opts.plugins, "retriever-hybrid")?)?;
    let qs = queries(&sentences, opts.queries);

    progress(&format!(
        "bench: BM25, {} queries, plugin vs bare tantivy",
        qs.len()
    ));
    for q in qs.iter().take(20) {
        bare.search_text(q, K as usize, &[])?;
        retrieve(&bm25, &[], q, K)?;
    }
    let (mut through, mut direct) = (Vec::new(), Vec::new());
    // Interleaved, so both see the same machine.
    for q in &qs {
        let t = Instant::now();
        let native = bare.search_text(q, K as usize, &[])?;
        direct.push(t.elapsed());
        let t = Instant::now();
        let hits = retrieve(&bm25, &[], q, K)?;
        through.push(t.elapsed());
        let same = hits.len() == native.len()
            && hits
                .iter()
                .zip(&native)
                .all(|(a, b)| a.chunk_id == b.chunk_id);
        if !same {
            return Err(Error::Mismatch {
                plugin: hits.len(),
                native: native.len(),
            });
        }
    }
    let (through, direct) = (sorted(through), sorted(direct));
    for (label, p) in [("p50", 0.5), ("p99", 0.99)] {
        let (a, b) = (percentile(&through, p), percentile(&direct, p));
        rows.push(Row {
            figure: format!("BM25 query latency {label}, k={K}, {} chunks", opts.chunks),
            genops: micros(a),
            peer: micros(b),
            peer_name: "bare tantivy, same index".into(),
            ratio: a.as_secs_f64() / b.as_secs_f64(),
            ratio_meaning: "plugin / bare, lower is better".into(),
            goal: "<= 1.2".into(),
        });
    }

    progress(&format!(
        "bench: hybrid vs its two searches, {} queries",
        qs.len()
    ));
    let depth = HYBRID_DEPTH.to_string();
    let hybrid_config = [("depth", depth.as_str()), ("mode", "exact")];
    for q in qs.iter().take(5) {
        retrieve(&hybrid, &hybrid_config, q, K)?;
        retrieve(&vector, &[("mode", "exact")], q, HYBRID_DEPTH)?;
    }
    let (mut fused, mut parts) = (Vec::new(), Vec::new());
    for q in &qs {
        let t = Instant::now();
        retrieve(&hybrid, &hybrid_config, q, K)?;
        fused.push(t.elapsed());
        let t = Instant::now();
        retrieve(&bm25, &[], q, HYBRID_DEPTH)?;
        retrieve(&vector, &[("mode", "exact")], q, HYBRID_DEPTH)?;
        parts.push(t.elapsed());
    }
    let (fused, parts) = (sorted(fused), sorted(parts));
    let (a, b) = (percentile(&fused, 0.5), percentile(&parts, 0.5));
    rows.push(Row {
        figure: format!(
            "hybrid retrieval p50, depth {HYBRID_DEPTH} each way, {} chunks",
            opts.chunks
        ),
        genops: ms(a),
        peer: ms(b),
        peer_name: "bm25 + vector plugins at the same depth".into(),
        ratio: a.as_secs_f64() / b.as_secs_f64(),
        ratio_meaning: "hybrid / sum, lower is better".into(),
        goal: "<= 1.05".into(),
    });
    drop((bm25, vector, hybrid, bare, runtime));

    rows.extend(vector_figures(opts, work.path(), progress)?);

    progress("bench: ingesting the example corpus end to end");
    rows.push(ingestion(opts, work.path())?);
    Ok(Report { rows })
}

fn ingestion(opts: &RetrievalBench, work: &Path) -> Result<Row, Error> {
    // A fresh data directory, wired by the application layer as the CLI's is, that borrows
    // the installed models rather than copying them.
    let data = work.join("ingest-data");
    let source = genops_app::Layout::new(&opts.data_dir);
    let layout = genops_app::Layout::new(&data);
    std::fs::create_dir_all(&data)?;
    for (from, to) in [
        (source.models(), layout.models()),
        (source.onnx_runtime(), layout.onnx_runtime()),
    ] {
        if from.exists() {
            std::os::unix::fs::symlink(&from, &to)?;
        }
    }
    let mut config = genops_app::Config::default();
    config.models.onnxruntime = opts.onnxruntime.clone();
    let app = genops_app::App::with_config(layout, config);
    let request = genops_app::IngestRequest {
        index: "bench".into(),
        chunker: plugin_dir(&opts.plugins, "chunker-recursive")?
            .display()
            .to_string(),
        chunker_config: BTreeMap::new(),
        model: Some(opts.model.clone()),
        prune: false,
        jsonl: genops_ingest::JsonlFields::default(),
        ann: genops_app::AnnChoice::Never,
        paths: vec![opts.corpus.display().to_string()],
    };
    let report = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(async {
            let report = app.ingest(request, &mut genops_ingest::Silent).await;
            app.close().await;
            report
        })?;
    let rate = report.chunks as f64 / report.seconds;
    let embed_rate = report.embedded_chunks as f64 / report.embed_seconds.max(1e-9);
    Ok(Row {
        figure: format!(
            "ingest {} documents, {} chunks, end to end",
            report.documents, report.chunks
        ),
        genops: format!("{rate:.1} chunks/s"),
        peer: format!("{embed_rate:.1} chunks/s"),
        peer_name: "embedding alone".into(),
        ratio: report.embed_seconds / report.seconds,
        ratio_meaning: "share of the time spent embedding".into(),
        goal: String::new(),
    })
}

fn write_vectors(path: &Path, data: &[f32]) -> Result<VectorFile, Error> {
    let mut w = VectorWriter::create(path, DIMENSIONS)?;
    w.push_rows(data)?;
    w.finish()?;
    Ok(VectorFile::open(path)?)
}

/// Median time of exact top-k over `queries`, after a warm-up pass.
fn exact_p50(file: &VectorFile, queries: &[f32]) -> Result<Duration, Error> {
    let mut times = Vec::new();
    for (pass, q) in queries.chunks_exact(DIMENSIONS).enumerate() {
        let t = Instant::now();
        file.search_exact(q, K as usize, None)?;
        if pass >= 3 {
            times.push(t.elapsed());
        }
    }
    Ok(percentile(&sorted(times), 0.5))
}

fn vector_figures(
    opts: &RetrievalBench,
    work: &Path,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Row>, Error> {
    let mut rows = Vec::new();
    let n_queries = opts.queries.clamp(10, 200);
    progress(&format!(
        "bench: exact scan of {} random {DIMENSIONS}-dimension vectors vs memory bandwidth",
        opts.vector_rows
    ));
    let file = write_vectors(
        &work.join("random.bin"),
        &synth::random_unit_vectors(opts.vector_rows, DIMENSIONS, 42),
    )?;
    let queries = synth::random_unit_vectors(n_queries, DIMENSIONS, 43);
    let p50 = exact_p50(&file, &queries)?;
    let gbs = file.payload_bytes() as f64 / p50.as_secs_f64() / 1e9;
    let bandwidth = genops_vectors::memory_bandwidth_gbs();
    rows.push(Row {
        figure: format!(
            "exact vector scan, {} x {DIMENSIONS}, top {K}, one thread",
            file.rows()
        ),
        genops: format!("{gbs:.2} GB/s ({} p50)", ms(p50)),
        peer: format!("{bandwidth:.2} GB/s"),
        peer_name: "measured memory read bandwidth, one thread".into(),
        ratio: gbs / bandwidth,
        ratio_meaning: "scan / bandwidth, higher is better".into(),
        goal: ">= 0.6".into(),
    });
    drop(file);

    progress(&format!(
        "bench: HNSW on {} clustered vectors vs exact (building the graph)",
        opts.ann_rows
    ));
    let clusters = (opts.ann_rows / 150).max(8);
    let file = write_vectors(
        &work.join("clustered.bin"),
        &synth::clustered_unit_vectors(opts.ann_rows, DIMENSIONS, clusters, SPREAD, 21),
    )?;
    let queries =
        synth::clustered_unit_vectors(n_queries, DIMENSIONS, clusters, 0.08, 21 + 1_000_003);
    let queries: Vec<&[f32]> = queries.chunks_exact(DIMENSIONS).collect();
    let exact = exact_p50(&file, &queries.concat())?;
    let built = Instant::now();
    let mut ann = AnnIndex::build(&file, AnnConfig::default())?;
    let build = built.elapsed();
    let mut ef = 16;
    let (recall, ann_p50) = loop {
        ann.set_ef_search(ef)?;
        let recall = genops_vectors::recall_at_k(&ann, &file, &queries, K as usize)?;
        if recall >= 0.95 || ef >= 4096 {
            let mut times = Vec::new();
            for q in &queries {
                let t = Instant::now();
                ann.search(q, K as usize, None)?;
                times.push(t.elapsed());
            }
            break (recall, percentile(&sorted(times), 0.5));
        }
        ef *= 2;
    };
    rows.push(Row {
        figure: format!(
            "HNSW vs exact, {} clustered x {DIMENSIONS}, recall@{K} {recall:.3} at ef_search {ef} (build {:.0} s)",
            file.rows(),
            build.as_secs_f64()
        ),
        genops: format!("{:.0} q/s", 1.0 / ann_p50.as_secs_f64()),
        peer: format!("{:.0} q/s", 1.0 / exact.as_secs_f64()),
        peer_name: "exact scan, one thread".into(),
        ratio: exact.as_secs_f64() / ann_p50.as_secs_f64(),
        ratio_meaning: "HNSW / exact queries per second".into(),
        goal: ">= 20 at recall >= 0.95".into(),
    });
    Ok(rows)
}
