//! JSON Lines files as ingest reads them.
#![no_main]

use genops_ingest::read::read_source;
use genops_ingest::{Format, JsonlFields};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_source("f.jsonl", data, Format::JsonLines, &JsonlFields::default());
});
