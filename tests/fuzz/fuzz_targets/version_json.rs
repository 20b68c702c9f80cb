//! `version.json` of an index version: a copy of a tiny version whose `version.json` is the
//! input (or, when the first byte is odd, the real one with the input's bytes written over
//! it, which reaches the checks behind the JSON parser sooner).
#![no_main]

#[path = "common.rs"]
mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn work() -> &'static (PathBuf, Vec<u8>) {
    static WORK: OnceLock<(PathBuf, Vec<u8>)> = OnceLock::new();
    WORK.get_or_init(|| {
        let template = common::template();
        let dir = template.with_file_name("work");
        copy_dir(template, &dir);
        let meta = std::fs::read(template.join("version.json")).expect("version.json");
        (dir, meta)
    })
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (dir, meta) = work();
    let bytes = if mode & 1 == 1 {
        let mut patched = meta.clone();
        // Pairs of (offset, byte) written over the real file.
        for pair in rest.chunks_exact(2) {
            let at = pair[0] as usize * patched.len() / 256;
            patched[at] = pair[1];
        }
        patched
    } else {
        rest.to_vec()
    };
    std::fs::write(dir.join("version.json"), bytes).unwrap();
    if let Ok(version) = genops_index::IndexVersion::open(dir) {
        let _ = version.search_text("cat", 3, &[]);
        let _ = version.fetch_rows(&[0, 1, 2, 3], true);
    }
});
