//! The built-in retrievers (`plugins/retriever-*`) against a real index version: sentences
//! of `tests/data/sentences.txt` embedded with the real model, written with
//! `genops_index::VersionBuilder`, and offered to the plugins through the host's `search`
//! import. Each retriever is compared with what the index (and `genops-retrieval`) computes
//! natively from the same index, and the import's errors are checked end to end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use genops_index::{IndexVersion, LiveLocation, NewRow, OpenOnUse, Scored, VectorMode};
use genops_retrieval::{rrf, RankedList};
use genops_runtime::{Error, Filter, FilterOp, Hit, Plugin, PluginError, Query, Runtime};
use genops_tests::{models, plugin_dir, runtime_with_models, sets, MODEL};

const INDEX: &str = "speeches";
const BM25: &str = "retriever-bm25";
const VECTOR: &str = "retriever-vector";
const HYBRID: &str = "retriever-hybrid";
const MMR: &str = "retriever-mmr";
const ALL: [&str; 4] = [BM25, VECTOR, HYBRID, MMR];

/// Sentences of the corpus, from the top of `tests/data/sentences.txt`.
const SENTENCES: usize = 56;
/// The sentence the duplicates copy (line 7 of the file).
const ORIGINAL: &str = "s06";
/// Copies of [`ORIGINAL`], exact and near, as a corpus gathered from several sources holds.
const DUPLICATES: [(&str, &str); 3] = [
    (
        "d1",
        "Every young person should have a safe and secure environment in which to learn and grow.",
    ),
    (
        "d2",
        "Every young person should have a safe and secure environment in which to learn and to grow.",
    ),
    (
        "d3",
        "every young person should have a safe, secure environment in which to learn and grow",
    ),
];

/// The year of chunk `n`, the metadata field filters use: 1790, 1794, ...
fn year(n: usize) -> u32 {
    1790 + 4 * n as u32
}

/// A real index version in a temporary folder, a runtime with the real model that offers
/// it to plugins as [`INDEX`], and the same version opened natively for the reference
/// results.
struct Fixture {
    runtime: Runtime,
    version: IndexVersion,
    dir: PathBuf,
    _tmp: tempfile::TempDir,
}

fn corpus() -> Vec<(String, String)> {
    let text = genops_tests::repo_file("tests/data/sentences.txt");
    let mut rows: Vec<(String, String)> = text
        .lines()
        .take(SENTENCES)
        .enumerate()
        .map(|(i, line)| (format!("s{i:02}"), line.to_string()))
        .collect();
    assert_eq!(rows[6].1, DUPLICATES[0].1, "the original of the duplicates");
    rows.extend(
        DUPLICATES
            .iter()
            .map(|(id, text)| (id.to_string(), text.to_string())),
    );
    rows
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join(INDEX).join("v1");
    let rows = corpus();
    let texts: Vec<&str> = rows.iter().map(|(_, t)| t.as_str()).collect();
    let embedded = models().embed(MODEL, &texts).unwrap();
    let dimensions = embedded[0].vector.len() as u32;
    let mut builder = genops_index::VersionBuilder::create(&dir, Some(dimensions)).unwrap();
    for (n, ((id, text), embedding)) in rows.iter().zip(embedded).enumerate() {
        builder
            .add(NewRow {
                chunk_id: id.clone(),
                source: format!("sotu/{id}.txt"),
                document: format!("doc-{id}"),
                start: 0,
                end: text.len() as u64,
                text: text.clone(),
                metadata: BTreeMap::from([("year".to_string(), year(n).to_string())]),
                vector: Some(embedding.vector),
            })
            .unwrap();
    }
    // No approximate graph: `auto` searches exactly, so native and plugin results agree
    // whatever mode a retriever uses.
    builder.finish(None, serde_json::Value::Null).unwrap();
    let runtime = runtime_with_models();
    runtime.set_indexes(Some(Arc::new(OpenOnUse::new(BTreeMap::from([(
        INDEX.to_string(),
        LiveLocation {
            version: 1,
            dir: dir.clone(),
            embedder: Some(MODEL.into()),
        },
    )])))));
    Fixture {
        version: IndexVersion::open(&dir).unwrap(),
        runtime,
        dir,
        _tmp: tmp,
    }
}

impl Fixture {
    fn load(&self, name: &str) -> Plugin {
        self.load_dir(&plugin_dir(name))
    }

    fn load_dir(&self, dir: &Path) -> Plugin {
        self.runtime
            .load_dir(dir)
            .unwrap_or_else(|e| panic!("loading {}: {e}", dir.display()))
    }

    /// The native text search.
    fn text(&self, text: &str, k: usize, filters: &[genops_index::Filter]) -> Vec<Scored> {
        self.version.search_text(text, k, filters).unwrap()
    }

    /// The native exact vector search for the query embedded as the host embeds it.
    fn vector(&self, text: &str, k: usize, filters: &[genops_index::Filter]) -> Vec<Scored> {
        self.version
            .search_vector(&embed(text), k, filters, VectorMode::Exact)
            .unwrap()
    }

    /// The year of a chunk, read back from the index.
    fn year_of(&self, id: &str) -> u32 {
        let record = self.version.fetch(&[id], false).unwrap().remove(0);
        record.metadata["year"].parse().unwrap()
    }
}

fn embed(text: &str) -> Vec<f32> {
    models().embed(MODEL, &[text]).unwrap().remove(0).vector
}

fn query(text: &str, k: u32) -> Query {
    Query {
        text: text.into(),
        k,
        filters: vec![],
        index: INDEX.into(),
    }
}

fn retrieve(plugin: &Plugin, config: &[(&str, &str)], query: &Query) -> Result<Vec<Hit>, Error> {
    plugin.session(&sets(config)).retrieve(query)
}

fn hits(plugin: &Plugin, config: &[(&str, &str)], query: &Query) -> Vec<Hit> {
    retrieve(plugin, config, query)
        .unwrap_or_else(|e| panic!("{} with {config:?}: {e}", plugin.id()))
}

fn ids(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.chunk_id.as_str()).collect()
}

fn scored_ids(found: &[Scored]) -> Vec<&str> {
    found.iter().map(|s| s.chunk_id.as_str()).collect()
}

fn meta<'a>(hit: &'a Hit, key: &str) -> Option<&'a str> {
    hit.metadata
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The message of the plugin's `host` error, which is how a search error reaches the caller.
fn host_error(result: Result<Vec<Hit>, Error>) -> String {
    match result {
        Err(Error::Plugin {
            error: PluginError::Host(message),
            ..
        }) => message,
        other => panic!("expected a host error from the search import, got {other:?}"),
    }
}

/// A filter in the runtime's types and the same in the index's.
fn filter(field: &str, op: FilterOp, value: &str) -> (Filter, genops_index::Filter) {
    let native_op = match op {
        FilterOp::Eq => genops_index::FilterOp::Eq,
        FilterOp::NotEq => genops_index::FilterOp::NotEq,
        FilterOp::Lt => genops_index::FilterOp::Lt,
        FilterOp::Lte => genops_index::FilterOp::Lte,
        FilterOp::Gt => genops_index::FilterOp::Gt,
        FilterOp::Gte => genops_index::FilterOp::Gte,
        FilterOp::Prefix => genops_index::FilterOp::Prefix,
    };
    (
        Filter {
            field: field.into(),
            op,
            value: value.into(),
        },
        genops_index::Filter {
            field: field.into(),
            op: native_op,
            value: value.into(),
        },
    )
}

/// A copy of a built plugin whose manifest grants `indexes` instead of every index.
fn granting(name: &str, indexes: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(plugin_dir(name)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), tmp.path().join(entry.file_name())).unwrap();
    }
    let path = tmp.path().join("genops-plugin.toml");
    let manifest = std::fs::read_to_string(&path).unwrap();
    let changed = manifest.replace(r#"indexes = ["*"]"#, &format!("indexes = {indexes}"));
    assert_ne!(manifest, changed, "{name} grants every index");
    std::fs::write(&path, changed).unwrap();
    tmp
}

/// Queries with a lexical-only and a semantic-only target, one that the near-duplicates
/// answer, a broad topic, and one of common words that BM25 matches almost everywhere.
const QUERIES: [&str; 4] = [
    "7,908 sick former soldiers",
    "safe schools where children can learn",
    "war with foreign countries",
    "the Indian reservations",
];

#[test]
fn bm25_returns_what_the_index_returns_natively() {
    let fx = fixture();
    let plugin = fx.load(BM25);
    for text in QUERIES.iter().chain(&["qwertyuiop"]) {
        for k in [1, 5, 20] {
            let got = hits(&plugin, &[], &query(text, k));
            let native = fx.text(text, k as usize, &[]);
            assert_eq!(ids(&got), scored_ids(&native), "{text}, k = {k}");
            let scores: Vec<f64> = got.iter().map(|h| h.score).collect();
            let native_scores: Vec<f64> = native.iter().map(|s| s.score).collect();
            assert_eq!(scores, native_scores, "{text}, k = {k}");
            assert!(got.iter().all(|h| h.metadata.is_empty()));
        }
    }
    assert_eq!(ids(&hits(&plugin, &[], &query(QUERIES[3], 20))).len(), 20);
    assert!(hits(&plugin, &[], &query("qwertyuiop", 5)).is_empty());
}

#[test]
fn vector_returns_what_the_index_returns_for_the_natively_embedded_query() {
    let fx = fixture();
    let plugin = fx.load(VECTOR);
    for text in QUERIES {
        let native = fx.vector(text, 10, &[]);
        // Without an approximate graph `auto` is exact too.
        for config in [&[("mode", "exact")][..], &[]] {
            let got = hits(&plugin, config, &query(text, 10));
            assert_eq!(ids(&got), scored_ids(&native), "{text} {config:?}");
            for (hit, expected) in got.iter().zip(&native) {
                // The plugin's query vector is the host's embedding of the same text; a
                // model batching it with another test's texts could move the last bits.
                assert!(
                    (hit.score - expected.score).abs() < 1e-6,
                    "{text}: {} vs {}",
                    hit.score,
                    expected.score
                );
            }
        }
    }
}

/// A configuration of `retriever-hybrid` and what it stands for at k = 5.
#[derive(Clone, Copy)]
struct Fusion {
    config: &'static [(&'static str, &'static str)],
    depth: usize,
    rrf_k: f64,
    text_weight: f64,
    vector_weight: f64,
}

#[test]
fn hybrid_is_the_rrf_of_the_two_native_searches() {
    let fx = fixture();
    let plugin = fx.load(HYBRID);
    let configs = [
        Fusion {
            config: &[],
            depth: 50,
            rrf_k: 60.0,
            text_weight: 1.0,
            vector_weight: 1.0,
        },
        Fusion {
            config: &[
                ("depth", "8"),
                ("rrf-k", "5"),
                ("text-weight", "2"),
                ("vector-weight", "0.5"),
            ],
            depth: 8,
            rrf_k: 5.0,
            text_weight: 2.0,
            vector_weight: 0.5,
        },
        // A weight of 0 skips that search; a depth below k is raised to k.
        Fusion {
            config: &[("text-weight", "0"), ("depth", "3")],
            depth: 5,
            rrf_k: 60.0,
            text_weight: 0.0,
            vector_weight: 1.0,
        },
    ];
    for text in QUERIES {
        for Fusion {
            config,
            depth,
            rrf_k,
            text_weight,
            vector_weight,
        } in configs
        {
            let got = hits(&plugin, config, &query(text, 5));
            let text_found = if text_weight > 0.0 {
                fx.text(text, depth, &[])
            } else {
                Vec::new()
            };
            let vector_found = fx.vector(text, depth, &[]);
            let (text_ids, vector_ids) = (scored_ids(&text_found), scored_ids(&vector_found));
            let expected = rrf(
                &[
                    RankedList::new(&text_ids, text_weight),
                    RankedList::new(&vector_ids, vector_weight),
                ],
                rrf_k,
                5,
            );
            let context = format!("{text} {config:?}");
            assert_eq!(got.len(), 5, "{context}");
            for (hit, fused) in got.iter().zip(&expected) {
                assert_eq!(hit.chunk_id, fused.id, "{context}");
                assert_eq!(hit.score, fused.score, "{context}");
                let rank = |key| meta(hit, key).map(|r| r.parse::<usize>().unwrap());
                assert_eq!(rank("text-rank"), fused.ranks[0], "{context}");
                assert_eq!(rank("vector-rank"), fused.ranks[1], "{context}");
                if let Some(r) = fused.ranks[0] {
                    let score = meta(hit, "text-score").unwrap().parse::<f64>().unwrap();
                    assert_eq!(score, text_found[r - 1].score, "{context}");
                }
            }
        }
    }
}

#[test]
fn hybrid_surfaces_a_lexical_only_and_a_semantic_only_match() {
    let fx = fixture();
    // "7,908" is in one sentence only (the miles of railroad added to the mail service),
    // which means nothing like sick soldiers; the sentence on veterans disabled by disease
    // shares no word with the query.
    let q = query("7,908 sick former soldiers", 5);
    let (lexical, semantic) = ("s13", "s28");
    let bm25 = hits(&fx.load(BM25), &[], &q);
    let vector = hits(&fx.load(VECTOR), &[], &q);
    assert!(ids(&bm25).contains(&lexical) && !ids(&bm25).contains(&semantic));
    assert!(ids(&vector).contains(&semantic) && !ids(&vector).contains(&lexical));

    let hybrid = hits(&fx.load(HYBRID), &[], &q);
    let found = |id: &str| {
        hybrid
            .iter()
            .find(|h| h.chunk_id == id)
            .unwrap_or_else(|| panic!("{id} not in {:?}", ids(&hybrid)))
    };
    assert_eq!(meta(found(lexical), "text-rank"), Some("1"));
    assert_eq!(meta(found(semantic), "vector-rank"), Some("1"));
    assert_eq!(meta(found(semantic), "text-rank"), None);
}

/// The chunks of the group of near-duplicates among `hits`.
fn copies(hits: &[Hit]) -> Vec<&str> {
    ids(hits)
        .into_iter()
        .filter(|id| *id == ORIGINAL || DUPLICATES.iter().any(|(d, _)| d == id))
        .collect()
}

#[test]
fn mmr_picks_from_the_vector_candidates_and_keeps_near_duplicates_out() {
    let fx = fixture();
    let text = "safe schools where children can learn";
    let vector = hits(&fx.load(VECTOR), &[], &query(text, 5));
    assert!(
        copies(&vector).len() >= 3,
        "the corpus's copies crowd the plain vector search: {:?}",
        ids(&vector)
    );

    let mmr = fx.load(MMR);
    for (config, k) in [(&[][..], 5), (&[("lambda", "0.3")][..], 8)] {
        let got = hits(&mmr, config, &query(text, k));
        assert_eq!(got.len(), k as usize, "{config:?}");
        assert!(
            copies(&got).len() < copies(&vector).len() && copies(&got).len() <= 1,
            "{config:?}: {:?}",
            ids(&got)
        );
        // fetch-k `auto` is max(4k, 20).
        let pool = fx.vector(text, (4 * k as usize).max(20), &[]);
        for hit in &got {
            let at = pool
                .iter()
                .position(|c| c.chunk_id == hit.chunk_id)
                .unwrap_or_else(|| panic!("{} is not a vector candidate", hit.chunk_id));
            assert_eq!(
                meta(hit, "vector-rank"),
                Some((at + 1).to_string().as_str())
            );
            let similarity: f64 = meta(hit, "similarity").unwrap().parse().unwrap();
            assert!((similarity - pool[at].score).abs() < 1e-6);
        }
    }
    // The first hit is the most similar candidate, as with the plain search.
    let first = hits(&mmr, &[], &query(text, 5)).remove(0);
    assert_eq!(first.chunk_id, vector[0].chunk_id);
    assert_eq!(meta(&first, "redundancy"), Some("0"));

    // A smaller fetch-k limits the choice: with fetch-k = k, MMR only reorders the
    // plain search's hits.
    let same_pool = hits(&mmr, &[("fetch-k", "5")], &query(text, 5));
    let mut reordered = ids(&same_pool);
    reordered.sort_unstable();
    let mut plain = ids(&vector);
    plain.sort_unstable();
    assert_eq!(reordered, plain);
}

#[test]
fn mmr_with_lambda_one_is_the_vector_search() {
    let fx = fixture();
    let (mmr, vector) = (fx.load(MMR), fx.load(VECTOR));
    for text in QUERIES {
        let plain = hits(&vector, &[], &query(text, 6));
        let got = hits(&mmr, &[("lambda", "1")], &query(text, 6));
        assert_eq!(ids(&got), ids(&plain), "{text}");
        for (a, b) in got.iter().zip(&plain) {
            assert_eq!(a.score, b.score, "{text}: the score is the similarity");
        }
    }
}

#[test]
fn every_retriever_honours_k() {
    let fx = fixture();
    for name in ALL {
        let plugin = fx.load(name);
        for k in [0, 1, 3, 8] {
            let got = hits(
                &plugin,
                &[],
                &query("the government of the United States", k),
            );
            assert_eq!(got.len(), k as usize, "{name}, k = {k}");
        }
    }
}

#[test]
fn filters_pass_through_to_every_retriever() {
    let fx = fixture();
    let (since_1900, native) = filter("year", FilterOp::Gte, "1900");
    let text = "safe schools where children can learn";
    let unfiltered = hits(&fx.load(VECTOR), &[], &query(text, 8));
    assert!(
        ids(&unfiltered).iter().any(|id| fx.year_of(id) < 1900),
        "the query finds older chunks without the filter"
    );
    for name in ALL {
        let q = Query {
            filters: vec![since_1900.clone()],
            ..query(text, 8)
        };
        let got = hits(&fx.load(name), &[], &q);
        assert!(!got.is_empty(), "{name}");
        for id in ids(&got) {
            assert!(fx.year_of(id) >= 1900, "{name}: {id}");
        }
        match name {
            BM25 => assert_eq!(
                ids(&got),
                scored_ids(&fx.text(text, 8, std::slice::from_ref(&native)))
            ),
            VECTOR => assert_eq!(
                ids(&got),
                scored_ids(&fx.vector(text, 8, std::slice::from_ref(&native)))
            ),
            _ => {}
        }
    }
}

#[test]
fn an_unknown_filter_field_is_an_invalid_query_listing_the_fields() {
    let fx = fixture();
    let (colour, _) = filter("colour", FilterOp::Eq, "red");
    for name in ALL {
        let q = Query {
            filters: vec![colour.clone()],
            ..query("war", 5)
        };
        let message = host_error(retrieve(&fx.load(name), &[], &q));
        assert!(message.starts_with("invalid-query: "), "{name}: {message}");
        assert!(message.contains("`colour`"), "{name}: {message}");
        assert!(
            message.contains("document, source, year"),
            "{name} lists the fields: {message}"
        );
    }
}

#[test]
fn an_index_the_manifest_does_not_grant_is_not_granted() {
    let fx = fixture();
    for name in ALL {
        let copy = granting(name, r#"["other"]"#);
        let message = host_error(retrieve(&fx.load_dir(copy.path()), &[], &query("war", 5)));
        assert!(message.starts_with("not-granted: "), "{name}: {message}");
        assert!(message.contains(&format!("`{INDEX}`")), "{name}: {message}");
        assert!(message.contains("it grants other"), "{name}: {message}");
        assert!(
            message.contains("[capabilities] indexes"),
            "{name}: {message}"
        );
    }
    // Granted by name rather than by `*`, the same copy searches.
    let copy = granting(HYBRID, &format!(r#"["{INDEX}"]"#));
    assert_eq!(
        hits(&fx.load_dir(copy.path()), &[], &query("war", 5)).len(),
        5
    );
}

#[test]
fn an_unknown_index_is_unknown_index_naming_the_known_ones() {
    let fx = fixture();
    for name in ALL {
        let q = Query {
            index: "nope".into(),
            ..query("war", 5)
        };
        let message = host_error(retrieve(&fx.load(name), &[], &q));
        assert!(message.starts_with("unknown-index: "), "{name}: {message}");
        assert!(message.contains("no index `nope`"), "{name}: {message}");
        assert!(
            message.contains(&format!("(indexes: {INDEX})")),
            "{name}: {message}"
        );
    }
}

#[test]
fn a_runtime_without_indexes_answers_failed() {
    let runtime = runtime_with_models();
    for name in ALL {
        let plugin = runtime.load_dir(&plugin_dir(name)).unwrap();
        let message = host_error(retrieve(&plugin, &[], &query("war", 5)));
        assert!(message.starts_with("failed: "), "{name}: {message}");
        assert!(
            message.contains("runs without indexes"),
            "{name}: {message}"
        );
    }
}

#[test]
fn bad_config_is_invalid_config_naming_key_and_value_and_the_plugin_keeps_serving() {
    let fx = fixture();
    let cases = [
        (MMR, "lambda", "2"),
        (MMR, "fetch-k", "0"),
        (VECTOR, "mode", "sideways"),
        (HYBRID, "rrf-k", "-1"),
        (HYBRID, "depth", "lots"),
        (HYBRID, "vector-weight", "NaN"),
        (BM25, "mode", "exact"),
    ];
    for (name, key, value) in cases {
        let plugin = fx.load(name);
        match retrieve(&plugin, &[(key, value)], &query("war", 5)) {
            Err(Error::Plugin {
                error: PluginError::InvalidConfig(message),
                plugin: id,
            }) => {
                assert_eq!(id.name, name);
                assert!(message.contains(&format!("`{key}`")), "{name}: {message}");
                // BM25 reads no keys: it names the unknown key and says so.
                let named = message.contains(&format!("`{value}`"))
                    || message.contains("reads no config keys");
                assert!(named, "{name}: {message}");
            }
            other => panic!("{name} with {key}={value}: expected invalid-config, got {other:?}"),
        }
        let served = hits(
            &plugin,
            &[],
            &query("the government of the United States", 5),
        );
        assert_eq!(served.len(), 5, "{name}");
    }
}

#[test]
fn approximate_mode_without_a_graph_is_the_hosts_invalid_query() {
    let fx = fixture();
    for name in [VECTOR, HYBRID, MMR] {
        let message = host_error(retrieve(
            &fx.load(name),
            &[("mode", "approximate")],
            &query("war", 5),
        ));
        assert!(message.starts_with("invalid-query: "), "{name}: {message}");
        assert!(
            message.contains("no approximate-search graph"),
            "{name}: {message}"
        );
        assert!(
            message.contains(&fx.dir.display().to_string()),
            "{name} names the version: {message}"
        );
    }
}
