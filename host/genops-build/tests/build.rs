//! Builds the paragraph example of every language with the real toolchains, and checks what
//! users see when something is wrong.
//!
//! The toolchains come from `Toolchain::from_env()`, as `genops plugin build` finds them. A
//! missing tool fails the test with the error that names it: run `scripts/install.sh` first.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use genops_build::{build, Error, Toolchain};
use genops_manifest::{Kind, Manifest};
use sha2::{Digest, Sha256};
use wit_component::DecodedWasm;

/// Each toolchain already uses both cores of a small machine; running two at once only
/// makes both slower and their time-outs likelier.
static ONE_BUILD_AT_A_TIME: Mutex<()> = Mutex::new(());

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Builds `plugin_dir` into a fresh folder and checks the output folder the way the host will
/// read it: manifest, digest, exports and imports.
fn build_and_check(plugin_dir: &Path, name: &str) -> genops_build::Built {
    let out = tempfile::tempdir().unwrap();
    let built = {
        let _turn = ONE_BUILD_AT_A_TIME
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        build(plugin_dir, Some(out.path()), &Toolchain::from_env())
            .unwrap_or_else(|e| panic!("building {} failed: {e}", plugin_dir.display()))
    };

    let dir = out.path().join(name);
    assert_eq!(built.dir, dir);
    let manifest = Manifest::from_file(&dir.join("genops-plugin.toml")).unwrap();
    assert_eq!(manifest.name, name);
    assert_eq!(manifest.kind, Kind::Chunker);
    // The manifest keeps the world the plugin needs at least; the component itself is built
    // against the newest WIT of the line.
    assert_eq!(manifest.world.to_string(), "0.1.0");
    assert_eq!(
        manifest.component_file(),
        PathBuf::from(format!("{name}.wasm"))
    );
    assert_eq!(built.component, dir.join(format!("{name}.wasm")));

    let bytes = std::fs::read(&built.component).unwrap();
    assert_eq!(built.size, bytes.len() as u64);
    assert_eq!(
        built.digest,
        format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
    );

    // Read the component independently of the crate's own check.
    let DecodedWasm::Component(resolve, world) = wit_component::decode(&bytes).unwrap() else {
        panic!("{name} is not a component");
    };
    let world = &resolve.worlds[world];
    let names = |items: &mut dyn Iterator<Item = &wit_parser::WorldKey>| -> Vec<String> {
        items.map(|key| resolve.name_world_key(key)).collect()
    };
    let exports = names(&mut world.exports.keys());
    let imports = names(&mut world.imports.keys());
    // componentize-py adds an export of its own (`exports`, its initialisation metadata),
    // which the host ignores.
    assert!(
        exports.iter().any(|e| e == "genops:plugin/chunker@0.1.2"),
        "{name}: {exports:?}"
    );
    assert!(
        exports
            .iter()
            .all(|e| e == "genops:plugin/chunker@0.1.2" || !e.contains(':')),
        "{name}: {exports:?}"
    );
    for import in &imports {
        assert!(
            import.starts_with("wasi:")
                || [
                    "genops:plugin/types@0.1.2",
                    "genops:plugin/logging@0.1.2",
                    "genops:plugin/config@0.1.2",
                    "genops:plugin/models@0.1.2",
                ]
                .contains(&import.as_str()),
            "{name} imports {import}"
        );
    }
    assert_eq!(built.imports, imports);
    assert_eq!(built.exports, exports);
    eprintln!(
        "{name}: {} bytes, {:.1} s, imports {imports:?}",
        built.size,
        built.elapsed.as_secs_f64()
    );
    built
}

mod examples {
    use super::*;

    #[test]
    fn c() {
        let built = build_and_check(&repo().join("examples/paragraph-c"), "paragraph-c");
        // No libc call in the example needs WASI, so the adapter adds nothing.
        assert!(
            built.imports.iter().all(|i| !i.starts_with("wasi:")),
            "{:?}",
            built.imports
        );
    }

    #[test]
    fn python() {
        build_and_check(
            &repo().join("examples/paragraph-python"),
            "paragraph-python",
        );
    }

    #[test]
    fn javascript() {
        build_and_check(&repo().join("examples/paragraph-js"), "paragraph-js");
    }

    #[test]
    fn rust() {
        build_and_check(&repo().join("examples/paragraph-rust"), "paragraph-rust");
    }

    /// The example crate is a member of the genops workspace; a plugin author's crate is not.
    /// This builds the example's sources as a crate of its own, outside any workspace.
    #[test]
    fn rust_crate_outside_a_workspace() {
        let repo = repo().canonicalize().unwrap();
        let plugin = tempfile::tempdir().unwrap();
        let lib = repo.join("examples/paragraph-rust/src/lib.rs");
        let sdk = repo.join("sdk/genops-sdk");
        std::fs::write(
            plugin.path().join("Cargo.toml"),
            format!(
                "[package]\nname = \"paragraph-rust\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                 [lib]\ncrate-type = [\"cdylib\"]\npath = {lib:?}\n\n\
                 [dependencies]\ngenops-sdk = {{ path = {sdk:?}, features = [\"chunker\"] }}\n\n\
                 [workspace]\n"
            ),
        )
        .unwrap();
        // The workspace's lock file pins the same dependency versions the example builds with.
        std::fs::copy(repo.join("Cargo.lock"), plugin.path().join("Cargo.lock")).unwrap();
        std::fs::write(
            plugin.path().join("genops-plugin.toml"),
            "name = \"paragraph-rust\"\nversion = \"0.1.0\"\nkind = \"chunker\"\nworld = \"0.1.0\"\n",
        )
        .unwrap();
        let built = build_and_check(plugin.path(), "paragraph-rust");
        assert_eq!(built.manifest.build, None);
    }
}

mod errors {
    use super::*;

    fn plugin(manifest: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("genops-plugin.toml"), manifest).unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    const C_MANIFEST: &str = "name = \"broken\"\nversion = \"0.1.0\"\nkind = \"chunker\"\n\
                              world = \"0.1.0\"\n[build]\nlanguage = \"c\"\nsources = [\"broken.c\"]\n";

    #[test]
    fn folder_without_manifest_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let err = build(dir.path(), None, &Toolchain::from_env()).unwrap_err();
        assert!(matches!(err, Error::ManifestMissing { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains(&dir.path().join("genops-plugin.toml").display().to_string()),
            "{text}"
        );
    }

    #[test]
    fn missing_tool_names_its_variable_and_the_install_script() {
        let dir = plugin(C_MANIFEST, &[("broken.c", "int x;\n")]);
        let toolchain = Toolchain::from_lookup(|name| match name {
            "GENOPS_CLANG" => Some("/nonexistent/clang-19".into()),
            _ => std::env::var_os(name),
        });
        let err = build(dir.path(), None, &toolchain).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(
                err,
                Error::ToolMissing {
                    env: "GENOPS_CLANG",
                    ..
                }
            ),
            "{text}"
        );
        assert!(
            text.contains("/nonexistent/clang-19") && text.contains("scripts/install.sh"),
            "{text}"
        );
        assert!(!dir.path().join("dist").exists());
    }

    #[test]
    fn c_that_does_not_compile_shows_the_compiler_message() {
        let source =
            "#include \"chunker_plugin.h\"\nint broken(void) { return undeclared_thing; }\n";
        let dir = plugin(C_MANIFEST, &[("broken.c", source)]);
        let err = {
            let _turn = ONE_BUILD_AT_A_TIME
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            build(dir.path(), None, &Toolchain::from_env()).unwrap_err()
        };
        let text = err.to_string();
        assert!(matches!(err, Error::ToolFailed { .. }), "{text}");
        assert!(text.contains("broken.c:2:"), "{text}");
        assert!(text.contains("undeclared_thing"), "{text}");
    }

    #[test]
    fn c_without_an_export_fails_at_link_time_with_a_hint() {
        let source = "#include \"chunker_plugin.h\"\n";
        let dir = plugin(C_MANIFEST, &[("broken.c", source)]);
        let err = {
            let _turn = ONE_BUILD_AT_A_TIME
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            build(dir.path(), None, &Toolchain::from_env()).unwrap_err()
        };
        let text = err.to_string();
        assert!(
            text.contains("exports_genops_plugin_chunker_split"),
            "{text}"
        );
        assert!(text.contains("hint:"), "{text}");
    }

    #[test]
    fn listed_source_that_is_missing_is_named() {
        let dir = plugin(C_MANIFEST, &[]);
        let err = build(dir.path(), None, &Toolchain::from_env()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::SourceMissing { .. }), "{text}");
        assert!(
            text.contains("broken.c") && text.contains("build.sources"),
            "{text}"
        );
    }

    #[test]
    fn unknown_world_version_is_refused() {
        let dir = plugin(
            &C_MANIFEST.replace("world = \"0.1.0\"", "world = \"0.2.0\""),
            &[],
        );
        let err = build(dir.path(), None, &Toolchain::from_env()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("worlds 0.1.0 to 0.1.2"), "{text}");
        assert!(text.contains("`world = \"0.1.0\"`"), "{text}");
    }

    #[test]
    fn manifest_without_language_or_cargo_toml_says_what_to_add() {
        let dir = plugin(
            "name = \"x\"\nversion = \"0.1.0\"\nkind = \"chunker\"\nworld = \"0.1.0\"\n",
            &[],
        );
        let err = build(dir.path(), None, &Toolchain::from_env()).unwrap_err();
        assert!(matches!(err, Error::NoLanguage { .. }), "{err}");
    }
}
