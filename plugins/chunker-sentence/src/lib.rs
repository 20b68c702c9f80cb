//! The built-in `chunker-sentence` plugin: whole sentences (Unicode UAX #29 sentence
//! boundaries) grouped greedily into chunks up to a size, optionally repeating the last
//! sentences of a chunk at the start of the next.
//!
//! The algorithm is [`genops_chunking::sentence`]; this crate only reads the configuration
//! from the host and converts the spans, so native callers of `genops-chunking` get exactly
//! the chunks the plugin returns.

genops_chunking::chunker_plugin! {
    /// The exported plugin.
    Sentence,
    name: "chunker-sentence",
    description: "groups whole sentences (Unicode sentence boundaries) into chunks up to a size",
    config: genops_chunking::SentenceConfig,
    run: genops_chunking::sentence,
}

#[cfg(test)]
mod tests {
    use crate::test_support::{invalid_config, meta, texts};

    #[test]
    fn chunks_carry_their_index_and_sentence_count() {
        assert_eq!(
            texts("One. Two. Three.", &[("size", "10")]),
            [
                (
                    "One. Two.",
                    meta(&[("chunk_index", "0"), ("sentences", "2")])
                ),
                ("Three.", meta(&[("chunk_index", "1"), ("sentences", "1")])),
            ]
        );
    }

    #[test]
    fn bad_values_are_invalid_config_naming_key_value_and_accepted() {
        assert_eq!(
            invalid_config(&[("size", "0")]),
            "config `size` has value `0`; expected a whole number of at least 1"
        );
        assert_eq!(
            invalid_config(&[("overlap", "1.5")]),
            "config `overlap` has value `1.5`; expected a whole number, 0 or more"
        );
        assert_eq!(
            invalid_config(&[("max", "3")]),
            "unknown config key `max`; accepted keys are `size`, `overlap`"
        );
    }
}
