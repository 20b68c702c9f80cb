//! `genops index ...`

use anyhow::Result;
use clap::Subcommand;
use genops_app::App;

use crate::ingest::JsonlArgs;
use crate::render::escape;

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
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cmd: IndexCommand, app: &App) -> Result<()> {
    let indexes = app.indexes();
    match cmd {
        IndexCommand::List { json } => {
            let rows = indexes.list().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if rows.is_empty() {
                println!("no indexes; create one with `genops ingest --index NAME PATHS...`");
            } else {
                println!(
                    "{:<20} {:>5} {:>9} {:>10} {:>9}  EMBEDDER",
                    "NAME", "LIVE", "VERSIONS", "DOCUMENTS", "CHUNKS"
                );
                let or_dash = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
                for r in &rows {
                    println!(
                        "{:<20} {:>5} {:>9} {:>10} {:>9}  {}",
                        r.name,
                        r.live_version.map_or("-".into(), |v| format!("v{v}")),
                        r.versions,
                        or_dash(r.documents),
                        or_dash(r.chunks),
                        r.embedder.as_deref().unwrap_or("(text only)"),
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
                Some(n) => vec![indexes.version(&name, n).await?],
                None => indexes.versions(&name).await?,
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
                    escape(&genops_store::canonical_json(&v.chunker.config), false),
                );
                if let Some(e) = &v.error {
                    println!("         error: {}", escape(e, false));
                }
            }
        }
        IndexCommand::Diff {
            name,
            from,
            to,
            json,
        } => {
            let diff = indexes.diff(&name, from, to).await?;
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
            let v = indexes.rollback(&name, version).await?;
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
            let status = indexes.status(&name, &paths, &jsonl.fields()).await?;
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
                eprintln!(
                    "warning: cannot read {}: {}",
                    escape(&u.source, false),
                    escape(&u.reason, false)
                );
            }
        }
        IndexCommand::Gc { name, keep, json } => {
            let report = indexes.gc(name.as_deref(), keep).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
                return Ok(());
            }
            for index in &report.indexes {
                if index.busy {
                    eprintln!(
                        "warning: skipped index {}: an ingest of it is running; run gc again when it is done",
                        index.index
                    );
                }
                for n in &index.recovered {
                    println!(
                        "failed {} v{n}: the ingest that built it stopped before it finished",
                        index.index
                    );
                }
                for d in &index.deleted {
                    println!(
                        "deleted {} v{} ({})",
                        index.index,
                        d.number,
                        d.status.as_str()
                    );
                }
            }
            let o = report.orphans();
            println!(
                "deleted {} versions, {} documents, {} chunks and {} embeddings no version uses",
                report.deleted(),
                o.documents,
                o.chunks,
                o.embeddings
            );
        }
    }
    Ok(())
}

/// One line per document: `+` added, `~` changed, `-` removed.
fn print_changes(added: &[String], changed: &[String], removed: &[String]) {
    for (mark, paths) in [("+", added), ("~", changed), ("-", removed)] {
        for p in paths {
            println!("{mark} {}", escape(p, false));
        }
    }
}
