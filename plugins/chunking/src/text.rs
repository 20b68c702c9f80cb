//! Grapheme boundaries, grapheme-aware trimming and the word tokenizer that every algorithm
//! measures and cuts with. Cutting only at extended grapheme cluster boundaries is what keeps
//! a combining mark with its base, an emoji ZWJ sequence or a flag whole, and "\r\n" together.

use unicode_segmentation::{GraphemeIndices, UnicodeSegmentation};

/// The end offsets of the extended grapheme clusters of a text, in order; the last is the
/// text's length.
///
/// Two adjacent ASCII characters always have a boundary between them unless they are "\r\n"
/// (no UAX #29 rule joins any other ASCII pair), so ASCII stretches are walked byte by byte and
/// the full segmenter only runs over the stretches around non-ASCII text. A stretch starts and
/// ends at such a certain boundary, and every rule that looks backwards (emoji sequences,
/// regional indicator pairs) stops at an ASCII character, so segmenting the stretch on its own
/// gives the same boundaries as segmenting the whole text.
pub(crate) struct GraphemeEnds<'a> {
    text: &'a str,
    pos: usize,
    stretch: Option<(usize, GraphemeIndices<'a>)>,
}

impl<'a> GraphemeEnds<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            stretch: None,
        }
    }
}

fn certain_boundary(bytes: &[u8], at: usize) -> bool {
    let (before, after) = (bytes[at - 1], bytes[at]);
    before.is_ascii() && after.is_ascii() && !(before == b'\r' && after == b'\n')
}

impl Iterator for GraphemeEnds<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if let Some((base, graphemes)) = &mut self.stretch {
            if let Some((offset, g)) = graphemes.next() {
                return Some(*base + offset + g.len());
            }
            self.stretch = None;
        }
        let bytes = self.text.as_bytes();
        let i = self.pos;
        if i >= bytes.len() {
            return None;
        }
        if bytes[i].is_ascii() {
            let end = match bytes.get(i + 1) {
                None => Some(i + 1),
                Some(b'\n') if bytes[i] == b'\r' => Some(i + 2),
                Some(next) if next.is_ascii() => Some(i + 1),
                Some(_) => None,
            };
            if let Some(end) = end {
                self.pos = end;
                return Some(end);
            }
        }
        let mut j = i + 1;
        while j < bytes.len() && !certain_boundary(bytes, j) {
            j += 1;
        }
        self.pos = j;
        let mut graphemes = self.text[i..j].grapheme_indices(true);
        let (offset, g) = graphemes.next()?;
        self.stretch = Some((i, graphemes));
        Some(i + offset + g.len())
    }
}

/// How the tokenizer sees one grapheme cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// Starts with a letter or digit: part of a word token.
    Word,
    /// Nothing but white space: separates tokens and is trimmed from chunk edges.
    Space,
    /// Anything else (punctuation, symbols, emoji): a token on its own.
    Symbol,
}

pub(crate) fn classify(grapheme: &str) -> Class {
    match grapheme.chars().next() {
        Some(c) if c.is_alphanumeric() => Class::Word,
        _ if grapheme.chars().all(char::is_whitespace) => Class::Space,
        _ => Class::Symbol,
    }
}

/// Byte spans of the tokens of a text: maximal runs of word graphemes, or single symbol
/// graphemes.
pub(crate) struct Tokens<'a> {
    text: &'a str,
    ends: GraphemeEnds<'a>,
    pos: usize,
    word_start: Option<usize>,
    queued: Option<(usize, usize)>,
}

impl<'a> Tokens<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self {
            text,
            ends: GraphemeEnds::new(text),
            pos: 0,
            word_start: None,
            queued: None,
        }
    }
}

impl Iterator for Tokens<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        if let Some(token) = self.queued.take() {
            return Some(token);
        }
        loop {
            let Some(end) = self.ends.next() else {
                return self.word_start.take().map(|start| (start, self.pos));
            };
            let start = std::mem::replace(&mut self.pos, end);
            match classify(&self.text[start..end]) {
                Class::Word => {
                    self.word_start.get_or_insert(start);
                }
                Class::Space => {
                    if let Some(word) = self.word_start.take() {
                        return Some((word, start));
                    }
                }
                Class::Symbol => {
                    return match self.word_start.take() {
                        Some(word) => {
                            self.queued = Some((start, end));
                            Some((word, start))
                        }
                        None => Some((start, end)),
                    };
                }
            }
        }
    }
}

/// Windows of `size` consecutive units moving by `step` units; each window spans from its
/// first unit's start to its last unit's end. The last window may hold fewer units, and a
/// window is only produced when it reaches a unit no earlier window reached.
///
/// Works in one pass with memory for the windows still open (about `size / step`), so the
/// benchmarked path never materialises one entry per unit.
pub(crate) fn windows(
    units: impl Iterator<Item = (usize, usize)>,
    size: usize,
    step: usize,
) -> Vec<(usize, usize)> {
    let size = size.max(1);
    let step = step.clamp(1, size);
    let mut out = Vec::new();
    let mut open = std::collections::VecDeque::new();
    // Index one past the last unit that an emitted window covers.
    let mut covered = 0;
    let mut seen = 0;
    let mut last_end = 0;
    // A countdown instead of `k % step`: a division per unit is most of the cost on ASCII text.
    let mut until_open = 0;
    for (k, (start, end)) in units.enumerate() {
        if until_open == 0 {
            open.push_back((k, start));
            until_open = step;
        }
        until_open -= 1;
        if let Some(&(first, window_start)) = open.front() {
            if k + 1 - first == size {
                out.push((window_start, end));
                open.pop_front();
                covered = k + 1;
            }
        }
        seen = k + 1;
        last_end = end;
    }
    if seen > covered {
        if let Some(&(_, window_start)) = open.front() {
            out.push((window_start, last_end));
        }
    }
    out
}

/// The grapheme boundaries of a whole text, for algorithms that measure and cut many spans.
pub(crate) struct Graphemes<'a> {
    pub(crate) text: &'a str,
    /// Every boundary, from 0 to the text's length.
    bounds: Vec<usize>,
}

impl<'a> Graphemes<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut bounds = vec![0];
        bounds.extend(GraphemeEnds::new(text));
        Self { text, bounds }
    }

    fn index(&self, offset: usize) -> usize {
        self.bounds.partition_point(|&b| b < offset)
    }

    pub(crate) fn is_boundary(&self, offset: usize) -> bool {
        self.bounds.binary_search(&offset).is_ok()
    }

    /// The boundaries from `start` to `end`, both included when they are boundaries.
    pub(crate) fn between(&self, start: usize, end: usize) -> &[usize] {
        &self.bounds[self.index(start)..self.bounds.partition_point(|&b| b <= end)]
    }

    /// The number of grapheme clusters in `text[start..end]` (both boundaries).
    pub(crate) fn count(&self, start: usize, end: usize) -> usize {
        self.index(end) - self.index(start)
    }

    /// `start..end` without leading and trailing white-space clusters, or `None` when nothing
    /// else is left. Trimming by characters could stop inside a cluster (a space carrying a
    /// combining mark, a prepended mark before a space), so the result is widened back out to
    /// the nearest boundaries.
    pub(crate) fn trim(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let span = &self.text[start..end];
        let head = span.trim_start();
        if head.is_empty() {
            return None;
        }
        let first = end - head.len();
        let last = start + span.trim_end().len();
        let first = self.bounds[self.bounds.partition_point(|&b| b <= first) - 1];
        let last = self.bounds[self.index(last)];
        Some((first, last))
    }

    /// The number of clusters `start..end` has once trimmed.
    pub(crate) fn trimmed_len(&self, start: usize, end: usize) -> usize {
        self.trim(start, end).map_or(0, |(s, e)| self.count(s, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tokens(text: &str) -> Vec<&str> {
        Tokens::new(text).map(|(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn tokens_are_words_and_single_symbols() {
        assert_eq!(
            tokens("Hello, wörld!  x2 = 3.5\r\n"),
            ["Hello", ",", "wörld", "!", "x2", "=", "3", ".", "5"]
        );
    }

    #[test]
    fn a_word_keeps_its_combining_marks() {
        // "café" with a decomposed é: the accent is not alphanumeric, yet belongs to the word.
        assert_eq!(tokens("cafe\u{301} ok"), ["cafe\u{301}", "ok"]);
    }

    #[test]
    fn emoji_sequences_and_flags_are_one_token_each() {
        assert_eq!(tokens("hi👨‍👩‍👧🇫🇷🇩🇪"), ["hi", "👨‍👩‍👧", "🇫🇷", "🇩🇪"]);
    }

    #[test]
    fn a_space_carrying_a_mark_is_a_symbol_not_white_space() {
        assert_eq!(tokens("a \u{301} b"), ["a", " \u{301}", "b"]);
        assert!(tokens(" \t\r\n\u{3000}").is_empty());
    }

    #[test]
    fn windows_stop_once_the_last_unit_is_reached() {
        let units = (0..4).map(|i| (i, i + 1));
        assert_eq!(windows(units, 4, 2), [(0, 4)]);
        let units = (0..5).map(|i| (i, i + 1));
        assert_eq!(windows(units, 4, 2), [(0, 4), (2, 5)]);
        let units = (0..7).map(|i| (i, i + 1));
        assert_eq!(windows(units, 3, 3), [(0, 3), (3, 6), (6, 7)]);
        assert!(windows(std::iter::empty(), 3, 1).is_empty());
    }

    #[test]
    fn trim_widens_to_whole_clusters() {
        let text = "  \u{301}x \u{600} ";
        let g = Graphemes::new(text);
        // The second space carries the accent; the prepended mark U+0600 carries the last space.
        assert_eq!(g.trim(0, text.len()), Some((1, text.len())));
        assert_eq!(g.trim(0, 2), None);
        assert_eq!(g.trimmed_len(0, text.len()), 4);
    }

    proptest! {
        #[test]
        fn fast_boundaries_match_the_segmenter(text in "(\\PC|[\\r\\n\u{301}\u{200d}\u{1f1e6}-\u{1f1ff}a ])*") {
            let expected: Vec<usize> = text.grapheme_indices(true).map(|(i, g)| i + g.len()).collect();
            let fast: Vec<usize> = GraphemeEnds::new(&text).collect();
            prop_assert_eq!(fast, expected);
        }
    }
}
