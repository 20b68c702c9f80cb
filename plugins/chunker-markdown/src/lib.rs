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
    use crate::test_support::{invalid_config, meta, texts};

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
