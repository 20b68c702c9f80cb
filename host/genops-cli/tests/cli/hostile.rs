//! Hostile and bad input through every command that calls plugins, not only `chunk`: a
//! panic that `chunk` contained once crashed `ingest`.

use std::path::Path;
use std::process::{Command, Output};

use genops_tests::plugin_dir;
use serde_json::Value;

use crate::{data_with, fails, genops, ok};

/// A folder of a few small documents.
fn docs(dir: &Path) -> std::path::PathBuf {
    let docs = dir.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("a.txt"), "alpha beta gamma. delta epsilon.").unwrap();
    std::fs::write(docs.join("b.md"), "# Title\n\nzeta eta theta.\n").unwrap();
    docs
}

/// The command failed with one clear line containing `needle`, and the host did not panic.
fn contained(what: &str, output: Output, needle: &str) -> String {
    assert_ne!(output.status.code(), Some(101), "{what} panicked the host");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        stderr.contains(needle),
        "{what}: expected `{needle}` in {stderr}"
    );
    fails(output, needle)
}

fn live_versions(data: &Path) -> Vec<Value> {
    let list: Value =
        serde_json::from_str(&ok(genops(data, &["index", "list", "--json"]))).unwrap();
    list.as_array().unwrap().clone()
}

#[test]
fn ingest_survives_every_hostile_chunker_mode() {
    let data = data_with(&["chunker-hostile"]);
    let work = tempfile::tempdir().unwrap();
    let docs = docs(work.path());
    let ingest = |mode: &str, json: bool| {
        let set = format!("mode={mode}");
        let mut args = vec!["ingest", "-i", "hostile", "--text-only"];
        args.extend(["--chunker", "chunker-hostile", "--set", &set]);
        if json {
            args.push("--json");
        }
        args.push(docs.to_str().unwrap());
        genops(data.path(), &args)
    };
    for (mode, needle) in [
        ("panic", "hostile plugin panicked on purpose"),
        // Printing 200,000 lines may finish (the plugin then returns an error) or run into
        // the deadline on a loaded machine: either way the host names the plugin and goes on.
        ("stdout", "chunker-hostile@1.0.0"),
        ("sleep", "timed out"),
        ("poll", "timed out"),
        ("loop", "timed out"),
        // The allocation may hit the memory cap or the deadline first.
        ("alloc", "was stopped"),
        ("error", "refused on purpose"),
        ("past-end", "past the end of the document"),
        ("mid-char", "chunker-hostile"),
        ("reversed", "after its end"),
    ] {
        let stderr = contained(&format!("ingest {mode}"), ingest(mode, false), needle);
        assert!(
            !stderr.contains("thread 'main' panicked"),
            "{mode}: {stderr}"
        );
        // Nothing was made live, and the store still answers.
        let rows = live_versions(data.path());
        assert!(
            rows.iter().all(|r| r["live_version"].is_null()),
            "{mode}: {rows:?}"
        );
    }
    // The store is intact: a well-behaved run afterwards succeeds.
    let report: Value = serde_json::from_str(&ok(ingest("whole", true))).unwrap();
    assert_eq!(report["documents"], 2, "{report}");
}

fn genops_in(cwd: &Path, data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_genops"))
        .args(args)
        .current_dir(cwd)
        .env("GENOPS_DATA_DIR", data)
        .env_remove("GENOPS_CONFIG")
        .env_remove("GENOPS_LOG")
        .output()
        .expect("genops runs")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn a_folder_named_like_an_installed_plugin_is_not_loaded_instead() {
    let data = data_with(&["chunker-fixed"]);
    let cwd = tempfile::tempdir().unwrap();
    // A folder named like the installed chunker, holding another plugin (with its own
    // grants) under that name.
    let impostor = cwd.path().join("chunker-fixed");
    copy_dir(&plugin_dir("chunker-hostile"), &impostor);
    let text = cwd.path().join("t.txt");
    std::fs::write(&text, "some text to split").unwrap();
    let out = ok(genops_in(
        cwd.path(),
        data.path(),
        &["chunk", "--plugin", "chunker-fixed", "t.txt"],
    ));
    assert!(
        !out.contains("\"tag\""),
        "the hostile folder ran instead: {out}"
    );
    // Written as a path, the folder is what the user means.
    let out = ok(genops_in(
        cwd.path(),
        data.path(),
        &["chunk", "--plugin", "./chunker-fixed", "t.txt"],
    ));
    assert!(out.contains("\"tag\""), "{out}");
    // A bare name that is only a folder here says how to load it.
    std::fs::rename(&impostor, cwd.path().join("my-chunker")).unwrap();
    let output = genops_in(
        cwd.path(),
        data.path(),
        &["chunk", "--plugin", "my-chunker", "t.txt"],
    );
    fails(output, "pass `./my-chunker`");
}

#[test]
fn search_output_escapes_terminal_control_characters_from_documents() {
    let data = data_with(&["chunker-recursive", "retriever-bm25"]);
    let work = tempfile::tempdir().unwrap();
    let docs = work.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(
        docs.join("evil.txt"),
        "alpha \x1b]0;owned\x07 \x1b[2J beta gamma",
    )
    .unwrap();
    ok(genops(
        data.path(),
        &["ingest", "-i", "esc", "--text-only", docs.to_str().unwrap()],
    ));
    let out = ok(genops(
        data.path(),
        &["search", "-i", "esc", "-r", "retriever-bm25", "alpha"],
    ));
    assert!(out.contains("alpha"), "{out}");
    assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out:?}");
    // JSON keeps the text exact: it is escaped by JSON itself.
    let json = ok(genops(
        data.path(),
        &[
            "search",
            "-i",
            "esc",
            "-r",
            "retriever-bm25",
            "--json",
            "alpha",
        ],
    ));
    let hit: Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert!(hit["text"].as_str().unwrap().contains('\x1b'));
}

#[test]
fn a_deeply_nested_query_is_refused_by_search_and_eval() {
    let data = data_with(&["chunker-recursive", "retriever-bm25"]);
    let work = tempfile::tempdir().unwrap();
    let docs = docs(work.path());
    ok(genops(
        data.path(),
        &[
            "ingest",
            "-i",
            "deep",
            "--text-only",
            docs.to_str().unwrap(),
        ],
    ));
    let query = "(".repeat(4000);
    let output = genops(
        data.path(),
        &["search", "-i", "deep", "-r", "retriever-bm25", &query],
    );
    assert_ne!(output.status.code(), None, "killed by a signal");
    fails(output, "retriever-bm25");
    let qrels = work.path().join("q.jsonl");
    std::fs::write(
        &qrels,
        format!(
            "{}\n",
            serde_json::json!({"query": query, "relevant": ["a.txt"]})
        ),
    )
    .unwrap();
    let output = genops(
        data.path(),
        &[
            "eval",
            "retrieval",
            "-i",
            "deep",
            "-r",
            "retriever-bm25",
            qrels.to_str().unwrap(),
        ],
    );
    assert_ne!(output.status.code(), None, "killed by a signal");
    fails(output, "retriever-bm25");
}

#[test]
fn search_and_eval_survive_every_hostile_retriever_mode() {
    let data = data_with(&["chunker-recursive", "retriever-hostile"]);
    let work = tempfile::tempdir().unwrap();
    let docs = docs(work.path());
    ok(genops(
        data.path(),
        &["ingest", "-i", "h", "--text-only", docs.to_str().unwrap()],
    ));
    let qrels = work.path().join("q.jsonl");
    std::fs::write(
        &qrels,
        "{\"query\": \"alpha\", \"relevant\": [\"a.txt\"]}\n",
    )
    .unwrap();
    let set = |mode: &str| format!("mode={mode}");
    for (mode, needle) in [
        ("panic", "hostile retriever panicked on purpose"),
        ("loop", "timed out"),
        ("alloc", "was stopped"),
        ("sleep", "timed out"),
        ("error", "refused on purpose"),
        ("unknown-id", "does not have"),
        ("nan", "score NaN"),
        ("too-many", "hits for k"),
    ] {
        let search = genops(
            data.path(),
            &[
                "search",
                "-i",
                "h",
                "-r",
                "retriever-hostile",
                "--set",
                &set(mode),
                "alpha",
            ],
        );
        contained(&format!("search {mode}"), search, needle);
        let eval = genops(
            data.path(),
            &[
                "eval",
                "retrieval",
                "-i",
                "h",
                "-r",
                "retriever-hostile",
                "--set",
                &set(mode),
                qrels.to_str().unwrap(),
            ],
        );
        contained(&format!("eval {mode}"), eval, needle);
    }
    // Writing to stdout is allowed, but what the plugin writes never reaches the user's.
    let out = ok(genops(
        data.path(),
        &[
            "search",
            "-i",
            "h",
            "-r",
            "retriever-hostile",
            "--set",
            "mode=stdout",
            "alpha",
        ],
    ));
    assert!(
        out.contains("a.txt") && !out.contains("hostile retriever writes"),
        "{out}"
    );
    // The index is untouched and the well-behaved mode still answers.
    let out = ok(genops(
        data.path(),
        &["search", "-i", "h", "-r", "retriever-hostile", "alpha"],
    ));
    assert!(out.contains("a.txt"), "{out}");
}
