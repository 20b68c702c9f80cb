//! `genops-plugin.toml`, which every plugin brings.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(manifest) = genops_manifest::Manifest::from_toml_str(text) {
        // What is installed is the manifest written back: it must read the same.
        let again = genops_manifest::Manifest::from_toml_str(&manifest.to_toml_string())
            .expect("a manifest written by genops parses");
        assert_eq!(manifest, again);
    }
});
