//! The built-in `chunker-markdown` plugin: one chunk per Markdown heading section, tagged
//! with its heading path; sections larger than the size are split between paragraphs, and
//! code fences are never cut.
//!
//! The algorithm is [`genops_chunking::markdown`]; this crate only reads the configuration
//! from the host and converts the spans, so native callers of `genops-chunking` get exactly
//! the chunks the plugin returns.

genops_chunking::chunker_plugin! {
    /// The exported plugin.
    Markdown,
    name: "chunker-markdown",
    description: "one chunk per Markdown heading section with its heading path; large sections \
    split between paragraphs, code fences never cut",
    config: genops_chunking::MarkdownConfig,
    run: genops_chunking::markdown,
}

#[cfg(test)]
mod tests {
    use super::*;
    use genops_manifest::{Kind, Manifest};
    use genops_sdk::chunker::{Chunker, PluginError};

    fn entries(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Each chunk as its text and metadata.
    fn texts<'a>(text: &'a str, pairs: &[(&str, &str)]) -> Vec<(&'a str, Vec<(String, String)>)> {
        chunk(text, &entries(pairs))
            .unwrap()
            .into_iter()
            .map(|c| (&text[c.start as usize..c.end as usize], c.metadata))
            .collect()
    }

    fn meta(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        entries(pairs)
    }

    fn invalid_config(pairs: &[(&str, &str)]) -> String {
        match chunk("Some text.", &entries(pairs)) {
            Err(PluginError::InvalidConfig(message)) => message,
            other => panic!("expected invalid-config, got {other:?}"),
        }
    }

    #[test]
    fn describe_lists_every_key_with_description_and_default() {
        let info = Markdown::describe();
        assert_eq!(info.name, NAME);
        let names: Vec<&str> = info.config.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["size"]);
        for option in &info.config {
            assert!(!option.description.is_empty(), "{}", option.name);
            assert!(option.default_value.is_some(), "{}", option.name);
        }
    }

    #[test]
    fn manifest_agrees_with_the_crate_and_describe() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("genops-plugin.toml");
        let manifest = Manifest::from_file(&path).unwrap();
        assert_eq!(manifest.name, env!("CARGO_PKG_NAME"));
        assert_eq!(manifest.name, NAME);
        assert_eq!(manifest.kind, Kind::Chunker);
        let info = Markdown::describe();
        for (key, value) in &manifest.config {
            let option = info.config.iter().find(|o| &o.name == key);
            let default = option.and_then(|o| o.default_value.as_deref());
            assert_eq!(default, Some(value.as_str()), "manifest config `{key}`");
        }
        let defaults: Vec<(String, String)> = manifest.config.into_iter().collect();
        assert!(chunk("Some text.", &defaults).is_ok());
    }

    #[test]
    fn chunks_carry_their_index_and_heading() {
        assert_eq!(
            texts("Intro\n# A\n\ntext\n## B\nmore\n", &[]),
            [
                ("Intro", meta(&[("chunk_index", "0")])),
                (
                    "# A\n\ntext",
                    meta(&[
                        ("chunk_index", "1"),
                        ("heading_path", "A"),
                        ("heading_level", "1")
                    ])
                ),
                (
                    "## B\nmore",
                    meta(&[
                        ("chunk_index", "2"),
                        ("heading_path", "A > B"),
                        ("heading_level", "2")
                    ])
                ),
            ]
        );
    }

    #[test]
    fn bad_values_are_invalid_config_naming_key_value_and_accepted() {
        assert_eq!(
            invalid_config(&[("size", "large")]),
            "config `size` has value `large`; expected a whole number of at least 1"
        );
        assert_eq!(
            invalid_config(&[("overlap", "1")]),
            "unknown config key `overlap`; accepted keys are `size`"
        );
    }
}
