//! The `genops` binary end to end: real plugins, a real data directory, real files.

mod hostile;
mod rag;

use std::path::Path;
use std::process::{Command, Output};

use genops_tests::{plugin_dir, repo_file};
use serde_json::Value;

pub(crate) fn genops(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_genops"))
        .args(args)
        .env("GENOPS_DATA_DIR", data)
        .env_remove("GENOPS_CONFIG")
        .env_remove("GENOPS_LOG")
        .output()
        .expect("genops runs")
}

pub(crate) fn ok(output: Output) -> String {
    assert!(
        output.status.success(),
        "genops failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Fails, with one line on stderr that contains `needle`.
pub(crate) fn fails(output: Output, needle: &str) -> String {
    assert!(!output.status.success(), "expected a failure");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(needle), "{stderr}");
    stderr
}

pub(crate) fn data_with(plugins: &[&str]) -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    for name in plugins {
        ok(genops(
            data.path(),
            &["plugin", "install", plugin_dir(name).to_str().unwrap()],
        ));
    }
    data
}

#[test]
fn install_then_list_as_json() {
    let data = data_with(&["chunker-fixed", "paragraph-python"]);
    let list: Value =
        serde_json::from_str(&ok(genops(data.path(), &["plugin", "list", "--json"]))).unwrap();
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        for key in ["name", "kind", "version", "digest"] {
            assert!(row[key].is_string(), "{key} in {row}");
        }
        assert_eq!(row["kind"], "chunker");
        assert!(row["digest"].as_str().unwrap().starts_with("sha256:"));
    }
    let table = ok(genops(data.path(), &["plugin", "list"]));
    assert!(
        table.contains("chunker-fixed") && table.contains("paragraph-python"),
        "{table}"
    );
}

#[test]
fn chunk_prints_json_lines_that_slice_the_file() {
    let data = data_with(&["chunker-markdown"]);
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/mixed.md");
    let text = repo_file("tests/data/mixed.md");
    let out = ok(genops(
        data.path(),
        &[
            "chunk",
            "--plugin",
            "chunker-markdown",
            "--set",
            "size=60",
            file.to_str().unwrap(),
        ],
    ));
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() > 2, "{out}");
    for line in &lines {
        let (start, end) = (
            line["start"].as_u64().unwrap() as usize,
            line["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(line["text"].as_str().unwrap(), &text[start..end]);
        assert!(line["metadata"].is_object());
    }
}

#[test]
fn chunk_takes_a_plugin_folder_or_a_wasm_file_without_installing() {
    let data = tempfile::tempdir().unwrap();
    let dir = plugin_dir("paragraph-c");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    let by_dir = ok(genops(
        data.path(),
        &[
            "chunk",
            "--plugin",
            dir.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    ));
    let wasm = dir.join("paragraph-c.wasm");
    let by_file = ok(genops(
        data.path(),
        &[
            "chunk",
            "--plugin",
            wasm.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
    ));
    assert_eq!(by_dir, by_file);
    assert!(by_dir.lines().count() > 3);
}

#[test]
fn inspect_shows_kind_world_digest_and_config_keys() {
    let data = data_with(&["chunker-fixed"]);
    let json: Value = serde_json::from_str(&ok(genops(
        data.path(),
        &["plugin", "inspect", "chunker-fixed", "--json"],
    )))
    .unwrap();
    assert_eq!(json["kind"], "chunker");
    assert_eq!(json["world"], genops_runtime::WORLD_VERSION);
    assert!(json["exports"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == &format!("genops:plugin/chunker@{}", genops_runtime::WORLD_VERSION)));
    assert!(json["imports"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == &format!("genops:plugin/config@{}", genops_runtime::WORLD_VERSION)));
    let keys: Vec<&str> = json["describe"]["config"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert!(keys.contains(&"size") && keys.contains(&"unit"), "{keys:?}");
    let text = ok(genops(data.path(), &["plugin", "inspect", "chunker-fixed"]));
    assert!(
        text.contains(&format!(
            "kind       chunker (genops:plugin/chunker@{})",
            genops_runtime::WORLD_VERSION
        )),
        "{text}"
    );
}

#[test]
fn data_dir_flag_and_env_are_both_honoured() {
    let by_env = data_with(&["paragraph-rust"]);
    let other = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_genops"))
        .args([
            "--data-dir",
            by_env.path().to_str().unwrap(),
            "plugin",
            "list",
            "--json",
        ])
        .env("GENOPS_DATA_DIR", other.path())
        .output()
        .unwrap();
    let list: Value = serde_json::from_str(&ok(out)).unwrap();
    assert_eq!(
        list[0]["name"], "paragraph-rust",
        "--data-dir wins over the environment"
    );
    let empty: Value =
        serde_json::from_str(&ok(genops(other.path(), &["plugin", "list", "--json"]))).unwrap();
    assert_eq!(empty.as_array().unwrap().len(), 0);
}

#[test]
fn unknown_plugin_names_what_is_installed() {
    let data = data_with(&["paragraph-rust"]);
    fails(
        genops(data.path(), &["chunk", "--plugin", "nope", "README.md"]),
        "no plugin named `nope`; installed: paragraph-rust",
    );
}

#[test]
fn unknown_config_key_lists_the_known_ones() {
    let data = data_with(&["chunker-fixed"]);
    fails(
        genops(
            data.path(),
            &[
                "chunk",
                "--plugin",
                "chunker-fixed",
                "--set",
                "sise=3",
                "README.md",
            ],
        ),
        "has no config key `sise`; it reads: unit, size, overlap",
    );
}

#[test]
fn bad_config_value_is_the_plugins_error() {
    let data = data_with(&["chunker-fixed"]);
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    fails(
        genops(
            data.path(),
            &[
                "chunk",
                "--plugin",
                "chunker-fixed",
                "--set",
                "size=big",
                readme.to_str().unwrap(),
            ],
        ),
        "invalid config",
    );
}

#[test]
fn a_file_that_is_not_utf8_is_refused_with_the_offset() {
    let data = data_with(&["paragraph-rust"]);
    let file = data.path().join("latin1.txt");
    std::fs::write(&file, b"caf\xe9 au lait").unwrap();
    fails(
        genops(
            data.path(),
            &[
                "chunk",
                "--plugin",
                "paragraph-rust",
                file.to_str().unwrap(),
            ],
        ),
        "is not UTF-8 text (invalid byte at offset 3)",
    );
}

#[test]
fn a_missing_file_is_named() {
    let data = data_with(&["paragraph-rust"]);
    fails(
        genops(
            data.path(),
            &["chunk", "--plugin", "paragraph-rust", "no/such/file.txt"],
        ),
        "cannot read no/such/file.txt",
    );
}

#[test]
fn installing_a_folder_without_a_manifest_fails_clearly() {
    let data = tempfile::tempdir().unwrap();
    fails(
        genops(
            data.path(),
            &["plugin", "install", data.path().to_str().unwrap()],
        ),
        "genops-plugin.toml",
    );
}

#[test]
fn inspecting_a_file_that_is_not_wasm_fails_clearly() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("fake.wasm");
    std::fs::write(&file, "not wasm").unwrap();
    fails(
        genops(data.path(), &["plugin", "inspect", file.to_str().unwrap()]),
        "is not a WebAssembly file",
    );
}

#[test]
fn a_config_file_with_unknown_keys_is_refused() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("genops.toml"),
        "[runtime]\nmax-memory = 5\n",
    )
    .unwrap();
    fails(
        genops(data.path(), &["plugin", "list"]),
        "unknown field `max-memory`",
    );
}

#[test]
fn a_config_file_ceiling_refuses_a_greedy_plugin() {
    let data = data_with(&["chunker-hostile"]);
    std::fs::write(
        data.path().join("genops.toml"),
        "[runtime]\nmax-memory-mb = 16\ndefault-memory-mb = 16\n",
    )
    .unwrap();
    fails(
        genops(
            data.path(),
            &["chunk", "--plugin", "chunker-hostile", "README.md"],
        ),
        "runtime.max-memory-mb",
    );
}

#[test]
fn a_hostile_plugin_fails_the_command_with_one_clear_line() {
    let data = data_with(&["chunker-hostile"]);
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
    fails(
        genops(
            data.path(),
            &[
                "chunk",
                "--plugin",
                "chunker-hostile",
                "--set",
                "mode=loop",
                readme.to_str().unwrap(),
            ],
        ),
        "timed out after 500 ms",
    );
}

#[test]
fn bench_runtime_measures_every_figure_side_by_side() {
    let data = tempfile::tempdir().unwrap();
    let plugins = genops_tests::plugins_dir();
    let out = ok(genops(
        data.path(),
        &[
            "bench",
            "runtime",
            "--plugins",
            plugins.to_str().unwrap(),
            "--scale",
            "0.01",
            "--json",
        ],
    ));
    let report: Value = serde_json::from_str(&out).unwrap();
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 7, "{out}");
    for row in rows {
        let ratio = row["ratio"].as_f64().unwrap();
        assert!(ratio.is_finite() && ratio > 0.0, "{row}");
        assert!(!row["peer_name"].as_str().unwrap().is_empty());
    }
}

#[test]
fn bench_without_plugins_says_how_to_build_them() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let output = genops(data.path(), &["bench", "runtime", "--plugins", dir]);
    assert!(!output.status.success());
    // Progress lines come first; the error is the last line.
    let stderr = String::from_utf8(output.stderr).unwrap();
    let last = stderr.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with("error: no built plugin chunker-fixed")
            && last.contains("scripts/build-plugins.sh"),
        "{stderr}"
    );
}

// --- native models -----------------------------------------------------------------------
// The default model and ONNX Runtime are installed once per test run into GENOPS_TEST_DATA
// (scripts/test.sh). Commands that only read use that folder; commands that change or damage
// a store work on a copy.

fn models_data() -> std::path::PathBuf {
    genops_tests::models_data_dir()
}

fn vectors_of(out: &str) -> Vec<Vec<f32>> {
    out.lines()
        .map(|line| {
            let row: Value = serde_json::from_str(line).unwrap();
            row["vector"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap() as f32)
                .collect()
        })
        .collect()
}

/// A data directory with a copy of the installed default model and ONNX Runtime.
pub(crate) fn copied_models_data() -> tempfile::TempDir {
    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_tree(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).unwrap();
            }
        }
    }
    let data = tempfile::tempdir().unwrap();
    for sub in ["models", "lib"] {
        copy_tree(&models_data().join(sub), &data.path().join(sub));
    }
    data
}

#[test]
fn models_list_json_names_task_path_and_hash() {
    let out = ok(genops(&models_data(), &["models", "list", "--json"]));
    let rows: Value = serde_json::from_str(&out).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == genops_tests::MODEL)
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(row["task"], "embedding");
    assert!(Path::new(row["path"].as_str().unwrap())
        .join("model.onnx")
        .is_file());
    let sha = row["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64, "{row}");
    let table = ok(genops(&models_data(), &["models", "list"]));
    assert!(
        table.contains(genops_tests::MODEL) && table.contains(&sha[..16]),
        "{table}"
    );
}

#[test]
fn embed_prints_unit_vectors_and_a_plugin_gets_the_same() {
    let texts = [
        "Congress shall make no law respecting an establishment of religion.",
        "The harvest was late this year because of the rain.",
    ];
    let out = ok(genops(
        &models_data(),
        &["embed", "--model", genops_tests::MODEL, texts[0], texts[1]],
    ));
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["index"], 1);
    assert_eq!(rows[0]["truncated"], false);
    assert!(rows[0]["tokens"].as_u64().unwrap() > 10);
    let cli = vectors_of(&out);
    for v in &cli {
        assert_eq!(v.len(), 384);
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "unit length: {norm}");
    }

    // The same texts through a plugin's `embed` import, in the same data directory.
    let plugin = genops_tests::runtime_with_models()
        .load_dir(&plugin_dir("evaluator-similarity"))
        .unwrap();
    let sample = genops_runtime::Sample {
        id: "s".into(),
        answer: texts[0].into(),
        reference: Some(texts[1].into()),
        ..Default::default()
    };
    let results = plugin
        .session(&genops_tests::sets(&[("dump", "true")]))
        .evaluate(&[sample])
        .unwrap();
    let score = results[0].as_ref().unwrap();
    let from_plugin: Vec<f32> = (0..384)
        .map(|i| {
            score
                .metrics
                .iter()
                .find(|m| m.name == format!("v{i}"))
                .unwrap()
                .value as f32
        })
        .collect();
    assert_eq!(from_plugin, cli[0], "the plugin's vector is the CLI's");
}

#[test]
fn embed_reads_texts_from_a_file_and_prints_token_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("texts.txt");
    std::fs::write(&file, "first line\nsecond line\n").unwrap();
    let out = ok(genops(
        &models_data(),
        &[
            "embed",
            "-m",
            genops_tests::MODEL,
            "--input",
            file.to_str().unwrap(),
        ],
    ));
    assert_eq!(vectors_of(&out).len(), 2);

    let out = ok(genops(
        &models_data(),
        &[
            "embed",
            "-m",
            genops_tests::MODEL,
            "--tokens",
            "unbelievable",
        ],
    ));
    let row: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    let tokens = row["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), row["vectors"].as_array().unwrap().len());
    assert!(tokens.len() >= 3, "[CLS], pieces, [SEP]: {row}");
}

#[test]
fn embed_bad_inputs_say_what_to_do() {
    let data = models_data();
    let err = fails(
        genops(&data, &["embed", "--model", "no-such-model", "text"]),
        "genops models install no-such-model",
    );
    assert!(err.contains(genops_tests::MODEL), "lists installed: {err}");
    fails(
        genops(&data, &["embed", "--model", genops_tests::MODEL, ""]),
        "text 0 is empty",
    );
    fails(
        genops(&data, &["embed", "--model", genops_tests::MODEL]),
        "no texts given",
    );
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.txt");
    std::fs::write(&huge, "word ".repeat(200_000)).unwrap();
    fails(
        genops(
            &data,
            &[
                "embed",
                "-m",
                genops_tests::MODEL,
                "--input",
                huge.to_str().unwrap(),
            ],
        ),
        "max-text-bytes",
    );
    let file = dir.path().join("latin1.txt");
    std::fs::write(&file, b"caf\xe9\n").unwrap();
    fails(
        genops(
            &data,
            &[
                "embed",
                "-m",
                genops_tests::MODEL,
                "--input",
                file.to_str().unwrap(),
            ],
        ),
        "line 1: not UTF-8",
    );
}

#[test]
fn a_missing_or_broken_onnx_runtime_is_an_error_not_a_panic() {
    let data = copied_models_data();
    std::fs::remove_dir_all(data.path().join("lib")).unwrap();
    fails(
        genops(data.path(), &["embed", "-m", genops_tests::MODEL, "text"]),
        "genops models install",
    );

    let data = copied_models_data();
    let fake = data.path().join("not-a-library.so");
    std::fs::write(&fake, b"this is not a shared library").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_genops"))
        .args(["embed", "-m", genops_tests::MODEL, "text"])
        .env("GENOPS_DATA_DIR", data.path())
        .env("GENOPS_ONNXRUNTIME", &fake)
        .env_remove("GENOPS_CONFIG")
        .output()
        .unwrap();
    let stderr = fails(output, "not-a-library.so");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn verify_catches_weights_that_do_not_match_the_manifest() {
    let data = copied_models_data();
    let out = ok(genops(data.path(), &["models", "verify"]));
    assert!(
        out.contains(genops_tests::MODEL) && out.contains(" ok "),
        "{out}"
    );

    let weights = data
        .path()
        .join("models")
        .join(genops_tests::MODEL)
        .join("model.onnx");
    let mut bytes = std::fs::read(&weights).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&weights, bytes).unwrap();
    let output = genops(data.path(), &["models", "verify"]);
    assert!(!output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("FAILED") && stdout.contains("sha256"),
        "{stdout}"
    );
    fails(
        genops(data.path(), &["embed", "-m", genops_tests::MODEL, "text"]),
        "sha256",
    );
}

#[test]
fn models_install_refuses_unknown_names_and_incomplete_folders() {
    let data = tempfile::tempdir().unwrap();
    let err = fails(
        genops(data.path(), &["models", "install", "no-such-model"]),
        "no-such-model",
    );
    assert!(
        err.contains(genops_tests::MODEL),
        "lists the catalog: {err}"
    );

    let folder = tempfile::tempdir().unwrap();
    std::fs::copy(
        models_data()
            .join("models")
            .join(genops_tests::MODEL)
            .join("model.onnx"),
        folder.path().join("model.onnx"),
    )
    .unwrap();
    fails(
        genops(
            data.path(),
            &[
                "models",
                "install",
                "--from",
                folder.path().to_str().unwrap(),
                "--task",
                "embedding",
                "mine",
            ],
        ),
        "tokenizer.json",
    );
    assert!(!data.path().join("models").join("mine").exists());
}

#[test]
fn a_users_export_installs_from_a_folder_and_embeds_like_the_original() {
    let data = copied_models_data();
    let export = tempfile::tempdir().unwrap();
    let original = data.path().join("models").join(genops_tests::MODEL);
    for file in ["model.onnx", "tokenizer.json"] {
        std::fs::copy(original.join(file), export.path().join(file)).unwrap();
    }
    ok(genops(
        data.path(),
        &[
            "models",
            "install",
            "--from",
            export.path().to_str().unwrap(),
            "--task",
            "embedding",
            "my-export",
        ],
    ));
    let text = "A sentence embedded by two names of one model.";
    let a = vectors_of(&ok(genops(
        data.path(),
        &["embed", "-m", "my-export", text],
    )));
    let b = vectors_of(&ok(genops(
        data.path(),
        &["embed", "-m", genops_tests::MODEL, text],
    )));
    // Without a manifest nothing says the export normalises, so compare directions.
    let dot: f32 = a[0].iter().zip(&b[0]).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let cosine = dot / (norm(&a[0]) * norm(&b[0]));
    assert!(cosine > 0.9999, "{cosine}");
}
