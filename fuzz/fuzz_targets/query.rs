//! BM25 text queries on a tiny version: the first byte is `k`, the rest the query.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&k, query)) = data.split_first() else {
        return;
    };
    let query = String::from_utf8_lossy(query);
    if let Ok(hits) = common::version().search_text(&query, k as usize, &[]) {
        assert!(hits.len() <= k as usize);
    }
});
