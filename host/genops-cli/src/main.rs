//! The `genops` command line. Every command parses its arguments, calls the application
//! layer ([`genops_app::App`]) and renders its typed results: a table for people, `--json`
//! for scripts. All state lives under one data directory (`--data-dir`, `GENOPS_DATA_DIR`).

mod bench;
mod chunk;
mod eval;
mod index;
mod ingest;
mod models;
mod plugin;
mod render;
mod search;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use genops_app::App;

/// genops: operations for generative AI, with plugins as sandboxed WebAssembly components.
#[derive(Parser)]
#[command(name = "genops", version, about, max_term_width = 100)]
struct Cli {
    /// Where genops keeps its state: installed plugins, compiled artifacts, genops.toml.
    /// Defaults to $XDG_DATA_HOME/genops, or ~/.local/share/genops.
    #[arg(long, global = true, env = "GENOPS_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Configuration file; defaults to genops.toml in the data directory, if present.
    #[arg(long, global = true, env = "GENOPS_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    /// Log more (-v: info, -vv: debug, -vvv: trace). GENOPS_LOG takes a tracing filter.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build, install, inspect and list plugins.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Split files into chunks with a chunker plugin; prints one JSON object per chunk.
    Chunk(chunk::ChunkArgs),
    /// Install, list and verify native ONNX models.
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Embed texts with a native model; prints one JSON object per text.
    Embed(models::EmbedArgs),
    /// Score texts with a native classifier; prints one JSON object per text.
    Classify(models::ClassifyArgs),
    /// Read files into a new version of an index: chunked, embedded and indexed, reusing
    /// whatever an earlier version already did.
    Ingest(ingest::IngestArgs),
    /// List, show, diff, roll back, check the freshness of and clean up indexes.
    #[command(subcommand)]
    Index(index::IndexCommand),
    /// Search an index with a retriever plugin; prints ranked chunks with scores and sources.
    Search(search::SearchArgs),
    /// Measure quality: retrieval against judged queries.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Measure the runtime against native code and print the ratios.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    // One runtime for the process: the store's connections live on it. Plugins are
    // called on blocking threads, never on its workers.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    let result = App::open(cli.data_dir.clone(), cli.config.clone())
        .map_err(anyhow::Error::from)
        .and_then(|app| {
            let result = run(cli.command, &app, &runtime);
            runtime.block_on(app.close());
            result
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the chain of causes joined, never a backtrace, then the command
            // that fixes it when the library knows one and has not named it already.
            let mut message = format!("{e:#}");
            if let Some(fix) = genops_app::fix_of(e.as_ref()) {
                if !message.contains("`genops ") {
                    message = format!("{message}; {}", render::fix_hint(&fix));
                }
            }
            eprintln!("error: {}", render::escape(&message, false));
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, app: &App, rt: &tokio::runtime::Runtime) -> anyhow::Result<()> {
    match command {
        Command::Plugin(cmd) => plugin::run(cmd, app),
        Command::Chunk(args) => chunk::run(args, app),
        Command::Models(cmd) => models::run(cmd, app),
        Command::Embed(args) => models::embed(args, app),
        Command::Classify(args) => models::classify(args, app),
        Command::Ingest(args) => rt.block_on(ingest::run(args, app)),
        Command::Index(cmd) => rt.block_on(index::run(cmd, app)),
        Command::Search(args) => rt.block_on(search::run(args, app)),
        Command::Eval(cmd) => rt.block_on(eval::run(cmd, app)),
        Command::Bench(cmd) => bench::run(cmd, app),
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("GENOPS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
