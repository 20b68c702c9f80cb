//! Index versions of genops: the searchable half of a versioned RAG index.
//!
//! One index version is one folder, written once by a [`VersionBuilder`] and then only read
//! by an [`IndexVersion`]: a tantivy index for BM25 over the chunk text, the chunk vectors
//! in a memory-mapped matrix (genops-vectors) with an optional approximate graph, and a row
//! table with each chunk's id, source, offsets and metadata. Rows number the chunks of a
//! version; the same row is the tantivy document and the vector.
//!
//! Filters ([`Filter`]) are evaluated once per query into the set of rows they allow, which
//! the text and the vector search then honour alike; a filter on a field the version does
//! not have is an error that lists the fields it has.
//!
//! [`OpenOnUse`] offers live versions by name through the search port of `genops-search`
//! ([`Indexes`]), which is how the plugin runtime sees indexes without depending on this
//! crate.
//!
//! Which version of an index is live, and what each was made from, is the store's business
//! (genops-store); this crate knows folders.

mod error;
mod filter;
mod live;
mod vectors;
mod version;

pub use error::Error;
pub use filter::{Filter, FilterOp, RowSet};
/// The search port this crate implements, and the result types its own search API returns;
/// re-exported so callers need not name both crates.
pub use genops_search::{ChunkRecord, IndexInfo, Indexes, Scored, SearchIndex, VectorMode};
pub use live::{LiveIndex, LiveLocation, OpenOnUse};
pub use vectors::{AnnConfig, Vectors};
pub use version::{IndexVersion, NewRow, VersionBuilder, VersionMeta, BUILTIN_FIELDS, FORMAT};

/// Removes the leftovers of builds that never finished (a process killed mid-ingest) from
/// `dir`, the folder that holds an index's version folders. Returns how many were removed.
pub fn remove_partial_builds(dir: &std::path::Path) -> Result<usize, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(Error::io("cannot list", dir, e)),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if let Some((_, pid)) = name.rsplit_once(".building-") {
            // A build of a live process (this one, or another ingest running now) stays.
            let alive = pid
                .parse::<u32>()
                .is_ok_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
            if !alive {
                std::fs::remove_dir_all(entry.path())
                    .map_err(|e| Error::io("cannot remove", &entry.path(), e))?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}
