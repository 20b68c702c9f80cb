//! `genops bench ...`

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;

use crate::settings::Settings;

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
}

pub fn run(cmd: BenchCommand, _settings: &Settings) -> Result<()> {
    match cmd {
        BenchCommand::Runtime {
            plugins,
            json,
            scale,
        } => {
            let report =
                genops_bench::run_runtime(&plugins, scale, &mut |line| eprintln!("{line}"))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.table());
            }
            Ok(())
        }
    }
}
