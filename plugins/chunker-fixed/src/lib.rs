//! The built-in `chunker-fixed` plugin: windows of a fixed number of grapheme clusters or
//! tokens, each starting `size - overlap` units after the previous one.
//!
//! The algorithm is [`genops_chunking::fixed`]; this crate only reads the configuration from
//! the host and converts the spans, so native callers of `genops-chunking` get exactly the
//! chunks the plugin returns.

genops_chunking::chunker_plugin! {
    /// The exported plugin.
    Fixed,
    name: "chunker-fixed",
    description: "windows of a fixed number of grapheme clusters or tokens, with overlap",
    config: genops_chunking::FixedConfig,
    run: genops_chunking::fixed,
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
        let info = Fixed::describe();
        assert_eq!(info.name, NAME);
        let names: Vec<&str> = info.config.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["unit", "size", "overlap"]);
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
        let info = Fixed::describe();
        for (key, value) in &manifest.config {
            let option = info.config.iter().find(|o| &o.name == key);
            let default = option.and_then(|o| o.default_value.as_deref());
            assert_eq!(default, Some(value.as_str()), "manifest config `{key}`");
        }
        let defaults: Vec<(String, String)> = manifest.config.into_iter().collect();
        assert!(chunk("Some text.", &defaults).is_ok());
    }

    #[test]
    fn chunks_carry_their_index() {
        assert_eq!(
            texts("abcdef", &[("size", "4"), ("overlap", "0")]),
            [
                ("abcd", meta(&[("chunk_index", "0")])),
                ("ef", meta(&[("chunk_index", "1")])),
            ]
        );
        assert_eq!(
            texts("one two, three", &[("unit", "tokens"), ("size", "2")]),
            [
                ("one two", meta(&[("chunk_index", "0")])),
                (", three", meta(&[("chunk_index", "1")])),
            ]
        );
    }

    #[test]
    fn bad_values_are_invalid_config_naming_key_value_and_accepted() {
        assert_eq!(
            invalid_config(&[("unit", "bytes")]),
            "config `unit` has value `bytes`; expected `chars` or `tokens`"
        );
        assert_eq!(
            invalid_config(&[("size", "100"), ("overlap", "100")]),
            "config `overlap` is 100 but `size` is 100; overlap must be smaller than size, so \
             lower `overlap` or raise `size`"
        );
        assert_eq!(
            invalid_config(&[("sizes", "1")]),
            "unknown config key `sizes`; accepted keys are `unit`, `size`, `overlap`"
        );
    }
}
