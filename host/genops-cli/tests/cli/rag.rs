//! The RAG data pipeline from the command line: ingest, index versions, search with each
//! retriever, retrieval evaluation, bad input, and a real process killed mid-ingest.

use std::path::{Path, PathBuf};
use std::process::Command;

use genops_tests::plugin_dir;
use serde_json::Value;

use crate::{copied_models_data, fails, genops, ok};

const RETRIEVERS: [&str; 4] = [
    "retriever-bm25",
    "retriever-vector",
    "retriever-hybrid",
    "retriever-mmr",
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/rag-corpus")
}

/// A data directory with the default model, ONNX Runtime, the recursive chunker and the
/// four retrievers installed.
fn rag_data() -> tempfile::TempDir {
    let data = copied_models_data();
    for name in ["chunker-recursive", "chunker-markdown"]
        .iter()
        .chain(&RETRIEVERS)
    {
        ok(genops(
            data.path(),
            &["plugin", "install", plugin_dir(name).to_str().unwrap()],
        ));
    }
    data
}

/// A copy of `n` documents of the example corpus (all of them for `None`), in `dir/docs`.
fn corpus_copy(dir: &Path, names: Option<&[&str]>) -> PathBuf {
    let docs = dir.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    for entry in std::fs::read_dir(corpus_dir().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        if names.is_none_or(|n| n.contains(&stem.as_str())) {
            std::fs::copy(&path, docs.join(path.file_name().unwrap())).unwrap();
        }
    }
    docs
}

const SMALL: [&str; 8] = [
    "heapq", "csv", "json", "zlib", "uuid", "sched", "timeit", "tempfile",
];

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn live_version(data: &Path, index: &str) -> Option<u64> {
    let list: Value =
        serde_json::from_str(&ok(genops(data, &["index", "list", "--json"]))).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == index)
        .and_then(|r| r["live_version"].as_u64())
}

#[test]
fn each_retriever_searches_the_ingested_corpus() {
    let data = rag_data();
    let work = tempfile::tempdir().unwrap();
    let docs = corpus_copy(work.path(), Some(&SMALL));
    let report: Value = serde_json::from_str(&ok(genops(
        data.path(),
        &[
            "ingest",
            "--index",
            "small",
            "--json",
            docs.to_str().unwrap(),
        ],
    )))
    .unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(report["documents"], 8);
    assert!(report["chunks"].as_u64().unwrap() >= 8);

    for retriever in RETRIEVERS {
        let out = ok(genops(
            data.path(),
            &[
                "search",
                "--index",
                "small",
                "--retriever",
                retriever,
                "-k",
                "3",
                "--json",
                "priority queue with a binary heap",
            ],
        ));
        let hits = json_lines(&out);
        assert!(!hits.is_empty() && hits.len() <= 3, "{retriever}: {out}");
        let top = &hits[0];
        assert!(
            top["source"].as_str().unwrap().ends_with("heapq.md"),
            "{retriever} ranks heapq first: {out}"
        );
        for hit in &hits {
            let source = hit["source"].as_str().unwrap();
            let file = std::fs::read_to_string(source).unwrap();
            let (start, end) = (
                hit["start"].as_u64().unwrap() as usize,
                hit["end"].as_u64().unwrap() as usize,
            );
            assert_eq!(
                &file[start..end],
                hit["text"].as_str().unwrap(),
                "{retriever}"
            );
            assert!(hit["score"].as_f64().unwrap().is_finite());
        }
        let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
        assert!(
            scores.windows(2).all(|w| w[0] >= w[1]),
            "{retriever}: {scores:?}"
        );
    }

    // The human-readable form names the source and the offsets.
    let table = ok(genops(
        data.path(),
        &[
            "search",
            "-i",
            "small",
            "-r",
            "retriever-bm25",
            "csv dialect",
        ],
    ));
    assert!(table.contains("csv.md ["), "{table}");

    // Filters pass through to the index.
    let out = ok(genops(
        data.path(),
        &[
            "search",
            "-i",
            "small",
            "-r",
            "retriever-bm25",
            "--json",
            "--filter",
            "title=json",
            "data",
        ],
    ));
    for hit in json_lines(&out) {
        assert!(
            hit["source"].as_str().unwrap().ends_with("json.md"),
            "{hit}"
        );
    }
    fails(
        genops(
            data.path(),
            &[
                "search",
                "-i",
                "small",
                "-r",
                "retriever-bm25",
                "--filter",
                "author=me",
                "x",
            ],
        ),
        "unknown filter field `author`",
    );
}

#[test]
fn retrieval_quality_is_measured_against_judged_queries() {
    let data = rag_data();
    let docs = corpus_dir().join("docs");
    ok(genops(
        data.path(),
        &["ingest", "--index", "stdlib", docs.to_str().unwrap()],
    ));
    let qrels = corpus_dir().join("queries.jsonl");
    let mut recall = std::collections::BTreeMap::new();
    for retriever in ["retriever-bm25", "retriever-hybrid"] {
        let out = ok(genops(
            data.path(),
            &[
                "eval",
                "retrieval",
                "-i",
                "stdlib",
                "-r",
                retriever,
                "-k",
                "5",
                "--json",
                qrels.to_str().unwrap(),
            ],
        ));
        let report: Value = serde_json::from_str(&out).unwrap();
        let summary = &report["summary"];
        assert_eq!(summary["queries"], 38);
        for metric in ["recall_at_k", "mrr", "ndcg_at_k"] {
            let v = summary[metric].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{metric} = {v}");
        }
        // A working retriever finds most answers of these plain questions in the top 5.
        assert!(
            summary["recall_at_k"].as_f64().unwrap() > 0.5,
            "{retriever}: {summary}"
        );
        recall.insert(retriever, summary["recall_at_k"].as_f64().unwrap());
    }
    let table = ok(genops(
        data.path(),
        &[
            "eval",
            "retrieval",
            "-i",
            "stdlib",
            "-r",
            "retriever-bm25",
            qrels.to_str().unwrap(),
        ],
    ));
    assert!(
        table.contains("recall@10") && table.contains("MRR"),
        "{table}"
    );

    let bad = tempfile::tempdir().unwrap();
    let file = bad.path().join("q.jsonl");
    std::fs::write(
        &file,
        "{\"query\": \"x\", \"relevant\": [\"a\"]}\n{\"query\": 3}\n",
    )
    .unwrap();
    fails(
        genops(
            data.path(),
            &["eval", "retrieval", "-i", "stdlib", file.to_str().unwrap()],
        ),
        "line 2: no `query` string",
    );
}

#[test]
fn reingest_is_incremental_and_versions_diff_and_roll_back() {
    let data = rag_data();
    let work = tempfile::tempdir().unwrap();
    let docs = corpus_copy(work.path(), Some(&SMALL[..4]));
    let d = docs.to_str().unwrap();
    let ingest = |extra: &[&str]| -> Value {
        let mut args = vec!["ingest", "--index", "inc", "--json"];
        args.extend_from_slice(extra);
        args.push(d);
        serde_json::from_str(&ok(genops(data.path(), &args))).unwrap()
    };
    let first = ingest(&[]);
    assert_eq!(first["version"], 1);
    assert_eq!(first["chunked_documents"], 4);
    let embedded = first["embedded_chunks"].as_u64().unwrap();
    assert_eq!(embedded, first["chunks"].as_u64().unwrap());

    // Nothing changed: no new version, no work.
    let again = ingest(&[]);
    assert!(again["version"].is_null(), "{again}");
    assert_eq!(again["chunked_documents"], 0);
    assert_eq!(again["embedded_chunks"], 0);

    // One file changed, one added, one removed.
    std::fs::write(
        docs.join("csv.md"),
        std::fs::read_to_string(docs.join("csv.md")).unwrap() + "\nA new closing paragraph.\n",
    )
    .unwrap();
    std::fs::write(
        docs.join("notes.md"),
        "# notes\n\nTeam notes about heaps.\n",
    )
    .unwrap();
    std::fs::remove_file(docs.join("zlib.md")).unwrap();
    let status = ok(genops(data.path(), &["index", "status", "inc", d]));
    assert!(
        status.contains("1 added, 1 changed, 1 removed, 2 unchanged"),
        "{status}"
    );

    // Without --prune the removed file's document stays.
    let second = ingest(&[]);
    assert_eq!(second["version"], 2);
    assert_eq!(
        (
            second["added"].clone(),
            second["changed"].clone(),
            second["removed"].clone()
        ),
        (1.into(), 1.into(), 0.into())
    );
    assert_eq!(
        second["chunked_documents"], 2,
        "only the changed and the new file"
    );
    assert!(
        second["embedded_chunks"].as_u64().unwrap() < embedded,
        "{second}"
    );
    let third = ingest(&["--prune"]);
    assert_eq!(third["version"], 3);
    assert_eq!(third["removed"], 1);
    assert_eq!(third["documents"], 4);
    assert!(ok(genops(data.path(), &["index", "status", "inc", d])).contains("is fresh"));

    // --prune drops what is gone from disk, not what this run did not name: re-ingesting
    // one file keeps the others, so nothing changes.
    let one = docs.join("csv.md");
    let only_one: Value = serde_json::from_str(&ok(genops(
        data.path(),
        &[
            "ingest",
            "--index",
            "inc",
            "--json",
            "--prune",
            one.to_str().unwrap(),
        ],
    )))
    .unwrap();
    assert!(only_one["version"].is_null(), "{only_one}");
    let status = ok(genops(
        data.path(),
        &["index", "status", "inc", one.to_str().unwrap()],
    ));
    assert!(
        status.contains("is fresh"),
        "a file not named is not removed: {status}"
    );

    let diff: Value = serde_json::from_str(&ok(genops(
        data.path(),
        &["index", "diff", "inc", "1", "3", "--json"],
    )))
    .unwrap();
    let name = |v: &Value| v.as_str().unwrap().rsplit('/').next().unwrap().to_string();
    assert_eq!(
        diff["added"]
            .as_array()
            .unwrap()
            .iter()
            .map(name)
            .collect::<Vec<_>>(),
        ["notes.md"]
    );
    assert_eq!(
        diff["changed"]
            .as_array()
            .unwrap()
            .iter()
            .map(name)
            .collect::<Vec<_>>(),
        ["csv.md"]
    );
    assert_eq!(
        diff["removed"]
            .as_array()
            .unwrap()
            .iter()
            .map(name)
            .collect::<Vec<_>>(),
        ["zlib.md"]
    );

    // Rollback is instant and loses nothing: v3 can come back.
    let search = |q: &str| {
        json_lines(&ok(genops(
            data.path(),
            &[
                "search",
                "-i",
                "inc",
                "-r",
                "retriever-bm25",
                "--json",
                "-k",
                "1",
                q,
            ],
        )))
    };
    let pruned = search("deflate compression");
    assert!(
        pruned
            .iter()
            .all(|h| !h["source"].as_str().unwrap().ends_with("zlib.md")),
        "{pruned:?}"
    );
    ok(genops(data.path(), &["index", "rollback", "inc", "1"]));
    assert_eq!(live_version(data.path(), "inc"), Some(1));
    assert!(search("deflate compression")[0]["source"]
        .as_str()
        .unwrap()
        .ends_with("zlib.md"));
    ok(genops(data.path(), &["index", "rollback", "inc", "3"]));
    assert_eq!(live_version(data.path(), "inc"), Some(3));

    // A version whose files are damaged is not made live; the live one stays.
    let rows = data.path().join("indexes/inc/v2/rows.jsonl");
    let good = std::fs::read(&rows).unwrap();
    std::fs::write(&rows, b"{broken\n").unwrap();
    fails(
        genops(data.path(), &["index", "rollback", "inc", "2"]),
        "the live version is unchanged",
    );
    assert_eq!(live_version(data.path(), "inc"), Some(3));
    std::fs::write(&rows, good).unwrap();

    let show: Value = serde_json::from_str(&ok(genops(
        data.path(),
        &["index", "show", "inc", "--json"],
    )))
    .unwrap();
    let parents: Vec<Value> = show
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["parent"].clone())
        .collect();
    assert_eq!(parents, [Value::Null, 1.into(), 2.into()], "lineage");

    // A different chunker config is a different chunking: a new version, chunked anew,
    // but chunks whose text did not change keep their vectors.
    let resized = ingest(&["--set", "size=400"]);
    assert_eq!(resized["version"], 4);
    assert_eq!(resized["chunked_documents"], 4);

    // gc keeps the live version and the newest others.
    let gc = ok(genops(data.path(), &["index", "gc", "inc", "--keep", "1"]));
    assert!(
        gc.contains("deleted inc v1") && gc.contains("deleted inc v2"),
        "{gc}"
    );
    assert_eq!(live_version(data.path(), "inc"), Some(4));
    fails(
        genops(data.path(), &["index", "rollback", "inc", "1"]),
        "no version 1",
    );
}

#[test]
fn bad_inputs_are_reported_and_the_rest_is_ingested() {
    let data = rag_data();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("mixed");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("good.txt"), "Plain text about sailing boats.").unwrap();
    std::fs::write(dir.join("binary.txt"), b"\x7fELF\x02\x01\x01\0\0\0binary").unwrap();
    std::fs::write(dir.join("latin1.md"), b"caf\xe9 au lait").unwrap();
    std::os::unix::fs::symlink(dir.join("missing-target"), dir.join("dangling.txt")).unwrap();
    std::fs::write(
        dir.join("page.html"),
        "<html><head><title>Tides</title><script>var x=1;</script></head><body><p>The tide comes in twice a day.</p></body></html>",
    )
    .unwrap();
    std::fs::write(
        dir.join("faq.jsonl"),
        "{\"id\": \"q1\", \"text\": \"How do tides work?\", \"year\": 2001}\n\
         {\"id\": \"q2\", \"text\": \n\
         {\"id\": \"q3\", \"body\": \"wrong field\"}\n\
         {\"id\": \"q4\", \"text\": \"What is a knot?\", \"year\": 2019}\n",
    )
    .unwrap();
    let output = genops(
        data.path(),
        &[
            "ingest",
            "-i",
            "mixed",
            "--text-only",
            "--json",
            dir.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    let report: Value = serde_json::from_str(&ok(output)).unwrap();
    assert_eq!(
        report["documents"], 4,
        "good.txt, page.html, faq#q1, faq#q4: {report}"
    );
    for needle in [
        "binary.txt: is not a text file (a NUL byte",
        "latin1.md: is not UTF-8 text (invalid byte at offset 3)",
        "dangling.txt: cannot be read",
        "faq.jsonl line 2: not valid JSON",
        "faq.jsonl line 3: no field `text`",
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    // HTML is ingested as its visible text; JSONL fields become filterable metadata.
    let out = ok(genops(
        data.path(),
        &[
            "search",
            "-i",
            "mixed",
            "-r",
            "retriever-bm25",
            "--json",
            "tide",
        ],
    ));
    let hits = json_lines(&out);
    assert!(
        hits.iter()
            .any(|h| h["text"] == "The tide comes in twice a day."),
        "{out}"
    );
    let out = ok(genops(
        data.path(),
        &[
            "search",
            "-i",
            "mixed",
            "-r",
            "retriever-bm25",
            "--json",
            "--filter",
            "year>2010",
            "knot tides",
        ],
    ));
    let hits = json_lines(&out);
    assert_eq!(hits.len(), 1, "{out}");
    assert!(hits[0]["source"]
        .as_str()
        .unwrap()
        .ends_with("faq.jsonl#q4"));

    // Unknown names and versions say what exists.
    fails(
        genops(data.path(), &["search", "-i", "nope", "x"]),
        "no index `nope`",
    );
    fails(
        genops(data.path(), &["index", "show", "nope"]),
        "no index `nope`",
    );
    fails(
        genops(data.path(), &["index", "rollback", "mixed", "9"]),
        "index `mixed` has no version 9 (versions: 1)",
    );
    fails(
        genops(
            data.path(),
            &[
                "ingest",
                "-i",
                "Bad Name",
                "--text-only",
                dir.to_str().unwrap(),
            ],
        ),
        "Bad Name",
    );
    fails(
        genops(
            data.path(),
            &["ingest", "-i", "x", "--text-only", "no/such/path"],
        ),
        "no/such/path does not exist",
    );
    fails(
        genops(
            data.path(),
            &[
                "ingest",
                "-i",
                "x",
                "--text-only",
                "--set",
                "colour=red",
                dir.to_str().unwrap(),
            ],
        ),
        "has no config key `colour`",
    );
    fails(
        genops(
            data.path(),
            &[
                "ingest",
                "-i",
                "x",
                "--model",
                "no-such-model",
                dir.to_str().unwrap(),
            ],
        ),
        "genops models install no-such-model",
    );
    fails(
        genops(
            data.path(),
            &["search", "-i", "mixed", "-r", "chunker-recursive", "x"],
        ),
        "needs a retriever",
    );
    // The failed commands left the index as it was.
    assert_eq!(live_version(data.path(), "mixed"), Some(1));
}

#[test]
fn killing_an_ingest_leaves_the_live_version_intact() {
    let data = rag_data();
    let work = tempfile::tempdir().unwrap();
    let small = corpus_copy(&work.path().join("a"), Some(&SMALL[..3]));
    ok(genops(
        data.path(),
        &["ingest", "-i", "crash", small.to_str().unwrap()],
    ));
    let before = ok(genops(
        data.path(),
        &[
            "search",
            "-i",
            "crash",
            "-r",
            "retriever-hybrid",
            "--json",
            "heap queue",
        ],
    ));

    // The whole corpus takes seconds to embed; kill the ingest while it works.
    let all = corpus_copy(&work.path().join("b"), None);
    let mut child = Command::new(env!("CARGO_BIN_EXE_genops"))
        .args(["ingest", "-i", "crash", all.to_str().unwrap()])
        .env("GENOPS_DATA_DIR", data.path())
        .env_remove("GENOPS_CONFIG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the new version exists (it is building), then kill without warning.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let show: Value = serde_json::from_str(&ok(genops(
            data.path(),
            &["index", "show", "crash", "--json"],
        )))
        .unwrap();
        if show.as_array().unwrap().len() == 2 {
            assert_eq!(show[1]["status"], "building");
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the ingest finished before it could be killed; give it more work"
        );
        assert!(std::time::Instant::now() < deadline, "no version began");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap(); // SIGKILL
    assert!(!child.wait().unwrap().success());

    // The live version is the first one, and it answers as before.
    assert_eq!(live_version(data.path(), "crash"), Some(1));
    let after = ok(genops(
        data.path(),
        &[
            "search",
            "-i",
            "crash",
            "-r",
            "retriever-hybrid",
            "--json",
            "heap queue",
        ],
    ));
    assert_eq!(before, after);

    // The next ingest marks the dead one failed, clears its files and goes live.
    let report: Value = serde_json::from_str(&ok(genops(
        data.path(),
        &["ingest", "-i", "crash", "--json", all.to_str().unwrap()],
    )))
    .unwrap();
    assert_eq!(report["version"], 3);
    let show: Value = serde_json::from_str(&ok(genops(
        data.path(),
        &["index", "show", "crash", "--json"],
    )))
    .unwrap();
    assert_eq!(show[1]["status"], "failed");
    assert!(show[1]["error"]
        .as_str()
        .unwrap()
        .contains("stopped before it finished"));
    assert_eq!(show[2]["live"], true);
    let leftovers: Vec<String> = std::fs::read_dir(data.path().join("indexes/crash"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".building-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    fails(
        genops(data.path(), &["index", "rollback", "crash", "2"]),
        "ready",
    );
}

#[test]
fn bench_retrieval_measures_every_figure_side_by_side() {
    let data = copied_models_data();
    let work = tempfile::tempdir().unwrap();
    let docs = corpus_copy(work.path(), Some(&SMALL[..2]));
    let plugins = genops_tests::plugins_dir();
    let sentences = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/sentences.txt");
    let out = ok(genops(
        data.path(),
        &[
            "bench",
            "retrieval",
            "--plugins",
            plugins.to_str().unwrap(),
            "--chunks",
            "300",
            "--vectors",
            "2000",
            "--ann-vectors",
            "1000",
            "--queries",
            "10",
            "--sentences",
            sentences.to_str().unwrap(),
            "--corpus",
            docs.to_str().unwrap(),
            "--json",
        ],
    ));
    let report: Value = serde_json::from_str(&out).unwrap();
    let rows = report["rows"].as_array().unwrap();
    let figures: Vec<&str> = rows.iter().map(|r| r["figure"].as_str().unwrap()).collect();
    for needle in [
        "BM25 query latency p50",
        "BM25 query latency p99",
        "hybrid",
        "exact vector scan",
        "HNSW",
        "ingest",
    ] {
        assert!(
            figures.iter().any(|f| f.contains(needle)),
            "{needle}: {figures:?}"
        );
    }
    for row in rows {
        let ratio = row["ratio"].as_f64().unwrap();
        assert!(ratio.is_finite() && ratio > 0.0, "{row}");
        assert!(!row["peer_name"].as_str().unwrap().is_empty());
    }
}
