//! `genops eval retrieval`

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use genops_app::App;

use crate::render::escape;
use crate::search::RetrieverArgs;

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Retrieval quality (recall@k, MRR, nDCG@k) of a retriever on an index, from a JSONL
    /// of queries and their relevant documents.
    Retrieval(EvalRetrievalArgs),
}

#[derive(Args)]
pub struct EvalRetrievalArgs {
    #[command(flatten)]
    retrieval: RetrieverArgs,
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

pub async fn run(cmd: EvalCommand, app: &App) -> Result<()> {
    let EvalCommand::Retrieval(args) = cmd;
    let judged = genops_app::read_judged(&args.qrels)?;
    let searcher = args.retrieval.searcher(app).await?;
    let report = searcher.evaluate(&judged, args.k).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    let k = report.summary.k;
    println!(
        "{:<50} {:>9} {:>6} {:>8}",
        "QUERY",
        format!("RECALL@{k}"),
        "RR",
        format!("NDCG@{k}")
    );
    for row in &report.queries {
        let q: String = row.query.chars().take(50).collect();
        println!(
            "{:<50} {:>9.3} {:>6.3} {:>8.3}",
            escape(&q, false),
            row.recall,
            row.rr,
            row.ndcg
        );
    }
    let s = &report.summary;
    println!(
        "{} on {} v{} over {} queries: recall@{k} {:.3}, MRR {:.3}, nDCG@{k} {:.3}",
        s.retriever, s.index, s.version, s.queries, s.recall_at_k, s.mrr, s.ndcg_at_k
    );
    Ok(())
}
