//! Metadata filters (`--filter year>=2020`), parsed and evaluated on a tiny version.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(filter) = genops_index::Filter::parse(text) {
        let _ = common::version().allowed(&[filter]);
    }
});
