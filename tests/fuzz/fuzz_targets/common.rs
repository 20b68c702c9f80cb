//! What several targets share: a tiny index version built once per process.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use genops_index::{IndexVersion, NewRow, VersionBuilder};

const TEXTS: [(&str, &str, &str); 4] = [
    ("a.md", "1999", "The cat sat on the mat and purred."),
    ("a.md", "1999", "Dogs chase cats around the garden."),
    ("b.txt", "2005", "The bank raised interest rates."),
    (
        "c.html",
        "2021",
        "Baking bread needs patience: ünïcödé, 日本語.",
    ),
];

/// The folder of a tiny version with text and 4-dimensional vectors. It lives as long as
/// the process: the temporary folder is never dropped.
pub fn template() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let tmp = tempfile::Builder::new()
            .prefix("genops-fuzz-")
            .tempdir()
            .expect("a temporary folder");
        let dir = tmp.path().join("v1");
        let mut builder = VersionBuilder::create(&dir, Some(4)).expect("create a version");
        for (i, (source, year, text)) in TEXTS.iter().enumerate() {
            let mut vector = vec![0.0f32; 4];
            vector[i % 4] = 1.0;
            builder
                .add(NewRow {
                    chunk_id: format!("c{i}"),
                    source: source.to_string(),
                    document: format!("doc-{source}"),
                    start: 0,
                    end: text.len() as u64,
                    text: text.to_string(),
                    metadata: BTreeMap::from([("year".to_string(), year.to_string())]),
                    vector: Some(vector),
                })
                .expect("add a row");
        }
        builder
            .finish(None, serde_json::json!({"index": "fuzz"}))
            .expect("finish the version");
        (tmp, dir)
    })
    .1
}

/// The tiny version, opened once.
pub fn version() -> &'static IndexVersion {
    static VERSION: OnceLock<IndexVersion> = OnceLock::new();
    VERSION.get_or_init(|| IndexVersion::open(template()).expect("open the template"))
}
