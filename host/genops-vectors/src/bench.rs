//! The benchmark behind `genops bench`: exact and approximate search on synthetic vectors,
//! with the machine's memory bandwidth measured in the same run.

use std::time::Instant;

use serde::Serialize;

use crate::ann::{recall, AnnConfig, AnnFiles, AnnIndex};
use crate::bandwidth::{self, PROBE_BYTES};
use crate::error::{Error, Result};
use crate::exact::Hit;
use crate::file::VectorFile;
use crate::synth::Rng;
use crate::writer::VectorWriter;

/// The recall the ANN sweep aims for.
pub const RECALL_TARGET: f64 = 0.95;

/// The largest `ef_search` the sweep tries before giving up on [`RECALL_TARGET`].
pub const MAX_EF_SEARCH: usize = 4096;

/// Everything [`bench()`] measured. Times are wall-clock; GB are 10^9 bytes.
#[derive(Debug, Clone, Serialize)]
pub struct VectorBench {
    /// Rows in the generated file.
    pub rows: usize,
    /// Dimension of each row.
    pub dim: usize,
    /// Queries timed per measurement.
    pub queries: usize,
    /// Results per query.
    pub k: usize,
    /// Seed of the generated rows and queries.
    pub seed: u64,
    /// Size of the vectors file.
    pub file_bytes: u64,
    /// Generating, writing and `fsync`ing the file.
    pub write_seconds: f64,
    /// Checksum speed of [`VectorFile::verify`].
    pub verify_gbs: f64,
    /// Exact search on one thread.
    pub exact: ExactFigures,
    /// Exact search on one thread per core.
    pub exact_parallel: ExactFigures,
    /// Read bandwidth of one thread ([`memory_bandwidth_gbs`](crate::memory_bandwidth_gbs)).
    pub bandwidth_gbs: f64,
    /// Read bandwidth of one thread per core.
    pub bandwidth_parallel_gbs: f64,
    /// `exact.gbs / bandwidth_gbs`: how close the one-thread scan gets to memory speed.
    pub scan_vs_bandwidth: f64,
    /// `exact_parallel.gbs / bandwidth_parallel_gbs`.
    pub parallel_scan_vs_bandwidth: f64,
    /// The HNSW index at default parameters.
    pub ann: AnnFigures,
}

/// Exact-search figures for one thread count.
#[derive(Debug, Clone, Serialize)]
pub struct ExactFigures {
    /// Threads scanning each query.
    pub threads: usize,
    /// Median latency.
    pub p50_ms: f64,
    /// 99th-percentile latency (nearest rank).
    pub p99_ms: f64,
    /// Queries per second, one query after another.
    pub qps: f64,
    /// Matrix bytes scanned per second at the median latency.
    pub gbs: f64,
}

/// ANN figures.
#[derive(Debug, Clone, Serialize)]
pub struct AnnFigures {
    /// The parameters built with: the defaults, on one thread per core (`ef_search` is the
    /// default, not the one the sweep chose).
    pub config: AnnConfig,
    /// Building the graph.
    pub build_seconds: f64,
    /// Saving it next to the vectors file.
    pub save_seconds: f64,
    /// Loading it back (checksums included); the sweep runs on the loaded index.
    pub load_seconds: f64,
    /// Size of the saved files (graph, second copy of the vectors, metadata).
    pub saved_bytes: u64,
    /// Every `ef_search` tried, in order.
    pub sweep: Vec<AnnPoint>,
    /// The first `ef_search` that reached [`RECALL_TARGET`], or the last one tried.
    pub ef_search: usize,
    /// Recall@k at that `ef_search`.
    pub recall: f64,
    /// Whether [`RECALL_TARGET`] was reached.
    pub reached_target: bool,
    /// Queries per second at that `ef_search`, one thread.
    pub qps: f64,
    /// Median latency at that `ef_search`.
    pub p50_ms: f64,
    /// `qps / exact.qps`: the speed-up over a one-thread exact scan at that recall.
    pub speedup_vs_exact: f64,
}

/// One point of the `ef_search` sweep.
#[derive(Debug, Clone, Serialize)]
pub struct AnnPoint {
    /// Candidates examined per query.
    pub ef_search: usize,
    /// Recall@k against exact search.
    pub recall: f64,
    /// Queries per second, one thread.
    pub qps: f64,
    /// Median latency.
    pub p50_ms: f64,
}

/// Benchmarks the crate on `rows` random unit vectors of `dim` dimensions (seeded by `seed`,
/// as are the `queries` random query vectors), in a temporary folder removed afterwards:
///
/// 1. writes the vectors file and times `verify`;
/// 2. times exact top-`k` search on one thread and on one thread per core, and measures the
///    memory bandwidth both ways, to report scan GB/s as a fraction of it;
/// 3. builds the HNSW index with [`AnnConfig::default`], saves and loads it, then raises
///    `ef_search` (powers of two from `max(k, 16)`) until recall@`k` against exact search
///    reaches [`RECALL_TARGET`], or [`MAX_EF_SEARCH`] is passed.
///
/// Uniform random vectors are the worst case for HNSW (see the crate documentation); the
/// figures say honestly what ef that takes. Progress goes to `tracing` at info level.
/// Needs memory for the file, a second copy inside the HNSW index, and a 512 MiB probe.
pub fn bench(rows: usize, dim: usize, queries: usize, k: usize, seed: u64) -> Result<VectorBench> {
    bench_with_probe(rows, dim, queries, k, seed, PROBE_BYTES)
}

/// [`bench()`] with the bandwidth probe's buffer size as a parameter (small in tests).
fn bench_with_probe(
    rows: usize,
    dim: usize,
    queries: usize,
    k: usize,
    seed: u64,
    probe_bytes: usize,
) -> Result<VectorBench> {
    if rows == 0 || queries == 0 || k == 0 {
        return Err(Error::InvalidConfig(format!(
            "bench needs at least one row, one query and k >= 1 (got rows {rows}, queries \
             {queries}, k {k})"
        )));
    }
    let dir = tempfile::Builder::new()
        .prefix("genops-vectors-bench.")
        .tempdir()
        .map_err(|e| Error::io("create a temporary folder in", std::env::temp_dir(), e))?;
    let path = dir.path().join("vectors.bin");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    tracing::info!(rows, dim, "writing random unit vectors");
    let start = Instant::now();
    let mut rng = Rng::new(seed);
    let mut writer = VectorWriter::create(&path, dim)?;
    for _ in 0..rows {
        writer.push(&rng.unit_vector(dim))?;
    }
    let written = writer.finish()?;
    let write_seconds = start.elapsed().as_secs_f64();
    let queries: Vec<Vec<f32>> = (0..queries).map(|_| rng.unit_vector(dim)).collect();

    let vectors = VectorFile::open(&path)?;
    let start = Instant::now();
    vectors.verify()?;
    let verify_gbs = vectors.payload_bytes() as f64 / start.elapsed().as_secs_f64() / 1e9;

    tracing::info!("exact search, one thread");
    let (exact, truth) = time_exact(&vectors, &queries, k, 1)?;
    tracing::info!(threads = cores, "exact search, all cores");
    let (exact_parallel, _) = time_exact(&vectors, &queries, k, cores)?;
    tracing::info!("memory bandwidth");
    let bandwidth_gbs = bandwidth::probe(1, probe_bytes);
    let bandwidth_parallel_gbs = bandwidth::probe(cores, probe_bytes);

    let config = AnnConfig {
        build_threads: cores,
        ..AnnConfig::default()
    };
    tracing::info!(?config, "building the hnsw index");
    let built = AnnIndex::build(&vectors, config.clone())?;
    let build_seconds = built.build_seconds();
    let start = Instant::now();
    let files = built.save()?;
    let save_seconds = start.elapsed().as_secs_f64();
    drop(built);
    let start = Instant::now();
    let ann = AnnIndex::load(&vectors)?;
    let load_seconds = start.elapsed().as_secs_f64();
    let saved_bytes = saved_size(&files);

    let mut sweep = Vec::new();
    let mut ef = k.max(16).next_power_of_two();
    loop {
        let (point, _) = time_ann(&ann, &queries, k, ef, &truth)?;
        tracing::info!(ef, recall = point.recall, qps = point.qps, "ann sweep");
        let done = point.recall >= RECALL_TARGET || ef >= MAX_EF_SEARCH || ef >= rows;
        sweep.push(point);
        if done {
            break;
        }
        ef *= 2;
    }
    let chosen = sweep
        .iter()
        .find(|p| p.recall >= RECALL_TARGET)
        .or(sweep.last())
        .cloned()
        .ok_or_else(|| Error::InvalidConfig("the ann sweep ran no point".into()))?;

    Ok(VectorBench {
        rows,
        dim,
        queries: queries.len(),
        k,
        seed,
        file_bytes: written.bytes,
        write_seconds,
        verify_gbs,
        scan_vs_bandwidth: exact.gbs / bandwidth_gbs,
        parallel_scan_vs_bandwidth: exact_parallel.gbs / bandwidth_parallel_gbs,
        ann: AnnFigures {
            config,
            build_seconds,
            save_seconds,
            load_seconds,
            saved_bytes,
            ef_search: chosen.ef_search,
            recall: chosen.recall,
            reached_target: chosen.recall >= RECALL_TARGET,
            qps: chosen.qps,
            p50_ms: chosen.p50_ms,
            speedup_vs_exact: chosen.qps / exact.qps,
            sweep,
        },
        exact,
        exact_parallel,
        bandwidth_gbs,
        bandwidth_parallel_gbs,
    })
}

/// Times exact search of every query; returns the figures and the results.
fn time_exact(
    vectors: &VectorFile,
    queries: &[Vec<f32>],
    k: usize,
    threads: usize,
) -> Result<(ExactFigures, Vec<Vec<Hit>>)> {
    // One untimed query faults the mapping in.
    vectors.search_exact_threads(&queries[0], k, None, threads)?;
    let mut latencies = Vec::with_capacity(queries.len());
    let mut results = Vec::with_capacity(queries.len());
    let start = Instant::now();
    for query in queries {
        let t = Instant::now();
        results.push(vectors.search_exact_threads(query, k, None, threads)?);
        latencies.push(t.elapsed().as_secs_f64());
    }
    let total = start.elapsed().as_secs_f64();
    let (p50, p99) = percentiles(&mut latencies);
    Ok((
        ExactFigures {
            threads,
            p50_ms: p50 * 1e3,
            p99_ms: p99 * 1e3,
            qps: queries.len() as f64 / total,
            gbs: vectors.payload_bytes() as f64 / p50 / 1e9,
        },
        results,
    ))
}

/// Times ANN search of every query at `ef`; returns the figures and the results.
fn time_ann(
    ann: &AnnIndex,
    queries: &[Vec<f32>],
    k: usize,
    ef: usize,
    truth: &[Vec<Hit>],
) -> Result<(AnnPoint, Vec<Vec<Hit>>)> {
    let mut latencies = Vec::with_capacity(queries.len());
    let mut results = Vec::with_capacity(queries.len());
    let start = Instant::now();
    for query in queries {
        let t = Instant::now();
        results.push(ann.search_with_ef(query, k, ef, None)?);
        latencies.push(t.elapsed().as_secs_f64());
    }
    let total = start.elapsed().as_secs_f64();
    let (p50, _) = percentiles(&mut latencies);
    Ok((
        AnnPoint {
            ef_search: ef,
            recall: recall(truth, &results),
            qps: queries.len() as f64 / total,
            p50_ms: p50 * 1e3,
        },
        results,
    ))
}

/// Median and 99th percentile (nearest rank) of a non-empty sample.
fn percentiles(sample: &mut [f64]) -> (f64, f64) {
    sample.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let rank = (p * sample.len() as f64).ceil() as usize;
        sample
            .get(rank.saturating_sub(1).min(sample.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    (at(0.50), at(0.99))
}

/// Total size of the saved ANN files that exist.
fn saved_size(files: &AnnFiles) -> u64 {
    [&files.graph, &files.data, &files.meta]
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut sample: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentiles(&mut sample), (50.0, 99.0));
        assert_eq!(percentiles(&mut [3.0]), (3.0, 3.0));
    }

    #[test]
    fn a_tiny_bench_runs() -> Result<()> {
        let b = bench_with_probe(300, 8, 5, 3, 1, 1 << 20)?;
        assert_eq!(b.rows, 300);
        assert!(!b.ann.sweep.is_empty());
        assert!((0.0..=1.0).contains(&b.ann.recall));
        Ok(())
    }
}
