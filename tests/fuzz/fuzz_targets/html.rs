//! HTML files as ingest reads them, and the HTML-to-text conversion itself.
#![no_main]

use genops_ingest::read::{html_to_text, read_source};
use genops_ingest::{Format, JsonlFields};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_source("f.html", data, Format::Html, &JsonlFields::default());
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = html_to_text(text);
    }
});
