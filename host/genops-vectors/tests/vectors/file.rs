//! Opening and verifying vectors files: each kind of damage is its own clear error.

use std::fs::OpenOptions;
use std::io::{Seek, SeekFrom, Write};

use genops_vectors::synth::random_unit_vectors;
use genops_vectors::{Error, VectorFile, HEADER_LEN, MAGIC};

use crate::common::{file, tempdir, write};

#[test]
fn a_written_file_reads_back_exactly() {
    let dir = tempdir();
    let data = random_unit_vectors(33, 7, 1);
    let vectors = write(dir.path(), "v.bin", 7, &data);
    assert_eq!((vectors.rows(), vectors.dim()), (33, 7));
    assert_eq!(vectors.data(), &data[..]);
    assert_eq!(vectors.row(32), Some(&data[32 * 7..]));
    assert_eq!(vectors.row(33), None);
    assert_eq!(vectors.payload_bytes(), 33 * 7 * 4);
    let len = std::fs::metadata(vectors.path()).expect("metadata").len();
    assert_eq!(len, (HEADER_LEN + 33 * 7 * 4) as u64);
    vectors.verify().expect("verify");
    // The payload starts at a 64-byte boundary in memory.
    assert_eq!(vectors.data().as_ptr() as usize % 64, 0);
}

#[test]
fn a_truncated_file_is_named_with_both_sizes() {
    let dir = tempdir();
    let vectors = write(dir.path(), "v.bin", 4, &random_unit_vectors(10, 4, 1));
    let path = vectors.path().to_path_buf();
    drop(vectors);
    let full = std::fs::metadata(&path).expect("metadata").len();
    OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(full - 6))
        .expect("truncate");
    let err = VectorFile::open(&path).unwrap_err();
    assert!(
        matches!(err, Error::Truncated { expected, found, .. } if expected == full && found == full - 6),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains("is truncated: expected 224 bytes, found 218"),
        "{message}"
    );
    assert!(
        message.ends_with("ingest the index again to rebuild it"),
        "{message}"
    );
}

#[test]
fn a_file_cut_inside_the_header_is_truncated() {
    let dir = tempdir();
    let vectors = write(dir.path(), "v.bin", 4, &random_unit_vectors(10, 4, 1));
    let path = vectors.path().to_path_buf();
    drop(vectors);
    OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|f| f.set_len(30))
        .expect("truncate");
    let err = VectorFile::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Truncated {
                expected: 64,
                found: 30,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn trailing_bytes_are_an_error() {
    let dir = tempdir();
    let vectors = write(dir.path(), "v.bin", 4, &random_unit_vectors(10, 4, 1));
    let path = vectors.path().to_path_buf();
    drop(vectors);
    OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(&[0; 8]))
        .expect("append");
    let err = VectorFile::open(&path).unwrap_err();
    assert!(
        matches!(err, Error::Oversized { found: 232, .. }),
        "{err:?}"
    );
}

#[test]
fn a_file_with_wrong_magic_is_not_a_vectors_file() {
    let dir = tempdir();
    let path = file(&dir, "notes.txt");
    std::fs::write(
        &path,
        "just some text that is not a vectors file at all, long enough",
    )
    .expect("write");
    let err = VectorFile::open(&path).unwrap_err();
    assert!(matches!(err, Error::BadMagic { .. }), "{err:?}");
    assert!(
        err.to_string().contains("is not a genops vectors file"),
        "{err}"
    );
}

#[test]
fn an_empty_file_is_named_empty() {
    let dir = tempdir();
    let path = file(&dir, "empty.bin");
    std::fs::write(&path, b"").expect("write");
    let err = VectorFile::open(&path).unwrap_err();
    assert!(matches!(err, Error::Empty { .. }), "{err:?}");
    assert!(err.to_string().contains("is empty"), "{err}");
}

#[test]
fn a_missing_file_is_an_io_error_with_its_path() {
    let dir = tempdir();
    let path = file(&dir, "absent.bin");
    let err = VectorFile::open(&path).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().starts_with("could not open "), "{err}");
    assert!(err.to_string().contains("absent.bin"), "{err}");
}

#[test]
fn a_flipped_payload_bit_opens_but_fails_verify() {
    let dir = tempdir();
    let vectors = write(dir.path(), "v.bin", 4, &random_unit_vectors(10, 4, 1));
    let path = vectors.path().to_path_buf();
    let checksum = vectors.checksum();
    drop(vectors);
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .expect("open");
    f.seek(SeekFrom::Start(HEADER_LEN as u64 + 17))
        .expect("seek");
    f.write_all(&[0x5a]).expect("write");
    drop(f);
    let vectors = VectorFile::open(&path).expect("the header is intact, open succeeds");
    let err = vectors.verify().unwrap_err();
    assert!(
        matches!(err, Error::ChecksumMismatch { expected, found, .. } if expected == checksum && found != checksum),
        "{err:?}"
    );
    assert!(err.to_string().contains("is corrupt"), "{err}");
}

#[test]
fn a_damaged_header_is_caught_on_open() {
    let dir = tempdir();
    let vectors = write(dir.path(), "v.bin", 4, &random_unit_vectors(10, 4, 1));
    let path = vectors.path().to_path_buf();
    drop(vectors);
    let mut bytes = std::fs::read(&path).expect("read");
    // Claim one row fewer: the size check alone would call this "trailing bytes", the header
    // checksum names the real problem.
    bytes[16] -= 1;
    std::fs::write(&path, &bytes).expect("write");
    let err = VectorFile::open(&path).unwrap_err();
    assert!(matches!(err, Error::CorruptHeader { .. }), "{err:?}");
}

#[test]
fn a_newer_format_version_is_refused() {
    let dir = tempdir();
    let path = file(&dir, "future.bin");
    let mut bytes = vec![0u8; HEADER_LEN];
    bytes[..8].copy_from_slice(&MAGIC);
    bytes[8..12].copy_from_slice(&7u32.to_le_bytes());
    std::fs::write(&path, &bytes).expect("write");
    let err = VectorFile::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnsupportedVersion {
                found: 7,
                supported: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("upgrade genops"), "{err}");
}
