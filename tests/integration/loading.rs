//! Loading: what the host refuses at load time, and how it says so; the compile cache.

use std::path::{Path, PathBuf};

use genops_runtime::{Error, Fault, Kind, LoadSource, Manifest, Runtime, RuntimeConfig};
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
    assert!(err.to_string().contains("genops plugin build"), "{err}");
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
    let cache = tempfile::tempdir().unwrap();
    let load = |dir: &Path| {
        Runtime::new(RuntimeConfig::default(), Some(dir.to_path_buf()))
            .unwrap()
            .load_dir(&plugin_dir("paragraph-rust"))
            .unwrap()
    };
    assert_eq!(load(cache.path()).load_source(), LoadSource::Compiled);
    let second = load(cache.path());
    assert_eq!(second.load_source(), LoadSource::Cache);
    assert_eq!(second.describe().unwrap().name, "paragraph");

    // A corrupt artifact is replaced, not trusted.
    for entry in std::fs::read_dir(cache.path()).unwrap() {
        std::fs::write(entry.unwrap().path(), b"garbage").unwrap();
    }
    let third = load(cache.path());
    assert_eq!(third.load_source(), LoadSource::Compiled);
    assert_eq!(third.describe().unwrap().name, "paragraph");
    assert_eq!(load(cache.path()).load_source(), LoadSource::Cache);
}

#[test]
fn different_engine_settings_do_not_share_artifacts() {
    let cache = tempfile::tempdir().unwrap();
    let with_fuel = |fuel: bool| {
        Runtime::new(
            RuntimeConfig {
                fuel,
                ..RuntimeConfig::default()
            },
            Some(cache.path().to_path_buf()),
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
