//! An evaluator for the host's tests: token-overlap F1 between each sample's answer and its
//! reference. A sample without a reference is that sample's error, not the batch's.

use std::collections::HashMap;

use genops_sdk::evaluator::{Evaluator, Metric, PluginError, PluginInfo, Sample, Score};

/// The exported plugin.
pub struct Overlap;

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Token-overlap F1 of `answer` against `reference`, counting repeated words.
pub fn f1(answer: &str, reference: &str) -> (f64, usize, usize) {
    let (a, r) = (words(answer), words(reference));
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for w in &r {
        *counts.entry(w).or_default() += 1;
    }
    let mut common = 0;
    for w in &a {
        if let Some(n) = counts.get_mut(w.as_str()).filter(|n| **n > 0) {
            *n -= 1;
            common += 1;
        }
    }
    if common == 0 {
        return (0.0, 0, r.len());
    }
    let precision = common as f64 / a.len() as f64;
    let recall = common as f64 / r.len() as f64;
    (
        2.0 * precision * recall / (precision + recall),
        common,
        r.len(),
    )
}

impl Evaluator for Overlap {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            "evaluator-overlap",
            "token-overlap F1 of answer against reference",
        )
    }

    fn evaluate(samples: Vec<Sample>) -> Result<Vec<Result<Score, PluginError>>, PluginError> {
        Ok(samples
            .into_iter()
            .map(|s| {
                let reference = s.reference.ok_or_else(|| {
                    PluginError::InvalidInput(format!("sample {} has no reference", s.id))
                })?;
                let (value, common, total) = f1(&s.answer, &reference);
                Ok(Score {
                    metrics: vec![
                        Metric {
                            name: "token_f1".into(),
                            value,
                        },
                        Metric {
                            name: "answer_words".into(),
                            value: words(&s.answer).len() as f64,
                        },
                    ],
                    explanation: Some(format!("{common} of {total} reference words found")),
                })
            })
            .collect())
    }
}

genops_sdk::export_evaluator!(Overlap);
