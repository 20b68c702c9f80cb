//! The arithmetic around the model: batch planning, pooling, normalisation, activations.
//! Plain functions over slices, so they are tested without ONNX Runtime.

/// Groups items into batches: sorted by length, so a batch pads to a length close to its
/// items', at most `batch_size` items, and at most `max_tokens` padded tokens (but never
/// fewer than one item). Returns indices into `lengths`.
pub fn plan_batches(lengths: &[usize], batch_size: usize, max_tokens: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| lengths[i]);
    let mut batches = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for i in order {
        // Sorted ascending, so the newest item is the longest: it sets the padded length.
        let padded = lengths[i] * (current.len() + 1);
        if !current.is_empty() && (current.len() >= batch_size.max(1) || padded > max_tokens) {
            batches.push(std::mem::take(&mut current));
        }
        current.push(i);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// Mean of each row's token vectors, weighted by its attention mask. `hidden` is
/// `[batch, seq, dim]` row-major, `mask` is `[batch, seq]`.
pub fn mean_pool(
    hidden: &[f32],
    mask: &[i64],
    batch: usize,
    seq: usize,
    dim: usize,
) -> Vec<Vec<f32>> {
    (0..batch)
        .map(|b| {
            let mut sum = vec![0f32; dim];
            let mut count = 0f32;
            for t in 0..seq {
                let m = mask[b * seq + t] as f32;
                if m == 0.0 {
                    continue;
                }
                count += m;
                let row = &hidden[(b * seq + t) * dim..(b * seq + t + 1) * dim];
                for (s, v) in sum.iter_mut().zip(row) {
                    *s += v * m;
                }
            }
            // sentence-transformers clamps the count at 1e-9; a row always has [CLS] here.
            let count = count.max(1e-9);
            sum.iter_mut().for_each(|s| *s /= count);
            sum
        })
        .collect()
}

/// The first token's vector of each row.
pub fn cls_pool(hidden: &[f32], batch: usize, seq: usize, dim: usize) -> Vec<Vec<f32>> {
    (0..batch)
        .map(|b| hidden[b * seq * dim..b * seq * dim + dim].to_vec())
        .collect()
}

/// Scales a vector to unit length (left as is when it is all zeros).
pub fn l2_normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    // sentence-transformers divides by max(norm, 1e-12).
    let norm = norm.max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
}

/// Softmax over one row of logits, computed stably.
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = logits.iter().map(|x| (x - max).exp()).collect();
    let sum: f32 = exps.iter().sum();
    exps.into_iter().map(|e| e / sum).collect()
}

/// The logistic function of each logit.
pub fn sigmoid(logits: &[f32]) -> Vec<f32> {
    logits.iter().map(|x| 1.0 / (1.0 + (-x).exp())).collect()
}

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb).max(1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_sorted_and_bounded() {
        let lengths = [5, 100, 7, 6, 90, 8, 3];
        let batches = plan_batches(&lengths, 3, 10_000);
        assert_eq!(batches, vec![vec![6, 0, 3], vec![2, 5, 4], vec![1]]);
        // The token budget splits a batch early, but never below one item.
        let batches = plan_batches(&lengths, 32, 200);
        assert!(batches
            .iter()
            .all(
                |b| b.len() * b.iter().map(|&i| lengths[i]).max().unwrap() <= 200 || b.len() == 1
            ));
        assert_eq!(batches.iter().map(Vec::len).sum::<usize>(), lengths.len());
        assert_eq!(plan_batches(&[], 4, 10), Vec::<Vec<usize>>::new());
        assert_eq!(plan_batches(&[1000], 4, 10), vec![vec![0]]);
    }

    #[test]
    fn mean_pool_ignores_padding() {
        // Two rows, three positions, dimension 2; the second row has one padded position
        // whose vector is garbage that must not leak into the mean.
        let hidden = [
            1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 1.0, 1.0, 3.0, 3.0, 100.0, -100.0,
        ];
        let mask = [1, 1, 1, 1, 1, 0];
        let pooled = mean_pool(&hidden, &mask, 2, 3, 2);
        assert_eq!(pooled, vec![vec![3.0, 4.0], vec![2.0, 2.0]]);
        assert_eq!(
            cls_pool(&hidden, 2, 3, 2),
            vec![vec![1.0, 2.0], vec![1.0, 1.0]]
        );
    }

    #[test]
    fn normalisation_and_activations() {
        let mut v = [3.0, 4.0];
        l2_normalize(&mut v);
        assert_eq!(v, [0.6, 0.8]);
        let mut zero = [0.0, 0.0];
        l2_normalize(&mut zero);
        assert_eq!(zero, [0.0, 0.0]);
        let p = softmax(&[1000.0, 1000.0, 0.0]);
        assert!((p[0] - 0.5).abs() < 1e-6 && p[2] < 1e-6);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let s = sigmoid(&[0.0, 100.0, -100.0]);
        assert_eq!(s[0], 0.5);
        assert!(s[1] > 0.999 && s[2] < 0.001);
        assert!((cosine(&[1.0, 0.0], &[1.0, 1.0]) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
    }
}
