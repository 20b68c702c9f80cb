//! The machine's peak single-precision FLOP rate, measured rather than looked up, so model
//! throughput can be read as a fraction of what these cores can do.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Measures peak f32 FLOP/s with `threads` threads running fused multiply-adds on
/// independent registers for about `duration`. Uses AVX2 and FMA when the CPU has them,
/// else whatever the compiler makes of a plain loop (a lower bound).
pub fn peak_flops(threads: usize, duration: Duration) -> f64 {
    let threads = threads.max(1);
    let started = Instant::now();
    let flops: f64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| s.spawn(move || spin(duration)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
    });
    flops / started.elapsed().as_secs_f64()
}

/// Runs FMAs for `duration` and returns how many FLOPs it did.
fn spin(duration: Duration) -> f64 {
    const ROUNDS: u64 = 1 << 20;
    let started = Instant::now();
    let mut flops = 0.0;
    while started.elapsed() < duration {
        flops += fma_rounds(ROUNDS);
    }
    flops
}

#[cfg(target_arch = "x86_64")]
fn fma_rounds(rounds: u64) -> f64 {
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        #[allow(unsafe_code)]
        // SAFETY: the CPU was just checked to have AVX2 and FMA, the only requirement of
        // the target-feature function.
        let sum = unsafe { avx2::rounds(rounds) };
        black_box(sum);
        // 10 registers x 8 lanes x 2 FLOPs per FMA.
        return rounds as f64 * 10.0 * 8.0 * 2.0;
    }
    scalar_rounds(rounds)
}

#[cfg(not(target_arch = "x86_64"))]
fn fma_rounds(rounds: u64) -> f64 {
    scalar_rounds(rounds)
}

fn scalar_rounds(rounds: u64) -> f64 {
    let mut acc = [0f32; 32];
    let (a, b) = (black_box(0.999_999f32), black_box(1e-7f32));
    for _ in 0..rounds {
        for x in acc.iter_mut() {
            *x = x.mul_add(a, b);
        }
    }
    black_box(acc);
    rounds as f64 * 32.0 * 2.0
}

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod avx2 {
    use std::arch::x86_64::*;

    /// Ten independent accumulators hide the FMA latency (4 cycles, 2 ports).
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn rounds(rounds: u64) -> f32 {
        let a = _mm256_set1_ps(0.999_999);
        let b = _mm256_set1_ps(1e-7);
        let mut r = [_mm256_setzero_ps(); 10];
        for _ in 0..rounds {
            for x in r.iter_mut() {
                *x = _mm256_fmadd_ps(*x, a, b);
            }
        }
        let mut sum = _mm256_setzero_ps();
        for x in r {
            sum = _mm256_add_ps(sum, x);
        }
        let mut out = [0f32; 8];
        _mm256_storeu_ps(out.as_mut_ptr(), sum);
        out.iter().sum()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn peak_is_positive() {
        let flops = super::peak_flops(1, std::time::Duration::from_millis(20));
        assert!(flops > 1e8, "{flops}");
    }
}
