//! The host's native models: embeddings, token embeddings, classification and token counts.
//!
//! Each function calls the host, which runs the model natively (ONNX Runtime) and batches the
//! texts of concurrent callers. A plugin may use only the models its manifest grants:
//!
//! ```toml
//! world = "0.1.1"            # the models import arrived in genops:plugin 0.1.1
//!
//! [capabilities]
//! models = ["all-minilm-l6-v2"]
//! ```
//!
//! A call blocks the plugin until the model has run, and that time counts against the
//! plugin's deadline (`limits.timeout-ms`).
//!
//! ```ignore
//! use genops_sdk::models;
//!
//! let vectors = models::embed("all-minilm-l6-v2", &["a question", "an answer"])?;
//! let similarity = models::cosine(&vectors[0].vector, &vectors[1].vector);
//! ```
//!
//! Errors are [`ModelError`]s; inside a plugin's call, `?` turns them into the kind's
//! `PluginError::Host`, whose message names the case (`not-granted: ...`).

use crate::models_bindings::genops::plugin::models as host;

pub use host::{
    Classification, ClassifyInput, Embedding, LabelScore, ModelError, Token, TokenEmbeddings,
};

/// Embeds texts with an embedding model: one [`Embedding`] per text, in order. Empty texts
/// are refused (`invalid-input`).
pub fn embed(model: &str, texts: &[&str]) -> Result<Vec<Embedding>, ModelError> {
    host::embed(model, texts)
}

/// The contextual vector of every token of one text, for token-level metrics such as
/// BERTScore.
pub fn embed_tokens(model: &str, text: &str) -> Result<TokenEmbeddings, ModelError> {
    host::embed_tokens(model, text)
}

/// Scores inputs with a classification model: one [`Classification`] per input, in order.
pub fn classify(
    model: &str,
    inputs: &[ClassifyInput<'_>],
) -> Result<Vec<Classification>, ModelError> {
    host::classify(model, inputs)
}

/// How many tokens each text is for the model, special tokens included and without
/// truncation: compare with the model's maximum length to see whether a text fits.
pub fn count_tokens(model: &str, texts: &[&str]) -> Result<Vec<u32>, ModelError> {
    host::count_tokens(model, texts)
}

/// The cosine similarity of two vectors: 1 for the same direction, 0 for orthogonal ones,
/// and 0 when either is all zeros or their lengths differ. Computed in `f64`.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        let (x, y) = (f64::from(x), f64::from(y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

impl<'a> ClassifyInput<'a> {
    /// One text, for a sequence classifier.
    pub fn text(text: &'a str) -> Self {
        Self { text, pair: None }
    }

    /// Two texts (query and passage, premise and hypothesis), for a pair classifier.
    pub fn pair(text: &'a str, pair: &'a str) -> Self {
        Self {
            text,
            pair: Some(pair),
        }
    }
}

impl Classification {
    /// The score of `label`, if the model has that label.
    pub fn score(&self, label: &str) -> Option<f32> {
        self.scores
            .iter()
            .find(|s| s.label == label)
            .map(|s| s.score)
    }
}

impl ModelError {
    /// The case's WIT name: `unknown-model`, `not-granted`, `invalid-input` or `failed`.
    pub fn case(&self) -> &'static str {
        match self {
            ModelError::UnknownModel(_) => "unknown-model",
            ModelError::NotGranted(_) => "not-granted",
            ModelError::InvalidInput(_) => "invalid-input",
            ModelError::Failed(_) => "failed",
        }
    }

    /// The host's message, which says what to change.
    pub fn message(&self) -> &str {
        match self {
            ModelError::UnknownModel(m)
            | ModelError::NotGranted(m)
            | ModelError::InvalidInput(m)
            | ModelError::Failed(m) => m,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_vectors() {
        assert!((cosine(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-12);
        assert!(cosine(&[1.0, 0.0], &[0.0, 3.0]).abs() < 1e-12);
        assert!((cosine(&[1.0, 1.0], &[-1.0, -1.0]) + 1.0).abs() < 1e-12);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
    }

    #[test]
    fn errors_name_their_case() {
        let e = ModelError::NotGranted("add it".into());
        assert_eq!((e.case(), e.message()), ("not-granted", "add it"));
    }
}
