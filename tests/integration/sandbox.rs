//! Hostile plugins: each misbehaviour comes back as a typed error naming the plugin, and the
//! host (and the same session) keeps serving afterwards.

use genops_runtime::{Error, Fault, PluginError, RuntimeConfig};
use genops_tests::{doc, load, plugin_dir, runtime_with, sets};

fn hostile(mode: &str) -> Result<Vec<genops_runtime::Chunk>, Error> {
    let plugin = load("chunker-hostile");
    let mut session = plugin.session(&sets(&[("mode", mode)]));
    session.split(&doc("some text"))
}

fn assert_recovers() {
    // A fresh call on the same plugin works after any fault.
    let chunks = hostile("whole").expect("the host keeps serving");
    assert_eq!(chunks.len(), 1);
}

fn fault_of(result: Result<Vec<genops_runtime::Chunk>, Error>) -> (Fault, String, String) {
    match result {
        Err(Error::Fault {
            plugin,
            fault,
            stderr,
        }) => (fault, plugin.to_string(), stderr),
        other => panic!("expected a fault, got {other:?}"),
    }
}

#[test]
fn infinite_loop_times_out() {
    let (fault, plugin, _) = fault_of(hostile("loop"));
    assert!(matches!(fault, Fault::Timeout { .. }), "{fault}");
    assert!(
        plugin.contains("chunker-hostile@1.0.0") && plugin.contains("sha256:"),
        "{plugin}"
    );
    assert_recovers();
}

#[test]
fn allocation_past_the_cap_is_stopped() {
    let (fault, _, _) = fault_of(hostile("alloc"));
    match fault {
        Fault::MemoryLimit { limit, asked } => {
            assert_eq!(limit, 32 << 20, "the manifest asks for 32 MiB");
            assert!(asked > limit);
        }
        other => panic!("expected a memory limit, got {other}"),
    }
    assert_recovers();
}

#[test]
fn runaway_recursion_overflows_the_stack() {
    let (fault, _, _) = fault_of(hostile("recurse"));
    assert_eq!(fault, Fault::StackOverflow);
    assert_recovers();
}

#[test]
fn panic_is_a_trap_with_the_panic_message() {
    let (fault, _, stderr) = fault_of(hostile("panic"));
    assert!(matches!(fault, Fault::Trap { .. }), "{fault}");
    assert!(
        stderr.contains("hostile plugin panicked on purpose"),
        "{stderr}"
    );
    assert_recovers();
}

#[test]
fn plugin_errors_are_not_faults() {
    match hostile("error") {
        Err(Error::Plugin { error, .. }) => {
            assert_eq!(
                error,
                PluginError::InvalidInput("refused on purpose".into())
            )
        }
        other => panic!("expected a plugin error, got {other:?}"),
    }
    match hostile("no-such-mode") {
        Err(Error::Plugin {
            error: PluginError::InvalidConfig(message),
            ..
        }) => assert!(message.contains("no-such-mode"), "{message}"),
        other => panic!("expected an invalid-config error, got {other:?}"),
    }
}

#[test]
fn offsets_outside_the_document_are_refused() {
    for (mode, expected) in [
        ("past-end", "past the end of the document"),
        ("reversed", "after its end"),
    ] {
        match hostile(mode) {
            Err(Error::BadOutput { message, .. }) => {
                assert!(message.contains(expected), "{mode}: {message}")
            }
            other => panic!("{mode}: expected bad output, got {other:?}"),
        }
    }
    let plugin = load("chunker-hostile");
    let mut session = plugin.session(&sets(&[("mode", "mid-char")]));
    match session.split(&doc("日本語")) {
        Err(Error::BadOutput { message, .. }) => {
            assert!(message.contains("inside a UTF-8 character"), "{message}")
        }
        other => panic!("expected bad output, got {other:?}"),
    }
    assert_recovers();
}

#[test]
fn log_flood_is_capped_and_the_call_succeeds() {
    assert_eq!(hostile("log-flood").unwrap().len(), 1);
}

#[test]
fn one_session_survives_its_own_faults() {
    let plugin = load("chunker-hostile");
    let mut bad = plugin.session(&sets(&[("mode", "loop")]));
    assert!(bad.split(&doc("x")).is_err());
    assert!(
        bad.split(&doc("x")).is_err(),
        "a new instance, the same fault"
    );
    let mut good = plugin.session(&sets(&[]));
    for _ in 0..3 {
        assert_eq!(good.split(&doc("abc")).unwrap()[0].end, 3);
    }
}

#[test]
fn fuel_stops_a_loop_when_metering_is_on() {
    let runtime = runtime_with(RuntimeConfig {
        fuel: true,
        default_fuel: 5_000_000,
        ..RuntimeConfig::default()
    });
    let plugin = runtime.load_dir(&plugin_dir("chunker-hostile")).unwrap();
    let mut session = plugin.session(&sets(&[("mode", "loop")]));
    let (fault, _, _) = fault_of(session.split(&doc("x")));
    assert_eq!(fault, Fault::OutOfFuel { fuel: 5_000_000 });
    let mut session = plugin.session(&sets(&[]));
    assert_eq!(session.split(&doc("abc")).unwrap().len(), 1);
}

#[test]
fn a_100_mb_document_is_refused_with_the_setting_to_change() {
    let plugin = load("chunker-hostile");
    let big = "a".repeat(100 << 20);
    let mut session = plugin.session(&sets(&[]));
    match session.split(&doc(&big)) {
        Err(e @ Error::DocumentTooLarge { .. }) => {
            assert!(e.to_string().contains("runtime.max-document-bytes"), "{e}")
        }
        other => panic!("expected document too large, got {other:?}"),
    }
    assert_eq!(session.split(&doc("small")).unwrap().len(), 1);
}

#[test]
fn a_large_document_within_the_limit_is_chunked() {
    let runtime = runtime_with(RuntimeConfig {
        max_document_bytes: 128 << 20,
        ..RuntimeConfig::default()
    });
    let plugin = runtime.load_dir(&plugin_dir("paragraph-rust")).unwrap();
    let text = "word ".repeat(20 << 20); // 100 MiB on one line: one paragraph
    let chunks = plugin.session(&sets(&[])).split(&doc(&text)).unwrap();
    assert_eq!(chunks.len(), 1);
    assert_eq!((chunks[0].start, chunks[0].end), (0, text.len() - 1));
}

#[test]
fn limits_above_the_ceiling_are_refused_at_load() {
    let runtime = runtime_with(RuntimeConfig {
        max_memory_mb: 16,
        default_memory_mb: 16,
        ..RuntimeConfig::default()
    });
    let err = runtime
        .load_dir(&plugin_dir("chunker-hostile"))
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("limits.memory-mb") && text.contains("runtime.max-memory-mb"),
        "{text}"
    );
}

/// Regression: a plugin blocked in WASI (a sleep, a poll on a timer) ran 8 s under a 1 s
/// deadline, and a long poll never returned: epoch interruption cannot reach host code.
/// Polls are now cut at the call's deadline and reported as timeouts.
#[test]
fn blocking_in_wasi_times_out_at_the_deadline() {
    // Each mode blocks for an hour: that the call returns at all, as a timeout, is the
    // proof that the block was cut at the call's 500 ms deadline (no wall-clock bound here:
    // these machines are shared and noisy).
    for mode in ["sleep", "poll"] {
        let (fault, _, _) = fault_of(hostile(mode));
        assert!(matches!(fault, Fault::Timeout { .. }), "{mode}: {fault}");
    }
    assert_recovers();
}

/// Regression: a plugin's panic or its printing to stdout made `genops ingest` exit 101,
/// because WASI's blocking output started a tokio runtime inside the caller's. Called from
/// inside a tokio runtime, each misbehaviour is an error, and the host keeps serving.
#[test]
fn plugins_writing_output_inside_a_tokio_runtime_are_errors_not_host_panics() {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio.block_on(async {
        for mode in ["panic", "stdout", "sleep"] {
            let result = hostile(mode);
            assert!(result.is_err(), "{mode}: {result:?}");
        }
        let (_, _, stderr) = fault_of(hostile("panic"));
        assert!(stderr.contains("panicked on purpose"), "{stderr}");
        assert_recovers();
    });
}

#[test]
fn stdout_floods_are_dropped_and_the_call_ends_normally() {
    match hostile("stdout") {
        Err(Error::Plugin { error, .. }) => {
            assert_eq!(
                error,
                PluginError::Other("printed 200000 lines to stdout".into())
            )
        }
        other => panic!("expected the plugin's own error, got {other:?}"),
    }
}
