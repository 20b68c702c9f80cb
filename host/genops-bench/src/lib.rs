//! Benchmarks of the genops plugin runtime and native models, each measured side by side
//! with its peer in one run and reported as a ratio (`genops bench runtime`, `genops bench
//! models`).
//!
//! Figures: the fixed-size chunker as a plugin versus the same code compiled natively on
//! 1 MiB of text; instantiation from `InstancePre` with the pooling allocator versus the
//! on-demand one (p50 and p99); loading a plugin from the compiled cache versus compiling it
//! (Rust and Python); and the cost of the smallest export call versus a native `dyn Trait`
//! call. Timings are medians or percentiles of many runs on a shared machine: read them as
//! ratios, not absolutes.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod models;
mod peak;
mod retrieval;

pub use models::{run_models, ModelsBench};
pub use peak::peak_flops;
pub use retrieval::{run_retrieval, RetrievalBench};

use genops_chunking::{fixed, FixedConfig};
use genops_runtime::{Allocator, Document, LoadSource, Runtime, RuntimeConfig};
use serde::Serialize;

/// The model store of the data directory `data_dir`, where the application layer's layout
/// puts it.
pub(crate) fn model_store(data_dir: &Path) -> genops_models::ModelStore {
    let layout = genops_app::Layout::new(data_dir);
    genops_models::ModelStore::at(layout.models(), layout.onnx_runtime())
}

/// Errors of a benchmark run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A plugin the benchmark needs is not in the plugins folder.
    #[error("no built plugin {name} in {dir}; build them with scripts/build-plugins.sh {dir}")]
    MissingPlugin {
        /// The plugin.
        name: String,
        /// The folder searched.
        dir: PathBuf,
    },
    /// The runtime failed.
    #[error(transparent)]
    Runtime(#[from] genops_runtime::Error),
    /// A temporary folder could not be created.
    #[error("cannot create a temporary folder: {0}")]
    Io(#[from] std::io::Error),
    /// A model failed.
    #[error(transparent)]
    Models(#[from] genops_models::Error),
    /// The Python reference could not be run.
    #[error("the Python reference failed: {0}")]
    Reference(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] genops_store::Error),
    /// The index failed.
    #[error(transparent)]
    Index(#[from] genops_index::Error),
    /// The vector store failed.
    #[error(transparent)]
    Vectors(#[from] genops_vectors::Error),
    /// The application layer failed.
    #[error(transparent)]
    App(#[from] genops_app::Error),
    /// Ingestion failed.
    #[error(transparent)]
    Ingest(#[from] genops_ingest::Error),
    /// The plugin and the native code disagree, so their timings are not comparable.
    #[error("the plugin returned {plugin} chunks but the native code {native}; the comparison would be meaningless")]
    Mismatch {
        /// Chunks from the plugin.
        plugin: usize,
        /// Chunks from the native code.
        native: usize,
    },
}

/// One figure: genops and its peer, and the ratio that matters.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// What is measured.
    pub figure: String,
    /// genops' number, with its unit.
    pub genops: String,
    /// The peer's number, with its unit.
    pub peer: String,
    /// The peer's name.
    pub peer_name: String,
    /// The ratio, oriented as `ratio_meaning` says.
    pub ratio: f64,
    /// How to read the ratio.
    pub ratio_meaning: String,
    /// The goal the issue set, if any.
    pub goal: String,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The figures.
    pub rows: Vec<Row>,
}

impl Report {
    /// The figures as an aligned text table.
    pub fn table(&self) -> String {
        let headers = ["figure", "genops", "peer", "ratio", "goal"];
        let cells: Vec<[String; 5]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    r.figure.clone(),
                    r.genops.clone(),
                    format!("{} ({})", r.peer, r.peer_name),
                    format!("{:.2} ({})", r.ratio, r.ratio_meaning),
                    r.goal.clone(),
                ]
            })
            .collect();
        let mut widths = headers.map(str::len);
        for row in &cells {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cols: &[String]| {
            let mut s = String::from("|");
            for (c, w) in cols.iter().zip(widths) {
                s.push_str(&format!(" {c:<w$} |"));
            }
            s.push('\n');
            s
        };
        let mut out = line(&headers.map(String::from));
        out.push_str(&line(&widths.map(|w| "-".repeat(w))));
        for row in &cells {
            out.push_str(&line(row));
        }
        out
    }
}

/// Runs every runtime figure. `plugins` holds built plugin folders (`chunker-fixed`,
/// `paragraph-rust`, `paragraph-python`, `chunker-empty`); `scale` multiplies iteration counts.
pub fn run_runtime(
    plugins: &Path,
    scale: f64,
    progress: &mut dyn FnMut(&str),
) -> Result<Report, Error> {
    let dir = |name: &str| {
        let d = plugins.join(name);
        if d.join("genops-plugin.toml").is_file() {
            Ok(d)
        } else {
            Err(Error::MissingPlugin {
                name: name.into(),
                dir: plugins.to_path_buf(),
            })
        }
    };
    let iterations = |n: f64| ((n * scale).round() as usize).max(3);
    let cache = tempfile::tempdir()?;
    let runtime = Runtime::new(RuntimeConfig::default(), Some(cache.path().to_path_buf()))?;
    let mut rows = Vec::new();

    progress("bench: fixed chunker, plugin vs native, 1 MiB of text");
    rows.push(chunker_throughput(
        &runtime,
        &dir("chunker-fixed")?,
        iterations(20.0),
    )?);

    progress("bench: paragraph chunker, plugin vs native, 1 MiB of text");
    rows.push(paragraph_throughput(
        &runtime,
        &dir("paragraph-rust")?,
        iterations(20.0),
    )?);

    progress("bench: instantiation, pooling vs on-demand allocator");
    rows.extend(instantiation(&dir("chunker-fixed")?, iterations(2000.0))?);

    for (name, language) in [("chunker-fixed", "Rust"), ("paragraph-python", "Python")] {
        progress(&format!("bench: load from cache vs compile, {language}"));
        rows.push(load_time(&dir(name)?, language, iterations(5.0))?);
    }

    progress("bench: smallest export call vs native dyn Trait call");
    rows.push(call_overhead(
        &runtime,
        &dir("paragraph-rust")?,
        iterations(20000.0),
    )?);
    Ok(Report { rows })
}

/// Deterministic English-like text with a little Unicode, about `bytes` long.
pub fn sample_text(bytes: usize) -> String {
    const WORDS: &[&str] = &[
        "the",
        "index",
        "retriever",
        "returns",
        "chunks",
        "ranked",
        "by",
        "score",
        "and",
        "a",
        "prompt",
        "template",
        "guardrail",
        "blocks",
        "unsafe",
        "answers",
        "evaluation",
        "of",
        "variants",
        "side",
        "by",
        "side",
        "shows",
        "which",
        "chunking",
        "strategy",
        "wins",
        "naïve",
        "café",
        "日本語",
        "données",
        "über",
        "model",
        "embedding",
        "vector",
        "search",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut text = String::with_capacity(bytes + 64);
    while text.len() < bytes {
        let sentences = 2 + next() % 5;
        for _ in 0..sentences {
            let words = 6 + next() % 14;
            for w in 0..words {
                let word = WORDS[(next() % WORDS.len() as u64) as usize];
                if w == 0 {
                    let mut chars = word.chars();
                    if let Some(first) = chars.next() {
                        text.extend(first.to_uppercase());
                        text.push_str(chars.as_str());
                    }
                } else {
                    text.push(' ');
                    text.push_str(word);
                }
            }
            text.push_str(". ");
        }
        text.push_str("\n\n");
    }
    text
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn chunker_throughput(runtime: &Runtime, dir: &Path, iterations: usize) -> Result<Row, Error> {
    let plugin = runtime.load_dir(dir)?;
    let text = sample_text(1 << 20);
    let doc = Document {
        id: "bench.txt".into(),
        text: text.clone(),
        media_type: "text/plain".into(),
        metadata: vec![],
    };
    let entries: Vec<(String, String)> = plugin.manifest().config.clone().into_iter().collect();
    let config = FixedConfig::from_entries(&entries).expect("the manifest's defaults are valid");
    let mut session = plugin.session(&BTreeMap::new());
    let plugin_chunks = session.split(&doc)?.len();
    let native_chunks = fixed(&text, &config).len();
    if plugin_chunks != native_chunks {
        return Err(Error::Mismatch {
            plugin: plugin_chunks,
            native: native_chunks,
        });
    }
    let (wasm_rate, native_rate) = rates(&mut session, &doc, iterations, || {
        black_box(fixed(black_box(&text), &config));
    })?;
    Ok(Row {
        figure: "fixed chunker on 1 MiB (chars, size 1000, overlap 200)".into(),
        genops: format!("{wasm_rate:.1} MiB/s as a plugin"),
        peer: format!("{native_rate:.1} MiB/s"),
        peer_name: "same code, native".into(),
        ratio: wasm_rate / native_rate,
        ratio_meaning: "plugin / native".into(),
        goal: ">= 0.70".into(),
    })
}

/// MiB/s of the plugin splitting `doc` and of `native` doing the same, as medians of
/// interleaved runs, so drift in machine load hits both sides alike.
fn rates(
    session: &mut genops_runtime::Session,
    doc: &Document,
    iterations: usize,
    mut native: impl FnMut(),
) -> Result<(f64, f64), Error> {
    let mut native_times = Vec::with_capacity(iterations);
    let mut wasm_times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let t = Instant::now();
        native();
        native_times.push(t.elapsed());
        let t = Instant::now();
        black_box(session.split(doc)?);
        wasm_times.push(t.elapsed());
    }
    let mb = doc.text.len() as f64 / (1 << 20) as f64;
    Ok((
        mb / median(wasm_times).as_secs_f64(),
        mb / median(native_times).as_secs_f64(),
    ))
}

/// A chunker that does almost no work per byte, so the figure shows what crossing the
/// boundary costs: the 1 MiB copied in, one scan, the chunk list lifted out.
fn paragraph_throughput(runtime: &Runtime, dir: &Path, iterations: usize) -> Result<Row, Error> {
    let plugin = runtime.load_dir(dir)?;
    let text = sample_text(1 << 20);
    let doc = Document {
        id: "bench.txt".into(),
        text: text.clone(),
        media_type: "text/plain".into(),
        metadata: vec![],
    };
    let mut session = plugin.session(&BTreeMap::new());
    session.split(&doc)?;
    let native: Box<dyn Chunk> = Box::new(NativeParagraph);
    let (wasm_rate, native_rate) = rates(&mut session, &doc, iterations, || {
        black_box(native.split(black_box(&text)));
    })?;
    Ok(Row {
        figure: "paragraph chunker on 1 MiB (little work per byte: the boundary's cost)".into(),
        genops: format!("{wasm_rate:.0} MiB/s as a plugin"),
        peer: format!("{native_rate:.0} MiB/s"),
        peer_name: "a native paragraph split".into(),
        ratio: wasm_rate / native_rate,
        ratio_meaning: "plugin / native".into(),
        goal: "measured".into(),
    })
}

fn instantiation(dir: &Path, iterations: usize) -> Result<Vec<Row>, Error> {
    let measure = |allocator: Allocator| -> Result<Vec<Duration>, Error> {
        let runtime = Runtime::new(
            RuntimeConfig {
                allocator,
                ..RuntimeConfig::default()
            },
            None,
        )?;
        let plugin = runtime.load_dir(dir)?;
        let empty = BTreeMap::new();
        for _ in 0..iterations.min(100) {
            plugin.session(&empty).instantiate()?;
        }
        let mut samples = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let mut session = plugin.session(&empty);
            let t = Instant::now();
            session.instantiate()?;
            samples.push(t.elapsed());
            drop(session);
        }
        samples.sort();
        Ok(samples)
    };
    let pooling = measure(Allocator::Pooling)?;
    let on_demand = measure(Allocator::OnDemand)?;
    Ok([(0.5, "p50"), (0.99, "p99")]
        .into_iter()
        .map(|(p, name)| {
            let pool = percentile(&pooling, p);
            let demand = percentile(&on_demand, p);
            Row {
                figure: format!("instantiate chunker-fixed from InstancePre, {name}"),
                genops: format!("{} pooling", micros(pool)),
                peer: micros(demand),
                peer_name: "on-demand allocator".into(),
                ratio: demand.as_secs_f64() / pool.as_secs_f64(),
                ratio_meaning: "on-demand / pooling".into(),
                goal: "pooling faster".into(),
            }
        })
        .collect())
}

fn load_time(dir: &Path, language: &str, iterations: usize) -> Result<Row, Error> {
    let cache = tempfile::tempdir()?;
    let runtime = Runtime::new(RuntimeConfig::default(), Some(cache.path().to_path_buf()))?;
    let t = Instant::now();
    let compiled = runtime.load_dir(dir)?;
    let compile = t.elapsed();
    assert_eq!(compiled.load_source(), LoadSource::Compiled);
    let mut cached = Vec::new();
    for _ in 0..iterations {
        let runtime = Runtime::new(RuntimeConfig::default(), Some(cache.path().to_path_buf()))?;
        let t = Instant::now();
        let plugin = runtime.load_dir(dir)?;
        cached.push(t.elapsed());
        assert_eq!(plugin.load_source(), LoadSource::Cache);
    }
    let cached = median(cached);
    Ok(Row {
        figure: format!(
            "load {} ({language}, {:.1} MiB) from the compiled cache",
            compiled.id().name,
            compiled.size() as f64 / (1 << 20) as f64
        ),
        genops: format!("{:.2} ms", cached.as_secs_f64() * 1e3),
        peer: format!("{:.0} ms", compile.as_secs_f64() * 1e3),
        peer_name: "compiling".into(),
        ratio: compile.as_secs_f64() / cached.as_secs_f64(),
        ratio_meaning: "compile / cache".into(),
        goal: "cache faster".into(),
    })
}

/// The native peer of the plugin figures: a chunker behind a trait object.
trait Chunk {
    fn split(&self, text: &str) -> Vec<(usize, usize)>;
}

struct NativeParagraph;

impl Chunk for NativeParagraph {
    #[inline(never)]
    fn split(&self, text: &str) -> Vec<(usize, usize)> {
        text.split("\n\n")
            .filter(|p| !p.trim().is_empty())
            .map(|p| (0, p.len()))
            .collect()
    }
}

/// The native side of the call-overhead figure: as `chunker-empty`, nothing at all.
struct NativeEmpty;

impl Chunk for NativeEmpty {
    #[inline(never)]
    fn split(&self, _text: &str) -> Vec<(usize, usize)> {
        Vec::new()
    }
}

fn call_overhead(runtime: &Runtime, dir: &Path, iterations: usize) -> Result<Row, Error> {
    let plugin = runtime.load_dir(dir)?;
    let mut session = plugin.session(&BTreeMap::new());
    let empty = Document::default();
    session.split(&empty)?;
    let t = Instant::now();
    for _ in 0..iterations {
        black_box(session.split(black_box(&empty))?);
    }
    let wasm = t.elapsed() / iterations as u32;
    let native: Box<dyn Chunk> = black_box(Box::new(NativeEmpty));
    let t = Instant::now();
    for _ in 0..iterations * 10 {
        black_box(native.split(black_box("")));
    }
    let native_call = t.elapsed() / (iterations * 10) as u32;
    Ok(Row {
        figure: "empty export call (chunker-empty, warm instance)".into(),
        genops: format!("{:.0} ns", wasm.as_secs_f64() * 1e9),
        peer: format!("{:.1} ns", native_call.as_secs_f64() * 1e9),
        peer_name: "native dyn Trait call".into(),
        ratio: wasm.as_secs_f64() / native_call.as_secs_f64().max(1e-12),
        ratio_meaning: "plugin / native".into(),
        goal: "measured".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_text_is_deterministic_and_sized() {
        let a = sample_text(10_000);
        assert_eq!(a, sample_text(10_000));
        assert!(a.len() >= 10_000 && a.len() < 11_000);
        assert!(a.contains("\n\n"));
    }

    #[test]
    fn table_aligns_columns() {
        let report = Report {
            rows: vec![Row {
                figure: "f".into(),
                genops: "1".into(),
                peer: "2".into(),
                peer_name: "p".into(),
                ratio: 0.5,
                ratio_meaning: "a / b".into(),
                goal: "g".into(),
            }],
        };
        let table = report.table();
        let widths: Vec<usize> = table.lines().map(|l| l.chars().count()).collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{table}");
        assert!(table.contains("0.50 (a / b)"));
    }
}
