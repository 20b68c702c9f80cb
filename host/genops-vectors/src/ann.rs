//! Approximate search: an HNSW graph (the `hnsw_rs` crate) over a [`VectorFile`], saved next
//! to it and loaded back.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::Instant;

use hnsw_rs::api::AnnT;
use hnsw_rs::prelude::{Distance, Hnsw, HnswIo};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::exact::{dot, Hit, RowFilter};
use crate::file::VectorFile;
use crate::writer::{parent_dir, sync_dir};

/// Version of the ANN metadata file; bumped when the saved layout changes.
const ANN_FORMAT: u32 = 1;

/// Most layers `hnsw_rs` supports; it caps the value itself.
const MAX_LAYERS: usize = 16;

/// Largest `ef_construction` and `ef_search`: hnsw_rs keeps a candidate list of that many
/// entries per insert or query, so a mistyped huge value means a huge allocation; recall
/// stops improving long before (the benchmarks sweep up to 1,024).
pub const MAX_EF: usize = 100_000;

/// Most build threads: more than any machine has cores, few enough that a mistyped value
/// cannot exhaust the process's threads.
pub const MAX_BUILD_THREADS: usize = 1_024;

/// The parameters of an HNSW index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnConfig {
    /// Links per node and layer (`M`; the bottom layer keeps up to `2 * M`). More links raise
    /// recall at a given `ef_search` and cost memory and build time. Between 2 and 255.
    pub m: usize,
    /// Candidates examined when inserting a node. Higher builds a better graph, slower.
    pub ef_construction: usize,
    /// Candidates examined per query (raised to `k` when smaller). The recall/speed dial:
    /// it can be changed after building or loading with [`AnnIndex::set_ef_search`].
    pub ef_search: usize,
    /// Threads used to build the graph; 0 means one per available core.
    pub build_threads: usize,
}

impl Default for AnnConfig {
    /// `M = 16`, `ef_construction = 200`, `ef_search = 64`, all cores: the common defaults of
    /// HNSW libraries, good for embeddings of real text (which have far lower intrinsic
    /// dimension than their 384 coordinates). See the crate documentation for what uniform
    /// random vectors need.
    fn default() -> Self {
        AnnConfig {
            m: 16,
            ef_construction: 200,
            ef_search: 64,
            build_threads: 0,
        }
    }
}

impl AnnConfig {
    /// Checks every field's range.
    pub fn validate(&self) -> Result<()> {
        // hnsw_rs stores M in a byte and exits the process above 256: refuse before that.
        if !(2..=255).contains(&self.m) {
            return Err(Error::InvalidConfig(format!(
                "ann m is {} but must be between 2 and 255",
                self.m
            )));
        }
        if !(1..=MAX_EF).contains(&self.ef_construction) {
            return Err(Error::InvalidConfig(format!(
                "ann ef_construction is {} but must be between 1 and {MAX_EF}",
                self.ef_construction
            )));
        }
        check_ef_search(self.ef_search)?;
        if self.build_threads > MAX_BUILD_THREADS {
            return Err(Error::InvalidConfig(format!(
                "ann build_threads is {} but must be at most {MAX_BUILD_THREADS} (0 means one per core)",
                self.build_threads
            )));
        }
        Ok(())
    }
}

/// The distance handed to `hnsw_rs`: a strictly decreasing, positive function of the dot
/// product.
///
/// HNSW only ever compares distances, so any strictly decreasing function of the dot product
/// builds the same graph and finds the same neighbours as `1 - dot`. `hnsw_rs` asserts that
/// distances are non-negative and panics on NaN; `1 - dot` goes slightly negative for a unit
/// vector against itself (rounding) and arbitrarily negative for non-unit vectors, while
/// this function is positive for every finite dot product. Scores returned to callers are
/// recomputed exactly from the vectors file, never derived from this value.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DotDistance;

impl Distance<f32> for DotDistance {
    fn eval(&self, a: &[f32], b: &[f32]) -> f32 {
        let d = dot(a, b);
        if d > 0.0 {
            1.0 / (1.0 + d)
        } else if d <= 0.0 {
            1.0 - d
        } else {
            // NaN: only reachable by overflow with huge values; rank it last.
            f32::INFINITY
        }
    }
}

fn check_ef_search(ef_search: usize) -> Result<()> {
    if !(1..=MAX_EF).contains(&ef_search) {
        return Err(Error::InvalidConfig(format!(
            "ann ef_search is {ef_search} but must be between 1 and {MAX_EF}"
        )));
    }
    Ok(())
}

type HnswGraph<'a> = Hnsw<'a, f32, DotDistance>;

self_cell::self_cell!(
    /// `hnsw_rs` ties a loaded graph to the `HnswIo` that read it; this keeps the two together.
    /// A graph built in memory gets an unused default `HnswIo`.
    struct Graph {
        owner: HnswIo,
        #[not_covariant]
        dependent: HnswGraph,
    }
);

/// The files of a saved ANN index, next to the vectors file `<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnFiles {
    /// `<name>.hnsw.graph`: the HNSW links (hnsw_rs's dump format).
    pub graph: PathBuf,
    /// `<name>.hnsw.data`: the vectors as hnsw_rs stores them (a second copy).
    pub data: PathBuf,
    /// `<name>.hnsw.json`: the parameters, which vectors file the index belongs to, and the
    /// sizes and checksums of the two other files. Written last: its presence commits a save.
    pub meta: PathBuf,
}

impl AnnFiles {
    /// The files of the ANN index of the vectors file at `vectors`.
    pub fn for_vectors(vectors: &Path) -> AnnFiles {
        let dir = parent_dir(vectors);
        let name = basename(vectors).unwrap_or_else(|_| "vectors".into());
        AnnFiles {
            graph: dir.join(format!("{name}.hnsw.graph")),
            data: dir.join(format!("{name}.hnsw.data")),
            meta: dir.join(format!("{name}.hnsw.json")),
        }
    }
}

/// The file name hnsw_rs builds its file names from: the vectors file's own name.
fn basename(vectors: &Path) -> Result<String> {
    vectors
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| {
            Error::InvalidConfig(format!(
                "the ann index needs a vectors file with a UTF-8 file name, not {}",
                vectors.display()
            ))
        })
}

/// Size and crc32 of a saved file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct FileSum {
    bytes: u64,
    crc32: u32,
}

/// The content of `<name>.hnsw.json`.
#[derive(Debug, Serialize, Deserialize)]
struct AnnMeta {
    format: u32,
    vectors_rows: u64,
    vectors_dim: u64,
    vectors_checksum: u32,
    config: AnnConfig,
    build_seconds: f64,
    /// Absent for an index of zero rows, which has no graph.
    graph: Option<FileSum>,
    data: Option<FileSum>,
}

/// An HNSW index over the rows of a [`VectorFile`].
///
/// Scores are the exact dot products, recomputed from the vectors file for the rows the
/// graph finds, so that ANN and exact results compare directly. A search with a filter runs
/// the exact filtered scan instead (see the crate documentation for why).
///
/// ```no_run
/// use genops_vectors::{AnnConfig, AnnIndex, VectorFile};
///
/// let vectors = VectorFile::open("index/v3/vectors.bin")?;
/// let ann = match AnnIndex::load(&vectors) {
///     Ok(ann) => ann,
///     Err(_) => {
///         let ann = AnnIndex::build(&vectors, AnnConfig::default())?;
///         ann.save()?;
///         ann
///     }
/// };
/// let hits = ann.search(&vec![0.0; vectors.dim()], 10, None)?;
/// # Ok::<(), genops_vectors::Error>(())
/// ```
pub struct AnnIndex {
    vectors: VectorFile,
    config: AnnConfig,
    graph: Option<Graph>,
    build_seconds: f64,
}

impl std::fmt::Debug for AnnIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnnIndex")
            .field("vectors", &self.vectors.path())
            .field("rows", &self.vectors.rows())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AnnIndex {
    /// Builds the graph over every row of `vectors`, in parallel on
    /// [`build_threads`](AnnConfig::build_threads) threads. The index keeps a handle on
    /// `vectors` (a cheap clone) for rescoring and filtered searches.
    pub fn build(vectors: &VectorFile, config: AnnConfig) -> Result<AnnIndex> {
        config.validate()?;
        let start = Instant::now();
        let rows = vectors.rows();
        let dim = vectors.dim();
        let graph = if rows == 0 {
            None
        } else {
            // `open` does not read the payload; a NaN in it would make hnsw_rs panic.
            crate::writer::check_finite(vectors.data(), || "the vectors file".into()).map_err(
                |e| match e {
                    Error::NonFinite {
                        position, value, ..
                    } => Error::NonFinite {
                        what: format!("row {} of {}", position / dim, vectors.path().display()),
                        position: position % dim,
                        value,
                    },
                    other => other,
                },
            )?;
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(config.build_threads)
                .thread_name(|i| format!("genops-hnsw-{i}"))
                .build()
                .map_err(|e| Error::Hnsw(format!("could not start the build threads: {e}")))?;
            let items: Vec<(&[f32], usize)> = vectors
                .data()
                .chunks_exact(dim)
                .enumerate()
                .map(|(row, v)| (v, row))
                .collect();
            let graph = Graph::new(HnswIo::default(), |_| {
                let hnsw = Hnsw::new(
                    config.m,
                    rows,
                    MAX_LAYERS,
                    config.ef_construction,
                    DotDistance,
                );
                pool.install(|| hnsw.parallel_insert_slice(&items));
                hnsw
            });
            Some(graph)
        };
        Ok(AnnIndex {
            vectors: vectors.clone(),
            config,
            graph,
            build_seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// Saves the index next to its vectors file (see [`AnnFiles`]), replacing any earlier
    /// save. The files are written into a temporary folder beside them, `fsync`ed and renamed
    /// into place; the old metadata file is removed first and the new one renamed in last, so
    /// a crash mid-save leaves no index ([`Error::AnnMissing`] on load), never a mix of old
    /// and new files. One process saves a given index at a time.
    pub fn save(&self) -> Result<AnnFiles> {
        let vectors_path = self.vectors.path();
        basename(vectors_path)?;
        let files = AnnFiles::for_vectors(vectors_path);
        let dir = parent_dir(vectors_path);
        let tmp = tempfile::Builder::new()
            .prefix(".hnsw-save.")
            .tempdir_in(dir)
            .map_err(|e| Error::io("create a temporary folder in", dir, e))?;
        // The metadata goes first, so that from here until the new one is in place a load
        // finds no index (and says so) rather than a mix of old and new files.
        remove_if_present(&files.meta)?;
        let (mut graph_sum, mut data_sum) = (None, None);
        match &self.graph {
            Some(graph) => {
                const STAGED: &str = "index";
                let dumped = catch_unwind(AssertUnwindSafe(|| {
                    graph.with_dependent(|_, hnsw| hnsw.file_dump(tmp.path(), STAGED))
                }))
                .map_err(|_| Error::Hnsw("the hnsw dump failed".into()))?
                .map_err(|e| Error::Hnsw(format!("could not save the graph: {e:#}")))?;
                for (kind, target, sum) in [
                    ("graph", &files.graph, &mut graph_sum),
                    ("data", &files.data, &mut data_sum),
                ] {
                    let staged = tmp.path().join(format!("{dumped}.hnsw.{kind}"));
                    *sum = Some(sync_and_sum(&staged)?);
                    std::fs::rename(&staged, target)
                        .map_err(|e| Error::io("rename into place", target, e))?;
                }
            }
            None => {
                // An empty index has no graph: drop those of an earlier save.
                remove_if_present(&files.graph)?;
                remove_if_present(&files.data)?;
            }
        }
        let meta = AnnMeta {
            format: ANN_FORMAT,
            vectors_rows: self.vectors.rows() as u64,
            vectors_dim: self.vectors.dim() as u64,
            vectors_checksum: self.vectors.checksum(),
            config: self.config.clone(),
            build_seconds: self.build_seconds,
            graph: graph_sum,
            data: data_sum,
        };
        let staged = tmp.path().join("meta.json");
        let json = serde_json::to_vec_pretty(&meta)
            .map_err(|e| Error::Hnsw(format!("could not encode the ann metadata: {e}")))?;
        File::create(&staged)
            .and_then(|mut f| f.write_all(&json).and_then(|_| f.sync_all()))
            .map_err(|e| Error::io("write", &staged, e))?;
        std::fs::rename(&staged, &files.meta)
            .map_err(|e| Error::io("rename into place", &files.meta, e))?;
        sync_dir(dir)?;
        Ok(files)
    }

    /// Loads the index saved next to `vectors`, after checking that it was built from this
    /// very file (row count, dimension and payload checksum) and that its files are intact
    /// (sizes and crc32, which reads them once). `ef_search` is the one saved; change it with
    /// [`set_ef_search`](Self::set_ef_search).
    pub fn load(vectors: &VectorFile) -> Result<AnnIndex> {
        let files = AnnFiles::for_vectors(vectors.path());
        let missing = |path: &Path| Error::AnnMissing {
            vectors: vectors.path().to_path_buf(),
            missing: path.to_path_buf(),
        };
        let json = match std::fs::read(&files.meta) {
            Ok(json) => json,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing(&files.meta)),
            Err(e) => return Err(Error::io("read", &files.meta, e)),
        };
        let meta: AnnMeta = serde_json::from_slice(&json).map_err(|e| Error::AnnCorrupt {
            path: files.meta.clone(),
            reason: format!("not valid ann metadata: {e}"),
        })?;
        if meta.format != ANN_FORMAT {
            return Err(Error::AnnStale {
                path: files.meta.clone(),
                reason: format!(
                    "saved in ann format {} but this build of genops reads {ANN_FORMAT}",
                    meta.format
                ),
            });
        }
        let mine = (
            vectors.rows() as u64,
            vectors.dim() as u64,
            vectors.checksum(),
        );
        let saved = (meta.vectors_rows, meta.vectors_dim, meta.vectors_checksum);
        if mine != saved {
            return Err(Error::AnnStale {
                path: files.meta.clone(),
                reason: format!(
                    "built for {} rows of dimension {} with checksum {:08x}, but {} has {} rows \
                     of dimension {} with checksum {:08x}",
                    saved.0,
                    saved.1,
                    saved.2,
                    vectors.path().display(),
                    mine.0,
                    mine.1,
                    mine.2
                ),
            });
        }
        meta.config.validate().map_err(|e| Error::AnnCorrupt {
            path: files.meta.clone(),
            reason: e.to_string(),
        })?;
        let graph = match (meta.graph, meta.data) {
            (None, None) if vectors.is_empty() => None,
            (Some(graph_sum), Some(data_sum)) if !vectors.is_empty() => {
                for (path, sum) in [(&files.graph, graph_sum), (&files.data, data_sum)] {
                    let found = match file_sum(path) {
                        Ok(found) => found,
                        Err(Error::Io { source, .. })
                            if source.kind() == std::io::ErrorKind::NotFound =>
                        {
                            return Err(missing(path))
                        }
                        Err(e) => return Err(e),
                    };
                    if found != sum {
                        return Err(Error::AnnCorrupt {
                            path: path.clone(),
                            reason: format!(
                                "expected {} bytes with crc32 {:08x}, found {} bytes with crc32 \
                                 {:08x}",
                                sum.bytes, sum.crc32, found.bytes, found.crc32
                            ),
                        });
                    }
                }
                Some(load_graph(vectors, &files)?)
            }
            _ => {
                return Err(Error::AnnCorrupt {
                    path: files.meta.clone(),
                    reason: "the graph entries do not match the row count".into(),
                })
            }
        };
        Ok(AnnIndex {
            vectors: vectors.clone(),
            config: meta.config,
            graph,
            build_seconds: meta.build_seconds,
        })
    }

    /// The `k` rows the graph finds nearest to `query` at the configured `ef_search`, best
    /// first with exact scores. With a `filter`, runs [`VectorFile::search_exact`] instead.
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        filter: Option<&RowFilter<'_>>,
    ) -> Result<Vec<Hit>> {
        self.search_with_ef(query, k, self.config.ef_search, filter)
    }

    /// [`search`](Self::search) with an explicit `ef` (raised to `k` when smaller), for
    /// recall/speed sweeps.
    pub fn search_with_ef(
        &self,
        query: &[f32],
        k: usize,
        ef: usize,
        filter: Option<&RowFilter<'_>>,
    ) -> Result<Vec<Hit>> {
        self.vectors.check_query(query)?;
        if filter.is_some() {
            return self.vectors.search_exact(query, k, filter);
        }
        let Some(graph) = &self.graph else {
            return Ok(Vec::new());
        };
        if k == 0 {
            return Ok(Vec::new());
        }
        // Neither can usefully exceed the rows; bounding them bounds hnsw_rs's allocations
        // whatever a caller asks.
        let rows = self.vectors.rows().max(1);
        let k = k.min(rows);
        let ef = ef.max(k).min(rows);
        let found = graph.with_dependent(|_, hnsw| hnsw.search(query, k, ef));
        let mut hits: Vec<Hit> = found
            .iter()
            .filter_map(|n| {
                let row = u32::try_from(n.get_origin_id()).ok()?;
                let vector = self.vectors.row(row as usize)?;
                Some(Hit {
                    row,
                    score: dot(query, vector),
                })
            })
            .collect();
        hits.sort_by(Hit::rank_cmp);
        hits.truncate(k);
        Ok(hits)
    }

    /// Sets the `ef_search` used by [`search`](Self::search); between 1 and [`MAX_EF`].
    pub fn set_ef_search(&mut self, ef_search: usize) -> Result<()> {
        check_ef_search(ef_search)?;
        self.config.ef_search = ef_search;
        Ok(())
    }

    /// The parameters the index was built with, and the current `ef_search`.
    pub fn config(&self) -> &AnnConfig {
        &self.config
    }

    /// The vectors file the index searches.
    pub fn vectors(&self) -> &VectorFile {
        &self.vectors
    }

    /// Seconds the graph took to build (as saved, for a loaded index).
    pub fn build_seconds(&self) -> f64 {
        self.build_seconds
    }
}

/// Reads a graph that `load` has already checked byte for byte against its metadata.
fn load_graph(vectors: &VectorFile, files: &AnnFiles) -> Result<Graph> {
    let name = basename(vectors.path())?;
    let dir = parent_dir(vectors.path()).to_path_buf();
    // The checksums guarantee these are the files we wrote, so hnsw_rs's own checks (asserts,
    // and `process::exit` on a bad point) cannot fire on damaged input. Catching a panic
    // anyway keeps a bug in the loader from taking the process down.
    let loaded = catch_unwind(AssertUnwindSafe(|| {
        Graph::try_new(HnswIo::new(&dir, &name), |io| {
            io.load_hnsw_with_dist::<f32, DotDistance>(DotDistance)
        })
    }));
    let graph = match loaded {
        Ok(Ok(graph)) => graph,
        Ok(Err(e)) => {
            return Err(Error::AnnCorrupt {
                path: files.graph.clone(),
                reason: format!("{e:#}"),
            })
        }
        Err(_) => {
            return Err(Error::AnnCorrupt {
                path: files.graph.clone(),
                reason: "the hnsw loader failed".into(),
            })
        }
    };
    let points = graph.with_dependent(|_, hnsw| hnsw.get_nb_point());
    if points != vectors.rows() {
        return Err(Error::AnnCorrupt {
            path: files.graph.clone(),
            reason: format!("{points} points for {} rows", vectors.rows()),
        });
    }
    Ok(graph)
}

/// Removes a file, if it exists.
fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io("remove", path, e)),
        _ => Ok(()),
    }
}

/// Size and crc32 of a file, streamed.
fn file_sum(path: &Path) -> Result<FileSum> {
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut hasher = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut bytes = 0u64;
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok(FileSum {
        bytes,
        crc32: hasher.finalize(),
    })
}

/// `fsync`s a staged file and returns its size and crc32.
fn sync_and_sum(path: &Path) -> Result<FileSum> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("sync", path, e))?;
    file_sum(path)
}

/// The fraction of the exact top-`k` rows that the ANN index also returns, over `queries`:
/// `sum |ann ∩ exact| / sum |exact|`. Both searches run unfiltered, exact on `exact` (usually
/// the same file as `ann.vectors()`). No queries, or no rows, give 1.
pub fn recall_at_k<Q: AsRef<[f32]>>(
    ann: &AnnIndex,
    exact: &VectorFile,
    queries: &[Q],
    k: usize,
) -> Result<f64> {
    let mut truth = Vec::with_capacity(queries.len());
    let mut found = Vec::with_capacity(queries.len());
    for query in queries {
        truth.push(exact.search_exact_threads(query.as_ref(), k, None, 0)?);
        found.push(ann.search(query.as_ref(), k, None)?);
    }
    Ok(recall(&truth, &found))
}

/// Recall of `found` against `truth`, query by query.
pub(crate) fn recall(truth: &[Vec<Hit>], found: &[Vec<Hit>]) -> f64 {
    let mut relevant = 0usize;
    let mut retrieved = 0usize;
    for (t, f) in truth.iter().zip(found) {
        relevant += t.len();
        retrieved += t
            .iter()
            .filter(|hit| f.iter().any(|g| g.row == hit.row))
            .count();
    }
    if relevant == 0 {
        1.0
    } else {
        retrieved as f64 / relevant as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_distance_is_positive_and_decreasing_in_the_dot_product() {
        let d = |x: f32| DotDistance.eval(&[x], &[1.0]);
        let xs = [
            -1e30f32, -3.0, -1.0, -1e-7, 0.0, 1e-7, 0.5, 1.0, 1.001, 7.0, 1e30,
        ];
        for pair in xs.windows(2) {
            assert!(d(pair[0]) > d(pair[1]), "{pair:?}");
        }
        assert!(xs.iter().all(|&x| d(x) > 0.0));
        assert_eq!(
            DotDistance.eval(&[f32::MAX, f32::MAX], &[f32::MAX, -f32::MAX]),
            f32::INFINITY
        );
    }

    #[test]
    fn recall_counts_overlap() {
        let h = |row| Hit { row, score: 0.0 };
        let truth = vec![vec![h(1), h(2)], vec![h(3), h(4)]];
        let found = vec![vec![h(2), h(9)], vec![h(4), h(3)]];
        assert_eq!(recall(&truth, &found), 0.75);
        assert_eq!(recall(&[], &[]), 1.0);
    }

    #[test]
    fn config_ranges_are_checked() {
        assert!(AnnConfig::default().validate().is_ok());
        for bad in [
            AnnConfig {
                m: 1,
                ..AnnConfig::default()
            },
            AnnConfig {
                m: 256,
                ..AnnConfig::default()
            },
            AnnConfig {
                ef_construction: 0,
                ..AnnConfig::default()
            },
            AnnConfig {
                ef_search: 0,
                ..AnnConfig::default()
            },
        ] {
            assert!(
                matches!(bad.validate(), Err(Error::InvalidConfig(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn huge_ann_settings_are_refused_before_they_size_an_allocation() {
        for bad in [
            AnnConfig {
                ef_construction: usize::MAX,
                ..AnnConfig::default()
            },
            AnnConfig {
                ef_search: usize::MAX,
                ..AnnConfig::default()
            },
            AnnConfig {
                build_threads: usize::MAX,
                ..AnnConfig::default()
            },
        ] {
            let err = bad.validate().unwrap_err();
            assert!(err.to_string().contains("must be"), "{err}");
        }
    }
}
