//! Reading source files into documents: plain text, Markdown, HTML (text extracted) and
//! JSON Lines (one document per line).

use std::collections::BTreeMap;
use std::path::Path;

/// A document read from a source file, before chunking.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceDoc {
    /// Where it came from: the file's path as given, or `path#id` for a JSONL record.
    pub source: String,
    /// The text to chunk.
    pub text: String,
    /// `text/plain`, `text/markdown` or `text/html`.
    pub media_type: String,
    /// What the reader found: `title`, and a JSONL record's other fields.
    pub metadata: BTreeMap<String, String>,
}

/// A problem with one part of a file that did not stop the rest from being read.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// The file, and the line where it applies.
    pub source: String,
    /// What is wrong and what to do.
    pub reason: String,
}

/// The file kinds genops ingests, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.txt`
    Text,
    /// `.md`, `.markdown`
    Markdown,
    /// `.html`, `.htm`
    Html,
    /// `.jsonl`
    JsonLines,
}

impl Format {
    /// The format of a path, by its extension.
    pub fn of(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "txt" | "text" => Format::Text,
            "md" | "markdown" => Format::Markdown,
            "html" | "htm" => Format::Html,
            "jsonl" | "ndjson" => Format::JsonLines,
            _ => return None,
        })
    }
}

/// The extensions [`Format::of`] knows, for error messages.
pub const EXTENSIONS: &str = ".txt, .md, .html, .jsonl";

/// How JSON Lines records map to documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonlFields {
    /// The field holding the text.
    pub text: String,
    /// The field holding a record's id (used in its source, `path#id`); the line number
    /// when absent.
    pub id: String,
}

impl Default for JsonlFields {
    fn default() -> Self {
        Self {
            text: "text".into(),
            id: "id".into(),
        }
    }
}

/// Reads one file's bytes into documents. `source` is the path as the user gave it.
/// Returns the documents and the parts that were skipped (JSONL lines), or an error for a
/// file that cannot be read as a whole (binary data, invalid UTF-8).
pub fn read_source(
    source: &str,
    bytes: &[u8],
    format: Format,
    fields: &JsonlFields,
) -> Result<(Vec<SourceDoc>, Vec<Skipped>), String> {
    let text = as_text(bytes)?;
    match format {
        Format::Text => Ok((
            vec![SourceDoc {
                source: source.into(),
                text: text.into(),
                media_type: "text/plain".into(),
                metadata: BTreeMap::new(),
            }],
            vec![],
        )),
        Format::Markdown => {
            let mut metadata = BTreeMap::new();
            if let Some(title) = markdown_title(text) {
                metadata.insert("title".into(), title);
            }
            Ok((
                vec![SourceDoc {
                    source: source.into(),
                    text: text.into(),
                    media_type: "text/markdown".into(),
                    metadata,
                }],
                vec![],
            ))
        }
        Format::Html => {
            let (body, title) = html_to_text(text);
            let mut metadata = BTreeMap::new();
            if let Some(title) = title {
                metadata.insert("title".into(), title);
            }
            Ok((
                vec![SourceDoc {
                    source: source.into(),
                    text: body,
                    media_type: "text/plain".into(),
                    metadata,
                }],
                vec![],
            ))
        }
        Format::JsonLines => Ok(read_jsonl(source, text, fields)),
    }
}

/// The bytes as UTF-8 text, or why they are not text.
fn as_text(bytes: &[u8]) -> Result<&str, String> {
    // NUL never occurs in text files; it is the cheapest sign of a binary file.
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(format!(
            "is not a text file (a NUL byte at offset {at}); ingest only text, or give it the extension of what it is"
        ));
    }
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "is not UTF-8 text (invalid byte at offset {}); convert it, for example with `iconv -f latin1 -t utf-8`",
            e.valid_up_to()
        )
    })
}

fn markdown_title(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("# "))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

fn read_jsonl(source: &str, text: &str, fields: &JsonlFields) -> (Vec<SourceDoc>, Vec<Skipped>) {
    let mut docs = Vec::new();
    let mut skipped = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (n, line) in text.lines().enumerate() {
        let number = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let skip = |reason: String| Skipped {
            source: format!("{source} line {number}"),
            reason,
        };
        let value: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                skipped.push(skip(format!("not valid JSON ({e})")));
                continue;
            }
        };
        let Some(object) = value.as_object() else {
            skipped.push(skip("not a JSON object".into()));
            continue;
        };
        let body = match object.get(&fields.text) {
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(serde_json::Value::String(_)) => {
                skipped.push(skip(format!("field `{}` is empty", fields.text)));
                continue;
            }
            Some(_) => {
                skipped.push(skip(format!("field `{}` is not a string", fields.text)));
                continue;
            }
            None => {
                skipped.push(skip(format!(
                    "no field `{}` (set the text field with --text-field)",
                    fields.text
                )));
                continue;
            }
        };
        let id = match object.get(&fields.id) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => format!("line-{number}"),
        };
        if !seen.insert(id.clone()) {
            skipped.push(skip(format!(
                "id `{id}` appears on an earlier line; ids must be unique within a file"
            )));
            continue;
        }
        let mut metadata = BTreeMap::new();
        metadata.insert("id".to_string(), id.clone());
        for (key, value) in object {
            if key == &fields.text || key == &fields.id {
                continue;
            }
            let value = match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(","),
                // Nested objects and nulls are not filterable values.
                serde_json::Value::Object(_) | serde_json::Value::Null => continue,
            };
            metadata.insert(key.clone(), value);
        }
        docs.push(SourceDoc {
            source: format!("{source}#{id}"),
            text: body,
            media_type: "text/plain".into(),
            metadata,
        });
    }
    (docs, skipped)
}

/// Elements whose content is not text a reader sees. (`<head>` holds little else, but its
/// `<title>` is wanted, so it is not skipped whole.)
const SKIPPED_ELEMENTS: [&str; 5] = ["script", "style", "noscript", "template", "svg"];
/// Elements that start a new line of text.
const BLOCK_ELEMENTS: [&str; 27] = [
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "td",
    "th",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "blockquote",
    "pre",
    "hr",
    "dd",
    "dt",
];

/// The visible text of an HTML page, one line per block, and its `<title>`.
pub fn html_to_text(html: &str) -> (String, Option<String>) {
    let mut out = String::with_capacity(html.len() / 2);
    let mut title: Option<String> = None;
    let mut skip_until: Option<String> = None;
    let mut in_title = false;
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            push_text(&mut out, rest, skip_until.is_some(), in_title, &mut title);
            break;
        };
        push_text(
            &mut out,
            &rest[..lt],
            skip_until.is_some(),
            in_title,
            &mut title,
        );
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            continue;
        }
        let Some(gt) = rest.find('>') else {
            // A lone `<` in text.
            push_text(&mut out, rest, skip_until.is_some(), in_title, &mut title);
            break;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(until) = &skip_until {
            if closing && &name == until {
                skip_until = None;
            }
            continue;
        }
        if name == "title" {
            in_title = !closing;
            continue;
        }
        if !closing && SKIPPED_ELEMENTS.contains(&name.as_str()) && !tag.ends_with('/') {
            skip_until = Some(name);
            continue;
        }
        if BLOCK_ELEMENTS.contains(&name.as_str()) && !out.ends_with('\n') && !out.is_empty() {
            out.push('\n');
        }
    }
    let lines: Vec<&str> = out
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    (
        lines.join("\n"),
        title
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty()),
    )
}

fn push_text(
    out: &mut String,
    raw: &str,
    skipping: bool,
    in_title: bool,
    title: &mut Option<String>,
) {
    if skipping || raw.is_empty() {
        return;
    }
    let decoded = decode_entities(raw);
    if in_title {
        title.get_or_insert_with(String::new).push_str(&decoded);
        return;
    }
    // Collapse runs of white space as a browser does.
    let mut last_space = out.ends_with([' ', '\n']) || out.is_empty();
    for c in decoded.chars() {
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else {
            out.push(c);
            last_space = false;
        }
    }
}

fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // Searched in bytes: the 12th byte may fall inside a multi-byte character, and `;`
        // is ASCII, so the position found is always a character boundary.
        let end = rest.as_bytes()[..rest.len().min(12)]
            .iter()
            .position(|&b| b == b';');
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entity_cut_inside_a_multibyte_character_is_left_as_text() {
        // Found by the `html` fuzz target: the entity search window ended inside `޶`.
        let (text, _) = html_to_text("<p>&#x41; &#65\u{7b6}E</p>");
        assert_eq!(text, "A &#65\u{7b6}E");
        let (text, _) = html_to_text("<p>&#6\u{7b6}\u{7b6}\u{7b6}\u{7b6}\u{7b6}\u{7b6};</p>");
        assert!(text.starts_with("&#6"), "{text}");
    }

    #[test]
    fn html_keeps_visible_text_by_block() {
        let html = "<html><head><title>A &amp; B</title><style>p{x:1}</style></head>\
            <body><h1>Heading</h1><p>First   para<br>line two &lt;ok&gt; &#233;t&#xE9;</p>\
            <script>var x = '<p>';</script><!-- hidden --><ul><li>one</li><li>two</li></ul></body></html>";
        let (text, title) = html_to_text(html);
        assert_eq!(title.as_deref(), Some("A & B"));
        assert_eq!(text, "Heading\nFirst para\nline two <ok> été\none\ntwo");
    }

    #[test]
    fn binary_and_non_utf8_files_are_refused_with_the_offset() {
        let fields = JsonlFields::default();
        let err = read_source("a.txt", b"ab\0cd", Format::Text, &fields).unwrap_err();
        assert!(err.contains("NUL byte at offset 2"), "{err}");
        let err = read_source("a.txt", b"caf\xe9", Format::Text, &fields).unwrap_err();
        assert!(err.contains("offset 3") && err.contains("iconv"), "{err}");
    }

    #[test]
    fn jsonl_reports_bad_lines_with_numbers_and_reads_the_rest() {
        let text = "{\"id\":\"a\",\"text\":\"alpha\",\"year\":1999,\"tags\":[\"x\",\"y\"]}\n\
                    not json\n\
                    {\"id\":\"b\"}\n\
                    \n\
                    [1,2]\n\
                    {\"id\":\"a\",\"text\":\"dup\"}\n\
                    {\"text\":\"no id\"}\n";
        let (docs, skipped) = read_source(
            "c.jsonl",
            text.as_bytes(),
            Format::JsonLines,
            &JsonlFields::default(),
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].source, "c.jsonl#a");
        assert_eq!(docs[0].metadata["year"], "1999");
        assert_eq!(docs[0].metadata["tags"], "x,y");
        assert_eq!(docs[1].source, "c.jsonl#line-7");
        let lines: Vec<&str> = skipped.iter().map(|s| s.source.as_str()).collect();
        assert_eq!(
            lines,
            [
                "c.jsonl line 2",
                "c.jsonl line 3",
                "c.jsonl line 5",
                "c.jsonl line 6"
            ]
        );
        assert!(
            skipped[1].reason.contains("--text-field"),
            "{:?}",
            skipped[1]
        );
    }

    #[test]
    fn markdown_title_is_the_first_heading() {
        let (docs, _) = read_source(
            "r.md",
            b"intro\n# The Title\n## sub",
            Format::Markdown,
            &JsonlFields::default(),
        )
        .unwrap();
        assert_eq!(docs[0].metadata["title"], "The Title");
        assert_eq!(docs[0].media_type, "text/markdown");
    }
}
