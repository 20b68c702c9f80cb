//! Runs [`genops_vectors::bench`] and prints its figures: a summary on stderr, the full
//! result as JSON on stdout.
//!
//! ```sh
//! cargo run --release -p genops-vectors --example bench -- [rows] [dim] [queries] [k] [seed]
//! ```
//!
//! Defaults: 300000 rows of dimension 384, 100 queries, k = 10, seed 42.

use std::process::ExitCode;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "genops_vectors=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let defaults = [300_000u64, 384, 100, 10, 42];
    let mut values = defaults;
    for (i, arg) in std::env::args().skip(1).take(5).enumerate() {
        match arg.parse() {
            Ok(v) => values[i] = v,
            Err(_) => {
                eprintln!("usage: bench [rows] [dim] [queries] [k] [seed] (numbers; got {arg:?})");
                return ExitCode::FAILURE;
            }
        }
    }
    let [rows, dim, queries, k, seed] = values;
    let result = genops_vectors::bench(
        rows as usize,
        dim as usize,
        queries as usize,
        k as usize,
        seed,
    );
    let b = match result {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let gb = b.file_bytes as f64 / 1e9;
    eprintln!();
    eprintln!(
        "{} x {} vectors, {:.2} GB file, written in {:.1} s; verify {:.1} GB/s",
        b.rows, b.dim, gb, b.write_seconds, b.verify_gbs
    );
    for e in [&b.exact, &b.exact_parallel] {
        eprintln!(
            "exact, {} thread(s): p50 {:.1} ms, p99 {:.1} ms, {:.1} q/s, {:.1} GB/s",
            e.threads, e.p50_ms, e.p99_ms, e.qps, e.gbs
        );
    }
    eprintln!(
        "memory bandwidth: {:.1} GB/s one thread ({:.2} of it scanned), {:.1} GB/s all cores ({:.2})",
        b.bandwidth_gbs, b.scan_vs_bandwidth, b.bandwidth_parallel_gbs, b.parallel_scan_vs_bandwidth
    );
    let a = &b.ann;
    eprintln!(
        "hnsw M={} ef_construction={}: built in {:.1} s on {} threads, saved in {:.1} s ({:.2} GB), loaded in {:.1} s",
        a.config.m, a.config.ef_construction, a.build_seconds, a.config.build_threads, a.save_seconds,
        a.saved_bytes as f64 / 1e9, a.load_seconds
    );
    for p in &a.sweep {
        eprintln!(
            "  ef_search {:>5}: recall@{} {:.3}, {:>8.1} q/s, p50 {:.2} ms",
            p.ef_search, b.k, p.recall, p.qps, p.p50_ms
        );
    }
    eprintln!(
        "chosen ef_search {} (target {} {}): recall {:.3}, {:.1} q/s = {:.1}x exact one-thread q/s",
        a.ef_search,
        genops_vectors::RECALL_TARGET,
        if a.reached_target {
            "reached"
        } else {
            "NOT reached"
        },
        a.recall,
        a.qps,
        a.speedup_vs_exact
    );
    match serde_json::to_string_pretty(&b) {
        Ok(json) => println!("{json}"),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
