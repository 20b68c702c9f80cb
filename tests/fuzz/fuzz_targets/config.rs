//! `genops.toml`: `[runtime]` and `[models]` deserialised and validated as genops reads
//! them (genops-app's `Config` is these two sections, with unknown keys refused).
#![no_main]

use genops_models::ModelsConfig;
use genops_runtime::RuntimeConfig;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[allow(dead_code)]
struct Config {
    #[serde(default)]
    runtime: RuntimeConfig,
    #[serde(default)]
    models: ModelsConfig,
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = toml::from_str::<Config>(text) {
        let _ = config.runtime.validate();
        let _ = config.models.validate();
    }
});
