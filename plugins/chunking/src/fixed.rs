//! Fixed-size windows of grapheme clusters or tokens.

use std::fmt;

use crate::config::{check_overlap, ConfigError, ConfigKey, Entries};
use crate::text::{windows, GraphemeEnds, Tokens};
use crate::{push, Span};

/// What [`fixed`] counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Unit {
    /// Extended grapheme clusters: what a reader sees as one character.
    #[default]
    Chars,
    /// Words (maximal runs of letters and digits) and single symbols; white space is not a
    /// token.
    Tokens,
}

impl Unit {
    /// The unit's name as written in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Chars => "chars",
            Unit::Tokens => "tokens",
        }
    }

    /// The default window length.
    pub fn default_size(self) -> usize {
        match self {
            Unit::Chars => 1000,
            Unit::Tokens => 256,
        }
    }

    /// The default overlap for the default size; see [`FixedConfig::from_entries`] for
    /// other sizes.
    pub fn default_overlap(self) -> usize {
        match self {
            Unit::Chars => 200,
            Unit::Tokens => 32,
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Configuration of [`fixed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedConfig {
    /// What `size` and `overlap` count.
    pub unit: Unit,
    /// Units per window, at least 1.
    pub size: usize,
    /// Units a window shares with the previous one, less than `size`.
    pub overlap: usize,
}

impl Default for FixedConfig {
    fn default() -> Self {
        Self {
            unit: Unit::Chars,
            size: Unit::Chars.default_size(),
            overlap: Unit::Chars.default_overlap(),
        }
    }
}

impl FixedConfig {
    /// The keys [`from_entries`](Self::from_entries) reads.
    pub const KEYS: &'static [ConfigKey] = &[
        ConfigKey {
            name: "unit",
            description: "what size and overlap count: `chars` (grapheme clusters) or `tokens` \
                          (words and single punctuation marks or symbols)",
            default: "chars",
        },
        ConfigKey {
            name: "size",
            description: "units per chunk; when unset, 1000 for chars and 256 for tokens",
            default: "1000",
        },
        ConfigKey {
            name: "overlap",
            description: "units a chunk repeats from the end of the previous one, less than \
                          size; when unset, 200 for chars and 32 for tokens, but at most a \
                          fifth of size",
            default: "200",
        },
    ];

    /// Reads `unit`, `size` and `overlap`; any other key is an error.
    ///
    /// `size` defaults to the unit's [`default_size`](Unit::default_size). An unset `overlap`
    /// is the unit's [`default_overlap`](Unit::default_overlap) but at most a fifth of `size`,
    /// so that setting only a small `size` never makes the configuration invalid.
    pub fn from_entries(entries: &[(String, String)]) -> Result<Self, ConfigError> {
        let entries = Entries::new(entries, Self::KEYS)?;
        let unit = match entries.get("unit") {
            None => Unit::default(),
            Some(raw) if raw.eq_ignore_ascii_case("chars") => Unit::Chars,
            Some(raw) if raw.eq_ignore_ascii_case("tokens") => Unit::Tokens,
            Some(raw) => {
                return Err(ConfigError::InvalidValue {
                    key: "unit",
                    value: raw.to_string(),
                    expected: "`chars` or `tokens`",
                })
            }
        };
        let size = entries
            .count("size", 1)?
            .unwrap_or_else(|| unit.default_size());
        let overlap = entries
            .count("overlap", 0)?
            .unwrap_or_else(|| unit.default_overlap().min(size / 5));
        let config = Self {
            unit,
            size,
            overlap,
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks that `size` is positive and `overlap` smaller than it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_overlap(self.size, self.overlap)
    }
}

/// Splits `text` into windows of `config.size` units, each starting `size - overlap` units
/// after the previous one; the last window may be shorter.
///
/// With chars, a window is exactly its clusters, white space included, so with no overlap the
/// chunks tile the text; with tokens, it runs from its first token's start to its last token's
/// end. A text of only white space gives no chunks. A configuration that
/// [`validate`](FixedConfig::validate) refuses is clamped (size at least 1, overlap below
/// size) rather than looping or panicking.
pub fn fixed(text: &str, config: &FixedConfig) -> Vec<Span> {
    if text.trim_start().is_empty() {
        return Vec::new();
    }
    let size = config.size.max(1);
    let step = size - config.overlap.min(size - 1);
    let spans = match config.unit {
        Unit::Chars => {
            let mut start = 0;
            let clusters =
                GraphemeEnds::new(text).map(|end| (std::mem::replace(&mut start, end), end));
            windows(clusters, size, step)
        }
        Unit::Tokens => windows(Tokens::new(text), size, step),
    };
    let mut out = Vec::with_capacity(spans.len());
    for span in spans {
        push(&mut out, span, []);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(unit: Unit, size: usize, overlap: usize) -> FixedConfig {
        FixedConfig {
            unit,
            size,
            overlap,
        }
    }

    fn texts<'a>(text: &'a str, config: &FixedConfig) -> Vec<&'a str> {
        fixed(text, config).iter().map(|s| s.text(text)).collect()
    }

    fn entries(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn char_windows_tile_the_text_without_overlap() {
        let c = config(Unit::Chars, 4, 0);
        assert_eq!(texts("abcdefghij", &c), ["abcd", "efgh", "ij"]);
    }

    #[test]
    fn char_windows_move_by_size_minus_overlap() {
        let c = config(Unit::Chars, 4, 2);
        assert_eq!(texts("abcdefgh", &c), ["abcd", "cdef", "efgh"]);
        assert_eq!(texts("abcdefghi", &c), ["abcd", "cdef", "efgh", "ghi"]);
    }

    #[test]
    fn chunks_are_numbered_from_zero() {
        let spans = fixed("abcdefghij", &config(Unit::Chars, 4, 0));
        let index: Vec<&str> = spans
            .iter()
            .map(|s| s.meta("chunk_index").unwrap())
            .collect();
        assert_eq!(index, ["0", "1", "2"]);
    }

    #[test]
    fn chars_are_grapheme_clusters() {
        let c = config(Unit::Chars, 2, 0);
        // Decomposed é, a family emoji (ZWJ sequence), two flags, CJK, and CRLF.
        let text = "e\u{301}x👨‍👩‍👧🇫🇷🇩🇪日本\r\nz";
        assert_eq!(
            texts(text, &c),
            ["e\u{301}x", "👨‍👩‍👧🇫🇷", "🇩🇪日", "本\r\n", "z"]
        );
    }

    #[test]
    fn token_windows_span_first_to_last_token() {
        let c = config(Unit::Tokens, 3, 1);
        let text = "  Hello, big world! Bye.  ";
        assert_eq!(texts(text, &c), ["Hello, big", "big world!", "! Bye."]);
    }

    #[test]
    fn cjk_without_spaces_is_one_token_per_run() {
        let c = config(Unit::Tokens, 2, 0);
        assert_eq!(texts("日本語です。次", &c), ["日本語です。", "次"]);
    }

    #[test]
    fn empty_and_white_space_input_give_no_chunks() {
        for unit in [Unit::Chars, Unit::Tokens] {
            let c = config(unit, 3, 1);
            assert!(fixed("", &c).is_empty());
            assert!(fixed(" \r\n\t\u{3000}", &c).is_empty());
        }
    }

    #[test]
    fn one_giant_word_is_cut_by_chars_and_kept_by_tokens() {
        let word = "a".repeat(25);
        assert_eq!(
            texts(&word, &config(Unit::Chars, 10, 0)),
            ["a".repeat(10), "a".repeat(10), "a".repeat(5)]
        );
        assert_eq!(texts(&word, &config(Unit::Tokens, 10, 0)), [word.as_str()]);
    }

    #[test]
    fn invalid_configs_are_clamped_not_looping() {
        assert_eq!(texts("abc", &config(Unit::Chars, 0, 5)), ["a", "b", "c"]);
        assert_eq!(texts("abc", &config(Unit::Chars, 2, 9)), ["ab", "bc"]);
    }

    #[test]
    fn defaults_depend_on_the_unit() {
        assert_eq!(
            FixedConfig::from_entries(&[]),
            Ok(config(Unit::Chars, 1000, 200))
        );
        assert_eq!(
            FixedConfig::from_entries(&entries(&[("unit", "tokens")])),
            Ok(config(Unit::Tokens, 256, 32))
        );
        assert_eq!(
            FixedConfig::from_entries(&entries(&[("size", "100")])),
            Ok(config(Unit::Chars, 100, 20))
        );
        assert_eq!(
            FixedConfig::from_entries(&entries(&[("size", "3"), ("unit", " Tokens ")])),
            Ok(config(Unit::Tokens, 3, 0))
        );
    }

    #[test]
    fn config_errors_name_key_value_and_what_is_accepted() {
        let err = |pairs: &[(&str, &str)]| {
            FixedConfig::from_entries(&entries(pairs))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(&[("unit", "words")]),
            "config `unit` has value `words`; expected `chars` or `tokens`"
        );
        assert_eq!(
            err(&[("size", "0")]),
            "config `size` has value `0`; expected a whole number of at least 1"
        );
        assert_eq!(
            err(&[("size", "1e3")]),
            "config `size` has value `1e3`; expected a whole number of at least 1"
        );
        assert_eq!(
            err(&[("size", "10"), ("overlap", "10")]),
            "config `overlap` is 10 but `size` is 10; overlap must be smaller than size, so \
             lower `overlap` or raise `size`"
        );
        assert_eq!(
            err(&[("length", "10")]),
            "unknown config key `length`; accepted keys are `unit`, `size`, `overlap`"
        );
    }
}
