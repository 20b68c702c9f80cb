//! The vector half of a versioned RAG index: the chunk embeddings of one index version,
//! stored in one file and searched exactly or approximately.
//!
//! An ingest writes one vectors file per index version with a [`VectorWriter`]; queries then
//! open it as a [`VectorFile`] (memory-mapped, read-only) and search it with
//! [`VectorFile::search_exact`] or through an [`AnnIndex`] built from it. Row `i` is the
//! vector of the `i`-th chunk of that version; mapping rows to chunk ids is the caller's job.
//! Vectors are usually the 384-dimensional unit vectors of all-MiniLM-L6-v2, but any
//! dimension works, and scores are plain dot products (the cosine similarity for unit
//! vectors).
//!
//! ```
//! use genops_vectors::{AnnConfig, AnnIndex, VectorFile, VectorWriter};
//!
//! # let dir = tempfile::tempdir()?;
//! let path = dir.path().join("vectors.bin");
//! # let embeddings = genops_vectors::synth::random_unit_vectors(200, 384, 7);
//! // Ingest, once per index version: row i is the vector of chunk i.
//! let mut writer = VectorWriter::create(&path, 384)?;
//! for vector in embeddings.chunks_exact(384) {
//!     writer.push(vector)?;
//! }
//! writer.finish()?;
//! AnnIndex::build(&VectorFile::open(&path)?, AnnConfig::default())?.save()?;
//!
//! // Queries, many times.
//! let vectors = VectorFile::open(&path)?;
//! let ann = AnnIndex::load(&vectors)?;
//! let query = &embeddings[384..768];
//! let exact = vectors.search_exact(query, 10, None)?;
//! assert_eq!(exact[0].row, 1);
//! let approx = ann.search(query, 10, None)?;
//! assert_eq!(approx[0], exact[0]);
//! let even_rows = ann.search(query, 10, Some(&|row: u32| row.is_multiple_of(2)))?;
//! assert!(even_rows.iter().all(|hit| hit.row % 2 == 0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The file format
//!
//! ```text
//! offset  size  field
//!      0     8  magic "GENOPSVX"
//!      8     4  format version, u32 (1)
//!     12     4  dimension, u32 (>= 1)
//!     16     8  rows, u64 (<= u32::MAX: row numbers are u32)
//!     24     4  crc32 of the payload
//!     28     4  element type, u32 (0 = f32 little-endian, the only one so far)
//!     32    28  reserved, zero
//!     60     4  crc32 of bytes 0..60
//!     64     -  payload: rows * dimension f32, little-endian, row-major
//! ```
//!
//! All integers are little-endian. The payload starts at byte 64, so in a mapping (which
//! starts on a page boundary) it is 64-byte aligned and is read in place as `&[f32]`, with
//! no copy and no parsing; this is also why the crate supports little-endian targets only.
//!
//! # Why this design
//!
//! - **One flat file per version, written once.** An index version never changes, so its
//!   vectors need no update path: a contiguous matrix is the smallest layout and the fastest
//!   to scan. The writer streams into a temporary file in the same folder and renames it
//!   into place at [`VectorWriter::finish`] after `fsync`, so a crash never leaves a partial
//!   file under the final name, and a reader mapping an older file under the same name keeps
//!   its own consistent copy.
//! - **Memory-mapped, checked cheaply on open.** [`VectorFile::open`] reads only the header
//!   and compares the file size with `dim * rows`: a truncated, foreign, newer or damaged
//!   header is a clear [`Error`] at once, whatever the file's size. The payload checksum is
//!   checked by [`VectorFile::verify`] only, because it reads the whole file; the page cache
//!   is shared between processes, and opening a large index stays instant. The one `unsafe`
//!   call (the map) sits in a private module with its safety argument.
//! - **Exact search is a memory-bound scan.** [`dot`] keeps sixteen independent sums, which
//!   the compiler turns into SIMD code on every target without `unsafe` or feature detection;
//!   at that point the scan runs at the speed memory delivers rows, which is the bound
//!   [`memory_bandwidth_gbs`] measures. A bounded heap keeps the top `k`
//!   (ties go to the lower row), and [`VectorFile::search_exact_threads`] splits the scan
//!   across threads. Exact search is the reference, the fallback, and often simply fast
//!   enough: a few hundred thousand chunks scan in tens of milliseconds.
//! - **ANN through `hnsw_rs`.** [`AnnIndex`] wraps the HNSW graph of the pure-Rust `hnsw_rs`
//!   crate: it builds in parallel, can dump itself to disk and load back, and needs no
//!   native library or build-time download. Its dump is saved next to the vectors file
//!   (see [`AnnFiles`]) with a small metadata file that records which vectors file it was
//!   built from and the checksums of the dump, so a stale or damaged index is refused with a
//!   clear error rather than read. Two costs of that crate: the graph keeps its own copy of
//!   the vectors, in memory and in the `.hnsw.data` file, and loading parses every point.
//!   Scores of ANN hits are recomputed from the vectors file, so they equal exact scores.
//! - **Filtered ANN falls back to exact.** [`AnnIndex::search`] with a filter runs the exact
//!   filtered scan. Filtering inside an HNSW walk loses recall as the filter gets selective
//!   (the graph's paths run through excluded nodes), and the caller's filter is an opaque
//!   closure whose selectivity we cannot know up front. The exact scan is always correct and
//!   costs one pass over the matrix, and a filter that rejects a row skips its dot product.
//! - **Uniform random vectors are the worst case for HNSW.** They have no low-dimensional
//!   structure: every point is almost equally far from a query, so the graph walk cannot
//!   home in. At 300,000 such vectors of 384 dimensions and the default `M = 16`, recall@10
//!   reached only about 0.8 at `ef_search = 4096`, slower than the exact scan; on clustered
//!   vectors (as text embeddings are) of the same dimension, `ef_search = 16` gave 0.96 at
//!   four times the exact scan's speed on 30,000 rows. [`bench()`] measures what it takes
//!   rather than assume it, and [`recall_at_k`] measures recall for any index and query
//!   set. For a few hundred thousand chunks the exact scan (tens of milliseconds) is a
//!   sound default; the ANN index pays off on larger, structured corpora.

#![warn(missing_docs)]

mod ann;
mod bandwidth;
mod bench;
mod error;
mod exact;
mod file;
mod format;
mod map;
pub mod synth;
mod writer;

#[cfg(target_endian = "big")]
compile_error!(
    "genops-vectors reads little-endian f32 in place and supports little-endian targets only"
);

pub use ann::{recall_at_k, AnnConfig, AnnFiles, AnnIndex, MAX_BUILD_THREADS, MAX_EF};
pub use bandwidth::{memory_bandwidth_gbs, memory_bandwidth_gbs_threads};
pub use bench::{
    bench, AnnFigures, AnnPoint, ExactFigures, VectorBench, MAX_EF_SEARCH, RECALL_TARGET,
};
pub use error::{Error, Result};
pub use exact::{dot, Hit, RowFilter};
pub use file::VectorFile;
pub use format::{FORMAT_VERSION, HEADER_LEN, MAGIC, MAX_ROWS};
pub use writer::{VectorWriter, WrittenFile};

/// Compile-time check that the handles can be shared across threads (a query server's
/// workers search one index concurrently).
#[allow(dead_code)]
fn assert_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<VectorFile>();
    is::<AnnIndex>();
}
