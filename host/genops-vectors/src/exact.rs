//! Exact top-k search: a sequential scan with a dot product the compiler vectorises, and a
//! bounded heap.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use serde::{Deserialize, Serialize};

/// A row filter: `true` keeps the row. `Sync` so that a threaded scan can share it.
pub type RowFilter<'a> = dyn Fn(u32) -> bool + Sync + 'a;

/// One search result: a row of the vectors file and its score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// The row number; the caller maps it to a chunk id.
    pub row: u32,
    /// The dot product of the row with the query (the cosine similarity for unit vectors).
    pub score: f32,
}

impl Hit {
    /// The ranking order: higher score first, then lower row. `Less` means `self` ranks
    /// before `other`.
    pub fn rank_cmp(&self, other: &Hit) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(self.row.cmp(&other.row))
    }
}

/// Number of independent accumulators in [`dot`]. Sixteen `f32` are four SSE or two AVX
/// registers: enough independent additions in flight to hide the add latency, so that the
/// loop runs at load throughput and a scan is bound by memory, not by arithmetic.
const LANES: usize = 16;

/// The dot product of `a` and `b` (over the shorter length).
///
/// Written so that the compiler vectorises it on any target without `unsafe` or runtime
/// feature detection: floating-point addition is not associative, so a single running sum
/// would force a sequential chain of additions, while sixteen separate sums over 16-value
/// chunks map straight onto SIMD registers.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let (chunks_a, tail_a) = a.as_chunks::<LANES>();
    let (chunks_b, tail_b) = b.as_chunks::<LANES>();
    // Plain index loops over fixed-size arrays: the optimiser vectorises them with no bounds
    // checks left, and unoptimised test builds (which run the HNSW build on this function)
    // stay fast because there is no iterator call per element.
    for (ca, cb) in chunks_a.iter().zip(chunks_b) {
        #[allow(clippy::needless_range_loop)]
        for i in 0..LANES {
            acc[i] += ca[i] * cb[i];
        }
    }
    let mut tail = 0.0f32;
    for i in 0..tail_a.len() {
        tail += tail_a[i] * tail_b[i];
    }
    // A plain sum of the lanes. A pairwise reduction (lane i plus lane i + 8, and so on) looks
    // better but leads LLVM's SLP vectoriser to use 2-wide vectors for the main loop, which
    // halves its speed on data in cache.
    acc.iter().sum::<f32>() + tail
}

/// A heap entry ordered so that the heap's top is the *worst* hit kept.
#[derive(Clone, Copy)]
struct Worst(Hit);

impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worst {
    fn cmp(&self, other: &Self) -> Ordering {
        // Greater = ranks later = nearer the top of the max-heap.
        self.0.rank_cmp(&other.0)
    }
}

/// The best `k` hits seen so far.
pub(crate) struct TopK {
    k: usize,
    heap: BinaryHeap<Worst>,
}

impl TopK {
    pub fn new(k: usize, capacity_hint: usize) -> Self {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k.min(capacity_hint).saturating_add(1)),
        }
    }

    #[inline]
    pub fn push(&mut self, hit: Hit) {
        if self.heap.len() < self.k {
            self.heap.push(Worst(hit));
        } else if let Some(mut top) = self.heap.peek_mut() {
            if hit.rank_cmp(&top.0) == Ordering::Less {
                *top = Worst(hit);
            }
        }
    }

    pub fn merge(&mut self, other: TopK) {
        for Worst(hit) in other.heap {
            self.push(hit);
        }
    }

    /// The hits, best first.
    pub fn into_sorted(self) -> Vec<Hit> {
        // `into_sorted_vec` is ascending, and ascending `Worst` is best first.
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|w| w.0)
            .collect()
    }
}

/// Scans rows `first_row..` of `data` (row-major, `dim` wide) into a top-k.
fn scan(
    data: &[f32],
    dim: usize,
    first_row: u32,
    query: &[f32],
    k: usize,
    filter: Option<&RowFilter<'_>>,
) -> TopK {
    let mut top = TopK::new(k, data.len() / dim);
    let rows = data.chunks_exact(dim).zip(first_row..);
    match filter {
        None => {
            for (vector, row) in rows {
                top.push(Hit {
                    row,
                    score: dot(query, vector),
                });
            }
        }
        Some(keep) => {
            for (vector, row) in rows {
                if keep(row) {
                    top.push(Hit {
                        row,
                        score: dot(query, vector),
                    });
                }
            }
        }
    }
    top
}

/// Exact top-k of `query` against `data`; the caller has checked the query.
pub(crate) fn search(
    data: &[f32],
    dim: usize,
    query: &[f32],
    k: usize,
    filter: Option<&RowFilter<'_>>,
    threads: usize,
) -> Vec<Hit> {
    let rows = data.len() / dim;
    if k == 0 || rows == 0 {
        return Vec::new();
    }
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    // Below a few thousand rows a thread costs more than it saves.
    let threads = threads.min(rows.div_ceil(4096)).max(1);
    if threads == 1 {
        return scan(data, dim, 0, query, k, filter).into_sorted();
    }
    let rows_per_thread = rows.div_ceil(threads);
    let mut total = TopK::new(k, rows);
    std::thread::scope(|s| {
        let handles: Vec<_> = data
            .chunks(rows_per_thread * dim)
            .enumerate()
            .map(|(i, part)| {
                // Row numbers fit in u32: the file format guarantees it.
                let first = (i * rows_per_thread) as u32;
                s.spawn(move || scan(part, dim, first, query, k, filter))
            })
            .collect();
        for handle in handles {
            match handle.join() {
                Ok(part) => total.merge(part),
                // A panic in a scan (a panicking filter) is the caller's: pass it on.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    total.into_sorted()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_a_naive_sum() {
        for n in [0usize, 1, 3, 15, 16, 17, 31, 64, 385] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let naive: f64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| f64::from(*x) * f64::from(*y))
                .sum();
            assert!((f64::from(dot(&a, &b)) - naive).abs() < 1e-4, "n={n}");
        }
    }

    #[test]
    fn top_k_keeps_the_best_and_breaks_ties_by_row() {
        let mut top = TopK::new(3, 10);
        for (row, score) in [(0, 0.5), (1, 0.9), (2, 0.5), (3, 0.1), (4, 0.9), (5, 0.5)] {
            top.push(Hit { row, score });
        }
        let rows: Vec<u32> = top.into_sorted().iter().map(|h| h.row).collect();
        assert_eq!(rows, vec![1, 4, 0]);
    }

    #[test]
    fn threads_do_not_change_the_result() {
        let dim = 5;
        let rows = 20_000;
        let data: Vec<f32> = (0..rows * dim)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
            .collect();
        let query = [0.3, -0.1, 0.7, 0.2, 0.5];
        let one = search(&data, dim, &query, 17, None, 1);
        for threads in [2, 3, 7] {
            assert_eq!(search(&data, dim, &query, 17, None, threads), one);
        }
    }
}
