//! Reading a vectors file: memory-mapped, header checked on open, payload checked on demand.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::Mmap;

use crate::error::{Error, Result};
use crate::exact::{self, Hit, RowFilter};
use crate::format::{Header, HEADER_LEN};
use crate::map;

/// A read-only, memory-mapped vectors file: the embeddings of one index version.
///
/// Opening reads and checks only the 64-byte header and the file size, so it is cheap
/// whatever the file holds; [`verify`](Self::verify) reads everything to check the payload
/// checksum. Cloning is cheap (the mapping is shared) and a `VectorFile` can be searched from
/// many threads at once.
///
/// ```no_run
/// use genops_vectors::VectorFile;
///
/// let vectors = VectorFile::open("index/v3/vectors.bin")?;
/// let query = vec![0.0f32; vectors.dim()];
/// for hit in vectors.search_exact(&query, 10, None)? {
///     println!("row {} score {}", hit.row, hit.score);
/// }
/// # Ok::<(), genops_vectors::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct VectorFile {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    map: Mmap,
    header: Header,
}

impl VectorFile {
    /// Opens and maps `path`, checking the magic bytes, the format version, the header
    /// checksum and that the size matches `dim * rows`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|e| Error::io("open", &path, e))?;
        let len = file
            .metadata()
            .map_err(|e| Error::io("read the size of", &path, e))?
            .len();
        if len == 0 {
            // Mapping zero bytes fails on some systems; say what is actually wrong.
            return Err(Error::Empty { path });
        }
        let map = map::map_read_only(&file).map_err(|e| Error::io("memory-map", &path, e))?;
        let head = &map[..map.len().min(HEADER_LEN)];
        let header = Header::decode(&path, head, len)?;
        // The map starts on a page boundary and the matrix 64 bytes in: always aligned. Check
        // anyway rather than trust it, since the rest of the crate relies on the view.
        if map::as_f32(&map[HEADER_LEN..]).is_none() {
            return Err(Error::CorruptHeader {
                path,
                reason: "the matrix is not aligned for f32 in memory".into(),
            });
        }
        Ok(VectorFile {
            inner: Arc::new(Inner { path, map, header }),
        })
    }

    /// The path the file was opened from.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Length of each vector.
    pub fn dim(&self) -> usize {
        self.inner.header.dim as usize
    }

    /// Number of rows (vectors).
    pub fn rows(&self) -> usize {
        self.inner.header.rows as usize
    }

    /// True if the file holds no rows.
    pub fn is_empty(&self) -> bool {
        self.inner.header.rows == 0
    }

    /// The crc32 of the payload recorded in the header; it identifies the content, which is
    /// how a saved ANN index knows which vectors it was built from.
    pub fn checksum(&self) -> u32 {
        self.inner.header.checksum
    }

    /// Size of the matrix in bytes (what a full scan reads).
    pub fn payload_bytes(&self) -> u64 {
        (self.inner.map.len() - HEADER_LEN) as u64
    }

    /// The whole matrix, row-major: row `i` is `data()[i * dim..(i + 1) * dim]`.
    pub fn data(&self) -> &[f32] {
        // Checked in `open`; an empty slice would be wrong but never unsafe.
        map::as_f32(&self.inner.map[HEADER_LEN..]).unwrap_or(&[])
    }

    /// Row `row`, or `None` past the end.
    pub fn row(&self, row: usize) -> Option<&[f32]> {
        let dim = self.dim();
        let start = row.checked_mul(dim)?;
        self.data().get(start..start.checked_add(dim)?)
    }

    /// Reads the whole payload and checks it against the header's checksum. Not done by
    /// [`open`](Self::open), because it reads every byte of the file; run it after copying
    /// an index version, in a health check, or when results look wrong.
    pub fn verify(&self) -> Result<()> {
        let found = crc32fast::hash(&self.inner.map[HEADER_LEN..]);
        let expected = self.checksum();
        if found != expected {
            return Err(Error::ChecksumMismatch {
                path: self.inner.path.clone(),
                expected,
                found,
            });
        }
        Ok(())
    }

    /// The `k` rows with the highest dot product with `query` (the cosine similarity, for
    /// unit vectors), best first, ties to the lower row, scanning every row on the calling
    /// thread. Rows for which `filter` returns false are skipped. `k = 0` returns nothing;
    /// a `k` larger than the row count returns every (allowed) row.
    pub fn search_exact(
        &self,
        query: &[f32],
        k: usize,
        filter: Option<&RowFilter<'_>>,
    ) -> Result<Vec<Hit>> {
        self.search_exact_threads(query, k, filter, 1)
    }

    /// [`search_exact`](Self::search_exact) with the scan split over `threads` threads
    /// (`0` means one per available core). The result does not depend on the thread count.
    pub fn search_exact_threads(
        &self,
        query: &[f32],
        k: usize,
        filter: Option<&RowFilter<'_>>,
        threads: usize,
    ) -> Result<Vec<Hit>> {
        self.check_query(query)?;
        Ok(exact::search(
            self.data(),
            self.dim(),
            query,
            k,
            filter,
            threads,
        ))
    }

    /// Checks a query's length and values.
    pub(crate) fn check_query(&self, query: &[f32]) -> Result<()> {
        if query.len() != self.dim() {
            return Err(Error::DimensionMismatch {
                what: "query".into(),
                expected: self.dim(),
                found: query.len(),
            });
        }
        crate::writer::check_finite(query, || "query".into())
    }
}
