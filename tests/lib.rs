//! Helpers shared by the integration tests: where the built plugins are, a runtime with a
//! compile cache shared by every test of the run, and small constructors.
//!
//! The plugins are real components built from this repository's sources by
//! `scripts/build-plugins.sh`; `scripts/test.sh` builds them and points
//! `GENOPS_TEST_PLUGINS` at them before running the tests.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use genops_models::{ModelStore, Models, ModelsConfig};
use genops_runtime::{Document, Plugin, Runtime, RuntimeConfig};

/// The default embedding model, which `scripts/test.sh` installs for the tests.
pub const MODEL: &str = "all-minilm-l6-v2";

/// The folder of built plugin folders.
pub fn plugins_dir() -> PathBuf {
    let dir = std::env::var_os("GENOPS_TEST_PLUGINS")
        .map(PathBuf::from)
        .expect(
        "GENOPS_TEST_PLUGINS is not set: run the tests with scripts/test.sh, or build the plugins \
         with scripts/build-plugins.sh DIR and set GENOPS_TEST_PLUGINS=DIR",
    );
    assert!(
        dir.is_dir(),
        "GENOPS_TEST_PLUGINS={} is not a folder: build the plugins with scripts/build-plugins.sh",
        dir.display()
    );
    dir
}

/// The built plugin folder of `name`.
pub fn plugin_dir(name: &str) -> PathBuf {
    let dir = plugins_dir().join(name);
    assert!(
        dir.join("genops-plugin.toml").is_file(),
        "no built plugin {name} in {}: rebuild with scripts/build-plugins.sh",
        dir.display()
    );
    dir
}

/// A compile cache shared by the tests of one run, so the Python and JavaScript components
/// are compiled once rather than once per test.
pub fn cache_dir() -> PathBuf {
    std::env::temp_dir().join(format!("genops-test-cache-{}", env!("CARGO_PKG_VERSION")))
}

/// A runtime with default settings and the shared cache.
pub fn runtime() -> Runtime {
    runtime_with(RuntimeConfig::default())
}

/// A runtime with `config` and the shared cache.
pub fn runtime_with(config: RuntimeConfig) -> Runtime {
    Runtime::new(config, Some(cache_dir())).expect("runtime starts")
}

/// The data directory holding the default model and ONNX Runtime: `GENOPS_TEST_DATA`, which
/// `scripts/test.sh` fills with `genops models install`.
pub fn models_data_dir() -> PathBuf {
    let dir = std::env::var_os("GENOPS_TEST_DATA")
        .map(PathBuf::from)
        .expect(
            "GENOPS_TEST_DATA is not set: run the tests with scripts/test.sh, or install the \
             default model with `genops --data-dir DIR models install` and set GENOPS_TEST_DATA=DIR",
        );
    assert!(
        dir.join("models").join(MODEL).is_dir(),
        "no {MODEL} in {}: run `genops --data-dir {} models install`",
        dir.display(),
        dir.display()
    );
    dir
}

/// One `Models` over the test data directory for the whole test binary, as a service has.
pub fn models() -> Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS
        .get_or_init(|| {
            Models::new(ModelStore::new(&models_data_dir()), ModelsConfig::default())
                .expect("models open")
        })
        .clone()
}

/// A runtime with default settings, the shared cache and the test models.
pub fn runtime_with_models() -> Runtime {
    Runtime::with_models(RuntimeConfig::default(), Some(cache_dir()), Some(models()))
        .expect("runtime starts")
}

/// Loads a built plugin by name with default settings.
pub fn load(name: &str) -> Plugin {
    runtime()
        .load_dir(&plugin_dir(name))
        .unwrap_or_else(|e| panic!("loading {name}: {e}"))
}

/// A plain-text document.
pub fn doc(text: &str) -> Document {
    Document {
        id: "test.txt".into(),
        text: text.into(),
        media_type: "text/plain".into(),
        metadata: vec![],
    }
}

/// A config override map.
pub fn sets(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A real document of this repository, for tests that want real prose and Markdown.
pub fn repo_file(path: &str) -> String {
    let full = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("reading {}: {e}", full.display()))
}
