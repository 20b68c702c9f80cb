//! `genops search`

use std::io::Write;

use anyhow::Result;
use clap::Args;
use genops_app::App;
use genops_index::Filter;

use crate::chunk::parse_sets;
use crate::render::escape;

/// The retriever and the index it searches; `search` and `eval retrieval` take them alike.
#[derive(Args)]
pub struct RetrieverArgs {
    /// The index to search (its live version).
    #[arg(long, short)]
    pub index: String,
    /// The retriever plugin: an installed plugin's name, or the path of a plugin folder or a
    /// .wasm file.
    #[arg(long, short, default_value = "retriever-hybrid")]
    pub retriever: String,
    /// Set a retriever config key (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

impl RetrieverArgs {
    /// The retriever, loaded and bound to the index.
    pub async fn searcher(&self, app: &App) -> Result<genops_app::Searcher> {
        Ok(app
            .searcher(&self.index, &self.retriever, parse_sets(&self.set)?)
            .await?)
    }
}

#[derive(Args)]
pub struct SearchArgs {
    #[command(flatten)]
    retrieval: RetrieverArgs,
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

pub async fn run(args: SearchArgs, app: &App) -> Result<()> {
    let filters = args
        .filters
        .iter()
        .map(|f| Filter::parse(f))
        .collect::<Result<Vec<_>, _>>()?;
    let searcher = args.retrieval.searcher(app).await?;
    let results = searcher.search(&args.query, args.k, filters).await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.json {
        for hit in &results.hits {
            serde_json::to_writer(&mut out, hit)?;
            writeln!(out)?;
        }
        return Ok(());
    }
    if results.hits.is_empty() {
        writeln!(
            out,
            "no chunks of {} v{} match",
            results.index, results.version
        )?;
    }
    for hit in &results.hits {
        let preview: String = hit.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let preview: String = preview.chars().take(160).collect();
        writeln!(
            out,
            "{:>2}. {:.4}  {} [{}..{}]\n    {}",
            hit.rank,
            hit.score,
            escape(&hit.source, false),
            hit.start,
            hit.end,
            escape(&preview, false)
        )?;
    }
    Ok(())
}
