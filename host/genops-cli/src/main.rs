//! The `genops` command line: build, install, inspect and list plugins, chunk files with
//! them, and install and run native models. All state lives under one data directory
//! (`--data-dir`, `GENOPS_DATA_DIR`).

mod bench;
mod chunk;
mod index;
mod models;
mod plugin;
mod settings;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    Ingest(index::IngestArgs),
    /// List, show, diff, roll back, check the freshness of and clean up indexes.
    #[command(subcommand)]
    Index(index::IndexCommand),
    /// Search an index with a retriever plugin; prints ranked chunks with scores and sources.
    Search(index::SearchArgs),
    /// Measure quality: retrieval against judged queries.
    #[command(subcommand)]
    Eval(index::EvalCommand),
    /// Measure the runtime against native code and print the ratios.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result =
        settings::Settings::load(cli.data_dir.clone(), cli.config.clone()).and_then(|settings| {
            match cli.command {
                Command::Plugin(cmd) => plugin::run(cmd, &settings),
                Command::Chunk(args) => chunk::run(args, &settings),
                Command::Models(cmd) => models::run(cmd, &settings),
                Command::Embed(args) => models::embed(args, &settings),
                Command::Classify(args) => models::classify(args, &settings),
                Command::Ingest(args) => index::ingest(args, &settings),
                Command::Index(cmd) => index::run(cmd, &settings),
                Command::Search(args) => index::search(args, &settings),
                Command::Eval(cmd) => index::eval(cmd, &settings),
                Command::Bench(cmd) => bench::run(cmd, &settings),
            }
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the chain of causes joined, never a backtrace.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
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
