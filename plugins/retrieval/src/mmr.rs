//! Maximal marginal relevance: a greedy reranking that trades relevance for diversity.

/// The trade-off of [`mmr`] used by the built-in retrievers: relevance and novelty count
/// alike.
pub const DEFAULT_LAMBDA: f64 = 0.5;

/// One candidate of a reranking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate<'a> {
    /// How well it answers the query, on the scale of [`cosine`] (a vector search's score
    /// over unit vectors is the same number).
    pub relevance: f64,
    /// Its vector, compared with the vectors of the candidates picked before it.
    pub vector: &'a [f32],
}

/// A candidate picked by [`mmr`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pick {
    /// Its position in the candidates given.
    pub index: usize,
    /// Its marginal relevance when it was picked:
    /// `lambda * relevance - (1 - lambda) * redundancy`. Never above the score of an
    /// earlier pick, so the picks are best first by this score.
    pub score: f64,
    /// Its relevance, as given.
    pub relevance: f64,
    /// Its greatest similarity to an earlier pick, at least 0 (0 for the first pick).
    pub redundancy: f64,
}

/// The cosine similarity of two vectors; 0 when either is all zeros or their lengths differ.
/// Accumulated in `f64`, so it does not depend on the vectors' dimensions for precision.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        dot += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        return 0.0;
    }
    dot / (aa.sqrt() * bb.sqrt())
}

/// Picks up to `k` candidates by maximal marginal relevance (Carbonell and Goldstein, SIGIR
/// 1998): each step takes the candidate that maximises
/// `lambda * relevance - (1 - lambda) * max cosine(candidate, picked)`. `lambda = 1` is the
/// relevance order; lower values prefer candidates unlike those already picked, so a
/// near-duplicate of a pick falls back. `lambda` lies in [0, 1].
///
/// Equal scores go to the earlier candidate, so candidates given in a search's order keep
/// it on ties. The redundancy term is floored at 0: a candidate dissimilar to every pick
/// gains nothing over an unrelated one, and the scores of successive picks never rise
/// (each candidate's redundancy only grows as picks are added), which lets a retriever
/// return them as its best-first scores.
///
/// Runs in `O(k * n * d)` for `n` candidates of `d` dimensions: each pick updates every
/// remaining candidate's redundancy once.
///
/// ```
/// use genops_retrieval::{mmr, Candidate};
///
/// let a = [1.0, 0.0];
/// let a_again = [1.0, 0.0];
/// let b = [0.0, 1.0];
/// let candidates = [
///     Candidate { relevance: 0.9, vector: &a },
///     Candidate { relevance: 0.8, vector: &a_again },
///     Candidate { relevance: 0.5, vector: &b },
/// ];
/// let picked: Vec<usize> = mmr(&candidates, 0.5, 2).iter().map(|p| p.index).collect();
/// assert_eq!(picked, [0, 2], "the duplicate of the first pick falls back");
/// ```
pub fn mmr(candidates: &[Candidate<'_>], lambda: f64, k: usize) -> Vec<Pick> {
    let mut redundancy = vec![0.0f64; candidates.len()];
    let mut taken = vec![false; candidates.len()];
    let mut picks = Vec::with_capacity(k.min(candidates.len()));
    while picks.len() < k {
        let mut best: Option<(usize, f64)> = None;
        for (i, c) in candidates.iter().enumerate() {
            if taken[i] {
                continue;
            }
            let score = lambda * c.relevance - (1.0 - lambda) * redundancy[i];
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((i, score));
            }
        }
        let Some((index, score)) = best else {
            break;
        };
        taken[index] = true;
        picks.push(Pick {
            index,
            score,
            relevance: candidates[index].relevance,
            redundancy: redundancy[index],
        });
        let picked = candidates[index].vector;
        for (i, c) in candidates.iter().enumerate() {
            if !taken[i] {
                redundancy[i] = redundancy[i].max(cosine(c.vector, picked));
            }
        }
    }
    picks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn indexes(picks: &[Pick]) -> Vec<usize> {
        picks.iter().map(|p| p.index).collect()
    }

    #[test]
    fn cosine_of_known_vectors() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-12);
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 2.0]), 0.0);
        assert!((cosine(&[1.0, 1.0], &[2.0, 2.0]) - 1.0).abs() < 1e-12);
        assert!((cosine(&[1.0, 0.0], &[-1.0, 0.0]) + 1.0).abs() < 1e-12);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
    }

    #[test]
    fn lambda_one_is_the_relevance_order() {
        let v = [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.6, 0.8]];
        let relevance = [0.2, 0.9, 0.5, 0.9];
        let candidates: Vec<Candidate<'_>> = v
            .iter()
            .zip(relevance)
            .map(|(v, relevance)| Candidate {
                relevance,
                vector: v,
            })
            .collect();
        let picks = mmr(&candidates, 1.0, 4);
        // 1 and 3 tie: the earlier one first.
        assert_eq!(indexes(&picks), [1, 3, 2, 0]);
        let scores: Vec<f64> = picks.iter().map(|p| p.score).collect();
        assert_eq!(scores, [0.9, 0.9, 0.5, 0.2]);
    }

    #[test]
    fn a_near_duplicate_falls_behind_a_less_relevant_novel_candidate() {
        let first = [1.0, 0.0, 0.0];
        let near_copy = [0.99, 0.1, 0.0];
        let other = [0.0, 0.0, 1.0];
        let candidates = [
            Candidate {
                relevance: 0.9,
                vector: &first,
            },
            Candidate {
                relevance: 0.88,
                vector: &near_copy,
            },
            Candidate {
                relevance: 0.4,
                vector: &other,
            },
        ];
        let picks = mmr(&candidates, 0.5, 3);
        assert_eq!(indexes(&picks), [0, 2, 1]);
        assert_eq!(picks[0].redundancy, 0.0);
        assert!(picks[2].redundancy > 0.99, "{:?}", picks[2]);
        assert_eq!(picks[1].score, 0.5 * 0.4);
        // Relevance alone keeps the copy second.
        assert_eq!(indexes(&mmr(&candidates, 1.0, 3)), [0, 1, 2]);
    }

    #[test]
    fn lambda_zero_ignores_relevance_after_the_first_pick() {
        let x = [1.0, 0.0];
        let y = [0.0, 1.0];
        let xy = [0.7, 0.7];
        let candidates = [
            Candidate {
                relevance: 0.9,
                vector: &x,
            },
            Candidate {
                relevance: 0.8,
                vector: &xy,
            },
            Candidate {
                relevance: 0.1,
                vector: &y,
            },
        ];
        // With lambda = 0 every first score is 0 and the earliest candidate wins the tie;
        // then only dissimilarity counts: y (cosine 0) before xy (cosine 0.7).
        assert_eq!(indexes(&mmr(&candidates, 0.0, 3)), [0, 2, 1]);
    }

    #[test]
    fn k_bounds_the_picks() {
        let v = [1.0f32];
        let candidates = [Candidate {
            relevance: 1.0,
            vector: &v,
        }; 3];
        assert_eq!(mmr(&candidates, 0.5, 2).len(), 2);
        assert_eq!(mmr(&candidates, 0.5, 10).len(), 3);
        assert!(mmr(&candidates, 0.5, 0).is_empty());
        assert!(mmr(&[], 0.5, 5).is_empty());
    }
}
