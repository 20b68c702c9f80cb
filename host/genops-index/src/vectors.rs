//! The vector half of a version: genops-vectors' memory-mapped matrix, and its HNSW graph
//! when the version was built with one.

use std::path::{Path, PathBuf};

use genops_search::VectorMode;
pub use genops_vectors::AnnConfig;
use genops_vectors::{AnnIndex, VectorFile, VectorWriter};

use crate::filter::RowSet;
use crate::Error;

const VECTORS_FILE: &str = "vectors.bin";

/// Writes the vectors of a version being built.
pub(crate) struct VectorsWriter {
    writer: VectorWriter,
    path: PathBuf,
}

impl VectorsWriter {
    pub(crate) fn create(dir: &Path, dimensions: u32) -> Result<Self, Error> {
        let path = dir.join(VECTORS_FILE);
        Ok(Self {
            writer: VectorWriter::create(&path, dimensions as usize)?,
            path,
        })
    }

    pub(crate) fn push(&mut self, vector: &[f32]) -> Result<(), Error> {
        self.writer.push(vector)?;
        Ok(())
    }

    /// Finishes the file and builds the graph when asked and there is something to link.
    /// Returns whether a graph was built.
    pub(crate) fn finish(self, ann: Option<&AnnConfig>) -> Result<bool, Error> {
        self.writer.finish()?;
        let Some(config) = ann else {
            return Ok(false);
        };
        let file = VectorFile::open(&self.path)?;
        if file.is_empty() {
            return Ok(false);
        }
        AnnIndex::build(&file, config.clone())?.save()?;
        Ok(true)
    }
}

/// The vectors of an opened version.
pub struct Vectors {
    file: VectorFile,
    ann: Option<AnnIndex>,
}

impl Vectors {
    pub(crate) fn open(dir: &Path, dimensions: u32, rows: u32, ann: bool) -> Result<Self, Error> {
        let path = dir.join(VECTORS_FILE);
        let file = VectorFile::open(&path)?;
        if file.dim() != dimensions as usize || file.rows() != rows as usize {
            return Err(Error::Damaged {
                path,
                message: format!(
                    "{} vectors of {} dimensions, but version.json says {rows} of {dimensions}",
                    file.rows(),
                    file.dim()
                ),
            });
        }
        let ann = if ann {
            Some(AnnIndex::load(&file)?)
        } else {
            None
        };
        Ok(Self { file, ann })
    }

    /// The matrix.
    pub fn file(&self) -> &VectorFile {
        &self.file
    }

    /// The graph, when the version has one.
    pub fn ann(&self) -> Option<&AnnIndex> {
        self.ann.as_ref()
    }

    /// The vector of one row (empty past the last row).
    pub fn row(&self, row: u32) -> &[f32] {
        self.file.row(row as usize).unwrap_or(&[])
    }

    /// The `k` nearest rows to `query` by dot product, best first, among `allowed` rows.
    pub(crate) fn search(
        &self,
        query: &[f32],
        k: usize,
        allowed: Option<&RowSet>,
        mode: VectorMode,
    ) -> Result<Vec<(u32, f32)>, Error> {
        let keep = |row: u32| allowed.is_none_or(|set| set.contains(row));
        let filter: Option<&genops_vectors::RowFilter<'_>> = allowed
            .is_some()
            .then_some(&keep as &genops_vectors::RowFilter<'_>);
        let hits = match (mode, &self.ann) {
            (VectorMode::Approximate, None) => {
                return Err(Error::NoAnn {
                    dir: self
                        .file
                        .path()
                        .parent()
                        .map(Path::to_path_buf)
                        .unwrap_or_default(),
                })
            }
            // The graph cannot honour a filter without losing recall; filtered queries scan.
            (VectorMode::Approximate | VectorMode::Auto, Some(ann)) if filter.is_none() => {
                ann.search(query, k, None)?
            }
            _ => self.file.search_exact(query, k, filter)?,
        };
        Ok(hits.into_iter().map(|h| (h.row, h.score)).collect())
    }
}
