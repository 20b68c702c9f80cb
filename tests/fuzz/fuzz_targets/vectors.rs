//! The vectors file: arbitrary bytes (first byte even), or a valid file with the input's
//! bytes written over its header and body (first byte odd), opened and searched.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use genops_vectors::{VectorFile, VectorWriter};
use libfuzzer_sys::fuzz_target;

fn paths() -> &'static (tempfile::TempDir, PathBuf, Vec<u8>) {
    static PATHS: OnceLock<(tempfile::TempDir, PathBuf, Vec<u8>)> = OnceLock::new();
    PATHS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let valid = dir.path().join("valid.bin");
        let mut writer = VectorWriter::create(&valid, 3).unwrap();
        for row in [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]] {
            writer.push(&row).unwrap();
        }
        writer.finish().unwrap();
        let bytes = std::fs::read(&valid).unwrap();
        let path = dir.path().join("vectors.bin");
        (dir, path, bytes)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (_, path, valid) = paths();
    let bytes = if mode & 1 == 1 {
        let mut patched = valid.clone();
        for pair in rest.chunks_exact(2) {
            let at = pair[0] as usize * patched.len() / 256;
            patched[at] = pair[1];
        }
        patched
    } else {
        rest.to_vec()
    };
    std::fs::write(path, bytes).unwrap();
    if let Ok(file) = VectorFile::open(path) {
        let query = vec![0.5f32; file.dim()];
        let _ = file.search_exact(&query, 2, None);
    }
});
