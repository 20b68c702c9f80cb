//! Reciprocal rank fusion: several ranked lists of ids into one.

use std::collections::HashMap;

/// The rank constant of [`rrf`] used by the built-in retrievers: the value of the paper that
/// introduced the method (Cormack, Clarke and Büttcher, SIGIR 2009), which keeps the first
/// few ranks of a list from drowning out agreement between lists.
pub const DEFAULT_RRF_K: f64 = 60.0;

/// One ranked list going into a fusion: ids best first, and the weight of the list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankedList<'a> {
    /// The ids, best first. A repeated id counts at its first (best) rank only.
    pub ids: &'a [&'a str],
    /// How much the list counts; finite and not negative.
    pub weight: f64,
}

impl<'a> RankedList<'a> {
    /// A list with its weight.
    pub fn new(ids: &'a [&'a str], weight: f64) -> Self {
        Self { ids, weight }
    }
}

/// An id after fusion.
#[derive(Debug, Clone, PartialEq)]
pub struct Fused {
    /// The id.
    pub id: String,
    /// `sum over the lists holding the id of weight / (rrf_k + rank)`.
    pub score: f64,
    /// The id's rank (from 1) in each input list, in the order of the lists; `None` where a
    /// list does not hold it.
    pub ranks: Vec<Option<usize>>,
}

/// Fuses ranked lists by reciprocal rank fusion: each id scores
/// `sum_i weight_i / (rrf_k + rank_i)` over the lists `i` that hold it, the first rank
/// being 1. Returns at most `limit` ids, best first; equal scores are ordered by id, so the
/// result does not depend on hash order or on the order in which equal ids were met.
///
/// Only ranks count, not scores, which is the point: BM25 scores and cosine similarities
/// live on scales that cannot be added, ranks can. `rrf_k` must be finite and not negative,
/// and so must each weight.
///
/// ```
/// use genops_retrieval::{rrf, RankedList};
///
/// let text = ["a", "b", "c"];
/// let vector = ["c", "d"];
/// let fused = rrf(&[RankedList::new(&text, 1.0), RankedList::new(&vector, 1.0)], 60.0, 10);
/// let ids: Vec<&str> = fused.iter().map(|f| f.id.as_str()).collect();
/// assert_eq!(ids, ["c", "a", "b", "d"]); // b and d tie at 1/62: ordered by id
/// assert_eq!(fused[0].ranks, [Some(3), Some(1)]);
/// ```
pub fn rrf(lists: &[RankedList<'_>], rrf_k: f64, limit: usize) -> Vec<Fused> {
    let mut fused: Vec<Fused> = Vec::new();
    let mut slot: HashMap<&str, usize> = HashMap::new();
    for (list, ranked) in lists.iter().enumerate() {
        for (position, &id) in ranked.ids.iter().enumerate() {
            let at = *slot.entry(id).or_insert_with(|| {
                fused.push(Fused {
                    id: id.to_string(),
                    score: 0.0,
                    ranks: vec![None; lists.len()],
                });
                fused.len() - 1
            });
            let entry = &mut fused[at];
            if entry.ranks[list].is_some() {
                continue;
            }
            let rank = position + 1;
            entry.ranks[list] = Some(rank);
            // Summed in list order for every id, so the same inputs give the same bits.
            entry.score += ranked.weight / (rrf_k + rank as f64);
        }
    }
    fused.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    fused.truncate(limit);
    fused
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(fused: &[Fused]) -> Vec<&str> {
        fused.iter().map(|f| f.id.as_str()).collect()
    }

    #[test]
    fn one_list_keeps_its_order_and_scores_by_rank() {
        let list = ["x", "a", "m"];
        let fused = rrf(&[RankedList::new(&list, 1.0)], 60.0, 10);
        assert_eq!(ids(&fused), list);
        assert_eq!(fused[0].score, 1.0 / 61.0);
        assert_eq!(fused[2].score, 1.0 / 63.0);
        assert_eq!(fused[1].ranks, [Some(2)]);
    }

    #[test]
    fn an_id_in_both_lists_ranks_above_ids_in_one() {
        let text = ["t1", "both", "t2"];
        let vector = ["v1", "v2", "both"];
        let fused = rrf(
            &[RankedList::new(&text, 1.0), RankedList::new(&vector, 1.0)],
            60.0,
            10,
        );
        assert_eq!(fused[0].id, "both");
        assert_eq!(fused[0].ranks, [Some(2), Some(3)]);
        assert_eq!(fused[0].score, 1.0 / 62.0 + 1.0 / 63.0);
        // t1 and v1 tie at 1/61 and are ordered by id; v2 (rank 2) beats t2 (rank 3).
        assert_eq!(ids(&fused), ["both", "t1", "v1", "v2", "t2"]);
    }

    #[test]
    fn weights_shift_the_ranking() {
        let text = ["t", "x"];
        let vector = ["v", "y"];
        let even = rrf(
            &[RankedList::new(&text, 1.0), RankedList::new(&vector, 1.0)],
            60.0,
            2,
        );
        assert_eq!(ids(&even), ["t", "v"], "a tie, broken by id");
        let vector_heavy = rrf(
            &[RankedList::new(&text, 1.0), RankedList::new(&vector, 2.0)],
            60.0,
            4,
        );
        assert_eq!(ids(&vector_heavy), ["v", "y", "t", "x"]);
        let text_only = rrf(
            &[RankedList::new(&text, 1.0), RankedList::new(&vector, 0.0)],
            60.0,
            4,
        );
        assert_eq!(ids(&text_only)[..2], ["t", "x"]);
        assert_eq!(text_only[2].score, 0.0);
    }

    #[test]
    fn a_small_rank_constant_favours_the_top_of_each_list() {
        let a = ["top", "x", "agreed"];
        let b = ["y", "z", "agreed"];
        let lists = [RankedList::new(&a, 1.0), RankedList::new(&b, 1.0)];
        // k = 60: 2/63 for agreement at rank 3 beats 1/61 for one first place.
        assert_eq!(rrf(&lists, 60.0, 1)[0].id, "agreed");
        // k = 0: 1/1 for a first place beats 2/3.
        assert_eq!(ids(&rrf(&lists, 0.0, 3)), ["top", "y", "agreed"]);
    }

    #[test]
    fn a_repeated_id_counts_once_at_its_best_rank() {
        let list = ["a", "b", "a"];
        let fused = rrf(&[RankedList::new(&list, 1.0)], 60.0, 10);
        assert_eq!(ids(&fused), ["a", "b"]);
        assert_eq!(fused[0].score, 1.0 / 61.0);
        assert_eq!(fused[0].ranks, [Some(1)]);
    }

    #[test]
    fn limit_and_empty_inputs() {
        let list = ["a", "b", "c"];
        assert_eq!(rrf(&[RankedList::new(&list, 1.0)], 60.0, 2).len(), 2);
        assert!(rrf(&[RankedList::new(&list, 1.0)], 60.0, 0).is_empty());
        assert!(rrf(&[], 60.0, 5).is_empty());
        assert!(rrf(&[RankedList::new(&[], 1.0)], 60.0, 5).is_empty());
    }
}
