//! The same paragraph chunker written in Rust, C, Python and JavaScript gives the same chunks.

use genops_runtime::{Chunk, Document, Error, PluginError};
use genops_tests::{load, repo_file, sets};

const LANGUAGES: [&str; 4] = [
    "paragraph-rust",
    "paragraph-c",
    "paragraph-python",
    "paragraph-js",
];

fn texts() -> Vec<String> {
    vec![
        repo_file("README.md"),
        repo_file("tests/data/mixed.md"),
        "  one\ntwo  \r\n \r\n\nthree\n".into(),
        String::new(),
        " \n\t\r\n".into(),
        "no newline at the end".into(),
        "🙂\n\n\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\n\ne\u{301}\n".into(),
    ]
}

fn split(name: &str, overrides: &[(&str, &str)], text: &str) -> Result<Vec<Chunk>, Error> {
    let plugin = load(name);
    let mut session = plugin.session(&sets(overrides));
    session.split(&Document {
        id: "doc".into(),
        text: text.into(),
        media_type: "text/plain".into(),
        metadata: vec![],
    })
}

#[test]
fn all_languages_agree_with_the_rust_rule() {
    for text in texts() {
        let expected: Vec<(usize, usize)> = paragraph_rust::paragraphs(text.as_bytes());
        for name in LANGUAGES {
            let got = split(name, &[], &text).unwrap_or_else(|e| panic!("{name}: {e}"));
            let spans: Vec<(usize, usize)> = got.iter().map(|c| (c.start, c.end)).collect();
            assert_eq!(spans, expected, "{name} on {text:?}");
            for (i, chunk) in got.iter().enumerate() {
                assert_eq!(
                    chunk.metadata,
                    vec![("paragraph".to_string(), i.to_string())],
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn all_languages_read_their_config() {
    let text = "a\n\nbb\n\nccc\n";
    for name in LANGUAGES {
        let got = split(name, &[("min-bytes", "2")], text).unwrap();
        let texts: Vec<&str> = got.iter().map(|c| &text[c.start..c.end]).collect();
        assert_eq!(texts, ["bb", "ccc"], "{name}");
        assert_eq!(
            got[0].metadata[0].1, "0",
            "{name}: indexes count emitted chunks"
        );
    }
}

#[test]
fn all_languages_return_invalid_config_for_a_bad_value() {
    for name in LANGUAGES {
        match split(name, &[("min-bytes", "lots")], "text") {
            Err(Error::Plugin {
                error: PluginError::InvalidConfig(message),
                ..
            }) => assert!(
                message.contains("min-bytes") && message.contains("lots"),
                "{name}: {message}"
            ),
            other => panic!("{name}: expected invalid config, got {other:?}"),
        }
    }
}

#[test]
fn all_languages_describe_themselves_alike() {
    let infos: Vec<_> = LANGUAGES
        .iter()
        .map(|name| load(name).describe().unwrap())
        .collect();
    for (name, info) in LANGUAGES.iter().zip(&infos) {
        assert_eq!(info, &infos[0], "{name} describes itself differently");
    }
    assert_eq!(infos[0].name, "paragraph");
    assert_eq!(infos[0].config[0].name, "min-bytes");
}
