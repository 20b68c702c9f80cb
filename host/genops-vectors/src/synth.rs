//! Synthetic vectors for tests and benchmarks, from a small seeded generator: the same seed
//! gives the same vectors on every machine and every run.

/// A xoshiro256++ generator seeded through splitmix64: fast, good enough for test data, and
/// free of dependencies. Not for anything secret.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator whose whole output is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n` (`n > 0`; 0 for `n = 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Fills `out` with standard normal values (Box–Muller).
    pub fn fill_normal(&mut self, out: &mut [f32]) {
        for pair in out.chunks_mut(2) {
            // 1 - u is in (0, 1], so the logarithm is finite.
            let r = (-2.0 * (1.0 - self.next_f64()).ln()).sqrt();
            let theta = std::f64::consts::TAU * self.next_f64();
            pair[0] = (r * theta.cos()) as f32;
            if let Some(second) = pair.get_mut(1) {
                *second = (r * theta.sin()) as f32;
            }
        }
    }

    /// A vector drawn uniformly from the unit sphere in `dim` dimensions.
    pub fn unit_vector(&mut self, dim: usize) -> Vec<f32> {
        let mut v = vec![0.0; dim];
        self.fill_normal(&mut v);
        normalize(&mut v);
        v
    }
}

/// Scales `v` to unit length; leaves a zero vector alone.
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in v {
            *x /= norm;
        }
    }
}

/// `rows` vectors drawn uniformly from the unit sphere, row-major. The hardest case for an
/// ANN index: no structure at all to exploit.
pub fn random_unit_vectors(rows: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(rows * dim);
    for _ in 0..rows {
        out.extend(rng.unit_vector(dim));
    }
    out
}

/// `rows` unit vectors around `clusters` random centres, row-major: each is its centre plus
/// Gaussian noise of standard deviation `spread` per coordinate, normalised. Closer to real
/// embeddings, which group by topic, than [`random_unit_vectors`].
pub fn clustered_unit_vectors(
    rows: usize,
    dim: usize,
    clusters: usize,
    spread: f32,
    seed: u64,
) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let centres: Vec<Vec<f32>> = (0..clusters.max(1)).map(|_| rng.unit_vector(dim)).collect();
    let mut out = Vec::with_capacity(rows * dim);
    let mut noise = vec![0.0f32; dim];
    for _ in 0..rows {
        let centre = &centres[rng.below(centres.len())];
        rng.fill_normal(&mut noise);
        let start = out.len();
        out.extend(centre.iter().zip(&noise).map(|(c, n)| c + spread * n));
        normalize(&mut out[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_vectors_and_unit_length() {
        let a = random_unit_vectors(10, 7, 3);
        assert_eq!(a, random_unit_vectors(10, 7, 3));
        assert_ne!(a, random_unit_vectors(10, 7, 4));
        for row in a.chunks_exact(7) {
            let norm: f32 = row.iter().map(|x| x * x).sum();
            assert!((norm - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = Rng::new(1);
        assert!((0..1000).all(|_| rng.below(7) < 7));
        assert_eq!(rng.below(0), 0);
    }
}
