//! Markdown sections: one chunk per heading section, large sections split between paragraphs,
//! code fences never cut.

use crate::config::{check_size, ConfigError, ConfigKey, Entries};
use crate::text::Graphemes;
use crate::{push, recursive, Span, HEADING_LEVEL, HEADING_PATH};

/// Configuration of [`markdown`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkdownConfig {
    /// Most chars (grapheme clusters) in a chunk, at least 1, except that a code fence is
    /// never cut.
    pub size: usize,
}

impl Default for MarkdownConfig {
    fn default() -> Self {
        Self { size: 1500 }
    }
}

impl MarkdownConfig {
    /// The keys [`from_entries`](Self::from_entries) reads.
    pub const KEYS: &'static [ConfigKey] = &[ConfigKey {
        name: "size",
        description: "most chars (grapheme clusters) in a chunk; a larger section is split \
                      between paragraphs, but a code fence is never cut",
        default: "1500",
    }];

    /// Reads `size`; any other key is an error.
    pub fn from_entries(entries: &[(String, String)]) -> Result<Self, ConfigError> {
        let entries = Entries::new(entries, Self::KEYS)?;
        let config = Self {
            size: entries.count("size", 1)?.unwrap_or(Self::default().size),
        };
        config.validate()?;
        Ok(config)
    }

    /// Checks that `size` is positive.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_size(self.size)
    }
}

/// Splits a Markdown text into sections, one per ATX heading (`#` to `######`), each trimmed
/// of surrounding white space.
///
/// A section runs from its heading line to the next heading. Its chunks carry
/// [`HEADING_PATH`], the titles of the enclosing headings joined with `" > "`, and
/// [`HEADING_LEVEL`]; text before the first heading has neither. A section longer than
/// `config.size` is split into blocks (paragraphs separated by blank lines, the heading line,
/// and code fences) merged greedily up to `size`; a paragraph longer than `size` on its own is
/// split by [`recursive`](crate::recursive), and a code fence longer than `size` is kept whole
/// in one chunk. Lines inside a fence are never headings. Setext headings (text underlined
/// with `===` or `---`) are not recognised. A `size` of 0 is taken as 1.
pub fn markdown(text: &str, config: &MarkdownConfig) -> Vec<Span> {
    let g = Graphemes::new(text);
    let size = config.size.max(1);
    let mut out = Vec::new();
    for section in scan(text) {
        let meta: Vec<(&str, String)> = match &section.heading {
            None => Vec::new(),
            Some((level, path)) if path.is_empty() => vec![(HEADING_LEVEL, level.to_string())],
            Some((level, path)) => vec![
                (HEADING_PATH, path.clone()),
                (HEADING_LEVEL, level.to_string()),
            ],
        };
        let flush = |out: &mut Vec<Span>, (start, end): (usize, usize)| {
            if let Some(span) = g.trim(start, end) {
                push(out, span, meta.iter().cloned());
            }
        };
        let mut current: Option<(usize, usize)> = None;
        for block in &section.blocks {
            if !block.fence && g.trimmed_len(block.start, block.end) > size {
                if let Some(span) = current.take() {
                    flush(&mut out, span);
                }
                for piece in recursive::split(&g, block.start, block.end, size, 0) {
                    flush(&mut out, piece);
                }
                continue;
            }
            current = match current {
                Some((start, _)) if g.trimmed_len(start, block.end) <= size => {
                    Some((start, block.end))
                }
                Some(span) => {
                    flush(&mut out, span);
                    Some((block.start, block.end))
                }
                None => Some((block.start, block.end)),
            };
        }
        if let Some(span) = current {
            flush(&mut out, span);
        }
    }
    out
}

/// A run of whole lines that is never cut when chunks are merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    start: usize,
    end: usize,
    /// A code fence, from its opening line through its closing line (or the end of the text).
    fence: bool,
}

/// The blocks under one heading, or before the first one.
#[derive(Debug)]
struct Section {
    /// The heading's level and path.
    heading: Option<(usize, String)>,
    blocks: Vec<Block>,
}

/// Scans the text line by line into sections of blocks. Blank lines outside fences separate
/// blocks and belong to none.
fn scan(text: &str) -> Vec<Section> {
    let mut sections = vec![Section {
        heading: None,
        blocks: Vec::new(),
    }];
    let mut titles: Vec<(usize, &str)> = Vec::new();
    let mut paragraph: Option<(usize, usize)> = None;
    // The fence character, its run length and where the opening line starts.
    let mut fence: Option<(u8, usize, usize)> = None;

    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let end = start + line.len();
        let content = line.strip_suffix('\n').unwrap_or(line);
        let content = content.strip_suffix('\r').unwrap_or(content);
        let blocks = &mut sections.last_mut().expect("never empty").blocks;
        if let Some((ch, len, open)) = fence {
            if closes_fence(content, ch, len) {
                blocks.push(Block {
                    start: open,
                    end,
                    fence: true,
                });
                fence = None;
            }
        } else if let Some((level, title)) = atx_heading(content) {
            blocks.extend(paragraph.take().map(paragraph_block));
            titles.retain(|&(l, _)| l < level);
            titles.push((level, title));
            let path = titles
                .iter()
                .map(|&(_, t)| t)
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(" > ");
            sections.push(Section {
                heading: Some((level, path)),
                blocks: vec![Block {
                    start,
                    end,
                    fence: false,
                }],
            });
        } else if let Some((ch, len)) = opens_fence(content) {
            blocks.extend(paragraph.take().map(paragraph_block));
            fence = Some((ch, len, start));
        } else if content.trim().is_empty() {
            blocks.extend(paragraph.take().map(paragraph_block));
        } else {
            paragraph = Some((paragraph.map_or(start, |(s, _)| s), end));
        }
        start = end;
    }
    let blocks = &mut sections.last_mut().expect("never empty").blocks;
    if let Some((_, _, open)) = fence {
        blocks.push(Block {
            start: open,
            end: text.len(),
            fence: true,
        });
    }
    blocks.extend(paragraph.map(paragraph_block));
    sections
}

fn paragraph_block((start, end): (usize, usize)) -> Block {
    Block {
        start,
        end,
        fence: false,
    }
}

/// The line without its indentation, if that is at most three spaces.
fn unindented(line: &str) -> Option<&str> {
    let rest = line.trim_start_matches(' ');
    (line.len() - rest.len() <= 3).then_some(rest)
}

/// The level and title of an ATX heading line: up to three spaces, one to six `#`, then a
/// space, a tab or the end of the line; a closing run of `#` is not part of the title.
fn atx_heading(line: &str) -> Option<(usize, &str)> {
    let rest = unindented(line)?;
    let level = rest.bytes().take_while(|&b| b == b'#').count();
    let after = &rest[level..];
    if !(1..=6).contains(&level) || !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return None;
    }
    let title = after.trim_matches([' ', '\t']);
    let unclosed = title.trim_end_matches('#');
    let title = if unclosed.is_empty() {
        unclosed
    } else if unclosed.ends_with([' ', '\t']) {
        unclosed.trim_end_matches([' ', '\t'])
    } else {
        title
    };
    Some((level, title))
}

/// The character and length of an opening code fence: up to three spaces, then three or more
/// backticks or tildes; a backtick fence's info string may not contain a backtick (that is
/// inline code).
fn opens_fence(line: &str) -> Option<(u8, usize)> {
    let rest = unindented(line)?;
    let ch = *rest.as_bytes().first()?;
    if ch != b'`' && ch != b'~' {
        return None;
    }
    let len = rest.bytes().take_while(|&b| b == ch).count();
    if len < 3 || (ch == b'`' && rest[len..].contains('`')) {
        return None;
    }
    Some((ch, len))
}

/// Whether a line closes a fence opened with `len` times `ch`: the same character, at least as
/// many, and nothing but spaces or tabs after them.
fn closes_fence(line: &str, ch: u8, len: usize) -> bool {
    let Some(rest) = unindented(line) else {
        return false;
    };
    let run = rest.bytes().take_while(|&b| b == ch).count();
    run >= len && rest[run..].trim_matches([' ', '\t']).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Each chunk's text with its heading as `h<level> <path>`, or "" before any heading.
    fn chunks(text: &str, size: usize) -> Vec<(&str, String)> {
        markdown(text, &MarkdownConfig { size })
            .iter()
            .map(|s| {
                let heading = match (s.meta(HEADING_LEVEL), s.meta(HEADING_PATH)) {
                    (None, _) => String::new(),
                    (Some(level), None) => format!("h{level}"),
                    (Some(level), Some(path)) => format!("h{level} {path}"),
                };
                (s.text(text), heading)
            })
            .collect()
    }

    fn fences(text: &str) -> Vec<&str> {
        scan(text)
            .iter()
            .flat_map(|s| s.blocks.iter())
            .filter(|b| b.fence)
            .map(|b| &text[b.start..b.end])
            .collect()
    }

    fn owned(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(t, h)| (t.to_string(), h.to_string()))
            .collect()
    }

    fn check(text: &str, size: usize, expected: &[(&str, &str)]) {
        let got: Vec<(String, String)> = chunks(text, size)
            .into_iter()
            .map(|(t, h)| (t.to_string(), h))
            .collect();
        assert_eq!(got, owned(expected));
    }

    #[test]
    fn one_chunk_per_section_with_heading_path() {
        let text = "Intro text.\n\n# Install\n\nRun it.\n\n## Linux\n\napt install x\n\n\
                    ## macOS\n\nbrew install x\n\n# Usage\n\nGo.\n";
        check(
            text,
            1500,
            &[
                ("Intro text.", ""),
                ("# Install\n\nRun it.", "h1 Install"),
                ("## Linux\n\napt install x", "h2 Install > Linux"),
                ("## macOS\n\nbrew install x", "h2 Install > macOS"),
                ("# Usage\n\nGo.", "h1 Usage"),
            ],
        );
    }

    #[test]
    fn chunks_are_numbered_across_sections() {
        let spans = markdown("a\n# b\n## c\n", &MarkdownConfig::default());
        let index: Vec<&str> = spans
            .iter()
            .map(|s| s.meta("chunk_index").unwrap())
            .collect();
        assert_eq!(index, ["0", "1", "2"]);
    }

    #[test]
    fn heading_path_follows_levels() {
        check(
            "# A\n### C\n## B\n# D\n#\n## E ##\n",
            1500,
            &[
                ("# A", "h1 A"),
                ("### C", "h3 A > C"),
                ("## B", "h2 A > B"),
                ("# D", "h1 D"),
                ("#", "h1"),
                ("## E ##", "h2 E"),
            ],
        );
    }

    #[test]
    fn what_is_not_a_heading() {
        let text = "#hashtag\n####### seven\n    # indented\nTitle\n=====\n";
        check(text, 1500, &[(text.trim_end(), "")]);
        assert_eq!(atx_heading("   ### Three ###"), Some((3, "Three")));
        assert_eq!(atx_heading("# C#"), Some((1, "C#")));
        assert_eq!(atx_heading("##\tTab"), Some((2, "Tab")));
    }

    #[test]
    fn headings_inside_fences_are_not_headings() {
        let text = "# A\n\n```sh\n# not a heading\n```\n\n## B\ntext\n";
        check(
            text,
            1500,
            &[
                ("# A\n\n```sh\n# not a heading\n```", "h1 A"),
                ("## B\ntext", "h2 A > B"),
            ],
        );
    }

    #[test]
    fn an_unclosed_fence_runs_to_the_end() {
        let text = "# A\n```\ncode\n# B\n\nmore\n";
        check(text, 1500, &[(text.trim_end(), "h1 A")]);
        check(
            text,
            5,
            &[("# A", "h1 A"), ("```\ncode\n# B\n\nmore", "h1 A")],
        );
    }

    #[test]
    fn fences_close_with_the_same_character_at_least_as_long() {
        let text = "~~~~\ncode\n~~~\nstill\n```\nstill\n~~~~~ \nafter\n";
        assert_eq!(
            fences(text),
            ["~~~~\ncode\n~~~\nstill\n```\nstill\n~~~~~ \n"]
        );
        assert_eq!(fences("```` x```\n    ```\nno fence\n"), Vec::<&str>::new());
        assert_eq!(fences("   ```\na\n   ```  \nb"), ["   ```\na\n   ```  \n"]);
        assert_eq!(fences("```\na\n``` x\n```\n"), ["```\na\n``` x\n```\n"]);
    }

    #[test]
    fn a_large_section_is_split_between_paragraphs() {
        let text = "# T\n\npara one here.\n\npara two here.\n\nthree.";
        check(
            text,
            20,
            &[
                ("# T\n\npara one here.", "h1 T"),
                ("para two here.", "h1 T"),
                ("three.", "h1 T"),
            ],
        );
    }

    #[test]
    fn a_fence_larger_than_size_stays_whole() {
        let text = "# T\n```\nline one\n\nline two\n```\nafter";
        check(
            text,
            10,
            &[
                ("# T", "h1 T"),
                ("```\nline one\n\nline two\n```", "h1 T"),
                ("after", "h1 T"),
            ],
        );
    }

    #[test]
    fn a_paragraph_larger_than_size_is_split_recursively() {
        check(
            "# T\n\nOne two three four five",
            10,
            &[
                ("# T", "h1 T"),
                ("One two", "h1 T"),
                ("three four", "h1 T"),
                ("five", "h1 T"),
            ],
        );
    }

    #[test]
    fn crlf_cjk_and_emoji_headings() {
        check(
            "# 日本語 🇯🇵\r\n\r\n本文です。\r\n",
            1500,
            &[("# 日本語 🇯🇵\r\n\r\n本文です。", "h1 日本語 🇯🇵")],
        );
        check(
            "# Cafe\u{301}\r\n```\r\n# x\r\n```\r\n",
            1500,
            &[("# Cafe\u{301}\r\n```\r\n# x\r\n```", "h1 Cafe\u{301}")],
        );
    }

    #[test]
    fn empty_and_white_space_input_give_no_chunks() {
        check("", 10, &[]);
        check(" \r\n\n\t\u{3000}\n", 10, &[]);
        check("\n\n# A\n", 10, &[("# A", "h1 A")]);
    }

    #[test]
    fn a_hand_built_zero_size_is_refused_by_validate_and_clamped_by_markdown() {
        let config = MarkdownConfig { size: 0 };
        assert!(config.validate().is_err());
        check("# ab", 0, &[("#", "h1 ab"), ("a", "h1 ab"), ("b", "h1 ab")]);
    }

    #[test]
    fn config_is_read_and_checked() {
        let entries = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
        assert_eq!(
            MarkdownConfig::from_entries(&entries("size", "300")),
            Ok(MarkdownConfig { size: 300 })
        );
        assert_eq!(
            MarkdownConfig::from_entries(&entries("size", "big"))
                .unwrap_err()
                .to_string(),
            "config `size` has value `big`; expected a whole number of at least 1"
        );
        assert_eq!(
            MarkdownConfig::from_entries(&entries("overlap", "1"))
                .unwrap_err()
                .to_string(),
            "unknown config key `overlap`; accepted keys are `size`"
        );
    }

    fn markdownish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("# H\n"),
            Just("## Sub\n"),
            Just("```\n"),
            Just("~~~~\n"),
            Just("   ```rust\n"),
            Just("````\n"),
            Just("\n"),
            Just("\r\n"),
            Just("text "),
            Just("more words here. "),
            Just("日本語。"),
            Just("👨‍👩‍👧"),
            Just("e\u{301}"),
            Just("  "),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn no_chunk_edge_falls_inside_a_fence(text in markdownish(), size in 1usize..60) {
            let g = Graphemes::new(&text);
            let fenced: Vec<(usize, usize)> = scan(&text)
                .iter()
                .flat_map(|s| s.blocks.iter())
                .filter(|b| b.fence)
                .filter_map(|b| g.trim(b.start, b.end))
                .collect();
            for span in markdown(&text, &MarkdownConfig { size }) {
                for edge in [span.start, span.end] {
                    for &(s, e) in &fenced {
                        prop_assert!(!(s < edge && edge < e), "edge {} inside fence {}..{}", edge, s, e);
                    }
                }
                let len = g.count(span.start, span.end);
                prop_assert!(
                    len <= size || fenced.contains(&(span.start, span.end)),
                    "chunk of {} chars is larger than {} without being a fence", len, size
                );
            }
        }
    }
}
