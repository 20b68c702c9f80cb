//! An evaluator for the tests of the host's models import: `similarity` is the cosine of the
//! embeddings of each sample's answer and reference, computed by the host's model.
//!
//! Config `model` names the model (granted in the manifest: `all-minilm-l6-v2`); `dump =
//! "true"` adds the answer's vector as metrics `v0`, `v1`, ... so a test can compare it with
//! the host's own; `mode` picks a hostile behaviour: `ungranted` asks for a model the
//! manifest does not grant, `invalid-utf8` hands the host a string that is not UTF-8,
//! `count` returns the answer's token count, `empty` embeds an empty text.

use genops_sdk::evaluator::{config, Evaluator, Metric, PluginError, PluginInfo, Sample, Score};
use genops_sdk::models;

/// The exported plugin.
pub struct Similarity;

/// The model asked for in the `ungranted` mode; the manifest does not grant it.
const UNGRANTED: &str = "other-model";

fn metric(name: impl Into<String>, value: f64) -> Metric {
    Metric {
        name: name.into(),
        value,
    }
}

/// Scores one sample. Model errors become this sample's error (`?` makes them
/// `PluginError::Host` naming the case), so one bad sample does not fail the batch.
fn score(sample: &Sample, model: &str, mode: &str, dump: bool) -> Result<Score, PluginError> {
    let reference = sample.reference.as_deref().ok_or_else(|| {
        PluginError::InvalidInput(format!("sample {} has no reference", sample.id))
    })?;
    let answer = sample.answer.as_str();
    let mut metrics = Vec::new();
    match mode {
        "similarity" => {}
        "ungranted" => {
            models::embed(UNGRANTED, &[answer])?;
        }
        "invalid-utf8" => {
            #[allow(unsafe_code)]
            // SAFETY: deliberately wrong. These bytes are not UTF-8 (0xff never occurs in
            // UTF-8), which breaks `String`'s invariant; the string is only handed to the
            // host, never read here, to check that the host refuses it (wasmtime traps when
            // it lifts a string that is not UTF-8) and keeps serving.
            let bad = unsafe { String::from_utf8_unchecked(vec![b'a', 0xff, 0xfe, b'b']) };
            models::embed(model, &[bad.as_str()])?;
        }
        "count" => {
            let counts = models::count_tokens(model, &[answer])?;
            metrics.push(metric("tokens", f64::from(counts[0])));
        }
        "empty" => {
            models::embed(model, &[""])?;
        }
        other => {
            return Err(PluginError::InvalidConfig(format!(
                "config `mode` has value `{other}`; use similarity, ungranted, invalid-utf8, count or empty"
            )))
        }
    }
    let embeddings = models::embed(model, &[answer, reference])?;
    let [a, r] = embeddings.as_slice() else {
        return Err(PluginError::Host(format!(
            "the host returned {} embeddings for 2 texts",
            embeddings.len()
        )));
    };
    metrics.push(metric("similarity", models::cosine(&a.vector, &r.vector)));
    if dump {
        metrics.extend(
            a.vector
                .iter()
                .enumerate()
                .map(|(i, &x)| metric(format!("v{i}"), f64::from(x))),
        );
    }
    Ok(Score {
        metrics,
        explanation: Some(format!(
            "cosine of the {model} embeddings ({} and {} tokens)",
            a.tokens, r.tokens
        )),
    })
}

impl Evaluator for Similarity {
    fn describe() -> PluginInfo {
        PluginInfo::new(
            "evaluator-similarity",
            "embedding cosine similarity of answer and reference",
        )
        .option(
            "model",
            "the embedding model; the manifest must grant it",
            Some("all-minilm-l6-v2"),
        )
        .option(
            "dump",
            "`true` adds the answer's vector as metrics v0, v1, ...",
            Some("false"),
        )
        .option(
            "mode",
            "similarity, or a misbehaviour for tests: ungranted, invalid-utf8, count, empty",
            Some("similarity"),
        )
    }

    fn evaluate(samples: Vec<Sample>) -> Result<Vec<Result<Score, PluginError>>, PluginError> {
        let model = config::get("model").unwrap_or_else(|| "all-minilm-l6-v2".into());
        let mode = config::get("mode").unwrap_or_else(|| "similarity".into());
        let dump: bool = config::parse("dump", false)?;
        Ok(samples
            .iter()
            .map(|s| score(s, &model, &mode, dump))
            .collect())
    }
}

genops_sdk::export_evaluator!(Similarity);
