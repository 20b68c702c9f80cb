//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};

use genops_vectors::{Hit, VectorFile, VectorWriter};

/// Writes `data` (row-major, `dim` wide) to `dir/name` and opens it.
pub fn write(dir: &Path, name: &str, dim: usize, data: &[f32]) -> VectorFile {
    let path = dir.join(name);
    let mut writer = VectorWriter::create(&path, dim).expect("create writer");
    writer.push_rows(data).expect("push rows");
    writer.finish().expect("finish");
    VectorFile::open(&path).expect("open")
}

/// A fresh temporary folder.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary folder")
}

/// The path of a file in `dir`.
pub fn file(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// Brute force: score every allowed row, sort everything by score then row, keep `k`. Uses
/// the crate's `dot` so that scores tie exactly; `dot` itself is checked against an f64 sum
/// in the unit tests.
pub fn naive_top_k(
    data: &[f32],
    dim: usize,
    query: &[f32],
    k: usize,
    keep: impl Fn(u32) -> bool,
) -> Vec<Hit> {
    let mut all: Vec<Hit> = data
        .chunks_exact(dim)
        .enumerate()
        .filter(|(row, _)| keep(*row as u32))
        .map(|(row, v)| Hit {
            row: row as u32,
            score: genops_vectors::dot(query, v),
        })
        .collect();
    all.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.row.cmp(&b.row)));
    all.truncate(k);
    all
}
