//! The built-in `chunker-recursive` plugin: splits by blank lines, then line breaks, sentence
//! boundaries, white space and finally grapheme clusters, and merges the pieces greedily up to
//! a size.
//!
//! The algorithm is [`genops_chunking::recursive`]; this crate only reads the configuration
//! from the host and converts the spans, so native callers of `genops-chunking` get exactly
//! the chunks the plugin returns.

genops_chunking::chunker_plugin! {
    /// The exported plugin.
    Recursive,
    name: "chunker-recursive",
    description: "splits by paragraphs, then lines, sentences, words and characters, and merges \
    the pieces up to a size",
    config: genops_chunking::RecursiveConfig,
    run: genops_chunking::recursive,
}

#[cfg(test)]
mod tests {
    use crate::test_support::{invalid_config, meta, texts};

    #[test]
    fn chunks_carry_their_index() {
        assert_eq!(
            texts("One.\n\nTwo.\n", &[("size", "4")]),
            [
                ("One.", meta(&[("chunk_index", "0")])),
                ("Two.", meta(&[("chunk_index", "1")])),
            ]
        );
    }

    #[test]
    fn bad_values_are_invalid_config_naming_key_value_and_accepted() {
        assert_eq!(
            invalid_config(&[("size", "-3")]),
            "config `size` has value `-3`; expected a whole number of at least 1"
        );
        assert_eq!(
            invalid_config(&[("size", "10"), ("overlap", "20")]),
            "config `overlap` is 20 but `size` is 10; overlap must be smaller than size, so \
             lower `overlap` or raise `size`"
        );
        assert_eq!(
            invalid_config(&[("unit", "chars")]),
            "unknown config key `unit`; accepted keys are `size`, `overlap`"
        );
    }
}
