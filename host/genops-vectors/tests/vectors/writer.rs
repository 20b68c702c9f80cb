//! The writer: validation and crash safety.

use genops_vectors::{Error, VectorFile, VectorWriter};

use crate::common::{file, tempdir};

#[test]
fn a_writer_dropped_without_finish_leaves_nothing() {
    let dir = tempdir();
    let path = file(&dir, "vectors.bin");
    {
        let mut writer = VectorWriter::create(&path, 3).expect("create");
        writer.push(&[1.0, 2.0, 3.0]).expect("push");
        // Simulates an ingest that fails halfway: the writer goes out of scope unfinished.
    }
    assert!(!path.exists(), "no file may appear under the final name");
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("list").collect();
    assert!(
        left.is_empty(),
        "the temporary file is removed too: {left:?}"
    );
}

#[test]
fn an_unfinished_writer_never_shows_under_the_final_name() {
    let dir = tempdir();
    let path = file(&dir, "vectors.bin");
    let mut writer = VectorWriter::create(&path, 2).expect("create");
    for i in 0..10_000 {
        writer.push(&[i as f32, 1.0]).expect("push");
    }
    // Mid-write, as a crash would leave it: only a hidden temporary file exists.
    assert!(!path.exists());
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1);
    assert!(
        names[0].starts_with(".vectors.bin.") && names[0].ends_with(".tmp"),
        "{names:?}"
    );
    let written = writer.finish().expect("finish");
    assert_eq!(written.rows, 10_000);
    assert_eq!(VectorFile::open(&path).expect("open").rows(), 10_000);
}

#[test]
fn finishing_replaces_an_older_file_atomically() {
    let dir = tempdir();
    let path = file(&dir, "vectors.bin");
    let mut first = VectorWriter::create(&path, 2).expect("create");
    first.push(&[1.0, 0.0]).expect("push");
    first.finish().expect("finish");
    let old = VectorFile::open(&path).expect("open");

    let mut second = VectorWriter::create(&path, 2).expect("create");
    second.push(&[0.0, 1.0]).expect("push");
    second.push(&[0.5, 0.5]).expect("push");
    second.finish().expect("finish");

    // The old mapping still sees the old content; a new open sees the new one.
    assert_eq!(old.rows(), 1);
    assert_eq!(old.row(0), Some(&[1.0, 0.0][..]));
    old.verify().expect("the old mapping is intact");
    assert_eq!(VectorFile::open(&path).expect("open").rows(), 2);
}

#[test]
fn bad_rows_are_refused_and_the_writer_stays_usable() {
    let dir = tempdir();
    let path = file(&dir, "vectors.bin");
    let mut writer = VectorWriter::create(&path, 3).expect("create");
    let err = writer.push(&[1.0, 2.0]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DimensionMismatch {
                expected: 3,
                found: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string().split(';').next(),
        Some("row 0 has 2 dimensions but the vectors have 3")
    );
    let err = writer.push(&[1.0, f32::INFINITY, 0.0]).unwrap_err();
    assert!(
        matches!(err, Error::NonFinite { position: 1, .. }),
        "{err:?}"
    );
    assert!(writer.push_rows(&[1.0; 4]).is_err());
    assert_eq!(writer.push(&[1.0, 2.0, 3.0]).expect("push"), 0);
    assert_eq!(writer.push(&[4.0, 5.0, 6.0]).expect("push"), 1);
    assert_eq!(writer.finish().expect("finish").rows, 2);
}

#[test]
fn a_zero_dimension_is_refused() {
    let dir = tempdir();
    let err = VectorWriter::create(file(&dir, "v.bin"), 0).unwrap_err();
    assert!(matches!(err, Error::InvalidDimension(0)), "{err:?}");
}

#[test]
fn a_missing_folder_is_an_io_error() {
    let dir = tempdir();
    let err = VectorWriter::create(dir.path().join("no/such/folder/v.bin"), 3).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
}
