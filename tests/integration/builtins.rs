//! The built-in chunkers as plugins return exactly what their native code returns.

use genops_chunking::{
    fixed, markdown, recursive, sentence, FixedConfig, MarkdownConfig, RecursiveConfig,
    SentenceConfig, Span,
};
use genops_runtime::{Document, Error, PluginError};
use genops_tests::{load, repo_file, sets};

type Native = fn(&str, &[(String, String)]) -> Vec<Span>;

fn native_fixed(text: &str, entries: &[(String, String)]) -> Vec<Span> {
    fixed(text, &FixedConfig::from_entries(entries).unwrap())
}
fn native_recursive(text: &str, entries: &[(String, String)]) -> Vec<Span> {
    recursive(text, &RecursiveConfig::from_entries(entries).unwrap())
}
fn native_sentence(text: &str, entries: &[(String, String)]) -> Vec<Span> {
    sentence(text, &SentenceConfig::from_entries(entries).unwrap())
}
fn native_markdown(text: &str, entries: &[(String, String)]) -> Vec<Span> {
    markdown(text, &MarkdownConfig::from_entries(entries).unwrap())
}

fn documents() -> Vec<(&'static str, String)> {
    vec![
        ("README.md", repo_file("README.md")),
        ("docs/architecture.md", repo_file("docs/architecture.md")),
        ("tests/data/mixed.md", repo_file("tests/data/mixed.md")),
        ("empty", String::new()),
        ("blank", " \r\n\t\n".into()),
    ]
}

fn check(name: &str, native: Native, configs: &[&[(&str, &str)]]) {
    let plugin = load(name);
    for config in configs {
        let overrides = sets(config);
        // The plugin sees the manifest defaults overlaid with the overrides; so does native.
        let mut entries: Vec<(String, String)> =
            plugin.manifest().config.clone().into_iter().collect();
        for (k, v) in &overrides {
            entries.retain(|(key, _)| key != k);
            entries.push((k.clone(), v.clone()));
        }
        entries.sort();
        let mut session = plugin.session(&overrides);
        for (doc_name, text) in documents() {
            let doc = Document {
                id: doc_name.into(),
                text: text.clone(),
                media_type: "text/markdown".into(),
                metadata: vec![],
            };
            let got = session
                .split(&doc)
                .unwrap_or_else(|e| panic!("{name} {config:?} {doc_name}: {e}"));
            let want = native(&text, &entries);
            let got: Vec<_> = got
                .into_iter()
                .map(|c| (c.start, c.end, c.metadata))
                .collect();
            let want: Vec<_> = want
                .into_iter()
                .map(|s| (s.start, s.end, s.metadata))
                .collect();
            assert_eq!(got, want, "{name} with {config:?} on {doc_name}");
            if !text.trim().is_empty() {
                assert!(!got.is_empty(), "{name} on {doc_name} returned no chunks");
            }
        }
    }
}

#[test]
fn fixed_plugin_matches_native() {
    check(
        "chunker-fixed",
        native_fixed,
        &[
            &[],
            &[("size", "64"), ("overlap", "16")],
            &[("unit", "tokens"), ("size", "20"), ("overlap", "5")],
            &[("size", "1"), ("overlap", "0")],
        ],
    );
}

#[test]
fn recursive_plugin_matches_native() {
    check(
        "chunker-recursive",
        native_recursive,
        &[
            &[],
            &[("size", "80")],
            &[("size", "120"), ("overlap", "30")],
        ],
    );
}

#[test]
fn sentence_plugin_matches_native() {
    check(
        "chunker-sentence",
        native_sentence,
        &[
            &[],
            &[("size", "100")],
            &[("size", "200"), ("overlap", "1")],
        ],
    );
}

#[test]
fn markdown_plugin_matches_native() {
    check(
        "chunker-markdown",
        native_markdown,
        &[&[], &[("size", "200")], &[("size", "40")]],
    );
}

#[test]
fn markdown_chunks_carry_heading_paths_and_keep_fences_whole() {
    let plugin = load("chunker-markdown");
    let text = repo_file("tests/data/mixed.md");
    let chunks = plugin
        .session(&sets(&[("size", "40")]))
        .split(&Document {
            id: "mixed.md".into(),
            text: text.clone(),
            media_type: "text/markdown".into(),
            metadata: vec![],
        })
        .unwrap();
    let fence = chunks
        .iter()
        .find(|c| text[c.start..c.end].contains("```python"))
        .expect("the code fence is in a chunk");
    let fenced = &text[fence.start..fence.end];
    assert!(
        fenced.contains("return") && fenced.trim_end().ends_with("```"),
        "{fenced}"
    );
    let path = fence
        .metadata
        .iter()
        .find(|(k, _)| k == "heading_path")
        .map(|(_, v)| v.as_str());
    assert_eq!(path, Some("Überblick > 日本語のセクション"));
}

#[test]
fn bad_config_is_an_invalid_config_error_naming_the_key() {
    for (name, key, value) in [
        ("chunker-fixed", "size", "ten"),
        ("chunker-fixed", "unit", "bytes"),
        ("chunker-recursive", "size", "0"),
        ("chunker-sentence", "overlap", "-1"),
        ("chunker-markdown", "size", "1.5"),
    ] {
        let plugin = load(name);
        let err = plugin
            .session(&sets(&[(key, value)]))
            .split(&genops_tests::doc("text"))
            .unwrap_err();
        match err {
            Error::Plugin {
                error: PluginError::InvalidConfig(message),
                ..
            } => assert!(message.contains(key), "{name}: {message}"),
            other => panic!("{name}: expected invalid config, got {other}"),
        }
    }
}

#[test]
fn describe_lists_every_manifest_config_key() {
    for name in [
        "chunker-fixed",
        "chunker-recursive",
        "chunker-sentence",
        "chunker-markdown",
    ] {
        let plugin = load(name);
        let info = plugin.describe().unwrap();
        assert!(!info.description.is_empty());
        for key in plugin.manifest().config.keys() {
            assert!(
                info.config.iter().any(|o| &o.name == key),
                "{name}: manifest key {key} not described"
            );
        }
    }
}
