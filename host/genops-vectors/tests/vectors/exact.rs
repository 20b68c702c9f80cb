//! Exact search against brute force.

use genops_vectors::synth::{random_unit_vectors, Rng};
use genops_vectors::{Error, Hit};

use crate::common::{naive_top_k, tempdir, write};

#[test]
fn exact_search_equals_brute_force_for_several_dimensions_and_k() {
    let dir = tempdir();
    for (i, dim) in [1usize, 3, 16, 17, 64, 385].into_iter().enumerate() {
        let rows = 1500;
        let data = random_unit_vectors(rows, dim, 10 + i as u64);
        let vectors = write(dir.path(), &format!("v{dim}.bin"), dim, &data);
        let mut rng = Rng::new(99);
        for k in [0usize, 1, 10, 99, rows - 1, rows, rows + 7] {
            let query = rng.unit_vector(dim);
            let expected = naive_top_k(&data, dim, &query, k, |_| true);
            let got = vectors.search_exact(&query, k, None).expect("search");
            assert_eq!(got, expected, "dim {dim} k {k}");
            assert_eq!(got.len(), k.min(rows));
            for threads in [0, 2, 3] {
                let threaded = vectors
                    .search_exact_threads(&query, k, None, threads)
                    .expect("search");
                assert_eq!(threaded, expected, "dim {dim} k {k} threads {threads}");
            }
        }
    }
}

#[test]
fn threaded_search_splits_large_files_the_same() {
    // Large enough that the scan really runs on several threads (4096 rows per thread).
    let dir = tempdir();
    let (rows, dim) = (20_000, 8);
    let data = random_unit_vectors(rows, dim, 5);
    let vectors = write(dir.path(), "v.bin", dim, &data);
    let query = Rng::new(6).unit_vector(dim);
    let expected = naive_top_k(&data, dim, &query, 25, |_| true);
    for threads in [1, 2, 3, 5] {
        let got = vectors
            .search_exact_threads(&query, 25, None, threads)
            .expect("search");
        assert_eq!(got, expected, "threads {threads}");
    }
}

#[test]
fn ties_go_to_the_lower_row() {
    let dir = tempdir();
    // Rows 0, 2 and 3 are the same vector; row 1 is worse.
    let data = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0];
    let vectors = write(dir.path(), "ties.bin", 2, &data);
    let got = vectors.search_exact(&[1.0, 0.0], 3, None).expect("search");
    let rows: Vec<u32> = got.iter().map(|h| h.row).collect();
    assert_eq!(rows, vec![0, 2, 3]);
}

#[test]
fn filters_restrict_results() {
    let dir = tempdir();
    let (rows, dim) = (3000, 12);
    let data = random_unit_vectors(rows, dim, 7);
    let vectors = write(dir.path(), "f.bin", dim, &data);
    let query = Rng::new(8).unit_vector(dim);
    let keep = |row: u32| row % 7 == 3;
    for threads in [1, 2] {
        let got = vectors
            .search_exact_threads(&query, 20, Some(&keep), threads)
            .expect("search");
        assert_eq!(got.len(), 20);
        assert!(got.iter().all(|h| keep(h.row)));
        assert_eq!(got, naive_top_k(&data, dim, &query, 20, keep));
    }
    // A bitset of allowed rows works the same way.
    let mut allowed = vec![false; rows];
    for row in [5usize, 17, 2999] {
        allowed[row] = true;
    }
    let by_set = |row: u32| allowed[row as usize];
    let got = vectors
        .search_exact(&query, 10, Some(&by_set))
        .expect("search");
    let mut rows_found: Vec<u32> = got.iter().map(|h| h.row).collect();
    rows_found.sort_unstable();
    assert_eq!(rows_found, vec![5, 17, 2999]);
    // A filter that rejects everything returns nothing.
    let none = vectors
        .search_exact(&query, 10, Some(&|_| false))
        .expect("search");
    assert!(none.is_empty());
}

#[test]
fn a_query_of_the_wrong_dimension_is_an_error() {
    let dir = tempdir();
    let vectors = write(dir.path(), "d.bin", 4, &random_unit_vectors(10, 4, 1));
    let err = vectors.search_exact(&[1.0, 0.0, 0.0], 3, None).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DimensionMismatch {
                expected: 4,
                found: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "query has 3 dimensions but the vectors have 4; embed it with the model the index \
         version was built with"
    );
    // Even with k = 0: a bad query is a bug worth reporting.
    assert!(vectors.search_exact(&[1.0; 5], 0, None).is_err());
}

#[test]
fn a_non_finite_query_is_an_error() {
    let dir = tempdir();
    let vectors = write(dir.path(), "n.bin", 3, &random_unit_vectors(10, 3, 1));
    let err = vectors
        .search_exact(&[0.0, f32::NAN, 1.0], 3, None)
        .unwrap_err();
    assert!(
        matches!(err, Error::NonFinite { position: 1, .. }),
        "{err:?}"
    );
}

#[test]
fn an_empty_file_returns_nothing() {
    let dir = tempdir();
    let vectors = write(dir.path(), "e.bin", 5, &[]);
    assert_eq!(vectors.rows(), 0);
    let got: Vec<Hit> = vectors.search_exact(&[0.0; 5], 10, None).expect("search");
    assert!(got.is_empty());
    vectors.verify().expect("an empty payload verifies");
}
