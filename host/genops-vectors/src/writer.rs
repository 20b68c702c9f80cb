//! Writing a vectors file: through a temporary file in the same folder, renamed into place.

use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use tempfile::NamedTempFile;

use crate::error::{Error, Result};
use crate::format::{Header, HEADER_LEN, MAX_ROWS};

/// Writes the vectors of one index version, row by row, into a new vectors file.
///
/// The rows go to a temporary file next to the final path; only [`finish`](Self::finish)
/// writes the header, `fsync`s the file, renames it to the final name and `fsync`s the folder.
/// A writer dropped before `finish` (an error, a panic) deletes its temporary file; a process
/// killed mid-write leaves a hidden `.<name>.*.tmp` file behind but never a partial file under
/// the final name.
///
/// ```no_run
/// use genops_vectors::VectorWriter;
///
/// let mut writer = VectorWriter::create("index/v3/vectors.bin", 3)?;
/// writer.push(&[1.0, 0.0, 0.0])?;
/// writer.push(&[0.0, 1.0, 0.0])?;
/// let written = writer.finish()?;
/// assert_eq!(written.rows, 2);
/// # Ok::<(), genops_vectors::Error>(())
/// ```
#[derive(Debug)]
pub struct VectorWriter {
    path: PathBuf,
    dim: usize,
    rows: u64,
    hasher: crc32fast::Hasher,
    out: BufWriter<NamedTempFile>,
    buf: Vec<u8>,
}

/// What [`VectorWriter::finish`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WrittenFile {
    /// The final path of the file.
    pub path: PathBuf,
    /// Length of each vector.
    pub dim: usize,
    /// Number of rows.
    pub rows: usize,
    /// Size of the file in bytes.
    pub bytes: u64,
    /// The crc32 of the payload, as recorded in the header.
    pub checksum: u32,
}

impl VectorWriter {
    /// Starts a vectors file of `dim`-dimensional rows that will be named `path` once
    /// finished. The folder must exist. An existing file at `path` is replaced, atomically,
    /// only at `finish`.
    pub fn create(path: impl AsRef<Path>, dim: usize) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if dim == 0 || u32::try_from(dim).is_err() {
            return Err(Error::InvalidDimension(dim));
        }
        let dir = parent_dir(&path);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "vectors".to_string());
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| Error::io("create a temporary file in", dir, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, tmp);
        // A zeroed placeholder: the real header, with the row count and checksum, is written
        // at `finish`. A zeroed header has no magic, so even a copied temporary file can never
        // be mistaken for a complete vectors file.
        out.write_all(&[0u8; HEADER_LEN])
            .map_err(|e| Error::io("write", &path, e))?;
        Ok(VectorWriter {
            path,
            dim,
            rows: 0,
            hasher: crc32fast::Hasher::new(),
            out,
            buf: Vec::with_capacity(dim * 4),
        })
    }

    /// The dimension of every row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of rows pushed so far.
    pub fn rows(&self) -> usize {
        // Bounded by `MAX_ROWS`, which fits a `usize` on the 64-bit targets genops supports.
        self.rows as usize
    }

    /// Appends one vector and returns its row number. It must have [`dim`](Self::dim) finite
    /// values.
    pub fn push(&mut self, vector: &[f32]) -> Result<u32> {
        let row = self.rows;
        if row >= MAX_ROWS {
            return Err(Error::TooManyRows { max: MAX_ROWS });
        }
        if vector.len() != self.dim {
            return Err(Error::DimensionMismatch {
                what: format!("row {row}"),
                expected: self.dim,
                found: vector.len(),
            });
        }
        check_finite(vector, || format!("row {row}"))?;
        self.buf.clear();
        for v in vector {
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
        self.hasher.update(&self.buf);
        self.out
            .write_all(&self.buf)
            .map_err(|e| Error::io("write", &self.path, e))?;
        self.rows += 1;
        // `row < MAX_ROWS = u32::MAX`, checked above.
        Ok(row as u32)
    }

    /// Appends several rows given as one row-major slice (`len` a multiple of the dimension).
    pub fn push_rows(&mut self, rows: &[f32]) -> Result<()> {
        if !rows.len().is_multiple_of(self.dim) {
            return Err(Error::DimensionMismatch {
                what: format!(
                    "a block of {} values starting at row {}",
                    rows.len(),
                    self.rows
                ),
                expected: self.dim,
                found: rows.len() % self.dim,
            });
        }
        for row in rows.chunks_exact(self.dim) {
            self.push(row)?;
        }
        Ok(())
    }

    /// Writes the header, flushes and `fsync`s the file, renames it to its final name and
    /// `fsync`s the folder so that the rename itself survives a power loss.
    pub fn finish(self) -> Result<WrittenFile> {
        let VectorWriter {
            path,
            dim,
            rows,
            hasher,
            out,
            ..
        } = self;
        let checksum = hasher.finalize();
        let header = Header {
            // Checked in `create`.
            dim: dim as u32,
            rows,
            checksum,
        };
        let mut tmp = out
            .into_inner()
            .map_err(|e| Error::io("write", &path, e.into_error()))?;
        let file = tmp.as_file_mut();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.write_all(&header.encode()))
            .and_then(|_| file.sync_all())
            .map_err(|e| Error::io("write", &path, e))?;
        let bytes = header.file_len().unwrap_or(0);
        tmp.persist(&path)
            .map_err(|e| Error::io("rename into place", &path, e.error))?;
        sync_dir(parent_dir(&path))?;
        Ok(WrittenFile {
            path,
            dim,
            rows: rows as usize,
            bytes,
            checksum,
        })
    }
}

/// The folder a file lives in, `.` for a bare file name.
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `fsync`s a folder so that renames into it are durable. A no-op where folders cannot be
/// opened (Windows).
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| Error::io("sync folder", dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Rejects NaN and infinities, which have no place in a ranking by score.
pub(crate) fn check_finite(vector: &[f32], what: impl FnOnce() -> String) -> Result<()> {
    match vector.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(position) => Err(Error::NonFinite {
            what: what(),
            position,
            value: vector[position],
        }),
    }
}
