//! `genops plugin ...`

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Subcommand;
use genops_app::App;
use genops_runtime::inspect_bytes;
use serde_json::json;

use crate::render::escape;

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Build a plugin source folder (Rust, C, Python or JavaScript) into a component.
    Build {
        /// The folder holding genops-plugin.toml.
        dir: PathBuf,
        /// Where the built plugin folder goes; defaults to <dir>/dist.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Also install the built plugin into the data directory.
        #[arg(long)]
        install: bool,
    },
    /// Install a built plugin folder (a manifest and its component) into the data directory.
    Install {
        /// The folder holding genops-plugin.toml and the component.
        dir: PathBuf,
    },
    /// Show what a component is: kind, world, exports, imports, digest, manifest, config keys.
    Inspect {
        /// A .wasm file, a plugin folder, or the name of an installed plugin.
        target: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the installed plugins (every version; the newest of each name is active).
    List {
        /// Print JSON: an array of objects.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: PluginCommand, app: &App) -> Result<()> {
    match cmd {
        PluginCommand::Build { dir, out, install } => build(&dir, out.as_deref(), install, app),
        PluginCommand::Install { dir } => {
            let installed = app.catalog().install_from(&dir)?;
            println!(
                "installed {}@{} ({}) into {}",
                installed.manifest.name,
                installed.manifest.version,
                installed.digest,
                installed.dir.display()
            );
            Ok(())
        }
        PluginCommand::Inspect { target, json } => inspect(&target, json, app),
        PluginCommand::List { json } => list(json, app),
    }
}

fn build(dir: &Path, out: Option<&Path>, install: bool, app: &App) -> Result<()> {
    let toolchain = genops_build::Toolchain::from_env();
    let built = genops_build::build_with_progress(dir, out, &toolchain, &mut |step| {
        eprintln!("  {step}");
    })?;
    println!(
        "built {}@{} ({}, {} bytes, {:.1} s) into {}",
        built.manifest.name,
        built.manifest.version,
        built.digest,
        built.size,
        built.elapsed.as_secs_f64(),
        built.dir.display()
    );
    if install {
        let installed = app.catalog().install_from(&built.dir)?;
        println!("installed into {}", installed.dir.display());
    }
    Ok(())
}

fn inspect(target: &str, as_json: bool, app: &App) -> Result<()> {
    let genops_app::Resolved {
        component,
        manifest,
    } = app.resolve_plugin(target)?;
    let bytes = std::fs::read(&component)
        .with_context(|| format!("cannot read {}", component.display()))?;
    let inspection = inspect_bytes(&bytes, &component.display().to_string())?;
    // Describing needs an instance; a component that cannot load is still inspected.
    let described = app
        .runtime()
        .map_err(anyhow::Error::from)
        .and_then(|rt| {
            Ok(rt.load_bytes(&bytes, manifest.clone(), &component.display().to_string())?)
        })
        .and_then(|plugin| Ok(plugin.describe()?));
    if as_json {
        let value = json!({
            "path": component,
            "digest": inspection.digest,
            "size": inspection.size,
            "kind": inspection.kind,
            "world": inspection.world.as_ref().map(|w| w.to_string()),
            "exports": inspection.exports,
            "imports": inspection.imports,
            "manifest": manifest,
            "describe": described.as_ref().ok(),
            "describe_error": described.as_ref().err().map(|e| format!("{e:#}")),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!("component  {}", component.display());
    println!("digest     {}", inspection.digest);
    println!("size       {} bytes", inspection.size);
    match (&inspection.kind, &inspection.world) {
        (Some(kind), Some(world)) => println!("kind       {kind} (genops:plugin/{kind}@{world})"),
        _ => println!("kind       none: exports no genops plugin interface this host supports"),
    }
    println!("exports");
    for e in &inspection.exports {
        println!("  {e}");
    }
    println!("imports");
    for i in &inspection.imports {
        println!("  {i}");
    }
    match &manifest {
        Some(m) => {
            println!("manifest");
            println!("  name       {}", m.name);
            println!("  version    {}", m.version);
            println!("  world      {}", m.world);
            if !m.description.is_empty() {
                println!("  about      {}", m.description);
            }
            let l = &m.limits;
            println!(
                "  limits     memory {} MiB, timeout {} ms, fuel {}",
                l.memory_mb.map_or("default".into(), |v| v.to_string()),
                l.timeout_ms.map_or("default".into(), |v| v.to_string()),
                l.fuel.map_or("default".into(), |v| v.to_string()),
            );
            println!(
                "  may use    models [{}], indexes [{}]",
                m.capabilities.models.join(", "),
                m.capabilities.indexes.join(", ")
            );
            for (k, v) in &m.config {
                println!("  config     {k} = {v}");
            }
        }
        None => println!("manifest   none (a bare component)"),
    }
    match described {
        Ok(info) => {
            println!(
                "describe   {}: {}",
                escape(&info.name, false),
                escape(&info.description, false)
            );
            for option in info.config {
                println!(
                    "  {:<12} {} (default {})",
                    escape(&option.name, false),
                    escape(&option.description, false),
                    escape(option.default_value.as_deref().unwrap_or("none"), false)
                );
            }
        }
        Err(e) => println!("describe   failed: {}", escape(&format!("{e:#}"), false)),
    }
    Ok(())
}

fn list(as_json: bool, app: &App) -> Result<()> {
    let (installed, broken) = app.catalog().list()?;
    for e in &broken {
        eprintln!("warning: skipping a broken plugin folder: {e}");
    }
    let active = |i: usize| {
        installed
            .get(i + 1)
            .is_none_or(|next| next.manifest.name != installed[i].manifest.name)
    };
    if as_json {
        let rows: Vec<_> = installed
            .iter()
            .enumerate()
            .map(|(i, p)| {
                json!({
                    "name": p.manifest.name,
                    "version": p.manifest.version.to_string(),
                    "kind": p.manifest.kind,
                    "world": p.manifest.world.to_string(),
                    "digest": p.digest,
                    "size": p.size,
                    "active": active(i),
                    "description": p.manifest.description,
                    "path": p.dir,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if installed.is_empty() {
        println!(
            "no plugins installed in {} (install with `genops plugin install <dir>`)",
            app.catalog().root().display()
        );
        return Ok(());
    }
    println!(
        "{:<20} {:<9} {:<10} {:<7} {:<21} {:>9}  description",
        "name", "version", "kind", "world", "digest", "size"
    );
    for (i, p) in installed.iter().enumerate() {
        let m = &p.manifest;
        let digest = &p.digest[..p.digest.len().min(19)];
        println!(
            "{:<20} {:<9} {:<10} {:<7} {:<21} {:>9}  {}{}",
            m.name,
            m.version.to_string(),
            m.kind.as_str(),
            m.world.to_string(),
            format!("{digest}…"),
            p.size,
            m.description,
            if active(i) { "" } else { " (inactive)" }
        );
    }
    Ok(())
}
