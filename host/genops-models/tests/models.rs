//! The native models against real files: the default MiniLM model and ONNX Runtime from
//! the data directory in `GENOPS_TEST_DATA` (scripts/test.sh installs them with
//! `genops models install`), the Python onnxruntime reference, and classifiers built by
//! scripts/models/make_classifier.py with the `onnx` package.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use genops_models::pool::cosine;
use genops_models::{ClassifyInput, Error, ModelStore, Models, ModelsConfig};

const MODEL: &str = "all-minilm-l6-v2";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn data_dir() -> PathBuf {
    let dir = std::env::var_os("GENOPS_TEST_DATA")
        .map(PathBuf::from)
        .expect(
            "GENOPS_TEST_DATA is not set: run the tests with scripts/test.sh, which installs the \
         default model there with `genops models install`",
        );
    assert!(
        dir.join("models").join(MODEL).is_dir(),
        "no {MODEL} in {}: run `genops --data-dir {} models install`",
        dir.display(),
        dir.display()
    );
    dir
}

/// One `Models` for the whole test binary, as a service would have.
fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| {
        Models::new(ModelStore::new(&data_dir()), ModelsConfig::default()).expect("models open")
    })
}

fn sentences() -> Vec<String> {
    std::fs::read_to_string(repo().join("tests/data/sentences.txt"))
        .expect("tests/data/sentences.txt")
        .lines()
        .map(str::to_string)
        .collect()
}

fn python_has(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn reference(args: &[&str]) -> serde_json::Value {
    let output = Command::new("python3")
        .arg(repo().join("scripts/models/reference.py"))
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "reference.py {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("reference.py prints JSON")
}

fn vectors(json: &serde_json::Value) -> Vec<Vec<f32>> {
    json["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .map(|v| {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect()
}

#[test]
fn embeddings_match_python_onnxruntime_on_1000_sentences() {
    if !python_has("onnxruntime") || !python_has("tokenizers") {
        eprintln!("skipped: the Python reference needs the onnxruntime and tokenizers packages (scripts/install.sh installs them)");
        return;
    }
    let texts = sentences();
    assert_eq!(texts.len(), 1000);
    let ours = models().embed(MODEL, &texts).unwrap();
    let model_dir = data_dir().join("models").join(MODEL);
    let theirs = reference(&[
        "embed",
        "--model-dir",
        model_dir.to_str().unwrap(),
        "--input",
        repo().join("tests/data/sentences.txt").to_str().unwrap(),
        "--max-length",
        "256",
    ]);
    let theirs_vectors = vectors(&theirs);
    assert_eq!(theirs_vectors.len(), texts.len());
    let mut worst = (1.0f32, 0);
    for (i, (a, b)) in ours.iter().zip(&theirs_vectors).enumerate() {
        assert_eq!(a.vector.len(), 384);
        assert_eq!(
            u64::from(a.tokens),
            theirs["tokens"][i].as_u64().unwrap(),
            "token count of sentence {i}"
        );
        let c = cosine(&a.vector, b);
        if c < worst.0 {
            worst = (c, i);
        }
    }
    eprintln!(
        "lowest cosine to the Python reference: {:.7} (sentence {})",
        worst.0, worst.1
    );
    assert!(
        worst.0 >= 0.9999,
        "sentence {} has cosine {} to the Python reference: {}",
        worst.1,
        worst.0,
        texts[worst.1]
    );
}

#[test]
fn vectors_do_not_depend_on_batch_company() {
    let texts = sentences();
    let short = &texts[0];
    let alone = models().embed(MODEL, &[short]).unwrap().remove(0);
    // In a batch padded to a much longer neighbour, and from 8 concurrent callers.
    let long = texts.iter().max_by_key(|t| t.len()).unwrap();
    let padded = models().embed(MODEL, &[long, short]).unwrap().remove(1);
    assert!(cosine(&alone.vector, &padded.vector) > 0.99999);
    let results: Vec<Vec<f32>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let text = &texts[i];
                s.spawn(move || models().embed(MODEL, &[text]).unwrap().remove(0).vector)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let batch = models().embed(MODEL, &texts[..8]).unwrap();
    for (i, (single, batched)) in results.iter().zip(&batch).enumerate() {
        assert!(
            cosine(single, &batched.vector) > 0.99999,
            "caller {i} got another vector than the batch"
        );
    }
    let norm: f32 = alone.vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5, "vectors are normalised");
}

#[test]
fn long_texts_are_truncated_and_say_so() {
    let long = sentences().join(" ");
    let long = &long[..long.floor_char_boundary(40_000)];
    let out = models().embed(MODEL, &[long, "a short text"]).unwrap();
    assert!(out[0].truncated);
    assert_eq!(out[0].tokens, 256);
    assert!(!out[1].truncated);
    assert_eq!(out[1].tokens, 5);
    let counts = models()
        .count_tokens(MODEL, &[long, "a short text"])
        .unwrap();
    assert!(counts[0] > 256, "counting does not truncate: {}", counts[0]);
    assert_eq!(counts[1], 5);
}

#[test]
fn token_embeddings_pool_to_the_text_embedding() {
    let text = "Tokenizers split unbelievable words into pieces.";
    let tokens = models().embed_tokens(MODEL, text).unwrap();
    assert_eq!(tokens.tokens.len(), tokens.vectors.len());
    assert!(tokens.tokens.first().unwrap().special && tokens.tokens.last().unwrap().special);
    assert!(
        tokens.tokens.iter().any(|t| t.token.starts_with("##")),
        "word pieces"
    );
    for t in tokens.tokens.iter().filter(|t| !t.special) {
        let piece = &text[t.start as usize..t.end as usize];
        assert_eq!(piece.to_lowercase(), t.token.trim_start_matches("##"));
    }
    // Mean pooling over every token then normalising is what `embed` does.
    let dim = tokens.vectors[0].len();
    let mut mean = vec![0f32; dim];
    for v in &tokens.vectors {
        mean.iter_mut()
            .zip(v)
            .for_each(|(m, x)| *m += x / tokens.vectors.len() as f32);
    }
    let embedded = models().embed(MODEL, &[text]).unwrap().remove(0);
    assert!(cosine(&mean, &embedded.vector) > 0.99999);
}

#[test]
fn bad_inputs_get_clear_errors_and_the_models_keep_serving() {
    let m = models();
    let err = m.embed("no-such-model", &["x"]).unwrap_err();
    assert!(matches!(err, Error::UnknownModel { .. }), "{err}");
    assert!(
        err.to_string().contains("unknown model `no-such-model`")
            && err.to_string().contains("install it"),
        "{err}"
    );
    assert!(
        err.to_string().contains(MODEL),
        "lists what is installed: {err}"
    );

    let err = m.embed(MODEL, &[""]).unwrap_err();
    assert!(err.to_string().contains("text 0 is empty"), "{err}");
    let err = m.embed(MODEL, &["fine", "   \n "]).unwrap_err();
    assert!(err.to_string().contains("text 1 is empty"), "{err}");

    let huge = "word ".repeat(200_000);
    let err = m.embed(MODEL, &[huge.as_str()]).unwrap_err();
    assert!(err.to_string().contains("1000000 bytes"), "{err}");
    assert!(err.to_string().contains("max-text-bytes"), "{err}");
    let err = m.count_tokens(MODEL, &[huge.as_str()]).unwrap_err();
    assert!(err.to_string().contains("max-text-bytes"), "{err}");

    let none: [&str; 0] = [];
    let err = m.embed(MODEL, &none).unwrap_err();
    assert!(err.to_string().contains("no texts"), "{err}");

    let err = m
        .classify(
            MODEL,
            &[ClassifyInput {
                text: "x".into(),
                pair: None,
            }],
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("is a embedding model")
            || err.to_string().contains("embedding model"),
        "{err}"
    );

    // Still serving.
    assert_eq!(
        m.embed(MODEL, &["still here"]).unwrap()[0].vector.len(),
        384
    );
}

/// A copy of the installed model in a store of its own, to damage.
fn copied_store() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let src = data_dir().join("models").join(MODEL);
    let dest = tmp.path().join("models").join(MODEL);
    std::fs::create_dir_all(&dest).unwrap();
    for f in ["model.onnx", "tokenizer.json", "genops-model.toml"] {
        std::fs::copy(src.join(f), dest.join(f)).unwrap();
    }
    std::fs::create_dir_all(tmp.path().join("lib")).unwrap();
    for entry in std::fs::read_dir(data_dir().join("lib")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), tmp.path().join("lib").join(entry.file_name())).unwrap();
    }
    (tmp, dest)
}

#[test]
fn damaged_model_folders_are_refused_with_the_fix() {
    let (tmp, dir) = copied_store();
    let models = Models::new(ModelStore::new(tmp.path()), ModelsConfig::default()).unwrap();

    std::fs::rename(dir.join("tokenizer.json"), dir.join("tokenizer.json.bak")).unwrap();
    let err = models.embed(MODEL, &["x"]).unwrap_err();
    assert!(matches!(err, Error::MissingFile { .. }), "{err}");
    assert!(err.to_string().contains("tokenizer.json"), "{err}");
    std::fs::rename(dir.join("tokenizer.json.bak"), dir.join("tokenizer.json")).unwrap();

    // One flipped byte in the weights.
    let mut weights = std::fs::read(dir.join("model.onnx")).unwrap();
    let at = weights.len() / 2;
    weights[at] ^= 0xff;
    std::fs::write(dir.join("model.onnx"), &weights).unwrap();
    let err = models.embed(MODEL, &["x"]).unwrap_err();
    assert!(matches!(err, Error::HashMismatch { .. }), "{err}");
    assert!(err.to_string().contains("reinstall the model"), "{err}");

    // Not ONNX at all, with a manifest that matches it: ONNX Runtime's refusal comes back
    // as an error naming the file.
    std::fs::write(dir.join("model.onnx"), b"not an onnx model").unwrap();
    let sha = genops_models::sha256_file(&dir.join("model.onnx")).unwrap();
    let manifest = std::fs::read_to_string(dir.join("genops-model.toml")).unwrap();
    let manifest: String = manifest
        .lines()
        .map(|l| {
            if l.starts_with("sha256") {
                format!("sha256 = \"{sha}\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("genops-model.toml"), manifest).unwrap();
    let err = models.embed(MODEL, &["x"]).unwrap_err();
    assert!(err.to_string().contains("valid ONNX model"), "{err}");

    std::fs::write(
        dir.join("genops-model.toml"),
        "name = \"all-minilm-l6-v2\"\ntask = \"embedding\"\n",
    )
    .unwrap();
    let err = models.embed(MODEL, &["x"]).unwrap_err();
    assert!(err.to_string().contains("missing field"), "{err}");
}

#[test]
fn folders_without_a_manifest_are_read_like_an_export() {
    let (tmp, dir) = copied_store();
    std::fs::remove_file(dir.join("genops-model.toml")).unwrap();
    std::fs::write(
        dir.join("config.json"),
        r#"{"architectures": ["BertModel"], "max_position_embeddings": 512}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("sentence_bert_config.json"),
        r#"{"max_seq_length": 256}"#,
    )
    .unwrap();
    let models = Models::new(ModelStore::new(tmp.path()), ModelsConfig::default()).unwrap();
    let path = dir.to_str().unwrap();
    let from_folder = models.embed(path, &["a folder model"]).unwrap().remove(0);
    let installed = self::models()
        .embed(MODEL, &["a folder model"])
        .unwrap()
        .remove(0);
    assert!(cosine(&from_folder.vector, &installed.vector) > 0.99999);

    // Installing the folder writes a manifest with the weights' hash.
    let store = ModelStore::new(tmp.path());
    let spec = store
        .install_folder(&dir, "mini-copy", None, false, &mut |_| {})
        .unwrap();
    assert_eq!(
        spec.manifest.sha256,
        genops_models::sha256_file(&dir.join("model.onnx")).unwrap()
    );
    assert!(store.names().contains(&"mini-copy".to_string()));
    let err = store
        .install_folder(&dir, "mini-copy", None, false, &mut |_| {})
        .unwrap_err();
    assert!(err.to_string().contains("--force"), "{err}");
}

/// Builds a classifier with scripts/make_classifier.py into `dir`.
fn make_classifier(dir: &Path, task: &str, labels: &str, multi: bool) {
    let tokenizer = data_dir().join("models").join(MODEL).join("tokenizer.json");
    let mut cmd = Command::new("python3");
    cmd.arg(repo().join("scripts/models/make_classifier.py"))
        .args([
            "--out",
            dir.to_str().unwrap(),
            "--tokenizer",
            tokenizer.to_str().unwrap(),
        ])
        .args(["--task", task, "--labels", labels]);
    if multi {
        cmd.arg("--multi-label");
    }
    let output = cmd.output().expect("python3 runs");
    assert!(
        output.status.success(),
        "make_classifier.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn classifiers_match_python_onnxruntime() {
    if !python_has("onnx") || !python_has("onnxruntime") {
        eprintln!("skipped: building the test classifier needs the onnx and onnxruntime packages (scripts/install.sh installs them)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let seq = tmp.path().join("toxicity");
    make_classifier(&seq, "sequence", "ok,toxic,spam", false);
    let pair = tmp.path().join("reranker");
    make_classifier(&pair, "pair", "entailment,neutral,contradiction", false);
    // An exporter's config.json cannot say that a classifier reads pairs: the manifest does
    // (`genops models install --from DIR --task pair-classification` writes it).
    let manifest = genops_models::infer_manifest(
        &pair,
        "reranker",
        Some(genops_models::Task::PairClassification),
        genops_models::sha256_file(&pair.join("model.onnx")).unwrap(),
    )
    .unwrap();
    std::fs::write(pair.join("genops-model.toml"), manifest.to_toml()).unwrap();
    let multi = tmp.path().join("topics");
    make_classifier(&multi, "sequence", "economy,war,health", true);

    let texts = sentences();
    let sample: Vec<&String> = texts.iter().step_by(97).take(10).collect();
    let jsonl = tmp.path().join("inputs.jsonl");
    let pairs_jsonl = tmp.path().join("pairs.jsonl");
    let mut lines = String::new();
    let mut pair_lines = String::new();
    for (i, t) in sample.iter().enumerate() {
        lines.push_str(&serde_json::json!({"text": t}).to_string());
        lines.push('\n');
        pair_lines.push_str(
            &serde_json::json!({"text": t, "pair": sample[(i + 1) % sample.len()]}).to_string(),
        );
        pair_lines.push('\n');
    }
    std::fs::write(&jsonl, lines).unwrap();
    std::fs::write(&pairs_jsonl, pair_lines).unwrap();

    let models = models();
    for (dir, input, pairs) in [
        (&seq, &jsonl, false),
        (&multi, &jsonl, false),
        (&pair, &pairs_jsonl, true),
    ] {
        let inputs: Vec<ClassifyInput> = sample
            .iter()
            .enumerate()
            .map(|(i, t)| ClassifyInput {
                text: t.to_string(),
                pair: pairs.then(|| sample[(i + 1) % sample.len()].to_string()),
            })
            .collect();
        let ours = models.classify(dir.to_str().unwrap(), &inputs).unwrap();
        let theirs = reference(&[
            "classify",
            "--model-dir",
            dir.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
        ]);
        let labels: Vec<&str> = theirs["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        for (i, (c, row)) in ours
            .iter()
            .zip(theirs["scores"].as_array().unwrap())
            .enumerate()
        {
            assert_eq!(
                c.scores
                    .iter()
                    .map(|s| s.label.as_str())
                    .collect::<Vec<_>>(),
                labels
            );
            for (s, r) in c.scores.iter().zip(row.as_array().unwrap()) {
                let r = r.as_f64().unwrap() as f32;
                assert!(
                    (s.score - r).abs() < 1e-4,
                    "{} input {i}: {} vs {r}",
                    dir.display(),
                    s.score
                );
            }
        }
        if dir == &multi {
            let sum: f32 = ours[0].scores.iter().map(|s| s.score).sum();
            assert!((sum - 1.0).abs() > 1e-3, "sigmoid scores need not sum to 1");
        } else {
            let sum: f32 = ours[0].scores.iter().map(|s| s.score).sum();
            assert!((sum - 1.0).abs() < 1e-4, "softmax scores sum to 1");
        }
        // Different inputs, different scores: the model is not constant.
        assert_ne!(ours[0].scores, ours[1].scores);
    }

    // The pair matters to a pair classifier, and is required by it.
    let a = ClassifyInput {
        text: texts[0].clone(),
        pair: Some(texts[1].clone()),
    };
    let b = ClassifyInput {
        text: texts[0].clone(),
        pair: Some(texts[2].clone()),
    };
    let out = models.classify(pair.to_str().unwrap(), &[a, b]).unwrap();
    assert_ne!(out[0].scores, out[1].scores);
    let err = models
        .classify(
            pair.to_str().unwrap(),
            &[ClassifyInput {
                text: "x".into(),
                pair: None,
            }],
        )
        .unwrap_err();
    assert!(err.to_string().contains("has no pair"), "{err}");
    let err = models
        .classify(
            seq.to_str().unwrap(),
            &[ClassifyInput {
                text: "x".into(),
                pair: Some("y".into()),
            }],
        )
        .unwrap_err();
    assert!(err.to_string().contains("scores one text"), "{err}");
    let err = models.embed(seq.to_str().unwrap(), &["x"]).unwrap_err();
    assert!(
        err.to_string().contains("sequence-classification model"),
        "{err}"
    );

    // A manifest whose labels disagree with the logits.
    let wrong = tmp.path().join("wrong");
    make_classifier(&wrong, "sequence", "a,b", false);
    std::fs::write(
        wrong.join("genops-model.toml"),
        format!(
            "name = \"wrong\"\ntask = \"sequence-classification\"\nmax-length = 128\nsha256 = \"{}\"\nlabels = [\"a\", \"b\", \"c\"]\n",
            genops_models::sha256_file(&wrong.join("model.onnx")).unwrap()
        ),
    )
    .unwrap();
    let err = models
        .classify(
            wrong.to_str().unwrap(),
            &[ClassifyInput {
                text: "x".into(),
                pair: None,
            }],
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("2 logits") && err.to_string().contains("3 labels"),
        "{err}"
    );
}
