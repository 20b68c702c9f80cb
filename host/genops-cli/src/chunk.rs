//! `genops chunk`

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;
use genops_app::App;
use genops_runtime::typed::Chunker;
use genops_runtime::Document;
use serde_json::json;

#[derive(Args)]
pub struct ChunkArgs {
    /// The chunker: an installed plugin's name, or the path of a plugin folder or a .wasm
    /// file (a folder in the current directory is written `./name`).
    #[arg(long, short)]
    plugin: String,
    /// Set a config key for this run, over the manifest's default (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// The files to chunk (UTF-8 text).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn run(args: ChunkArgs, app: &App) -> Result<()> {
    let overrides = parse_sets(&args.set)?;
    let plugin = app.load_kind::<Chunker>(&args.plugin, "`genops chunk`")?;
    // Unknown keys are refused before any work, with the keys the plugin does read.
    plugin.check_config(&overrides)?;
    let mut session = plugin.session(&overrides);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for path in &args.files {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            anyhow::anyhow!(
                "{} is not UTF-8 text (invalid byte at offset {}); convert it first, for example with `iconv -t utf-8`",
                path.display(),
                e.utf8_error().valid_up_to()
            )
        })?;
        let doc = Document {
            id: path.display().to_string(),
            media_type: media_type(path).to_string(),
            metadata: vec![("source".into(), path.display().to_string())],
            text,
        };
        let chunks = session
            .split(&doc)
            .with_context(|| format!("chunking {}", path.display()))?;
        for (index, chunk) in chunks.iter().enumerate() {
            let metadata: serde_json::Map<String, serde_json::Value> = chunk
                .metadata
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            let line = json!({
                "source": path,
                "index": index,
                "start": chunk.start,
                "end": chunk.end,
                "text": &doc.text[chunk.start..chunk.end],
                "metadata": metadata,
            });
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(())
}

pub fn parse_sets(sets: &[String]) -> Result<BTreeMap<String, String>> {
    sets.iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => bail!("--set takes KEY=VALUE, got `{s}`"),
        })
        .collect()
}

fn media_type(path: &std::path::Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
    {
        Some(ext) if ext == "md" || ext == "markdown" => "text/markdown",
        Some(ext) if ext == "html" || ext == "htm" => "text/html",
        Some(ext) if ext == "json" || ext == "jsonl" => "application/json",
        _ => "text/plain",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_parse_and_reject_missing_equals() {
        let sets = parse_sets(&["size=10".into(), "sep==".into()]).unwrap();
        assert_eq!(sets["size"], "10");
        assert_eq!(sets["sep"], "=");
        assert!(parse_sets(&["size".into()])
            .unwrap_err()
            .to_string()
            .contains("KEY=VALUE"));
        assert!(parse_sets(&["=3".into()]).is_err());
    }
}
