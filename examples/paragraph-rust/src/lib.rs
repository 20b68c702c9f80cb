//! The paragraph chunker in Rust: one chunk per paragraph, where a paragraph is a run of
//! non-blank lines. The C, Python and JavaScript examples implement the same rule and the
//! tests check that all four return the same chunks.

use genops_sdk::chunker::{config, log, Chunk, Chunker, Document, PluginError, PluginInfo};

/// The exported plugin.
pub struct Paragraph;

impl Chunker for Paragraph {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            "paragraph",
            "one chunk per paragraph (a run of non-blank lines)",
        )
        .option(
            "min-bytes",
            "paragraphs shorter than this are skipped",
            Some("1"),
        )
    }

    fn split(doc: Document) -> Result<Vec<Chunk>, PluginError> {
        let min_bytes: usize = config::parse("min-bytes", 1)?;
        let chunks: Vec<Chunk> = paragraphs(doc.text.as_bytes())
            .into_iter()
            .filter(|(start, end)| end - start >= min_bytes)
            .enumerate()
            .map(|(i, (start, end))| Chunk::new(start, end).with("paragraph", i.to_string()))
            .collect();
        log::debug(&format!("paragraph: {} chunks", chunks.len()));
        Ok(chunks)
    }
}

genops_sdk::export_chunker!(Paragraph);

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Byte spans of the paragraphs, trimmed of ASCII white space. Working on bytes is safe for
/// UTF-8 because every byte the rule looks at is ASCII, which never occurs inside a multi-byte
/// character.
pub fn paragraphs(text: &[u8]) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut para: Option<(usize, usize)> = None;
    let mut line_start = 0;
    while line_start < text.len() {
        let line_end = text[line_start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |i| line_start + i + 1);
        let line = &text[line_start..line_end];
        if line.iter().all(|&b| is_space(b)) {
            spans.extend(para.take());
        } else {
            let first = line_start + line.iter().position(|&b| !is_space(b)).unwrap_or(0);
            let last = line_start + line.iter().rposition(|&b| !is_space(b)).unwrap_or(0) + 1;
            para = Some(match para {
                Some((start, _)) => (start, last),
                None => (first, last),
            });
        }
        line_start = line_end;
    }
    spans.extend(para);
    spans
}

#[cfg(test)]
mod tests {
    use super::paragraphs;

    #[test]
    fn splits_on_blank_lines_and_trims() {
        let text = "  one\ntwo  \r\n \r\n\nthree\n";
        let spans = paragraphs(text.as_bytes());
        let texts: Vec<&str> = spans.iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(texts, ["one\ntwo", "three"]);
    }

    #[test]
    fn empty_and_blank_documents_have_no_paragraphs() {
        assert!(paragraphs(b"").is_empty());
        assert!(paragraphs(b" \n\t\r\n").is_empty());
    }

    #[test]
    fn multibyte_text_is_sliced_on_boundaries() {
        let text = "日本語の文。\n\n🙂 e\u{301}\n";
        for (s, e) in paragraphs(text.as_bytes()) {
            assert!(text.is_char_boundary(s) && text.is_char_boundary(e));
        }
    }
}
