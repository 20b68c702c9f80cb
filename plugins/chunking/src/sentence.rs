//! Groups of whole sentences.

use unicode_segmentation::UnicodeSegmentation;

use crate::config::{check_size, ConfigError, ConfigKey, Entries};
use crate::text::{windows, Graphemes};
use crate::{push, Span, SENTENCES};

/// Configuration of [`sentence`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentenceConfig {
    /// Most chars (grapheme clusters) in a chunk, at least 1.
    pub size: usize,
    /// Sentences a chunk repeats from the end of the previous one.
    pub overlap: usize,
}

impl Default for SentenceConfig {
    fn default() -> Self {
        Self {
            size: 1000,
            overlap: 0,
        }
    }
}

impl SentenceConfig {
    /// The keys [`from_entries`](Self::from_entries) reads.
    pub const KEYS: &'static [ConfigKey] = &[
        ConfigKey {
            name: "size",
            description: "most chars (grapheme clusters) in a chunk; a longer sentence is cut \
                          into pieces of this size",
            default: "1000",
        },
        ConfigKey {
            name: "overlap",
            description: "sentences a chunk repeats from the end of the previous one; fewer \
                          when the previous chunk is shorter or they would not fit",
            default: "0",
        },
    ];

    /// Reads `size` and `overlap`; any other key is an error.
    pub fn from_entries(entries: &[(String, String)]) -> Result<Self, ConfigError> {
        let entries = Entries::new(entries, Self::KEYS)?;
        let default = Self::default();
        let config = Self {
            size: entries.count("size", 1)?.unwrap_or(default.size),
            overlap: entries.count("overlap", 0)?.unwrap_or(default.overlap),
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks that `size` is positive; any `overlap` works.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_size(self.size)
    }
}

/// Splits `text` into sentences (UAX #29 sentence boundaries, which also break after every
/// line break) and groups consecutive ones greedily into chunks of at most `config.size`
/// chars, trimmed of surrounding white space.
///
/// Each chunk after the first repeats up to `config.overlap` sentences from the end of the
/// previous one, but always fewer than that chunk held and only as many as leave room for
/// the next new sentence, so every chunk brings something new. A sentence longer than `size`
/// is cut like [`fixed`](crate::fixed) chars windows without overlap, each piece its own
/// chunk; no overlap is carried into or out of such a sentence. Metadata [`SENTENCES`] is the
/// number of sentences in the chunk (1 for a piece of a long sentence). A `size` of 0 is
/// taken as 1.
pub fn sentence(text: &str, config: &SentenceConfig) -> Vec<Span> {
    let g = Graphemes::new(text);
    let size = config.size.max(1);
    let mut sentences = Vec::new();
    let mut from = 0;
    // A sentence boundary inside a grapheme cluster (possible around prepended marks) is
    // dropped, which joins the two sentences.
    let ends = text
        .split_sentence_bound_indices()
        .map(|(i, s)| i + s.len())
        .filter(|&end| g.is_boundary(end));
    for end in ends {
        sentences.extend(g.trim(from, end));
        from = end;
    }

    let mut out = Vec::new();
    let group = |out: &mut Vec<Span>, first: usize, end: usize| {
        let span = (sentences[first].0, sentences[end - 1].1);
        push(out, span, [(SENTENCES, (end - first).to_string())]);
    };
    let mut first = 0;
    for (i, &(start, end)) in sentences.iter().enumerate() {
        if g.count(start, end) > size {
            if first < i {
                group(&mut out, first, i);
            }
            let clusters = g.between(start, end).windows(2).map(|w| (w[0], w[1]));
            for (a, b) in windows(clusters, size, size) {
                if let Some(piece) = g.trim(a, b) {
                    push(&mut out, piece, [(SENTENCES, "1".to_string())]);
                }
            }
            first = i + 1;
            continue;
        }
        if first < i && g.count(sentences[first].0, end) > size {
            group(&mut out, first, i);
            let mut carried = i.saturating_sub(config.overlap).max(first + 1);
            while carried < i && g.count(sentences[carried].0, end) > size {
                carried += 1;
            }
            first = carried;
        }
    }
    if first < sentences.len() {
        group(&mut out, first, sentences.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(text: &str, size: usize, overlap: usize) -> Vec<(&str, usize)> {
        sentence(text, &SentenceConfig { size, overlap })
            .iter()
            .map(|s| (s.text(text), s.meta(SENTENCES).unwrap().parse().unwrap()))
            .collect()
    }

    #[test]
    fn sentences_are_grouped_up_to_size() {
        let text = "  One. Two. Three.  ";
        assert_eq!(chunks(text, 10, 0), [("One. Two.", 2), ("Three.", 1)]);
        assert_eq!(chunks(text, 100, 0), [("One. Two. Three.", 3)]);
    }

    #[test]
    fn overlap_repeats_sentences_when_they_fit() {
        let text = "One. Two. Three.";
        assert_eq!(chunks(text, 11, 1), [("One. Two.", 2), ("Two. Three.", 2)]);
        // "Two. Three." is 11 chars: with size 10 there is no room to repeat "Two.".
        assert_eq!(chunks(text, 10, 1), [("One. Two.", 2), ("Three.", 1)]);
    }

    #[test]
    fn overlap_larger_than_a_chunk_still_moves_forward() {
        let text = "A b. C d. E f. G h.";
        assert_eq!(
            chunks(text, 10, 5),
            [("A b. C d.", 2), ("C d. E f.", 2), ("E f. G h.", 2)]
        );
    }

    #[test]
    fn a_sentence_longer_than_size_is_cut_into_fixed_pieces() {
        // Upper case, because UAX #29 does not end a sentence before a lower-case word.
        let text = format!("Hi. {}. Bye.", "X".repeat(25));
        assert_eq!(
            chunks(&text, 10, 1),
            [
                ("Hi.", 1),
                ("XXXXXXXXXX", 1),
                ("XXXXXXXXXX", 1),
                ("XXXXX.", 1),
                ("Bye.", 1)
            ]
        );
    }

    #[test]
    fn cjk_emoji_and_combining_marks_count_as_clusters() {
        let text = "今日は晴れです。明日は雨です。";
        assert_eq!(
            chunks(text, 10, 0),
            [("今日は晴れです。", 1), ("明日は雨です。", 1)]
        );
        assert_eq!(chunks(text, 15, 0), [(text, 2)]);
        let text = "Cafe\u{301} 👨‍👩‍👧! Ok.";
        assert_eq!(chunks(text, 11, 0), [(text, 2)]);
        assert_eq!(
            chunks(text, 4, 0),
            [("Cafe\u{301}", 1), ("👨‍👩‍👧!", 1), ("Ok.", 1)]
        );
    }

    #[test]
    fn line_breaks_end_sentences_and_crlf_stays_whole() {
        let text = "Line one\r\nLine two\r\n";
        assert_eq!(chunks(text, 100, 0), [("Line one\r\nLine two", 2)]);
        assert_eq!(chunks(text, 9, 0), [("Line one", 1), ("Line two", 1)]);
    }

    #[test]
    fn empty_and_white_space_input_give_no_chunks() {
        assert!(chunks("", 10, 0).is_empty());
        assert!(chunks("  \r\n\u{3000}\n ", 10, 2).is_empty());
    }

    #[test]
    fn a_hand_built_zero_size_is_refused_by_validate_and_clamped_by_sentence() {
        let config = SentenceConfig {
            size: 0,
            overlap: 3,
        };
        assert!(config.validate().is_err());
        assert_eq!(
            sentence("ab", &config)
                .iter()
                .map(|s| (s.start, s.end))
                .collect::<Vec<_>>(),
            [(0, 1), (1, 2)]
        );
    }

    #[test]
    fn chunks_are_numbered_from_zero() {
        let spans = sentence(
            "A. B. C.",
            &SentenceConfig {
                size: 2,
                overlap: 0,
            },
        );
        let index: Vec<&str> = spans
            .iter()
            .map(|s| s.meta("chunk_index").unwrap())
            .collect();
        assert_eq!(index, ["0", "1", "2"]);
    }

    #[test]
    fn config_is_read_and_checked() {
        let entries = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            SentenceConfig::from_entries(&entries(&[("overlap", "2")])),
            Ok(SentenceConfig {
                size: 1000,
                overlap: 2
            })
        );
        assert_eq!(
            SentenceConfig::from_entries(&entries(&[("size", "0")]))
                .unwrap_err()
                .to_string(),
            "config `size` has value `0`; expected a whole number of at least 1"
        );
        assert_eq!(
            SentenceConfig::from_entries(&entries(&[("overlap", "one")]))
                .unwrap_err()
                .to_string(),
            "config `overlap` has value `one`; expected a whole number, 0 or more"
        );
    }
}
