//! Hot swap: a new version replaces the old one atomically while calls are in flight.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use genops_runtime::{Manifest, Registry};
use genops_tests::{doc, plugin_dir, runtime, sets};

fn tag_of(chunks: &[genops_runtime::Chunk]) -> String {
    chunks[0]
        .metadata
        .iter()
        .find(|(k, _)| k == "tag")
        .map(|(_, v)| v.clone())
        .expect("the hostile plugin tags its chunks")
}

/// The same component under a manifest with another version and another `tag` default.
fn version(v: &str, tag: &str) -> genops_runtime::Plugin {
    let dir = plugin_dir("chunker-hostile");
    let mut manifest =
        Manifest::from_file(&dir.join(genops_manifest::FILE_NAME)).expect("manifest");
    manifest.version = v.parse().unwrap();
    manifest.config.insert("tag".into(), tag.into());
    runtime()
        .load_file(&dir.join("chunker-hostile.wasm"), Some(manifest))
        .unwrap()
}

#[test]
fn calls_in_flight_finish_on_the_old_version_and_new_calls_get_the_new_one() {
    let registry = Arc::new(Registry::new());
    registry.install(version("1.0.0", "v1"));

    let started = Arc::new(Barrier::new(5));
    let in_flight: Vec<_> = (0..4)
        .map(|_| {
            let registry = registry.clone();
            let started = started.clone();
            thread::spawn(move || {
                let plugin = registry.get("chunker-hostile").unwrap();
                let mut session = plugin.session(&sets(&[("mode", "slow"), ("busy-ms", "400")]));
                session.instantiate().unwrap();
                started.wait();
                tag_of(&session.split(&doc("in flight")).unwrap())
            })
        })
        .collect();

    started.wait();
    thread::sleep(Duration::from_millis(50));
    let old = registry
        .install(version("2.0.0", "v2"))
        .expect("replaced v1");
    assert_eq!(old.id().version.to_string(), "1.0.0");

    let fresh = registry.get("chunker-hostile").unwrap();
    assert_eq!(fresh.id().version.to_string(), "2.0.0");
    assert_eq!(
        tag_of(&fresh.session(&sets(&[])).split(&doc("new")).unwrap()),
        "v2"
    );

    for handle in in_flight {
        assert_eq!(
            handle.join().unwrap(),
            "v1",
            "an in-flight call finished on v1"
        );
    }

    assert_eq!(registry.history("chunker-hostile").len(), 1);
    let back = registry.rollback("chunker-hostile").unwrap();
    assert_eq!(back.id().version.to_string(), "1.0.0");
    let again = registry.get("chunker-hostile").unwrap();
    assert_eq!(
        tag_of(&again.session(&sets(&[])).split(&doc("x")).unwrap()),
        "v1"
    );
    let err = registry.rollback("chunker-hostile").unwrap_err();
    assert!(err.to_string().contains("no earlier version"), "{err}");
}

#[test]
fn many_callers_during_repeated_swaps_always_get_a_whole_version() {
    let registry = Arc::new(Registry::new());
    let v1 = version("1.0.0", "v1");
    let v2 = version("2.0.0", "v2");
    registry.install(v1.clone());
    let callers: Vec<_> = (0..3)
        .map(|_| {
            let registry = registry.clone();
            thread::spawn(move || {
                let mut seen = Vec::new();
                for _ in 0..40 {
                    let plugin = registry.get("chunker-hostile").unwrap();
                    let expected = if plugin.id().version.major == 1 {
                        "v1"
                    } else {
                        "v2"
                    };
                    let tag = tag_of(&plugin.session(&sets(&[])).split(&doc("x")).unwrap());
                    assert_eq!(tag, expected, "a call never mixes versions");
                    seen.push(tag);
                }
                seen
            })
        })
        .collect();
    for i in 0..20 {
        registry.install(if i % 2 == 0 { v2.clone() } else { v1.clone() });
        thread::sleep(Duration::from_millis(2));
    }
    for caller in callers {
        assert_eq!(caller.join().unwrap().len(), 40);
    }
}

#[test]
fn unknown_names_list_what_is_installed() {
    let registry = Registry::new();
    registry.install(version("1.0.0", "v1"));
    let err = registry.get("chunker-hostlie").unwrap_err();
    assert!(
        err.to_string().contains("installed: chunker-hostile"),
        "{err}"
    );
}
