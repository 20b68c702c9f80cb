//! Index versions on real folders: tantivy, the vectors file and the row table together.

use std::collections::BTreeMap;
use std::path::Path;

use genops_index::{
    remove_partial_builds, AnnConfig, Error, Filter, IndexVersion, Indexes, LiveLocation, NewRow,
    OpenOnUse, VectorMode, VersionBuilder,
};

const TEXTS: [(&str, &str, &str); 6] = [
    ("a.md", "1999", "The cat sat on the mat and purred."),
    ("a.md", "1999", "Dogs chase cats around the garden."),
    (
        "b.txt",
        "2005",
        "Stock markets rallied after the central bank cut rates.",
    ),
    (
        "b.txt",
        "2005",
        "The bank raised interest rates to fight inflation.",
    ),
    (
        "c.html",
        "2021",
        "A recipe for bread: flour, water, salt and yeast.",
    ),
    (
        "c.html",
        "2021",
        "Baking bread needs patience while the dough rises.",
    ),
];

/// A deterministic unit vector per text, close for texts that share a topic (same file).
fn vector(i: usize, dims: usize) -> Vec<f32> {
    let topic = i / 2;
    let mut v: Vec<f32> = (0..dims)
        .map(|d| {
            if d % 3 == topic {
                1.0
            } else {
                0.05 * ((i * 7 + d) % 5) as f32
            }
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

fn rows(dims: Option<usize>) -> Vec<NewRow> {
    TEXTS
        .iter()
        .enumerate()
        .map(|(i, (source, year, text))| NewRow {
            chunk_id: format!("c{i}"),
            source: source.to_string(),
            document: format!("doc-{source}"),
            start: 0,
            end: text.len() as u64,
            text: text.to_string(),
            metadata: BTreeMap::from([("year".to_string(), year.to_string())]),
            vector: dims.map(|d| vector(i, d)),
        })
        .collect()
}

fn build(dir: &Path, dims: Option<usize>, ann: bool) -> IndexVersion {
    let mut b = VersionBuilder::create(dir, dims.map(|d| d as u32)).unwrap();
    for row in rows(dims) {
        b.add(row).unwrap();
    }
    let config = AnnConfig {
        build_threads: 1,
        ..AnnConfig::default()
    };
    b.finish(ann.then_some(&config), serde_json::json!({"index": "test"}))
        .unwrap();
    IndexVersion::open(dir).unwrap()
}

#[test]
fn bm25_ranks_matching_chunks_and_honours_filters() {
    let tmp = tempfile::tempdir().unwrap();
    let v = build(&tmp.path().join("v1"), None, false);
    assert_eq!(v.len(), 6);
    assert_eq!(v.meta().fields, ["document", "source", "year"]);

    let hits = v.search_text("bank rates", 3, &[]).unwrap();
    let ids: Vec<&str> = hits.iter().map(|h| h.chunk_id.as_str()).collect();
    assert_eq!(ids.len(), 2, "{hits:?}");
    assert!(ids.contains(&"c2") && ids.contains(&"c3"));
    assert!(hits[0].score >= hits[1].score);

    // Stemming: "bake" finds "Baking".
    let hits = v.search_text("bake", 5, &[]).unwrap();
    assert_eq!(hits[0].chunk_id, "c5");

    let only_2021 = [Filter::parse("year>=2021").unwrap()];
    assert!(v
        .search_text("bank rates", 5, &only_2021)
        .unwrap()
        .is_empty());
    let by_source = [Filter::parse("source^=b.").unwrap()];
    assert_eq!(v.search_text("the", 10, &by_source).unwrap().len(), 2);

    let err = v
        .search_text("x", 5, &[Filter::parse("author=me").unwrap()])
        .unwrap_err();
    assert!(matches!(err, Error::UnknownField { .. }), "{err}");
    assert!(err.to_string().contains("source, year") || err.to_string().contains("year"));

    // Odd queries are still queries.
    assert!(v.search_text("what: \"is (a", 5, &[]).is_ok());
    assert!(v.search_text("cat", 0, &[]).unwrap().is_empty());
}

#[test]
fn vectors_search_exactly_and_approximately() {
    let tmp = tempfile::tempdir().unwrap();
    let v = build(&tmp.path().join("v1"), Some(16), true);
    assert!(v.meta().ann);
    let query = vector(2, 16);
    for mode in [VectorMode::Exact, VectorMode::Approximate, VectorMode::Auto] {
        let hits = v.search_vector(&query, 2, &[], mode).unwrap();
        assert_eq!(hits[0].chunk_id, "c2", "{mode:?}");
        assert!((hits[0].score - 1.0).abs() < 1e-5);
        assert_eq!(hits[1].chunk_id, "c3", "{mode:?}");
    }
    let filtered = v
        .search_vector(
            &query,
            2,
            &[Filter::parse("year!=2005").unwrap()],
            VectorMode::Auto,
        )
        .unwrap();
    assert!(filtered
        .iter()
        .all(|h| h.chunk_id != "c2" && h.chunk_id != "c3"));

    let err = v
        .search_vector(&[1.0; 3], 2, &[], VectorMode::Exact)
        .unwrap_err();
    assert!(err.to_string().contains("dimension"), "{err}");

    let plain = build(&tmp.path().join("v2"), Some(16), false);
    let err = plain
        .search_vector(&query, 2, &[], VectorMode::Approximate)
        .unwrap_err();
    assert!(matches!(err, Error::NoAnn { .. }), "{err}");
    let text_only = build(&tmp.path().join("v3"), None, false);
    let err = text_only
        .search_vector(&query, 2, &[], VectorMode::Exact)
        .unwrap_err();
    assert!(err.to_string().contains("--model"), "{err}");
}

#[test]
fn chunks_read_back_with_text_offsets_metadata_and_vectors() {
    let tmp = tempfile::tempdir().unwrap();
    let v = build(&tmp.path().join("v1"), Some(8), false);
    let got = v.fetch(&["c4", "c0"], true).unwrap();
    assert_eq!(got[0].text, TEXTS[4].2);
    assert_eq!(got[0].source, "c.html");
    assert_eq!(got[0].metadata["year"], "2021");
    assert_eq!(got[0].vector.as_deref(), Some(vector(4, 8).as_slice()));
    assert_eq!(got[1].document, "doc-a.md");
    assert_eq!(v.row_of(&got[1].chunk_id), Some(0));
    assert!(v.fetch(&["c1"], false).unwrap()[0].vector.is_none());
    let err = v.fetch(&["nope"], false).unwrap_err();
    assert!(err.to_string().contains("no chunk `nope`"), "{err}");
}

/// The port and the version return one type each, so what a plugin gets through the port
/// is exactly what the version's own API returns (once two copies, converted field by field).
#[test]
fn the_search_port_returns_what_the_version_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v1");
    let v = build(&dir, Some(8), false);
    let indexes = OpenOnUse::new(BTreeMap::from([(
        "docs".to_string(),
        LiveLocation {
            version: 1,
            dir,
            embedder: None,
        },
    )]));
    let port = indexes.resolve("docs").unwrap();
    let year = [Filter::parse("year>=2000").unwrap()];
    assert_eq!(
        port.search_text("bread", 3, &year).unwrap(),
        v.search_text("bread", 3, &year).unwrap()
    );
    let query = vector(3, 8);
    assert_eq!(
        port.search_vector(&query, 3, &[], VectorMode::Exact)
            .unwrap(),
        v.search_vector(&query, 3, &[], VectorMode::Exact).unwrap()
    );
    let fetched = port.fetch(&["c2", "c0"], true).unwrap();
    assert_eq!(fetched, v.fetch(&["c2", "c0"], true).unwrap());
    assert_eq!(fetched[0].document, "doc-b.txt");
}

#[test]
fn a_version_folder_is_written_once_and_only_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v1");
    build(&dir, None, false);
    assert!(matches!(
        VersionBuilder::create(&dir, None),
        Err(Error::Exists(_))
    ));

    // A builder dropped before finishing leaves nothing behind.
    let v2 = tmp.path().join("v2");
    {
        let mut b = VersionBuilder::create(&v2, None).unwrap();
        b.add(rows(None).remove(0)).unwrap();
    }
    assert!(!v2.exists());
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "only v1: {leftovers:?}");

    // A build of a process that died (a pid that cannot be running) is cleared.
    let dead = tmp.path().join("v3.building-4294967294");
    std::fs::create_dir_all(dead.join("text")).unwrap();
    assert_eq!(remove_partial_builds(tmp.path()).unwrap(), 1);
    assert!(!dead.exists() && dir.exists());
}

#[test]
fn damaged_folders_are_refused_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let err = IndexVersion::open(tmp.path()).unwrap_err();
    assert!(matches!(err, Error::NotAVersion(_)), "{err}");

    let dir = tmp.path().join("v1");
    build(&dir, Some(8), false);
    let rows = dir.join("rows.jsonl");
    let text = std::fs::read_to_string(&rows).unwrap();
    let cut: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(&rows, cut).unwrap();
    let err = IndexVersion::open(&dir).unwrap_err().to_string();
    assert!(err.contains("3 rows") && err.contains("roll back"), "{err}");
    std::fs::write(&rows, "{not json\n").unwrap();
    let err = IndexVersion::open(&dir).unwrap_err().to_string();
    assert!(err.contains("line 1"), "{err}");
    std::fs::write(&rows, text).unwrap();

    let meta = dir.join("version.json");
    let good = std::fs::read_to_string(&meta).unwrap();
    std::fs::write(&meta, good.replace("\"format\": 1", "\"format\": 99")).unwrap();
    let err = IndexVersion::open(&dir).unwrap_err().to_string();
    assert!(err.contains("upgrade genops"), "{err}");
    std::fs::write(&meta, &good).unwrap();

    let vectors = dir.join("vectors.bin");
    let bytes = std::fs::read(&vectors).unwrap();
    std::fs::write(&vectors, &bytes[..bytes.len() - 10]).unwrap();
    let err = IndexVersion::open(&dir).unwrap_err().to_string();
    assert!(err.contains("truncated"), "{err}");
    std::fs::write(&vectors, &bytes).unwrap();
    assert!(IndexVersion::open(&dir).is_ok());
}

#[test]
fn rows_must_match_the_versions_vectors() {
    let tmp = tempfile::tempdir().unwrap();
    let mut b = VersionBuilder::create(&tmp.path().join("v1"), Some(4)).unwrap();
    let mut row = rows(None).remove(0);
    let err = b.add(row.clone()).unwrap_err();
    assert!(matches!(err, Error::MissingVector { .. }), "{err}");
    row.vector = Some(vec![1.0; 5]);
    assert!(b.add(row).is_err(), "wrong dimension");

    let mut b = VersionBuilder::create(&tmp.path().join("v2"), None).unwrap();
    let mut row = rows(None).remove(0);
    row.vector = Some(vec![1.0; 4]);
    assert!(matches!(b.add(row), Err(Error::UnexpectedVector { .. })));
}

#[test]
fn an_empty_version_opens_and_finds_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("v1");
    VersionBuilder::create(&dir, Some(4))
        .unwrap()
        .finish(Some(&AnnConfig::default()), serde_json::Value::Null)
        .unwrap();
    let v = IndexVersion::open(&dir).unwrap();
    assert!(v.is_empty());
    assert!(v.search_text("anything", 5, &[]).unwrap().is_empty());
    assert!(v
        .search_vector(&[0.5; 4], 5, &[], VectorMode::Auto)
        .unwrap()
        .is_empty());
}

#[test]
fn a_negated_phrase_that_trips_tantivy_fails_the_search_not_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let version = build(&dir.path().join("v1"), None, false);
    // Found by the `query` fuzz target: in debug builds tantivy 0.27 asserts on a negated
    // phrase that matches nothing. Either answer is fine; a panic is not.
    for query in ["-\"dog the\"", "cat -\"the dog\"", "-\"zzz yyy\""] {
        if let Err(e) = version.search_text(query, 5, &[]) {
            assert!(e.is_bad_request(), "{query}: {e}");
        }
    }
    assert!(!version.search_text("cat", 5, &[]).unwrap().is_empty());
}

#[test]
fn a_deeply_nested_query_is_refused_before_it_overflows_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let version = build(&dir.path().join("v1"), None, false);
    // tantivy's parser recursed once per `(` and 4,000 of them aborted the process.
    let err = version.search_text(&"(".repeat(4_000), 5, &[]).unwrap_err();
    assert!(err.is_bad_request(), "{err}");
    assert!(err.to_string().contains("nests brackets"), "{err}");
    let err = version
        .search_text(&format!("{}cat{}", "[".repeat(40), "]".repeat(40)), 5, &[])
        .unwrap_err();
    assert!(err.is_bad_request(), "{err}");
    // A chain of NOTs recursed the same way, within the length limit.
    let err = version
        .search_text(&"NOT ".repeat(2_000), 5, &[])
        .unwrap_err();
    assert!(err.is_bad_request(), "{err}");
    // Ordinary grouping still works.
    assert!(!version
        .search_text("(cat OR (dog AND garden))", 5, &[])
        .unwrap()
        .is_empty());
}

#[test]
fn a_megabyte_query_is_refused_as_a_bad_request() {
    let dir = tempfile::tempdir().unwrap();
    let version = build(&dir.path().join("v1"), None, false);
    let err = version
        .search_text(&"cat ".repeat(262_144), 5, &[])
        .unwrap_err();
    assert!(err.is_bad_request(), "{err}");
    assert!(err.to_string().contains("1048576 bytes"), "{err}");
}

#[test]
fn a_damaged_row_count_in_version_json_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1");
    drop(build(&path, None, false));
    // 4 billion rows once made the host reserve 480 GB for the row table.
    let meta_path = path.join("version.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    meta["rows"] = serde_json::json!(u32::MAX);
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    let err = IndexVersion::open(&path).unwrap_err();
    assert!(matches!(err, Error::Damaged { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("version.json says 4294967295"),
        "{message}"
    );
}

#[test]
fn an_oversized_version_json_is_refused_without_reading_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v1");
    drop(build(&path, None, false));
    let meta_path = path.join("version.json");
    let file = std::fs::OpenOptions::new()
        .append(true)
        .open(&meta_path)
        .unwrap();
    file.set_len(64 << 20).unwrap();
    let err = IndexVersion::open(&path).unwrap_err();
    assert!(matches!(err, Error::Damaged { .. }), "{err}");
    assert!(err.to_string().contains("version.json"), "{err}");
}
