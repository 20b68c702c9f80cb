//! `genops ingest`

use anyhow::Result;
use clap::{Args, ValueEnum};
use genops_app::{AnnChoice, App, IngestRequest, JsonlFields};

use crate::chunk::parse_sets;
use crate::render::{escape, Bar};

/// When to build the approximate nearest-neighbour graph.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Ann {
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
    /// The chunker plugin: an installed plugin's name, or the path of a plugin folder or a
    /// .wasm file (a folder in the current directory is written `./name`).
    #[arg(long, default_value = genops_app::DEFAULT_CHUNKER)]
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
    ann: Ann,
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
    pub fn fields(&self) -> JsonlFields {
        JsonlFields {
            text: self.text_field.clone(),
            id: self.id_field.clone(),
        }
    }
}

pub async fn run(args: IngestArgs, app: &App) -> Result<()> {
    let request = IngestRequest {
        index: args.index.clone(),
        chunker: args.chunker.clone(),
        chunker_config: parse_sets(&args.set)?,
        model: (!args.text_only).then(|| args.model.clone()),
        prune: args.prune,
        jsonl: args.jsonl.fields(),
        ann: match args.ann {
            Ann::Auto => AnnChoice::Auto,
            Ann::Always => AnnChoice::Always,
            Ann::Never => AnnChoice::Never,
        },
        paths: args.paths.clone(),
    };
    let report = app
        .ingest(request, &mut Bar::default())
        .await
        .map_err(|e| match &e {
            genops_app::Error::ModelNotInstalled { model } => anyhow::anyhow!(
                "{e}; install it with `genops models install {model}`, pass another with --model, or ingest without vectors with --text-only"
            ),
            _ => e.into(),
        })?;
    for s in &report.skipped {
        eprintln!(
            "warning: skipped {}: {}",
            escape(&s.source, false),
            escape(&s.reason, false)
        );
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
