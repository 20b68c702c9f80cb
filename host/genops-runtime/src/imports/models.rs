//! `genops:plugin/models`: the host's native models, each plugin limited to the models its
//! manifest grants, each call limited by the call's deadline.

use std::sync::Arc;
use std::time::Instant;

use genops_models::Models;
use wasmtime::component::{HasData, Linker};

use super::HostState;
use crate::bindings::models;
use crate::PluginId;

/// The models a plugin may call: the runtime's models, if it has any, and the names the
/// plugin's manifest grants.
pub(crate) struct ModelsState {
    plugin: PluginId,
    models: Option<Models>,
    granted: Arc<[String]>,
    /// When the current call must end. A model call cannot be interrupted once it runs, so
    /// the import refuses work that cannot finish in time rather than overrun the deadline.
    pub(crate) deadline: Option<Instant>,
}

impl ModelsState {
    pub(crate) fn new(plugin: PluginId, models: Option<Models>, granted: Arc<[String]>) -> Self {
        Self {
            plugin,
            models,
            granted,
            deadline: None,
        }
    }

    /// The models, if the plugin may use `model`: the grant is checked before anything
    /// else, so an ungranted plugin learns nothing about what the host has installed.
    fn access(&self, model: &str) -> Result<&Models, models::ModelError> {
        if !self.granted.iter().any(|g| g == model) {
            let list = if self.granted.is_empty() {
                "it grants none".to_string()
            } else {
                format!("it grants {}", self.granted.join(", "))
            };
            return Err(models::ModelError::NotGranted(format!(
                "{} may not use model `{model}`: its manifest does not grant it ({list}); add \"{model}\" to `[capabilities] models` in its genops-plugin.toml",
                self.plugin
            )));
        }
        self.check_deadline(model)?;
        self.models.as_ref().ok_or_else(|| {
            models::ModelError::Failed(format!(
                "this host runs without native models, so model `{model}` cannot run; the operator installs it with `genops models install {model}` and runs the plugin in a host started with models"
            ))
        })
    }

    fn check_deadline(&self, model: &str) -> Result<(), models::ModelError> {
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => Err(late(model)),
            _ => Ok(()),
        }
    }

    /// Logs a failed model call at debug level: the plugin gets the error and decides
    /// whether it matters, so it is not the host's warning to give.
    fn result<T>(
        &self,
        model: &str,
        call: &str,
        result: Result<T, genops_models::Error>,
    ) -> Result<T, models::ModelError> {
        result.map_err(|e| {
            let plugin = &self.plugin;
            tracing::debug!(%plugin, model, call, "model call failed: {e}");
            model_error(e)
        })
    }
}

fn late(model: &str) -> models::ModelError {
    models::ModelError::Failed(format!(
        "the call's deadline passed, or would pass before model `{model}` finished; send fewer texts per call, or raise limits.timeout-ms"
    ))
}

struct ModelsImport;

impl HasData for ModelsImport {
    type Data<'a> = &'a mut ModelsState;
}

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    models::add_to_linker::<HostState, ModelsImport>(linker, |s| &mut s.models)
}

// A model call blocks the plugin's call until the model has run: wasm cannot be interrupted
// inside a host function. Every call checks the deadline before it starts, and `embed`,
// `classify` and `count-tokens` (many inputs) run in slices checked against it
// (`Models::*_before`), so a call ends at most one slice after its deadline and then traps as
// a timeout as soon as it is back in wasm. `embed-tokens` reads one text: one slice.
impl models::Host for ModelsState {
    fn embed(
        &mut self,
        model: String,
        texts: Vec<String>,
    ) -> Result<Vec<models::Embedding>, models::ModelError> {
        let access = self.access(&model)?;
        let result = match self.deadline {
            Some(deadline) => access.embed_before(&model, &texts, deadline),
            None => access.embed(&model, &texts).map(Some),
        };
        let embeddings = self
            .result(&model, "embed", result)?
            .ok_or_else(|| late(&model))?;
        Ok(embeddings
            .into_iter()
            .map(|e| models::Embedding {
                vector: e.vector,
                tokens: e.tokens,
                truncated: e.truncated,
            })
            .collect())
    }

    fn embed_tokens(
        &mut self,
        model: String,
        text: String,
    ) -> Result<models::TokenEmbeddings, models::ModelError> {
        let result = self.access(&model)?.embed_tokens(&model, &text);
        let out = self.result(&model, "embed-tokens", result)?;
        Ok(models::TokenEmbeddings {
            tokens: out
                .tokens
                .into_iter()
                .map(|t| models::Token {
                    text: t.token,
                    start: t.start,
                    end: t.end,
                    special: t.special,
                })
                .collect(),
            vectors: out.vectors,
            truncated: out.truncated,
        })
    }

    fn classify(
        &mut self,
        model: String,
        inputs: Vec<models::ClassifyInput>,
    ) -> Result<Vec<models::Classification>, models::ModelError> {
        let inputs: Vec<genops_models::ClassifyInput> = inputs
            .into_iter()
            .map(|i| genops_models::ClassifyInput {
                text: i.text,
                pair: i.pair,
            })
            .collect();
        let access = self.access(&model)?;
        let result = match self.deadline {
            Some(deadline) => access.classify_before(&model, &inputs, deadline),
            None => access.classify(&model, &inputs).map(Some),
        };
        Ok(self
            .result(&model, "classify", result)?
            .ok_or_else(|| late(&model))?
            .into_iter()
            .map(|c| models::Classification {
                scores: c
                    .scores
                    .into_iter()
                    .map(|s| models::LabelScore {
                        label: s.label,
                        score: s.score,
                    })
                    .collect(),
                truncated: c.truncated,
            })
            .collect())
    }

    fn count_tokens(
        &mut self,
        model: String,
        texts: Vec<String>,
    ) -> Result<Vec<u32>, models::ModelError> {
        let access = self.access(&model)?;
        let result = match self.deadline {
            Some(deadline) => access.count_tokens_before(&model, &texts, deadline),
            None => access.count_tokens(&model, &texts).map(Some),
        };
        self.result(&model, "count-tokens", result)?
            .ok_or_else(|| late(&model))
    }
}

/// The WIT case of a model error; the message is the error's own, which says what to do.
fn model_error(e: genops_models::Error) -> models::ModelError {
    use genops_models::Error as E;
    match e {
        E::UnknownModel { .. } => models::ModelError::UnknownModel(e.to_string()),
        E::InvalidInput(_) | E::WrongTask { .. } => models::ModelError::InvalidInput(e.to_string()),
        _ => models::ModelError::Failed(e.to_string()),
    }
}
