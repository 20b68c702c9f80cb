//! Properties every algorithm keeps on arbitrary Unicode text and configurations.

use genops_chunking::{
    fixed, markdown, recursive, sentence, FixedConfig, MarkdownConfig, RecursiveConfig,
    SentenceConfig, Span, Unit, CHUNK_INDEX, SENTENCES,
};
use proptest::prelude::*;
use unicode_segmentation::UnicodeSegmentation;

/// Text built from pieces that stress the rules: CJK, emoji sequences, flags, combining marks
/// (also after a space), a prepended mark, CRLF, blank lines, sentence ends, Markdown markers;
/// or plain arbitrary characters.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("a"),
        Just("word "),
        Just("Hello"),
        Just("supercalifragilistic"),
        Just(". "),
        Just("? "),
        Just(","),
        Just(" "),
        Just("\t"),
        Just("\n"),
        Just("\n\n"),
        Just("\r\n"),
        Just("\r"),
        Just("日本語"),
        Just("。"),
        Just("👨‍👩‍👧"),
        Just("🇫🇷"),
        Just("\u{1f1e9}"),
        Just("e\u{301}"),
        Just("\u{301}"),
        Just(" \u{301}"),
        Just("\u{600}"),
        Just("\u{200d}"),
        Just("\u{3000}"),
        Just("# Title\n"),
        Just("```\n"),
        Just("~~~\n"),
    ];
    prop_oneof![
        3 => proptest::collection::vec(piece, 0..60).prop_map(|p| p.concat()),
        1 => "(\\PC|[\\r\\n\\t ]){0,200}",
    ]
}

fn is_space(grapheme: &str) -> bool {
    grapheme.chars().all(char::is_whitespace)
}

/// Checks what holds for every algorithm: spans on grapheme boundaries, within the text,
/// non-empty, in order, numbered, and together covering every non-white-space character.
fn check_spans(text: &str, spans: &[Span]) -> Result<(), TestCaseError> {
    let bounds: Vec<usize> = text
        .grapheme_indices(true)
        .map(|(i, _)| i)
        .chain([text.len()])
        .collect();
    for (i, span) in spans.iter().enumerate() {
        prop_assert!(span.start < span.end && span.end <= text.len(), "{span:?}");
        prop_assert!(
            bounds.binary_search(&span.start).is_ok() && bounds.binary_search(&span.end).is_ok(),
            "{span:?} is not on grapheme boundaries"
        );
        prop_assert_eq!(span.metadata[0].0.as_str(), CHUNK_INDEX);
        prop_assert_eq!(span.metadata[0].1.clone(), i.to_string());
        if let Some(next) = spans.get(i + 1) {
            prop_assert!(
                span.start <= next.start
                    && span.end <= next.end
                    && (span.start, span.end) != (next.start, next.end),
                "{span:?} then {next:?}"
            );
        }
    }
    let mut covered = vec![false; text.len()];
    for span in spans {
        covered[span.start..span.end].fill(true);
    }
    for (i, c) in text.char_indices() {
        prop_assert!(
            c.is_whitespace() || covered[i],
            "{c:?} at {i} is in no chunk"
        );
    }
    if text.trim().is_empty() {
        prop_assert!(spans.is_empty());
    }
    Ok(())
}

/// Checks that a chunk neither starts nor ends with a white-space cluster and has at most
/// `size` clusters.
fn check_trimmed(text: &str, spans: &[Span], size: usize) -> Result<(), TestCaseError> {
    for span in spans {
        let clusters: Vec<&str> = span.text(text).graphemes(true).collect();
        prop_assert!(
            clusters.len() <= size,
            "{span:?} has {} > {size}",
            clusters.len()
        );
        prop_assert!(!is_space(clusters[0]) && !is_space(clusters[clusters.len() - 1]));
    }
    Ok(())
}

/// Tokens as the fixed chunker defines them, computed independently from its implementation.
fn tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut in_word = false;
    for (i, g) in text.grapheme_indices(true) {
        let word = g.chars().next().is_some_and(char::is_alphanumeric);
        if word && in_word {
            out.last_mut().expect("a word is open").1 = i + g.len();
        } else if !is_space(g) {
            out.push((i, i + g.len()));
        }
        in_word = word;
    }
    out
}

proptest! {
    #[test]
    fn fixed_chars_windows(text in text(), size in 1usize..40, overlap in 0usize..40) {
        let overlap = overlap % size;
        let spans = fixed(&text, &FixedConfig { unit: Unit::Chars, size, overlap });
        check_spans(&text, &spans)?;
        for (i, span) in spans.iter().enumerate() {
            let len = span.text(&text).graphemes(true).count();
            if i + 1 < spans.len() {
                prop_assert_eq!(len, size);
            } else {
                prop_assert!(len <= size);
            }
        }
        if overlap == 0 && !spans.is_empty() {
            prop_assert_eq!(spans[0].start, 0);
            prop_assert_eq!(spans[spans.len() - 1].end, text.len());
            for pair in spans.windows(2) {
                prop_assert_eq!(pair[0].end, pair[1].start);
            }
        }
    }

    #[test]
    fn fixed_token_windows(text in text(), size in 1usize..20, overlap in 0usize..20) {
        let overlap = overlap % size;
        let spans = fixed(&text, &FixedConfig { unit: Unit::Tokens, size, overlap });
        check_spans(&text, &spans)?;
        let all = tokens(&text);
        let step = size - overlap;
        let mut expected = Vec::new();
        let mut first = 0;
        while first < all.len() {
            let last = (first + size).min(all.len()) - 1;
            expected.push((all[first].0, all[last].1));
            if last + 1 == all.len() {
                break;
            }
            first += step;
        }
        let got: Vec<(usize, usize)> = spans.iter().map(|s| (s.start, s.end)).collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn recursive_chunks(text in text(), size in 1usize..60, overlap in 0usize..30) {
        let overlap = overlap % size;
        let spans = recursive(&text, &RecursiveConfig { size, overlap });
        check_spans(&text, &spans)?;
        check_trimmed(&text, &spans, size)?;
        if overlap == 0 {
            for pair in spans.windows(2) {
                prop_assert!(pair[0].end <= pair[1].start, "{:?} overlaps {:?}", pair[0], pair[1]);
            }
        }
    }

    #[test]
    fn sentence_chunks(text in text(), size in 1usize..60, overlap in 0usize..4) {
        let spans = sentence(&text, &SentenceConfig { size, overlap });
        check_spans(&text, &spans)?;
        check_trimmed(&text, &spans, size)?;
        for span in &spans {
            let n: usize = span.meta(SENTENCES).unwrap().parse().unwrap();
            prop_assert!(n >= 1);
        }
    }

    #[test]
    fn markdown_chunks(text in text(), size in 1usize..80) {
        let spans = markdown(&text, &MarkdownConfig { size });
        check_spans(&text, &spans)?;
        for span in &spans {
            let clusters: Vec<&str> = span.text(&text).graphemes(true).collect();
            prop_assert!(!is_space(clusters[0]) && !is_space(clusters[clusters.len() - 1]));
        }
    }

    #[test]
    fn default_configs_never_fail(text in text()) {
        for spans in [
            fixed(&text, &FixedConfig::default()),
            recursive(&text, &RecursiveConfig::default()),
            sentence(&text, &SentenceConfig::default()),
            markdown(&text, &MarkdownConfig::default()),
        ] {
            check_spans(&text, &spans)?;
        }
    }
}
