//! Recursive splitting: by paragraphs, then lines, sentences, words and finally grapheme
//! clusters, merging the pieces back greedily up to the size.

use unicode_segmentation::UnicodeSegmentation;

use crate::config::{check_overlap, ConfigError, ConfigKey, Entries};
use crate::text::Graphemes;
use crate::{push, Span};

/// Configuration of [`recursive`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecursiveConfig {
    /// Most chars (grapheme clusters) in a chunk, at least 1.
    pub size: usize,
    /// Most chars of trailing pieces a chunk repeats from the previous one, less than `size`.
    pub overlap: usize,
}

impl Default for RecursiveConfig {
    fn default() -> Self {
        Self {
            size: 1000,
            overlap: 0,
        }
    }
}

impl RecursiveConfig {
    /// The keys [`from_entries`](Self::from_entries) reads.
    pub const KEYS: &'static [ConfigKey] = &[
        ConfigKey {
            name: "size",
            description: "most chars (grapheme clusters) in a chunk",
            default: "1000",
        },
        ConfigKey {
            name: "overlap",
            description: "most chars of whole trailing pieces (paragraphs, lines, sentences, \
                          words) a chunk repeats from the previous one, less than size",
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

    /// Checks that `size` is positive and `overlap` smaller than it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_overlap(self.size, self.overlap)
    }
}

/// Splits `text` into chunks of at most `config.size` chars, trimmed of surrounding white
/// space.
///
/// The text is split at the highest-priority separator it contains: blank lines, then line
/// breaks, then sentence boundaries (UAX #29), then white space, then between grapheme
/// clusters. A piece still longer than `size` is split again by the next separator it
/// contains. The pieces are then merged greedily, in order, while the merged chunk stays
/// within `size`; each new chunk starts with as many whole trailing pieces of the previous
/// chunk as fit in `overlap` chars (and leave room for a new piece). A configuration that
/// [`validate`](RecursiveConfig::validate) refuses is clamped.
pub fn recursive(text: &str, config: &RecursiveConfig) -> Vec<Span> {
    let g = Graphemes::new(text);
    let mut out = Vec::new();
    for span in split(&g, 0, text.len(), config.size, config.overlap) {
        push(&mut out, span, []);
    }
    out
}

/// The separators, highest priority first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Paragraph,
    Line,
    Sentence,
    Word,
    Cluster,
}

const LEVELS: [Level; 5] = [
    Level::Paragraph,
    Level::Line,
    Level::Sentence,
    Level::Word,
    Level::Cluster,
];

/// The trimmed chunks of `g.text[start..end]`, which must lie on cluster boundaries. Also
/// used by the markdown chunker for paragraphs that alone exceed its size.
pub(crate) fn split(
    g: &Graphemes<'_>,
    start: usize,
    end: usize,
    size: usize,
    overlap: usize,
) -> Vec<(usize, usize)> {
    let size = size.max(1);
    let overlap = overlap.min(size - 1);
    let mut pieces = Vec::new();
    cut(g, start, end, 0, size, &mut pieces);
    merge(g, &pieces, size, overlap)
}

/// Appends the pieces of `start..end`, each at most `size` chars once trimmed, that tile it.
fn cut(
    g: &Graphemes<'_>,
    start: usize,
    end: usize,
    level: usize,
    size: usize,
    pieces: &mut Vec<(usize, usize)>,
) {
    if g.trimmed_len(start, end) <= size {
        pieces.push((start, end));
        return;
    }
    for (i, &separator) in LEVELS.iter().enumerate().skip(level) {
        let cuts = cut_points(g, start, end, separator);
        if cuts.is_empty() {
            continue;
        }
        let mut from = start;
        for to in cuts.into_iter().chain([end]) {
            cut(g, from, to, i + 1, size, pieces);
            from = to;
        }
        return;
    }
    // Not reached: a span longer than `size` (at least 1) holds two clusters, so the cluster
    // level always cuts. Keeping the span whole would still leave every edge on a boundary.
    pieces.push((start, end));
}

/// Where `separator` cuts `start..end`: offsets strictly inside, on cluster boundaries, with
/// each separator kept at the end of the piece before it.
fn cut_points(g: &Graphemes<'_>, start: usize, end: usize, separator: Level) -> Vec<usize> {
    let span = &g.text[start..end];
    let line_starts = || {
        span.match_indices('\n')
            .map(move |(i, _)| start + i + 1)
            .filter(move |&p| p < end)
    };
    match separator {
        Level::Paragraph => {
            // A paragraph starts at the first non-blank line after one or more blank lines.
            let mut cuts = Vec::new();
            let mut after_blank = false;
            let mut line_start = start;
            for line_end in line_starts().chain([end]) {
                if g.text[line_start..line_end].trim().is_empty() {
                    after_blank = true;
                } else {
                    if after_blank && line_start > start {
                        cuts.push(line_start);
                    }
                    after_blank = false;
                }
                line_start = line_end;
            }
            cuts
        }
        Level::Line => line_starts().collect(),
        Level::Sentence => span
            .split_sentence_bound_indices()
            .map(|(i, _)| start + i)
            .filter(|&p| p > start && g.is_boundary(p))
            .collect(),
        Level::Word => {
            let mut cuts = Vec::new();
            let mut after_space = false;
            for (i, c) in span.char_indices() {
                let space = c.is_whitespace();
                if after_space && !space && i > 0 && g.is_boundary(start + i) {
                    cuts.push(start + i);
                }
                after_space = space;
            }
            cuts
        }
        Level::Cluster => {
            let bounds = g.between(start, end);
            bounds[1..bounds.len().saturating_sub(1)].to_vec()
        }
    }
}

/// Merges consecutive pieces greedily into trimmed chunks of at most `size` chars.
fn merge(
    g: &Graphemes<'_>,
    pieces: &[(usize, usize)],
    size: usize,
    overlap: usize,
) -> Vec<(usize, usize)> {
    let mut chunks = Vec::new();
    if pieces.is_empty() {
        return chunks;
    }
    let mut first = 0;
    for next in 1..pieces.len() {
        let (start, _) = pieces[first];
        if g.trimmed_len(start, pieces[next].1) <= size {
            continue;
        }
        let last = next - 1;
        chunks.extend(g.trim(start, pieces[last].1));
        // Carry whole trailing pieces while they fit in `overlap` and leave room for `next`;
        // both lengths only grow as more pieces are carried.
        let mut carried = next;
        while overlap > 0 && carried > first + 1 {
            let candidate = carried - 1;
            let from = pieces[candidate].0;
            if g.trimmed_len(from, pieces[last].1) > overlap
                || g.trimmed_len(from, pieces[next].1) > size
            {
                break;
            }
            carried = candidate;
        }
        first = carried;
    }
    chunks.extend(g.trim(pieces[first].0, pieces[pieces.len() - 1].1));
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str, size: usize, overlap: usize) -> Vec<&str> {
        recursive(text, &RecursiveConfig { size, overlap })
            .iter()
            .map(|s| s.text(text))
            .collect()
    }

    fn entries(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_short_text_is_one_trimmed_chunk() {
        assert_eq!(texts("\n  Hello world.  \n", 100, 0), ["Hello world."]);
    }

    #[test]
    fn paragraphs_are_merged_up_to_size() {
        let text = "One one.\n\nTwo two.\n\nThree three.\n\nFour.";
        assert_eq!(
            texts(text, 18, 0),
            ["One one.\n\nTwo two.", "Three three.", "Four."]
        );
        assert_eq!(
            texts(text, 30, 0),
            ["One one.\n\nTwo two.", "Three three.\n\nFour."]
        );
    }

    #[test]
    fn long_paragraphs_fall_back_to_lines_then_sentences_then_words() {
        let text = "Alpha beta. Gamma delta.\nEpsilon.\n\nZeta";
        assert_eq!(
            texts(text, 12, 0),
            ["Alpha beta.", "Gamma delta.", "Epsilon.", "Zeta"]
        );
        assert_eq!(
            texts("alpha beta gamma delta", 11, 0),
            ["alpha beta", "gamma delta"]
        );
    }

    #[test]
    fn one_giant_word_is_cut_between_clusters() {
        assert_eq!(texts("abcdefgh ij", 3, 0), ["abc", "def", "gh", "ij"]);
        // Never between a base and its combining mark, nor inside an emoji sequence.
        let text = "e\u{301}e\u{301}e\u{301}👨‍👩‍👧👨‍👩‍👧";
        assert_eq!(texts(text, 2, 0), ["e\u{301}e\u{301}", "e\u{301}👨‍👩‍👧", "👨‍👩‍👧"]);
    }

    #[test]
    fn cjk_sentences_split_at_ideographic_full_stops() {
        let text = "今日は晴れです。明日は雨です。";
        assert_eq!(texts(text, 8, 0), ["今日は晴れです。", "明日は雨です。"]);
    }

    #[test]
    fn crlf_lines_stay_whole() {
        let text = "first line\r\nsecond line\r\n";
        assert_eq!(texts(text, 12, 0), ["first line", "second line"]);
    }

    #[test]
    fn overlap_repeats_whole_trailing_pieces() {
        let text = "aa bb cc dd ee ff";
        assert_eq!(texts(text, 8, 0), ["aa bb cc", "dd ee ff"]);
        assert_eq!(texts(text, 8, 2), ["aa bb cc", "cc dd ee", "ee ff"]);
        assert_eq!(
            texts(text, 8, 5),
            ["aa bb cc", "bb cc dd", "cc dd ee", "dd ee ff"]
        );
    }

    #[test]
    fn empty_and_white_space_input_give_no_chunks() {
        assert!(texts("", 10, 0).is_empty());
        assert!(texts(" \r\n\r\n\t ", 10, 0).is_empty());
        assert!(texts(" \n\n ", 1, 0).is_empty());
    }

    #[test]
    fn config_is_read_and_checked() {
        assert_eq!(
            RecursiveConfig::from_entries(&[]),
            Ok(RecursiveConfig {
                size: 1000,
                overlap: 0
            })
        );
        assert_eq!(
            RecursiveConfig::from_entries(&entries(&[("size", "50"), ("overlap", "10")])),
            Ok(RecursiveConfig {
                size: 50,
                overlap: 10
            })
        );
        let err = RecursiveConfig::from_entries(&entries(&[("size", "5"), ("overlap", "5")]))
            .unwrap_err();
        assert!(
            err.to_string().contains("`overlap` is 5 but `size` is 5"),
            "{err}"
        );
        let err = RecursiveConfig::from_entries(&entries(&[("unit", "tokens")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown config key `unit`; accepted keys are `size`, `overlap`"
        );
    }
}
