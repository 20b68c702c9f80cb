//! The `genops:plugin/models` import: a real plugin built with the Rust SDK
//! (`tests/plugins/evaluator-similarity`) calling the host's native models, the capability
//! check, and plugins that misuse the import.

use std::path::Path;

use genops_runtime::{Error, Fault, PluginError, Sample, Score};
use genops_tests::{models, plugin_dir, runtime, runtime_with_models, sets, MODEL};

const PLUGIN: &str = "evaluator-similarity";

fn sample(answer: &str, reference: &str) -> Sample {
    Sample {
        id: "s".into(),
        answer: answer.into(),
        reference: Some(reference.into()),
        ..Sample::default()
    }
}

fn metric(score: &Score, name: &str) -> f64 {
    score
        .metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no metric {name} in {score:?}"))
        .value
}

/// Runs the plugin on one sample with the given config and returns that sample's result.
fn evaluate_one(
    plugin: &genops_runtime::Plugin,
    config: &[(&str, &str)],
    answer: &str,
) -> Result<Score, PluginError> {
    let mut results = plugin
        .session(&sets(config))
        .evaluate(&[sample(answer, "a reference text")])
        .expect("the batch runs");
    assert_eq!(results.len(), 1);
    results.remove(0)
}

#[test]
fn a_plugin_gets_the_same_vectors_as_the_host() {
    let plugin = runtime_with_models()
        .load_dir(&plugin_dir(PLUGIN))
        .expect("loads");
    let answer = "The committee approved the budget after a long debate.";
    let reference = "After lengthy discussion, the budget was passed by the committee.";
    let results = plugin
        .session(&sets(&[("dump", "true")]))
        .evaluate(&[sample(answer, reference)])
        .unwrap();
    let score = results[0].as_ref().unwrap();

    let host = models().embed(MODEL, &[answer, reference]).unwrap();
    assert_eq!(host[0].vector.len(), 384);
    for (i, &x) in host[0].vector.iter().enumerate() {
        // f32 to f64 is exact, so the plugin's copy is bit for bit the host's vector.
        assert_eq!(
            metric(score, &format!("v{i}")),
            f64::from(x),
            "component {i}"
        );
    }
    let expected = genops_models::pool::cosine(&host[0].vector, &host[1].vector);
    let similarity = metric(score, "similarity");
    assert!(
        (similarity - f64::from(expected)).abs() < 1e-6,
        "{similarity} vs {expected}"
    );
    assert!(similarity > 0.6, "paraphrases are similar: {similarity}");

    let unrelated = plugin
        .session(&sets(&[]))
        .evaluate(&[sample(answer, "Bananas are rich in potassium.")])
        .unwrap();
    assert!(metric(unrelated[0].as_ref().unwrap(), "similarity") < similarity);
}

#[test]
fn token_counts_agree_with_the_host() {
    let plugin = runtime_with_models().load_dir(&plugin_dir(PLUGIN)).unwrap();
    let answer = "Tokenisation splits unbelievable words into pieces.";
    let score = evaluate_one(&plugin, &[("mode", "count")], answer).unwrap();
    let host = models().count_tokens(MODEL, &[answer]).unwrap();
    assert_eq!(metric(&score, "tokens"), f64::from(host[0]));
}

#[test]
fn an_ungranted_model_is_refused_and_the_plugin_keeps_serving() {
    let plugin = runtime_with_models().load_dir(&plugin_dir(PLUGIN)).unwrap();
    match evaluate_one(&plugin, &[("mode", "ungranted")], "some answer") {
        Err(PluginError::Host(message)) => {
            assert!(message.starts_with("not-granted: "), "{message}");
            assert!(message.contains("`other-model`"), "{message}");
            assert!(message.contains("[capabilities] models"), "{message}");
            assert!(message.contains(MODEL), "names what is granted: {message}");
        }
        other => panic!("expected not-granted, got {other:?}"),
    }
    assert!(evaluate_one(&plugin, &[], "some answer").is_ok());
}

#[test]
fn bad_texts_from_a_plugin_are_its_errors_and_it_keeps_serving() {
    let plugin = runtime_with_models().load_dir(&plugin_dir(PLUGIN)).unwrap();
    match evaluate_one(&plugin, &[("mode", "empty")], "fine") {
        Err(PluginError::Host(m)) => {
            assert!(m.starts_with("invalid-input: "), "{m}");
            assert!(m.contains("text 0 is empty"), "{m}");
        }
        other => panic!("expected invalid-input, got {other:?}"),
    }
    // A 1 MB answer: over the models' per-text limit, refused before tokenising.
    let huge = "word ".repeat(200_000);
    match evaluate_one(&plugin, &[], &huge) {
        Err(PluginError::Host(m)) => {
            assert!(m.starts_with("invalid-input: "), "{m}");
            assert!(m.contains("max-text-bytes"), "{m}");
        }
        other => panic!("expected invalid-input, got {other:?}"),
    }
    assert!(evaluate_one(&plugin, &[], "still serving").is_ok());
}

#[test]
fn a_string_that_is_not_utf8_stops_the_plugin_and_the_host_keeps_serving() {
    let plugin = runtime_with_models().load_dir(&plugin_dir(PLUGIN)).unwrap();
    let result = plugin
        .session(&sets(&[("mode", "invalid-utf8")]))
        .evaluate(&[sample("x", "y")]);
    match result {
        Err(Error::Fault { fault, plugin, .. }) => {
            assert!(matches!(fault, Fault::InvalidValue { .. }), "{fault}");
            assert!(fault.to_string().contains("not UTF-8"), "{fault}");
            assert_eq!(plugin.name, PLUGIN);
        }
        other => panic!("expected an invalid-value fault, got {other:?}"),
    }
    assert!(evaluate_one(&plugin, &[], "the next call is fine").is_ok());
}

#[test]
fn a_host_without_models_answers_with_an_error_the_plugin_can_handle() {
    let plugin = runtime().load_dir(&plugin_dir(PLUGIN)).unwrap();
    match evaluate_one(&plugin, &[], "anything") {
        Err(PluginError::Host(m)) => {
            assert!(m.starts_with("failed: "), "{m}");
            assert!(m.contains("runs without native models"), "{m}");
        }
        other => panic!("expected failed, got {other:?}"),
    }
}

#[test]
fn concurrent_plugin_calls_share_the_model() {
    let plugin = runtime_with_models().load_dir(&plugin_dir(PLUGIN)).unwrap();
    let answers: Vec<String> = (0..8)
        .map(|i| format!("Sentence number {i} is about the harvest of {i} fields."))
        .collect();
    let alone: Vec<f64> = answers
        .iter()
        .map(|a| metric(&evaluate_one(&plugin, &[], a).unwrap(), "similarity"))
        .collect();
    let together: Vec<f64> = std::thread::scope(|s| {
        let handles: Vec<_> = answers
            .iter()
            .map(|a| {
                let plugin = &plugin;
                s.spawn(move || metric(&evaluate_one(plugin, &[], a).unwrap(), "similarity"))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (a, t) in alone.iter().zip(&together) {
        // Batched with other callers' texts, a text gets the same vector up to float noise.
        assert!((a - t).abs() < 1e-5, "{a} vs {t}");
    }
}

/// A copy of the built plugin whose manifest grants `models` instead.
fn granting(models: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = plugin_dir(PLUGIN);
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).unwrap();
    }
    let manifest_path = tmp.path().join("genops-plugin.toml");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    let changed = manifest.replace(
        r#"models = ["all-minilm-l6-v2"]"#,
        &format!("models = {models}"),
    );
    assert_ne!(manifest, changed, "the manifest grants {MODEL}");
    std::fs::write(&manifest_path, changed).unwrap();
    tmp
}

fn load_error(dir: &Path) -> String {
    match runtime_with_models().load_dir(dir) {
        Err(e @ Error::ModelUnavailable { .. }) => e.to_string(),
        Err(other) => panic!("expected model-unavailable, got {other}"),
        Ok(_) => panic!("expected the load to fail"),
    }
}

#[test]
fn granting_a_model_that_is_not_installed_is_refused_at_load() {
    let dir = granting(r#"["all-minilm-l6-v2", "no-such-model"]"#);
    let message = load_error(dir.path());
    assert!(message.contains("`no-such-model`"), "{message}");
    assert!(message.contains("install it"), "{message}");
    assert!(
        message.contains(MODEL),
        "lists what is installed: {message}"
    );
    // Without models attached, the grant is not checked against a store: it loads.
    assert!(runtime().load_dir(dir.path()).is_ok());
}

#[test]
fn granting_a_path_instead_of_a_name_is_refused() {
    let dir = granting(r#"["../../etc"]"#);
    let message = load_error(dir.path());
    assert!(message.contains("../../etc"), "{message}");
    assert!(
        message.contains("grant installed models by name"),
        "{message}"
    );
}

/// Regression: a models call ignored the call's deadline (256 texts ran 25.8 s under a 1 s
/// deadline). Embedding now runs in slices checked against the deadline.
#[test]
fn embedding_many_texts_stops_at_the_deadline() {
    use std::time::{Duration, Instant};
    let text = "A sentence long enough to cost the model some work. ".repeat(40);
    let texts = vec![text.as_str(); 256];
    models().embed(MODEL, &["warm up"]).unwrap();
    let started = Instant::now();
    let deadline = started + Duration::from_millis(300);
    let out = models()
        .embed_before(MODEL, &texts, deadline)
        .expect("the model runs");
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(1200),
        "stopped after {took:?}, not near its 300 ms deadline"
    );
    if let Some(out) = out {
        assert_eq!(out.len(), 256, "a finished call embeds every text");
    }
    // A deadline that already passed does no work at all.
    assert!(models()
        .embed_before(MODEL, &texts, Instant::now())
        .unwrap()
        .is_none());
    // A generous one embeds everything, in order.
    let few = ["one", "two", "three", "four", "five", "six"];
    let got = models()
        .embed_before(MODEL, &few, Instant::now() + Duration::from_secs(600))
        .unwrap()
        .expect("time enough");
    let plain = models().embed(MODEL, &few).unwrap();
    assert_eq!(got.len(), plain.len());
    for (a, b) in got.iter().zip(&plain) {
        assert_eq!(a.tokens, b.tokens);
    }
}

/// Builds a small sequence classifier with scripts/models/make_classifier.py (the `onnx`
/// Python package), over the default model's tokenizer; `None` when Python lacks a package.
fn classifier(dir: &Path) -> Option<()> {
    let has = |module: &str| {
        std::process::Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !["onnx", "numpy", "tokenizers"].iter().all(|m| has(m)) {
        eprintln!("skipped: building the test classifier needs the onnx, numpy and tokenizers Python packages (scripts/install.sh installs them)");
        return None;
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let tokenizer = genops_tests::models_data_dir()
        .join("models")
        .join(MODEL)
        .join("tokenizer.json");
    let output = std::process::Command::new("python3")
        .arg(repo.join("scripts/models/make_classifier.py"))
        .arg("--out")
        .arg(dir)
        .arg("--tokenizer")
        .arg(&tokenizer)
        .args(["--task", "sequence", "--labels", "ok,toxic,spam"])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "make_classifier.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(())
}

/// Regression: `classify` ran every input of a call at once, whatever the deadline was
/// (only its start was checked). It now runs in slices checked against the deadline, as
/// `embed` does.
#[test]
fn classifying_many_inputs_stops_at_the_deadline() {
    use genops_models::ClassifyInput;
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("toxicity");
    if classifier(&dir).is_none() {
        return;
    }
    let model = dir.to_str().unwrap();
    let input = |text: String| ClassifyInput { text, pair: None };
    let text = "A sentence long enough to cost the model some work. ".repeat(40);
    let inputs: Vec<ClassifyInput> = (0..4096).map(|_| input(text.clone())).collect();
    models()
        .classify(model, &[input("warm up".into())])
        .unwrap();
    let started = Instant::now();
    let deadline = started + Duration::from_millis(300);
    let out = models()
        .classify_before(model, &inputs, deadline)
        .expect("the model runs");
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(1200),
        "stopped after {took:?}, not near its 300 ms deadline"
    );
    if let Some(out) = out {
        assert_eq!(out.len(), 4096, "a finished call classifies every input");
    }
    // A deadline that already passed does no work at all.
    assert!(models()
        .classify_before(model, &inputs, Instant::now())
        .unwrap()
        .is_none());
    // A generous one classifies everything, in order, as a plain call does.
    let few: Vec<ClassifyInput> = ["fine", "awful spam", "buy now", "hello", "ok", "no"]
        .iter()
        .map(|t| input(t.to_string()))
        .collect();
    let got = models()
        .classify_before(model, &few, Instant::now() + Duration::from_secs(600))
        .unwrap()
        .expect("time enough");
    let plain = models().classify(model, &few).unwrap();
    assert_eq!(got.len(), plain.len());
    for (a, b) in got.iter().zip(&plain) {
        for (x, y) in a.scores.iter().zip(&b.scores) {
            assert_eq!(x.label, y.label);
            assert!((x.score - y.score).abs() < 1e-5, "{x:?} vs {y:?}");
        }
    }
    // An input refused in a later slice is named by its place in the whole call.
    let mut bad = few.clone();
    bad.extend((0..40).map(|_| input("fine".into())));
    bad.push(input("   ".into()));
    let err = models()
        .classify_before(model, &bad, Instant::now() + Duration::from_secs(600))
        .unwrap_err();
    assert!(err.to_string().contains("text 46"), "{err}");
}

/// Regression: `count-tokens` tokenised every text of a call at once, whatever the
/// deadline was. It now runs in slices checked against the deadline, as `embed` does.
#[test]
fn counting_tokens_of_many_texts_stops_at_the_deadline() {
    use std::time::{Duration, Instant};
    let text = "A sentence long enough to cost the tokenizer some work. ".repeat(40);
    let texts = vec![text.as_str(); 4096];
    models().count_tokens(MODEL, &["warm up"]).unwrap();
    let started = Instant::now();
    let out = models()
        .count_tokens_before(MODEL, &texts, started + Duration::from_millis(300))
        .expect("the tokenizer runs");
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(1200),
        "stopped after {took:?}, not near its 300 ms deadline"
    );
    if let Some(out) = out {
        assert_eq!(out.len(), 4096, "a finished call counts every text");
    }
    assert!(models()
        .count_tokens_before(MODEL, &texts, Instant::now())
        .unwrap()
        .is_none());
    let few = ["one", "two words", "three little words", "four", "five"];
    let got = models()
        .count_tokens_before(MODEL, &few, Instant::now() + Duration::from_secs(600))
        .unwrap()
        .expect("time enough");
    assert_eq!(got, models().count_tokens(MODEL, &few).unwrap());
}

/// Regression: the same through a plugin: an evaluator embedding many samples under a
/// short deadline ends near the deadline, as a timeout or with its samples refused, never
/// after running every model call.
#[test]
fn a_plugin_calling_models_past_its_deadline_is_stopped() {
    use std::time::{Duration, Instant};
    let runtime = genops_runtime::Runtime::with_models(
        genops_runtime::RuntimeConfig {
            default_timeout_ms: 500,
            ..genops_runtime::RuntimeConfig::default()
        },
        Some(genops_tests::cache_dir()),
        Some(models()),
    )
    .unwrap();
    let plugin = runtime.load_dir(&plugin_dir(PLUGIN)).unwrap();
    let text = "A sentence long enough to cost the model some work. ".repeat(40);
    let samples = vec![sample(&text, &text); 512];
    // Loading the model is not the call's work: load it first.
    models().embed(MODEL, &["warm up"]).unwrap();
    let started = Instant::now();
    let result = plugin.session(&sets(&[])).evaluate(&samples);
    let took = started.elapsed();
    // The machine is noisy: allow four times the deadline.
    assert!(
        took < Duration::from_millis(2000),
        "ran {took:?} under a 500 ms deadline"
    );
    if let Err(e) = result {
        assert!(
            matches!(
                e,
                Error::Fault {
                    fault: Fault::Timeout { .. },
                    ..
                }
            ),
            "{e}"
        );
    }
}
