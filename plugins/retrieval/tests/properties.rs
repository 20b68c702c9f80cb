//! Properties of reciprocal rank fusion and maximal marginal relevance on arbitrary inputs.

use std::collections::BTreeSet;

use genops_retrieval::{cosine, mmr, rrf, Candidate, RankedList};
use proptest::prelude::*;

/// A ranked list of distinct ids drawn from a small alphabet, so lists overlap often.
fn ranked() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(0u8..40, 0..25).prop_map(|picks| {
        let mut seen = BTreeSet::new();
        picks
            .into_iter()
            .filter(|p| seen.insert(*p))
            .map(|p| format!("c{p:02}"))
            .collect()
    })
}

fn as_strs(ids: &[String]) -> Vec<&str> {
    ids.iter().map(String::as_str).collect()
}

/// Candidates with relevance in [-1, 1] and small vectors, some of them repeated so exact
/// duplicates occur.
fn candidates() -> impl Strategy<Value = Vec<(f64, Vec<f32>)>> {
    let vector = proptest::collection::vec(-1.0f32..1.0, 4);
    proptest::collection::vec((-1.0f64..1.0, vector), 0..30).prop_flat_map(|base| {
        let n = base.len();
        proptest::collection::vec(0..n.max(1), 0..6).prop_map(move |copies| {
            let mut all = base.clone();
            if n > 0 {
                all.extend(copies.iter().map(|&i| base[i].clone()));
            }
            all
        })
    })
}

fn as_candidates(raw: &[(f64, Vec<f32>)]) -> Vec<Candidate<'_>> {
    raw.iter()
        .map(|(relevance, vector)| Candidate {
            relevance: *relevance,
            vector,
        })
        .collect()
}

proptest! {
    #[test]
    fn rrf_of_one_list_preserves_its_order(list in ranked(), weight in 0.1f64..10.0, k in 0.0f64..100.0) {
        let ids = as_strs(&list);
        let fused = rrf(&[RankedList::new(&ids, weight)], k, usize::MAX);
        let order: Vec<&str> = fused.iter().map(|f| f.id.as_str()).collect();
        prop_assert_eq!(order, ids);
    }

    #[test]
    fn rrf_returns_the_union_best_first_up_to_the_limit(
        a in ranked(), b in ranked(), wa in 0.0f64..5.0, wb in 0.0f64..5.0, limit in 0usize..60,
    ) {
        let (ia, ib) = (as_strs(&a), as_strs(&b));
        let fused = rrf(&[RankedList::new(&ia, wa), RankedList::new(&ib, wb)], 60.0, limit);
        let union: BTreeSet<&str> = ia.iter().chain(&ib).copied().collect();
        prop_assert_eq!(fused.len(), union.len().min(limit));
        let distinct: BTreeSet<&str> = fused.iter().map(|f| f.id.as_str()).collect();
        prop_assert_eq!(distinct.len(), fused.len());
        for pair in fused.windows(2) {
            prop_assert!(
                pair[0].score > pair[1].score
                    || (pair[0].score == pair[1].score && pair[0].id < pair[1].id),
                "{:?} before {:?}", pair[0], pair[1]
            );
        }
        for f in &fused {
            let rank_a = ia.iter().position(|x| *x == f.id).map(|p| p + 1);
            let rank_b = ib.iter().position(|x| *x == f.id).map(|p| p + 1);
            prop_assert_eq!(&f.ranks, &vec![rank_a, rank_b]);
        }
    }

    #[test]
    fn rrf_puts_an_id_of_both_lists_above_ids_at_the_same_ranks_in_one(
        a in ranked(), b in ranked(),
    ) {
        // Equal weights: an id at ranks (r, s) scores 1/(60+r) + 1/(60+s), more than any id
        // found by one list at rank r or s alone.
        let (ia, ib) = (as_strs(&a), as_strs(&b));
        let fused = rrf(&[RankedList::new(&ia, 1.0), RankedList::new(&ib, 1.0)], 60.0, usize::MAX);
        let position = |id: &str| fused.iter().position(|f| f.id == id).unwrap();
        for both in fused.iter().filter(|f| f.ranks.iter().all(Option::is_some)) {
            let best = both.ranks.iter().flatten().min().copied().unwrap();
            for one in fused.iter().filter(|f| f.ranks.iter().filter(|r| r.is_some()).count() == 1) {
                let rank = one.ranks.iter().flatten().next().copied().unwrap();
                if rank >= best {
                    prop_assert!(position(&both.id) < position(&one.id), "{:?} vs {:?}", both, one);
                }
            }
        }
    }

    #[test]
    fn mmr_with_lambda_one_is_the_relevance_order(raw in candidates(), k in 0usize..40) {
        let candidates = as_candidates(&raw);
        let picks = mmr(&candidates, 1.0, k);
        let mut expected: Vec<usize> = (0..candidates.len()).collect();
        // Best relevance first, the earlier candidate on ties (a stable sort keeps it).
        expected.sort_by(|&a, &b| candidates[b].relevance.total_cmp(&candidates[a].relevance));
        expected.truncate(k);
        let got: Vec<usize> = picks.iter().map(|p| p.index).collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn mmr_picks_distinct_candidates_with_scores_that_never_rise(
        raw in candidates(), lambda in 0.0f64..=1.0, k in 0usize..40,
    ) {
        let candidates = as_candidates(&raw);
        let picks = mmr(&candidates, lambda, k);
        prop_assert_eq!(picks.len(), k.min(candidates.len()));
        let distinct: BTreeSet<usize> = picks.iter().map(|p| p.index).collect();
        prop_assert_eq!(distinct.len(), picks.len());
        for pair in picks.windows(2) {
            prop_assert!(pair[1].score <= pair[0].score, "{:?} then {:?}", pair[0], pair[1]);
        }
        for (n, p) in picks.iter().enumerate() {
            prop_assert!(p.score.is_finite());
            prop_assert_eq!(p.relevance, candidates[p.index].relevance);
            let expected = picks[..n]
                .iter()
                .map(|q| cosine(candidates[p.index].vector, candidates[q.index].vector))
                .fold(0.0f64, f64::max);
            prop_assert_eq!(p.redundancy, expected);
        }
    }

    #[test]
    fn mmr_keeps_a_copy_of_the_first_pick_for_last(
        thousandths in proptest::collection::btree_set(1u32..1000, 1..12),
        lambda in 0.0f64..=0.5,
    ) {
        // Distinct candidates are orthogonal (redundancy 0) with distinct relevances in
        // (0, 1); the copy of the most relevant one is as relevant. Once the original is
        // picked the copy scores lambda * r - (1 - lambda) < 0 for lambda <= 0.5, below every
        // novel candidate's lambda * relevance (0 for lambda = 0, against -1).
        let relevance: Vec<f64> = thousandths.iter().rev().map(|&t| f64::from(t) / 1000.0).collect();
        let n = relevance.len();
        let vectors: Vec<Vec<f32>> = (0..n)
            .map(|i| (0..n).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
            .collect();
        let mut candidates: Vec<Candidate<'_>> = (0..n)
            .map(|i| Candidate { relevance: relevance[i], vector: &vectors[i] })
            .collect();
        candidates.push(Candidate { relevance: relevance[0], vector: &vectors[0] });
        let picks = mmr(&candidates, lambda, n + 1);
        prop_assert_eq!(picks[0].index, 0);
        prop_assert_eq!(picks.last().unwrap().index, n, "the copy comes last: {:?}", picks);
        // By relevance alone, the copy is second.
        let plain: Vec<usize> = mmr(&candidates, 1.0, 2).iter().map(|p| p.index).collect();
        prop_assert_eq!(plain, vec![0, n]);
    }
}
