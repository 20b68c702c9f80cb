//! Loading: what the host refuses at load time, and how it says so; the compile cache.

use std::path::{Path, PathBuf};

use genops_runtime::{
    CompileCache, Error, Fault, Kind, LoadSource, Manifest, Runtime, RuntimeConfig,
};
use genops_tests::{plugin_dir, runtime};
use wit_component::ComponentEncoder;
use wit_parser::{ManglingAndAbi, Resolve};

/// Builds a component for `world` from the project's WIT with `edit` applied to each file
/// (and `extra` added as one more file). Its functions trap when called: these components
/// exist to be refused or to trap.
fn dummy_component(world: &str, edit: impl Fn(&str) -> String, extra: Option<&str>) -> Vec<u8> {
    let wit_src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../wit/plugin@0.1");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&wit_src).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(dir.path().join(path.file_name().unwrap()), edit(&text)).unwrap();
    }
    if let Some(extra) = extra {
        std::fs::write(dir.path().join("extra.wit"), extra).unwrap();
    }
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_dir(dir.path()).unwrap();
    let world = resolve.select_world(&[pkg], Some(world)).unwrap();
    let mut module = wit_component::dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .unwrap();
    ComponentEncoder::default()
        .module(&module)
        .unwrap()
        .validate(true)
        .encode()
        .unwrap()
}

fn manifest(kind: &str) -> Manifest {
    Manifest::from_toml_str(&format!(
        "name = \"dummy\"\nversion = \"1.0.0\"\nkind = \"{kind}\"\nworld = \"0.1.0\"\n"
    ))
    .unwrap()
}

#[test]
fn a_file_that_is_not_wasm_is_refused() {
    let err = runtime()
        .load_bytes(b"#!/bin/sh\necho hi\n", None, "script.wasm")
        .unwrap_err();
    assert!(matches!(err, Error::NotWasm { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("script.wasm is not a WebAssembly file"),
        "{err}"
    );
}

#[test]
fn a_truncated_component_is_refused() {
    let bytes = std::fs::read(plugin_dir("paragraph-rust").join("paragraph-rust.wasm")).unwrap();
    let err = runtime()
        .load_bytes(&bytes[..bytes.len() / 2], None, "half.wasm")
        .unwrap_err();
    assert!(matches!(err, Error::Compile { .. }), "{err}");
}

#[test]
fn a_core_module_is_refused_with_how_to_fix() {
    let module = wat::parse_str("(module (func (export \"split\")))").unwrap();
    let err = runtime()
        .load_bytes(&module, None, "core.wasm")
        .unwrap_err();
    assert!(matches!(err, Error::CoreModule { .. }), "{err}");
    assert!(err.to_string().contains("build it as a component"), "{err}");
}

#[test]
fn a_component_of_another_kind_is_refused() {
    let evaluator = dummy_component("evaluator-plugin", str::to_string, None);
    let err = runtime()
        .load_bytes(&evaluator, Some(manifest("chunker")), "eval.wasm")
        .unwrap_err();
    match &err {
        Error::WrongKind {
            expected, found, ..
        } => {
            assert_eq!((*expected, *found), (Kind::Chunker, Kind::Evaluator));
        }
        other => panic!("expected wrong kind, got {other}"),
    }
    assert!(
        err.to_string().contains("is a evaluator plugin") || err.to_string().contains("evaluator")
    );
}

#[test]
fn an_unsupported_world_version_names_both_versions() {
    let future = dummy_component(
        "chunker-plugin",
        |text| {
            text.replace(
                &format!("genops:plugin@{}", genops_runtime::WORLD_VERSION),
                "genops:plugin@9.0.0",
            )
        },
        None,
    );
    let err = runtime()
        .load_bytes(&future, None, "future.wasm")
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::UnsupportedWorld { .. }), "{text}");
    assert!(text.contains("genops:plugin/chunker@9.0.0"), "{text}");
    assert!(text.contains("genops:plugin/chunker@0.1.0"), "{text}");
}

#[test]
fn an_import_the_host_lacks_is_refused_at_load() {
    let greedy = dummy_component(
        "greedy-chunker",
        str::to_string,
        Some(&format!(
            "package genops:plugin@{};\n\
             interface secrets {{ steal: func() -> string; }}\n\
             world greedy-chunker {{ import logging; import config; import secrets; export chunker; }}\n",
            genops_runtime::WORLD_VERSION
        )),
    );
    let err = runtime()
        .load_bytes(&greedy, None, "greedy.wasm")
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Link { .. }), "{text}");
    assert!(text.contains("secrets"), "{text}");
}

#[test]
fn every_kind_loads_and_a_trap_in_describe_is_a_fault() {
    for kind in ["retriever", "evaluator", "guardrail"] {
        let bytes = dummy_component(&format!("{kind}-plugin"), str::to_string, None);
        let plugin = runtime()
            .load_bytes(&bytes, Some(manifest(kind)), "dummy.wasm")
            .unwrap();
        assert_eq!(plugin.kind().as_str(), kind);
        match plugin.describe() {
            Err(Error::Fault {
                fault: Fault::Trap { .. },
                ..
            }) => {}
            other => panic!("{kind}: expected a trap, got {other:?}"),
        }
    }
}

#[test]
fn splitting_with_a_plugin_of_another_kind_is_refused() {
    let bytes = dummy_component("guardrail-plugin", str::to_string, None);
    let plugin = runtime()
        .load_bytes(&bytes, Some(manifest("guardrail")), "guard.wasm")
        .unwrap();
    let err = plugin
        .session(&Default::default())
        .split(&genops_tests::doc("x"))
        .unwrap_err();
    assert!(matches!(err, Error::WrongKind { .. }), "{err}");
}

fn copy_plugin_with_manifest(name: &str, manifest_text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = plugin_dir(name);
    std::fs::copy(
        src.join(format!("{name}.wasm")),
        dir.path().join(format!("{name}.wasm")),
    )
    .unwrap();
    std::fs::write(dir.path().join("genops-plugin.toml"), manifest_text).unwrap();
    dir
}

#[test]
fn manifest_with_unknown_keys_is_refused() {
    let dir = copy_plugin_with_manifest(
        "paragraph-rust",
        "name = \"paragraph-rust\"\nversion = \"1.0.0\"\nkind = \"chunker\"\nworld = \"0.1.0\"\nmemory = 5\n",
    );
    let err = runtime().load_dir(dir.path()).unwrap_err();
    assert!(err.to_string().contains("unknown field `memory`"), "{err}");
}

#[test]
fn manifest_with_missing_fields_is_refused() {
    let dir = copy_plugin_with_manifest(
        "paragraph-rust",
        "name = \"paragraph-rust\"\nkind = \"chunker\"\nworld = \"0.1.0\"\n",
    );
    let err = runtime().load_dir(dir.path()).unwrap_err();
    assert!(err.to_string().contains("missing field `version`"), "{err}");
}

#[test]
fn a_manifest_naming_a_missing_component_says_which_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("genops-plugin.toml"),
        "name = \"ghost\"\nversion = \"1.0.0\"\nkind = \"chunker\"\nworld = \"0.1.0\"\n",
    )
    .unwrap();
    let err = runtime().load_dir(dir.path()).unwrap_err();
    assert!(err.to_string().contains("ghost.wasm"), "{err}");
}

#[test]
fn compiled_components_come_from_the_cache_the_second_time() {
    let data = tempfile::tempdir().unwrap();
    let load = |dir: &Path| {
        cached_runtime(dir)
            .load_dir(&plugin_dir("paragraph-rust"))
            .unwrap()
    };
    assert_eq!(load(data.path()).load_source(), LoadSource::Compiled);
    let second = load(data.path());
    assert_eq!(second.load_source(), LoadSource::Cache);
    assert_eq!(second.describe().unwrap().name, "paragraph");

    // A corrupt artifact is replaced, not trusted.
    for path in artifacts(data.path()) {
        std::fs::write(path, b"garbage").unwrap();
    }
    let third = load(data.path());
    assert_eq!(third.load_source(), LoadSource::Compiled);
    assert_eq!(third.describe().unwrap().name, "paragraph");
    assert_eq!(load(data.path()).load_source(), LoadSource::Cache);
}

/// A runtime whose compile cache is the layout of the data directory `data`.
fn cached_runtime(data: &Path) -> Runtime {
    Runtime::with_cache(
        RuntimeConfig::default(),
        Some(CompileCache::in_data_dir(data)),
        None,
    )
    .unwrap()
}

/// The artifact files in the cache of data directory `data`.
fn artifacts(data: &Path) -> Vec<PathBuf> {
    let dir = CompileCache::in_data_dir(data).dir;
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    found.sort();
    found
}

/// The cached artifact of the plugin `plugin` (found by its digest) in data directory `data`.
fn artifact_of(data: &Path, plugin: &genops_runtime::Plugin) -> PathBuf {
    let hex = plugin.id().digest.trim_start_matches("sha256:").to_string();
    artifacts(data)
        .into_iter()
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&hex))
        .expect("the plugin's artifact is cached")
}

/// Regression: any .cwasm under the cache folder was deserialised as is, so plugin A's
/// artifact copied over plugin B's ran A's code under B's digest. Artifacts now carry a tag
/// keyed outside the cache and bound to the component's digest.
#[test]
fn an_artifact_copied_from_another_plugin_does_not_run() {
    let data = tempfile::tempdir().unwrap();
    let runtime = cached_runtime(data.path());
    let a = runtime.load_dir(&plugin_dir("paragraph-rust")).unwrap();
    let b = runtime.load_dir(&plugin_dir("chunker-hostile")).unwrap();
    std::fs::copy(artifact_of(data.path(), &a), artifact_of(data.path(), &b)).unwrap();

    let b = cached_runtime(data.path())
        .load_dir(&plugin_dir("chunker-hostile"))
        .unwrap();
    assert_eq!(b.load_source(), LoadSource::Compiled, "the copy is refused");
    assert_eq!(
        b.describe().unwrap().name,
        "chunker-hostile",
        "B runs B's code"
    );
    let again = cached_runtime(data.path())
        .load_dir(&plugin_dir("chunker-hostile"))
        .unwrap();
    assert_eq!(again.load_source(), LoadSource::Cache, "and is replaced");
    assert_eq!(again.describe().unwrap().name, "chunker-hostile");
}

/// Regression: patched machine code in a cached artifact ran in the host. A changed byte now
/// fails the artifact's tag, and the component is compiled again.
#[test]
fn a_patched_artifact_is_compiled_again_not_loaded() {
    let data = tempfile::tempdir().unwrap();
    let plugin = cached_runtime(data.path())
        .load_dir(&plugin_dir("paragraph-rust"))
        .unwrap();
    let path = artifact_of(data.path(), &plugin);
    let mut bytes = std::fs::read(&path).unwrap();
    for at in [bytes.len() / 2, bytes.len() - 1] {
        bytes[at] ^= 0x5a;
    }
    std::fs::write(&path, &bytes).unwrap();

    let reloaded = cached_runtime(data.path())
        .load_dir(&plugin_dir("paragraph-rust"))
        .unwrap();
    assert_eq!(reloaded.load_source(), LoadSource::Compiled);
    assert_eq!(reloaded.describe().unwrap().name, "paragraph");
    assert_ne!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the patched file is replaced"
    );
}

/// The key that vouches for artifacts lives outside the cache folder, readable by its owner
/// only, and the cache folder is private.
#[cfg(unix)]
#[test]
fn the_cache_folder_and_its_key_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().unwrap();
    cached_runtime(data.path());
    let cache = CompileCache::in_data_dir(data.path());
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&cache.dir), 0o700);
    assert_eq!(mode(&cache.key_file), 0o600);
    assert!(!cache.key_file.starts_with(&cache.dir));
}

#[test]
fn different_engine_settings_do_not_share_artifacts() {
    let data = tempfile::tempdir().unwrap();
    let with_fuel = |fuel: bool| {
        Runtime::with_cache(
            RuntimeConfig {
                fuel,
                ..RuntimeConfig::default()
            },
            Some(CompileCache::in_data_dir(data.path())),
            None,
        )
        .unwrap()
        .load_dir(&plugin_dir("paragraph-rust"))
        .unwrap()
        .load_source()
    };
    assert_eq!(with_fuel(false), LoadSource::Compiled);
    assert_eq!(with_fuel(true), LoadSource::Compiled);
    assert_eq!(with_fuel(true), LoadSource::Cache);
}
