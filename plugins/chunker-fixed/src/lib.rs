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
    use crate::test_support::{invalid_config, meta, texts};

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
