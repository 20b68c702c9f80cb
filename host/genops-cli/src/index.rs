//! `genops ingest`, `genops index ...`, `genops search` and `genops eval retrieval`.

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use genops_index::{AnnConfig, Filter, OpenOnUse};
use genops_ingest::{IngestOptions, JsonlFields, Progress};
use genops_runtime::{Kind, Query};
use genops_store::Store;
use serde_json::json;

use crate::chunk::parse_sets;
use crate::plugin::load;
use crate::settings::Settings;

/// The chunker `genops ingest` uses when none is given.
const DEFAULT_CHUNKER: &str = "chunker-recursive";
/// Chunks from which `--ann auto` builds the approximate graph. The exact scan runs at memory
/// bandwidth (14.5 ms for 300,000 x 384 on one core), while HNSW needed ef_search 512 or more
/// for recall@10 of 0.95 on the benchmark's vectors and was then slower than the scan
/// (docs/benchmarks.md): below this size exact is both faster and exact.
const ANN_AUTO_ROWS: usize = 500_000;

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
        .block_on(future)
}

/// When to build the approximate nearest-neighbour graph.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AnnChoice {
    /// From 500,000 chunks on.
    Auto,
    /// Always.
    Always,
    /// Never: vector search scans every vector.
    Never,
}

#[derive(Args)]
pub struct IngestArgs {
    /// The index to add a version to; created when new.
    #[arg(long, short)]
    index: String,
    /// The chunker plugin: an installed plugin's name, a plugin folder or a .wasm file.
    #[arg(long, default_value = DEFAULT_CHUNKER)]
    chunker: String,
    /// Set a chunker config key, over its manifest's default (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// The embedding model for the chunk vectors.
    #[arg(long, short, default_value = genops_models::catalog::DEFAULT_EMBEDDING_MODEL, conflicts_with = "text_only")]
    model: String,
    /// Build a text-only (BM25) version, without vectors.
    #[arg(long)]
    text_only: bool,
    /// Drop documents of the live version whose files no longer exist.
    #[arg(long)]
    prune: bool,
    /// When to build the approximate nearest-neighbour graph.
    #[arg(long, value_enum, default_value = "auto")]
    ann: AnnChoice,
    #[command(flatten)]
    jsonl: JsonlArgs,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Files, folders (read recursively) and glob patterns of .txt, .md, .html and .jsonl.
    #[arg(required = true)]
    paths: Vec<String>,
}

/// How .jsonl records map to documents; `ingest` and `index status` must read them alike.
#[derive(Args)]
pub struct JsonlArgs {
    /// The text field of .jsonl records.
    #[arg(long, default_value = "text")]
    text_field: String,
    /// The id field of .jsonl records (a record's source is `file#id`).
    #[arg(long, default_value = "id")]
    id_field: String,
}

impl JsonlArgs {
    fn fields(&self) -> JsonlFields {
        JsonlFields {
            text: self.text_field.clone(),
            id: self.id_field.clone(),
        }
    }
}

/// A progress bar on standard error, one per stage.
struct Bar {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress for Bar {
    fn stage(&mut self, name: &str, total: u64) {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix:>10} [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(name.to_string());
        self.bar = Some(bar);
    }

    fn advance(&mut self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    fn finish_stage(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

pub fn ingest(args: IngestArgs, settings: &Settings) -> Result<()> {
    let overrides = parse_sets(&args.set)?;
    // Paths first: a typo in a path is the likeliest mistake, and the cheapest to report.
    let files = genops_ingest::expand(&args.paths)?;
    let chunker = load(&args.chunker, settings).with_context(|| {
        format!(
            "loading chunker `{}` (install the built-in chunkers with scripts/setup.sh, or pass --chunker)",
            args.chunker
        )
    })?;
    if chunker.kind() != Kind::Chunker {
        bail!(
            "{} is a {} plugin; --chunker needs a chunker",
            chunker.id(),
            chunker.kind()
        );
    }
    let models = settings.models()?;
    let model = (!args.text_only).then(|| args.model.clone());
    if let Some(m) = &model {
        if !models.exists(m) {
            bail!(
                "embedding model `{m}` is not installed; install it with `genops models install {m}`, pass another with --model, or ingest without vectors with --text-only"
            );
        }
    }
    let ann = match args.ann {
        AnnChoice::Never => (None, 0),
        AnnChoice::Always => (Some(AnnConfig::default()), 0),
        AnnChoice::Auto => (Some(AnnConfig::default()), ANN_AUTO_ROWS),
    };
    let options = IngestOptions {
        index: args.index.clone(),
        files,
        chunker,
        chunker_config: overrides,
        model,
        prune: args.prune,
        jsonl: args.jsonl.fields(),
        ann: ann.0,
        ann_min_rows: ann.1,
    };
    let report = block_on(async {
        let store = settings.store().await?;
        let mut bar = Bar { bar: None };
        let report =
            genops_ingest::ingest(&store, &settings.data_dir, &models, options, &mut bar).await?;
        store.close().await;
        anyhow::Ok(report)
    })?;
    for s in &report.skipped {
        eprintln!("warning: skipped {}: {}", s.source, s.reason);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    match report.version {
        None => println!(
            "no changes: index {} stays at version {} ({} documents, {} chunks)",
            report.index,
            report.parent.map_or("-".into(), |v| v.to_string()),
            report.documents,
            report.chunks
        ),
        Some(v) => {
            println!(
                "index {} version {v} is live{}: {} documents ({} added, {} changed, {} removed, {} unchanged), {} chunks",
                report.index,
                report.parent.map_or(String::new(), |p| format!(" (from version {p})")),
                report.documents,
                report.added,
                report.changed,
                report.removed,
                report.unchanged,
                report.chunks
            );
            let rate = report.chunks as f64 / report.seconds.max(1e-9);
            println!(
                "chunked {} documents and embedded {} chunks in {:.1} s ({rate:.0} chunks/s; chunking {:.1} s, embedding {:.1} s, indexing {:.1} s)",
                report.chunked_documents,
                report.embedded_chunks,
                report.seconds,
                report.chunk_seconds,
                report.embed_seconds,
                report.index_seconds
            );
        }
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum IndexCommand {
    /// List the indexes with their live versions.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show an index's versions and their lineage, or one version in full.
    Show {
        /// The index.
        name: String,
        /// One version's number.
        version: Option<u32>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The documents added, removed and changed between two versions.
    Diff {
        /// The index.
        name: String,
        /// The older version.
        from: u32,
        /// The newer version.
        to: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Make an earlier (ready) version live again; instant, and nothing is deleted.
    Rollback {
        /// The index.
        name: String,
        /// The version to make live.
        version: u32,
    },
    /// What changed on disk since the live version (freshness); writes nothing.
    Status {
        /// The index.
        name: String,
        /// The files, folders and patterns the index is ingested from.
        #[arg(required = true)]
        paths: Vec<String>,
        #[command(flatten)]
        jsonl: JsonlArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete old versions (never the live one) and what no version uses any more.
    Gc {
        /// The index; all indexes when not given.
        name: Option<String>,
        /// Ready versions to keep besides the live one, newest first.
        #[arg(long, default_value_t = 2)]
        keep: usize,
    },
}

pub fn run(cmd: IndexCommand, settings: &Settings) -> Result<()> {
    block_on(async {
        let store = settings.store().await?;
        let result = run_async(cmd, settings, &store).await;
        store.close().await;
        result
    })
}

async fn run_async(cmd: IndexCommand, settings: &Settings, store: &Store) -> Result<()> {
    match cmd {
        IndexCommand::List { json } => {
            let mut rows = Vec::new();
            for index in store.list_indexes().await? {
                let versions = store.versions(&index.name).await?;
                let live = versions.iter().find(|v| v.live);
                rows.push(json!({
                    "name": index.name,
                    "live_version": index.live_version,
                    "versions": versions.len(),
                    "documents": live.map(|v| v.counts.documents),
                    "chunks": live.map(|v| v.counts.chunks),
                    "embedder": live.and_then(|v| v.embedder.as_ref().map(|e| e.model.clone())),
                }));
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if rows.is_empty() {
                println!("no indexes; create one with `genops ingest --index NAME PATHS...`");
            } else {
                println!(
                    "{:<20} {:>5} {:>9} {:>10} {:>9}  EMBEDDER",
                    "NAME", "LIVE", "VERSIONS", "DOCUMENTS", "CHUNKS"
                );
                for r in &rows {
                    println!(
                        "{:<20} {:>5} {:>9} {:>10} {:>9}  {}",
                        r["name"].as_str().unwrap_or(""),
                        r["live_version"]
                            .as_u64()
                            .map_or("-".into(), |v| format!("v{v}")),
                        r["versions"],
                        r["documents"]
                            .as_u64()
                            .map_or("-".into(), |v| v.to_string()),
                        r["chunks"].as_u64().map_or("-".into(), |v| v.to_string()),
                        r["embedder"].as_str().unwrap_or("(text only)"),
                    );
                }
            }
        }
        IndexCommand::Show {
            name,
            version,
            json,
        } => {
            let versions = match version {
                Some(n) => vec![store.version(&name, n).await?],
                None => store.versions(&name).await?,
            };
            if json {
                let value = if version.is_some() {
                    serde_json::to_value(&versions[0])?
                } else {
                    serde_json::to_value(&versions)?
                };
                println!("{}", serde_json::to_string_pretty(&value)?);
                return Ok(());
            }
            println!(
                "{:<8} {:<7} {:<8} {:>6} {:>10} {:>8}  {:<17} {:<20} CHUNKER",
                "VERSION",
                "STATUS",
                "PARENT",
                "LIVE",
                "DOCUMENTS",
                "CHUNKS",
                "CHANGES +/~/-",
                "EMBEDDER"
            );
            for v in &versions {
                println!(
                    "{:<8} {:<7} {:<8} {:>6} {:>10} {:>8}  {:<17} {:<20} {} {}",
                    format!("v{}", v.number),
                    v.status.as_str(),
                    v.parent.map_or("-".into(), |p| format!("v{p}")),
                    if v.live { "live" } else { "" },
                    v.counts.documents,
                    v.counts.chunks,
                    format!(
                        "{}/{}/{}",
                        v.counts.added, v.counts.changed, v.counts.removed
                    ),
                    v.embedder
                        .as_ref()
                        .map_or("(text only)".into(), |e| format!(
                            "{} {}",
                            e.model,
                            &e.sha256[..8.min(e.sha256.len())]
                        )),
                    v.chunker
                        .digest
                        .trim_start_matches("sha256:")
                        .get(..12)
                        .unwrap_or(""),
                    genops_store::canonical_json(&v.chunker.config),
                );
                if let Some(e) = &v.error {
                    println!("         error: {e}");
                }
            }
        }
        IndexCommand::Diff {
            name,
            from,
            to,
            json,
        } => {
            let diff = store.diff(&name, from, to).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&diff)?);
                return Ok(());
            }
            println!(
                "{name} v{from} -> v{to}: {} added, {} changed, {} removed, {} unchanged",
                diff.added.len(),
                diff.changed.len(),
                diff.removed.len(),
                diff.unchanged
            );
            print_changes(&diff.added, &diff.changed, &diff.removed);
        }
        IndexCommand::Rollback { name, version } => {
            // The files first: a version whose folder is gone or damaged cannot serve, and
            // must not become live in place of one that can.
            // (A version that is not ready is refused by the store, with the ready ones named.)
            let target = store.version(&name, version).await?;
            if target.status == genops_store::VersionStatus::Ready {
                genops_index::IndexVersion::open(&settings.data_dir.join(&target.folder))
                    .with_context(|| {
                    format!("cannot roll {name} back to version {version}: its files cannot be opened; the live version is unchanged")
                })?;
            }
            let v = store.set_live(&name, version).await?;
            println!(
                "index {name} version {} is live ({} documents, {} chunks)",
                v.number, v.counts.documents, v.counts.chunks
            );
        }
        IndexCommand::Status {
            name,
            paths,
            jsonl,
            json,
        } => {
            let status = genops_ingest::status(store, &name, &paths, &jsonl.fields()).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&status)?);
                return Ok(());
            }
            let live = status
                .version
                .map_or("no live version".into(), |v| format!("version {v}"));
            if status.is_fresh() {
                println!(
                    "{name} ({live}) is fresh: {} documents unchanged",
                    status.unchanged
                );
            } else {
                println!(
                    "{name} ({live}) is stale: {} added, {} changed, {} removed, {} unchanged; run `genops ingest --index {name} ...` to refresh",
                    status.added.len(),
                    status.changed.len(),
                    status.removed.len(),
                    status.unchanged
                );
                print_changes(&status.added, &status.changed, &status.removed);
            }
            for u in &status.unreadable {
                eprintln!("warning: cannot read {}: {}", u.source, u.reason);
            }
        }
        IndexCommand::Gc { name, keep } => {
            let names = match name {
                Some(n) => vec![store.index(&n).await?.name],
                None => store
                    .list_indexes()
                    .await?
                    .into_iter()
                    .map(|i| i.name)
                    .collect(),
            };
            let mut deleted = 0;
            for name in &names {
                for v in store.gc_candidates(name, keep).await? {
                    let v = store.delete_version(name, v.number).await?;
                    let dir = settings.data_dir.join(&v.folder);
                    if dir.exists() {
                        std::fs::remove_dir_all(&dir)
                            .with_context(|| format!("cannot remove {}", dir.display()))?;
                    }
                    println!("deleted {name} v{} ({})", v.number, v.status.as_str());
                    deleted += 1;
                }
                genops_index::remove_partial_builds(&settings.data_dir.join("indexes").join(name))?;
            }
            let orphans = store.gc_orphans().await?;
            println!(
                "deleted {deleted} versions, {} documents, {} chunks and {} embeddings no version uses",
                orphans.documents, orphans.chunks, orphans.embeddings
            );
        }
    }
    Ok(())
}

/// One line per document: `+` added, `~` changed, `-` removed.
fn print_changes(added: &[String], changed: &[String], removed: &[String]) {
    for (mark, paths) in [("+", added), ("~", changed), ("-", removed)] {
        for p in paths {
            println!("{mark} {p}");
        }
    }
}

#[derive(Args)]
pub struct SearchArgs {
    /// The index to search (its live version).
    #[arg(long, short)]
    index: String,
    /// The retriever plugin: an installed plugin's name, a plugin folder or a .wasm file.
    #[arg(long, short, default_value = "retriever-hybrid")]
    retriever: String,
    /// Set a retriever config key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// How many chunks to return.
    #[arg(short, default_value_t = 5)]
    k: u32,
    /// A filter on a chunk field: `year>=2000`, `source^=docs/`, `lang=en` (repeatable; all
    /// must hold). Operators: = != < <= > >= ^= (prefix).
    #[arg(long = "filter", value_name = "FIELD OP VALUE")]
    filters: Vec<String>,
    /// One JSON object per hit, with source, score, text, start, end, chunk_id, metadata.
    #[arg(long)]
    json: bool,
    /// The query.
    query: String,
}

/// A runtime whose retrievers can search the live version of every index.
async fn search_runtime(settings: &Settings, store: &Store) -> Result<genops_runtime::Runtime> {
    let runtime = settings.runtime()?;
    let locations = genops_ingest::live_locations(store, &settings.data_dir).await?;
    runtime.set_indexes(Some(Arc::new(OpenOnUse::new(locations))));
    Ok(runtime)
}

fn to_query_filters(filters: &[String]) -> Result<Vec<Filter>> {
    Ok(filters
        .iter()
        .map(|f| Filter::parse(f))
        .collect::<Result<_, _>>()?)
}

/// Loads the retriever and checks the index exists, with errors that say what to do.
struct Retrieval {
    plugin: genops_runtime::Plugin,
    overrides: BTreeMap<String, String>,
    index: Arc<genops_index::LiveIndex>,
}

fn open_retrieval(
    settings: &Settings,
    index: &str,
    retriever: &str,
    sets: &[String],
) -> Result<Retrieval> {
    let overrides = parse_sets(sets)?;
    let runtime = block_on(async {
        let store = settings.store().await?;
        let rt = search_runtime(settings, &store).await;
        store.close().await;
        rt
    })?;
    let runtime = &runtime;
    let (component, manifest) = crate::plugin::resolve(retriever, settings)?;
    let plugin = runtime.load_file(&component, manifest)?;
    if plugin.kind() != Kind::Retriever {
        bail!(
            "{} is a {} plugin; --retriever needs a retriever (see `genops plugin list`)",
            plugin.id(),
            plugin.kind()
        );
    }
    plugin.check_config(&overrides)?;
    let live = runtime
        .indexes()
        .expect("the search runtime has indexes")
        .resolve(index)?;
    Ok(Retrieval {
        plugin,
        overrides,
        index: live,
    })
}

/// Runs a retriever and reads its hits back from the index.
fn retrieve(
    r: &Retrieval,
    session: &mut genops_runtime::Session,
    text: &str,
    k: u32,
    filters: &[Filter],
) -> Result<Vec<(genops_runtime::Hit, genops_index::ChunkRecord)>> {
    let hits = session.retrieve(&Query {
        text: text.to_string(),
        k,
        filters: filters.to_vec(),
        index: r.index.name.clone(),
    })?;
    let ids: Vec<&str> = hits.iter().map(|h| h.chunk_id.as_str()).collect();
    let records = r.index.data.fetch(&ids, false).with_context(|| {
        format!(
            "{} returned a chunk id that index {} does not have",
            r.plugin.id(),
            r.index.name
        )
    })?;
    Ok(hits.into_iter().zip(records).collect())
}

pub fn search(args: SearchArgs, settings: &Settings) -> Result<()> {
    let filters = to_query_filters(&args.filters)?;
    let r = open_retrieval(settings, &args.index, &args.retriever, &args.set)?;
    let mut session = r.plugin.session(&r.overrides);
    let found = retrieve(&r, &mut session, &args.query, args.k, &filters)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if found.is_empty() && !args.json {
        writeln!(
            out,
            "no chunks of {} v{} match",
            r.index.name, r.index.version
        )?;
    }
    for (rank, (hit, chunk)) in found.iter().enumerate() {
        if args.json {
            let line = json!({
                "rank": rank + 1,
                "chunk_id": hit.chunk_id,
                "score": hit.score,
                "source": chunk.source,
                "start": chunk.start,
                "end": chunk.end,
                "text": chunk.text,
                "metadata": chunk.metadata,
                "retriever": hit.metadata.iter().cloned().collect::<BTreeMap<_, _>>(),
            });
            serde_json::to_writer(&mut out, &line)?;
            writeln!(out)?;
        } else {
            let preview: String = chunk.text.split_whitespace().collect::<Vec<_>>().join(" ");
            let preview: String = preview.chars().take(160).collect();
            writeln!(
                out,
                "{:>2}. {:.4}  {} [{}..{}]\n    {preview}",
                rank + 1,
                hit.score,
                chunk.source,
                chunk.start,
                chunk.end
            )?;
        }
    }
    Ok(())
}

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Retrieval quality (recall@k, MRR, nDCG@k) of a retriever on an index, from a JSONL
    /// of queries and their relevant documents.
    Retrieval(EvalRetrievalArgs),
}

#[derive(Args)]
pub struct EvalRetrievalArgs {
    /// The index (its live version).
    #[arg(long, short)]
    index: String,
    /// The retriever plugin.
    #[arg(long, short, default_value = "retriever-hybrid")]
    retriever: String,
    /// Set a retriever config key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// The cut-off of recall@k and nDCG@k.
    #[arg(short, default_value_t = 10)]
    k: u32,
    /// Print JSON: the averages and one row per query.
    #[arg(long)]
    json: bool,
    /// JSON Lines of `{"query": "...", "relevant": ["doc", ...]}`; a document is named by its
    /// source as ingested (`docs/a.md`, `corpus.jsonl#id`) or by a .jsonl record's id.
    qrels: PathBuf,
}

/// One judged query.
struct Judged {
    query: String,
    relevant: HashSet<String>,
}

fn read_qrels(path: &std::path::Path) -> Result<Vec<Judged>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line =
            line.with_context(|| format!("{} line {}: not UTF-8 text", path.display(), n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: &str| {
            anyhow::anyhow!("{} line {}: {why}; each line is {{\"query\": \"...\", \"relevant\": [\"doc id\", ...]}}", path.display(), n + 1)
        };
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| bad(&format!("not JSON ({e})")))?;
        let query = v["query"]
            .as_str()
            .filter(|q| !q.trim().is_empty())
            .ok_or_else(|| bad("no `query` string"))?;
        let relevant: HashSet<String> = v["relevant"]
            .as_array()
            .ok_or_else(|| bad("no `relevant` list"))?
            .iter()
            .map(|r| {
                r.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad("`relevant` holds something other than strings"))
            })
            .collect::<Result<_>>()?;
        if relevant.is_empty() {
            return Err(bad("`relevant` is empty"));
        }
        out.push(Judged {
            query: query.to_string(),
            relevant,
        });
    }
    if out.is_empty() {
        bail!("{} holds no queries", path.display());
    }
    Ok(out)
}

/// Whether a judged document id names the document a chunk came from: its source as
/// ingested, that source's tail after a `/` (so `docs/a.md` matches a corpus ingested as
/// `examples/corpus/docs/a.md`), or a .jsonl record's id.
fn names(id: &str, source: &str) -> bool {
    source == id
        || source
            .strip_suffix(id)
            .is_some_and(|head| head.ends_with('/'))
        || source
            .split_once('#')
            .is_some_and(|(_, record)| record == id)
}

/// Recall@k, reciprocal rank and nDCG@k of one ranked list of documents.
pub fn metrics(ranked: &[String], relevant: &HashSet<String>, k: usize) -> (f64, f64, f64) {
    let top = &ranked[..ranked.len().min(k)];
    let found = top.iter().filter(|d| relevant.contains(*d)).count();
    let recall = found as f64 / relevant.len() as f64;
    let rr = ranked
        .iter()
        .position(|d| relevant.contains(d))
        .map_or(0.0, |p| 1.0 / (p + 1) as f64);
    let dcg: f64 = top
        .iter()
        .enumerate()
        .filter(|(_, d)| relevant.contains(*d))
        .map(|(i, _)| 1.0 / ((i + 2) as f64).log2())
        .sum();
    let ideal: f64 = (0..relevant.len().min(k))
        .map(|i| 1.0 / ((i + 2) as f64).log2())
        .sum();
    (recall, rr, if ideal > 0.0 { dcg / ideal } else { 0.0 })
}

pub fn eval(cmd: EvalCommand, settings: &Settings) -> Result<()> {
    let EvalCommand::Retrieval(args) = cmd;
    let judged = read_qrels(&args.qrels)?;
    let r = open_retrieval(settings, &args.index, &args.retriever, &args.set)?;
    let mut session = r.plugin.session(&r.overrides);
    let k = args.k as usize;
    // Chunks are ranked; documents are judged: ask for more chunks than k so that k
    // distinct documents remain after merging chunks of the same document.
    let depth = (args.k * 4).clamp(args.k, 10_000);
    let mut rows = Vec::new();
    let (mut sum_recall, mut sum_rr, mut sum_ndcg) = (0.0, 0.0, 0.0);
    for j in &judged {
        let found = retrieve(&r, &mut session, &j.query, depth, &[])?;
        let mut ranked: Vec<String> = Vec::new();
        for (_, chunk) in &found {
            let id = j
                .relevant
                .iter()
                .find(|r| names(r, &chunk.source))
                .cloned()
                .unwrap_or_else(|| chunk.source.clone());
            if !ranked.contains(&id) {
                ranked.push(id);
            }
        }
        let (recall, rr, ndcg) = metrics(&ranked, &j.relevant, k);
        sum_recall += recall;
        sum_rr += rr;
        sum_ndcg += ndcg;
        rows.push(json!({"query": j.query, "recall": recall, "rr": rr, "ndcg": ndcg, "top": ranked.iter().take(k).collect::<Vec<_>>()}));
    }
    let n = judged.len() as f64;
    let summary = json!({
        "index": r.index.name,
        "version": r.index.version,
        "retriever": r.plugin.id().to_string(),
        "config": r.overrides,
        "k": k,
        "queries": judged.len(),
        "recall_at_k": sum_recall / n,
        "mrr": sum_rr / n,
        "ndcg_at_k": sum_ndcg / n,
    });
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"summary": summary, "queries": rows}))?
        );
        return Ok(());
    }
    println!(
        "{:<50} {:>9} {:>6} {:>8}",
        "QUERY",
        format!("RECALL@{k}"),
        "RR",
        format!("NDCG@{k}")
    );
    for row in &rows {
        let q: String = row["query"]
            .as_str()
            .unwrap_or("")
            .chars()
            .take(50)
            .collect();
        println!(
            "{q:<50} {:>9.3} {:>6.3} {:>8.3}",
            row["recall"].as_f64().unwrap_or(0.0),
            row["rr"].as_f64().unwrap_or(0.0),
            row["ndcg"].as_f64().unwrap_or(0.0)
        );
    }
    println!(
        "{} on {} v{} over {} queries: recall@{k} {:.3}, MRR {:.3}, nDCG@{k} {:.3}",
        r.plugin.id(),
        r.index.name,
        r.index.version,
        judged.len(),
        sum_recall / n,
        sum_rr / n,
        sum_ndcg / n
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judged_ids_name_sources_by_path_tail_or_record_id() {
        assert!(names("docs/a.md", "docs/a.md"));
        assert!(names("docs/a.md", "examples/corpus/docs/a.md"));
        assert!(!names("docs/a.md", "examples/corpus/xdocs/a.md"));
        assert!(names("q7", "data/faq.jsonl#q7"));
        assert!(!names("q7", "data/faq.jsonl#q70"));
    }

    #[test]
    fn metrics_of_known_rankings() {
        let rel: HashSet<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        let ranked: Vec<String> = ["x", "a", "y", "b"].iter().map(|s| s.to_string()).collect();
        let (recall, rr, ndcg) = metrics(&ranked, &rel, 2);
        assert_eq!(recall, 0.5);
        assert_eq!(rr, 0.5);
        let ideal = 1.0 + 1.0 / 3f64.log2();
        assert!((ndcg - (1.0 / 3f64.log2()) / ideal).abs() < 1e-12);
        let (recall, rr, ndcg) = metrics(&["a".into(), "b".into()], &rel, 10);
        assert_eq!((recall, rr, ndcg), (1.0, 1.0, 1.0));
        let (recall, rr, ndcg) = metrics(&[], &rel, 10);
        assert_eq!((recall, rr, ndcg), (0.0, 0.0, 0.0));
    }
}
