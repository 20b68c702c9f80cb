//! A memory read-bandwidth probe, so that a scan's GB/s can be put next to what the machine
//! can deliver, measured in the same run.

use std::hint::black_box;
use std::time::Instant;

/// Bytes in the probe buffer: far larger than any cache, so the reads come from memory.
pub(crate) const PROBE_BYTES: usize = 512 << 20;

/// Passes over the buffer; the best one counts (the others absorb page faults, frequency
/// ramp-up and neighbours on a shared machine).
const PASSES: usize = 5;

/// The machine's read bandwidth from one thread, in GB/s (10^9 bytes per second): the best of
/// five sums over a 512 MiB buffer. This is the bound for [`VectorFile::search_exact`] on one
/// thread. Takes about a second and allocates 512 MiB for that time.
///
/// [`VectorFile::search_exact`]: crate::VectorFile::search_exact
pub fn memory_bandwidth_gbs() -> f64 {
    memory_bandwidth_gbs_threads(1)
}

/// [`memory_bandwidth_gbs`] with the buffer read by `threads` threads at once (`0` means one
/// per available core): the bound for a threaded exact search.
pub fn memory_bandwidth_gbs_threads(threads: usize) -> f64 {
    probe(threads, PROBE_BYTES)
}

/// Best-of-[`PASSES`] read bandwidth over a buffer of `bytes` bytes.
pub(crate) fn probe(threads: usize, bytes: usize) -> f64 {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let words = (bytes / 8).max(1);
    // Written, not zeroed: a zeroed allocation can map every page to the one shared zero
    // page, whose reads hit the cache and would overstate the bandwidth.
    let buffer: Vec<u64> = (0..words as u64).collect();
    let part = words.div_ceil(threads);
    let mut best = f64::MAX;
    for _ in 0..PASSES {
        let start = Instant::now();
        let total = if threads == 1 {
            sum(&buffer)
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = buffer
                    .chunks(part)
                    .map(|chunk| s.spawn(move || sum(chunk)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or(0))
                    .fold(0u64, u64::wrapping_add)
            })
        };
        black_box(total);
        best = best.min(start.elapsed().as_secs_f64());
    }
    (words * 8) as f64 / best / 1e9
}

/// Sums `words` with eight independent accumulators, so that the loop is bound by loads.
fn sum(words: &[u64]) -> u64 {
    let words = black_box(words);
    let mut acc = [0u64; 8];
    let chunks = words.chunks_exact(8);
    let tail: u64 = chunks.remainder().iter().fold(0, |a, &w| a.wrapping_add(w));
    for chunk in chunks {
        for (a, &w) in acc.iter_mut().zip(chunk) {
            *a = a.wrapping_add(w);
        }
    }
    acc.iter().fold(tail, |a, &w| a.wrapping_add(w))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sum_is_correct() {
        let words: Vec<u64> = (1..=100).collect();
        assert_eq!(super::sum(&words), 5050);
    }
}
