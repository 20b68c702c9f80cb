//! The HNSW index: recall, save and load, staleness and damage, filters.

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};

use genops_vectors::synth::{clustered_unit_vectors, random_unit_vectors, Rng};
use genops_vectors::{recall_at_k, AnnConfig, AnnFiles, AnnIndex, Error, VectorFile};

use crate::common::{naive_top_k, tempdir, write};

/// Cheap parameters for tests that check behaviour, not recall: unoptimised test builds run
/// hnsw_rs's generic code unoptimised too.
fn quick() -> AnnConfig {
    AnnConfig {
        m: 8,
        ef_construction: 40,
        ..AnnConfig::default()
    }
}

fn queries(n: usize, dim: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| rng.unit_vector(dim)).collect()
}

#[test]
fn recall_at_10_is_high_on_clustered_vectors_and_survives_save_and_load() {
    let dir = tempdir();
    let (rows, dim) = (4_000, 64);
    let data = clustered_unit_vectors(rows, dim, 200, 0.08, 21);
    let vectors = write(dir.path(), "vectors.bin", dim, &data);
    let ann = AnnIndex::build(&vectors, AnnConfig::default()).expect("build");
    // Queries near the data, as real queries are: perturbed rows.
    let mut rng = Rng::new(22);
    let queries: Vec<Vec<f32>> = (0..100)
        .map(|_| {
            let row = vectors.row(rng.below(rows)).expect("row").to_vec();
            let mut noise = vec![0.0; dim];
            rng.fill_normal(&mut noise);
            let mut q: Vec<f32> = row.iter().zip(&noise).map(|(r, n)| r + 0.05 * n).collect();
            genops_vectors::synth::normalize(&mut q);
            q
        })
        .collect();
    let recall = recall_at_k(&ann, &vectors, &queries, 10).expect("recall");
    assert!(recall >= 0.9, "recall@10 {recall}");

    let before: Vec<_> = queries
        .iter()
        .map(|q| ann.search(q, 10, None).expect("search"))
        .collect();
    let files = ann.save().expect("save");
    assert_eq!(files, AnnFiles::for_vectors(vectors.path()));
    assert!(files.graph.exists() && files.data.exists() && files.meta.exists());
    let loaded = AnnIndex::load(&vectors).expect("load");
    assert_eq!(loaded.config(), ann.config());
    for (q, expected) in queries.iter().zip(&before) {
        assert_eq!(&loaded.search(q, 10, None).expect("search"), expected);
    }
    // No temporary files left behind by the save.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
}

#[test]
fn recall_on_uniform_random_vectors_at_a_larger_ef() {
    // The hard case, small: uniform vectors need a wider search for the same recall.
    let dir = tempdir();
    let (rows, dim) = (1_000, 16);
    let vectors = write(
        dir.path(),
        "v.bin",
        dim,
        &random_unit_vectors(rows, dim, 31),
    );
    let mut ann = AnnIndex::build(&vectors, AnnConfig::default()).expect("build");
    ann.set_ef_search(100).expect("ef");
    let recall = recall_at_k(&ann, &vectors, &queries(30, dim, 32), 10).expect("recall");
    assert!(recall >= 0.9, "recall@10 {recall}");
}

#[test]
fn ann_results_carry_exact_scores_best_first() {
    let dir = tempdir();
    let dim = 16;
    let data = random_unit_vectors(2_000, dim, 41);
    let vectors = write(dir.path(), "v.bin", dim, &data);
    let ann = AnnIndex::build(&vectors, quick()).expect("build");
    for q in queries(10, dim, 42) {
        let hits = ann.search_with_ef(&q, 10, 100, None).expect("search");
        assert_eq!(hits.len(), 10);
        for pair in hits.windows(2) {
            assert!(pair[0].score >= pair[1].score);
        }
        for hit in &hits {
            let row = vectors.row(hit.row as usize).expect("row");
            assert_eq!(hit.score, genops_vectors::dot(&q, row));
        }
    }
}

#[test]
fn a_filtered_ann_search_is_the_exact_filtered_search() {
    let dir = tempdir();
    let dim = 8;
    let data = random_unit_vectors(3_000, dim, 51);
    let vectors = write(dir.path(), "v.bin", dim, &data);
    let ann = AnnIndex::build(&vectors, quick()).expect("build");
    let keep = |row: u32| row.is_multiple_of(10);
    for q in queries(5, dim, 52) {
        let got = ann.search(&q, 7, Some(&keep)).expect("search");
        assert!(got.iter().all(|h| keep(h.row)));
        assert_eq!(got, naive_top_k(&data, dim, &q, 7, keep));
    }
}

#[test]
fn k_edge_cases_and_bad_queries() {
    let dir = tempdir();
    let dim = 4;
    let vectors = write(dir.path(), "v.bin", dim, &random_unit_vectors(50, dim, 61));
    let ann = AnnIndex::build(&vectors, quick()).expect("build");
    let q = queries(1, dim, 62).remove(0);
    assert!(ann.search(&q, 0, None).expect("search").is_empty());
    // More than the rows: every row, as exact search would (the graph is tiny and complete).
    let all = ann.search(&q, 80, None).expect("search");
    assert_eq!(all, vectors.search_exact(&q, 80, None).expect("search"));
    let err = ann.search(&[1.0; 5], 3, None).unwrap_err();
    assert!(matches!(err, Error::DimensionMismatch { .. }), "{err:?}");
    let err = ann.search(&[f32::NAN; 4], 3, None).unwrap_err();
    assert!(matches!(err, Error::NonFinite { .. }), "{err:?}");
}

#[test]
fn loading_without_a_saved_index_says_what_is_missing() {
    let dir = tempdir();
    let vectors = write(dir.path(), "v.bin", 4, &random_unit_vectors(20, 4, 71));
    let err = AnnIndex::load(&vectors).unwrap_err();
    assert!(matches!(err, Error::AnnMissing { .. }), "{err:?}");
    assert!(
        err.to_string().contains("v.bin.hnsw.json is missing"),
        "{err}"
    );
}

#[test]
fn an_index_saved_for_other_vectors_is_stale() {
    let dir = tempdir();
    let vectors = write(dir.path(), "v.bin", 4, &random_unit_vectors(200, 4, 81));
    AnnIndex::build(&vectors, quick())
        .expect("build")
        .save()
        .expect("save");
    // The version is rebuilt under the same name with other content.
    let rebuilt = write(dir.path(), "v.bin", 4, &random_unit_vectors(200, 4, 82));
    let err = AnnIndex::load(&rebuilt).unwrap_err();
    assert!(matches!(err, Error::AnnStale { .. }), "{err:?}");
    assert!(err.to_string().contains("is stale"), "{err}");
    // Saving a new index over the stale one makes it loadable again.
    AnnIndex::build(&rebuilt, quick())
        .expect("build")
        .save()
        .expect("save over the old index");
    AnnIndex::load(&rebuilt).expect("load");
}

#[test]
fn a_damaged_graph_file_is_refused_not_loaded() {
    let dir = tempdir();
    let vectors = write(dir.path(), "v.bin", 4, &random_unit_vectors(300, 4, 91));
    let files = AnnIndex::build(&vectors, quick())
        .expect("build")
        .save()
        .expect("save");
    for target in [&files.graph, &files.data] {
        let original = std::fs::read(target).expect("read");
        let mut f = OpenOptions::new().write(true).open(target).expect("open");
        f.seek(SeekFrom::Start(40)).expect("seek");
        f.write_all(&[original[40] ^ 0xff]).expect("write");
        drop(f);
        let err = AnnIndex::load(&vectors).unwrap_err();
        assert!(matches!(err, Error::AnnCorrupt { .. }), "{err:?}");
        std::fs::write(target, &original).expect("restore");
    }
    std::fs::write(&files.meta, b"{ not json").expect("write");
    let err = AnnIndex::load(&vectors).unwrap_err();
    assert!(matches!(err, Error::AnnCorrupt { .. }), "{err:?}");
}

#[test]
fn an_empty_vectors_file_has_an_empty_index() {
    let dir = tempdir();
    let vectors = write(dir.path(), "v.bin", 3, &[]);
    let ann = AnnIndex::build(&vectors, AnnConfig::default()).expect("build");
    assert!(ann
        .search(&[1.0, 0.0, 0.0], 5, None)
        .expect("search")
        .is_empty());
    ann.save().expect("save");
    let loaded = AnnIndex::load(&vectors).expect("load");
    assert!(loaded
        .search(&[1.0, 0.0, 0.0], 5, None)
        .expect("search")
        .is_empty());
    assert_eq!(
        recall_at_k(&loaded, &vectors, &[[1.0f32, 0.0, 0.0]], 5).expect("recall"),
        1.0
    );
}

#[test]
fn an_invalid_config_is_refused() {
    let dir = tempdir();
    let vectors = write(dir.path(), "v.bin", 3, &random_unit_vectors(10, 3, 1));
    let config = AnnConfig {
        m: 300,
        ..AnnConfig::default()
    };
    let err = AnnIndex::build(&vectors, config).unwrap_err();
    assert!(matches!(err, Error::InvalidConfig(_)), "{err:?}");
    let mut ann = AnnIndex::build(&vectors, AnnConfig::default()).expect("build");
    assert!(ann.set_ef_search(0).is_err());
}

#[test]
fn vector_files_open_independently_of_the_index() {
    // An index holds its own handle: dropping the caller's does not matter.
    let dir = tempdir();
    let vectors = write(dir.path(), "v.bin", 3, &random_unit_vectors(30, 3, 2));
    let ann = AnnIndex::build(&vectors, quick()).expect("build");
    let path = vectors.path().to_path_buf();
    drop(vectors);
    assert_eq!(ann.vectors().path(), path);
    assert_eq!(
        ann.search(&[1.0, 0.0, 0.0], 3, None).expect("search").len(),
        3
    );
    let _ = VectorFile::open(&path).expect("open");
}
