//! BM25 text queries on a tiny version: the first byte is `k`, the rest the query.
#![no_main]

#[path = "common.rs"]
mod common;

use std::panic::{AssertUnwindSafe, PanicHookInfo};
use std::sync::Once;

use libfuzzer_sys::fuzz_target;

/// tantivy 0.27 trips its own `debug_assert!` in `PhraseScorer::seek_danger` when a negated
/// phrase matches nothing in a segment (`-"dog the"`): the exclusion seeks a finished
/// docset. Release builds skip the assertion and answer correctly; the fuzz build has debug
/// assertions on everywhere. That one assertion is let through; any other panic still
/// aborts. See docs/fuzzing.md.
fn known_upstream(info: &PanicHookInfo<'_>) -> bool {
    let message = info
        .payload()
        .downcast_ref::<String>()
        .map(String::as_str)
        .unwrap_or("");
    info.location()
        .is_some_and(|l| l.file().ends_with("phrase_query/phrase_scorer.rs"))
        && message.contains("should be greater than or equal to doc")
}

fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        // libFuzzer's hook aborts on every panic; it stays in charge of all others.
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !known_upstream(info) {
                abort(info);
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    install_hook();
    let Some((&k, query)) = data.split_first() else {
        return;
    };
    let query = String::from_utf8_lossy(query);
    let searched = std::panic::catch_unwind(AssertUnwindSafe(|| {
        common::version().search_text(&query, k as usize, &[])
    }));
    if let Ok(Ok(hits)) = searched {
        assert!(hits.len() <= k as usize);
    }
});
