//! The model manifest, `genops-model.toml`, and what can be read from an exporter's
//! `config.json` when a folder has no manifest.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The file name of a model manifest inside a model folder.
pub const MANIFEST_FILE: &str = "genops-model.toml";
/// The weights inside a model folder.
pub const WEIGHTS_FILE: &str = "model.onnx";
/// The tokenizer inside a model folder (the `tokenizers` JSON format).
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// What a model computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Text in, one vector out (and one vector per token).
    Embedding,
    /// Text in, one score per label out (toxicity, sentiment, topic).
    SequenceClassification,
    /// Two texts in, one score per label out (cross-encoder rerankers, NLI).
    PairClassification,
}

impl Task {
    /// The name used in manifests and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Task::Embedding => "embedding",
            Task::SequenceClassification => "sequence-classification",
            Task::PairClassification => "pair-classification",
        }
    }

    /// Parses a task name.
    pub fn parse(s: &str) -> Option<Task> {
        [
            Task::Embedding,
            Task::SequenceClassification,
            Task::PairClassification,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }

    /// Whether the model classifies (one score per label).
    pub fn is_classification(self) -> bool {
        !matches!(self, Task::Embedding)
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How token vectors become one text vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pooling {
    /// The mean of the token vectors, weighted by the attention mask (sentence-transformers'
    /// default), so padding never changes a vector.
    Mean,
    /// The vector of the first token (`[CLS]`).
    Cls,
}

/// How logits become label scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// Scores sum to 1 over the labels (single-label classification).
    Softmax,
    /// Each label scored on its own in [0, 1] (multi-label, or one-logit rerankers).
    Sigmoid,
}

/// `genops-model.toml`. Unknown keys are errors, so a typo never silently changes a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ModelManifest {
    /// The name plugins and the CLI use.
    pub name: String,
    /// What the model computes.
    pub task: Task,
    /// Longest input in tokens, special tokens included; longer inputs are truncated and the
    /// truncation is reported.
    pub max_length: u32,
    /// sha256 of `model.onnx`, checked when the model is loaded.
    pub sha256: String,
    /// Embedding models: how token vectors are pooled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pooling: Option<Pooling>,
    /// Embedding models: whether vectors are scaled to unit length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize: Option<bool>,
    /// Classifiers: softmax or sigmoid over the logits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<Activation>,
    /// Classifiers: label names, in the order of the model's logits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Where the files came from, for people reading `genops models list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl ModelManifest {
    /// Reads and checks a manifest file.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))?;
        let manifest: ModelManifest = toml::from_str(&text).map_err(|e| Error::Manifest {
            path: path.to_path_buf(),
            message: e.message().to_string(),
        })?;
        manifest.validate().map_err(|message| Error::Manifest {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(manifest)
    }

    /// The manifest as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a manifest always serialises")
    }

    /// The pooling of an embedding model (mean unless the manifest says otherwise).
    pub fn pooling(&self) -> Pooling {
        self.pooling.unwrap_or(Pooling::Mean)
    }

    /// Whether an embedding model's vectors are normalised (yes unless the manifest says no).
    pub fn normalize(&self) -> bool {
        self.normalize.unwrap_or(true)
    }

    /// The activation of a classifier (softmax unless the manifest says otherwise).
    pub fn activation(&self) -> Activation {
        self.activation.unwrap_or(Activation::Softmax)
    }

    /// Checks what serde cannot: names, ranges, and keys that belong to another task.
    pub fn validate(&self) -> Result<(), String> {
        check_name(&self.name)?;
        if !(2..=32_768).contains(&self.max_length) {
            return Err(format!(
                "max-length = {} is out of range; use the model's maximum sequence length (for BERT-like models 512 or less)",
                self.max_length
            ));
        }
        if self.sha256.len() != 64 || !self.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "sha256 = \"{}\" is not a sha256 in hex; compute it with `sha256sum model.onnx`",
                self.sha256
            ));
        }
        match self.task {
            Task::Embedding => {
                if self.activation.is_some() || !self.labels.is_empty() {
                    return Err(
                        "`activation` and `labels` apply to classification models, not to task = \"embedding\"".into(),
                    );
                }
            }
            Task::SequenceClassification | Task::PairClassification => {
                if self.pooling.is_some() || self.normalize.is_some() {
                    return Err(format!(
                        "`pooling` and `normalize` apply to embedding models, not to task = \"{}\"",
                        self.task
                    ));
                }
                if self.labels.is_empty() {
                    return Err(format!(
                        "task = \"{}\" needs `labels`, the label names in the order of the model's logits",
                        self.task
                    ));
                }
                let mut seen = std::collections::BTreeSet::new();
                for label in &self.labels {
                    if label.is_empty() || !seen.insert(label) {
                        return Err(format!(
                            "labels must be distinct and not empty; `{label}` is not"
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Model names: lowercase letters, digits, `-`, `_` and `.`, starting with a letter or digit,
/// so a name is always a safe folder name.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "model name `{name}` is invalid; use at most 64 lowercase letters, digits, `-`, `_` and `.`, starting with a letter or digit"
        ))
    }
}

/// What an exporter (optimum, transformers, sentence-transformers) wrote next to the weights,
/// read into a manifest for a folder that has none. Overrides come from the command line.
pub fn infer_manifest(
    dir: &Path,
    name: &str,
    task: Option<Task>,
    sha256: String,
) -> Result<ModelManifest, Error> {
    let config_path = dir.join("config.json");
    let config: serde_json::Value = match std::fs::read(&config_path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Manifest {
            path: config_path.clone(),
            message: format!("not valid JSON ({e})"),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if task.is_none_or(Task::is_classification) {
                return Err(Error::MissingFile {
                    model: name.to_string(),
                    path: dir.join(MANIFEST_FILE),
                    hint: "write a genops-model.toml (see docs/models.md), or keep the exporter's config.json next to model.onnx",
                });
            }
            serde_json::Value::Null
        }
        Err(e) => return Err(Error::io("cannot read", &config_path, e)),
    };
    let bad = |message: String| Error::Manifest {
        path: config_path.clone(),
        message,
    };
    let classifier = config["architectures"].as_array().is_some_and(|a| {
        a.iter().any(|v| {
            v.as_str()
                .is_some_and(|s| s.ends_with("ForSequenceClassification"))
        })
    });
    let task = task.unwrap_or(if classifier {
        Task::SequenceClassification
    } else {
        Task::Embedding
    });

    // sentence-transformers folders say how long inputs are meant to be; otherwise the
    // model's position table (capped at 512, beyond which BERT-like exports rarely work).
    let st_config = read_json(&dir.join("sentence_bert_config.json"));
    let max_length = st_config["max_seq_length"]
        .as_u64()
        .or_else(|| {
            config["max_position_embeddings"]
                .as_u64()
                .map(|n| n.min(512))
        })
        .unwrap_or(512) as u32;

    let mut manifest = ModelManifest {
        name: name.to_string(),
        task,
        max_length,
        sha256,
        pooling: None,
        normalize: None,
        activation: None,
        labels: Vec::new(),
        source: Some(format!("inferred from the files in {}", dir.display())),
    };
    if task.is_classification() {
        let id2label = config["id2label"].as_object();
        let mut labels: Vec<(u64, String)> =
            match id2label {
                Some(map) => map
                    .iter()
                    .map(|(k, v)| {
                        let index = k
                            .parse::<u64>()
                            .map_err(|_| bad(format!("id2label key `{k}` is not a number")))?;
                        let label = v
                            .as_str()
                            .ok_or_else(|| bad(format!("id2label[{k}] is not a string")))?;
                        Ok((index, label.to_string()))
                    })
                    .collect::<Result<_, Error>>()?,
                None => return Err(bad(
                    "a classifier's config.json needs `id2label`, the label names by logit index"
                        .into(),
                )),
            };
        labels.sort();
        if labels
            .iter()
            .enumerate()
            .any(|(i, (index, _))| *index != i as u64)
        {
            return Err(bad(
                "id2label must number the labels 0, 1, 2, ... without gaps".into(),
            ));
        }
        manifest.labels = labels.into_iter().map(|(_, l)| l).collect();
        let multi = config["problem_type"].as_str() == Some("multi_label_classification");
        manifest.activation = Some(if multi || manifest.labels.len() == 1 {
            Activation::Sigmoid
        } else {
            Activation::Softmax
        });
    } else {
        let pooling = read_json(&dir.join("1_Pooling/config.json"));
        manifest.pooling = Some(
            if pooling["pooling_mode_cls_token"].as_bool() == Some(true) {
                Pooling::Cls
            } else {
                Pooling::Mean
            },
        );
        // sentence-transformers lists a Normalize module when the model's vectors are meant
        // to be unit length; plain exports are normalised too, which cosine search expects.
        let modules = read_json(&dir.join("modules.json"));
        let normalize = match modules.as_array() {
            Some(list) => list
                .iter()
                .any(|m| m["type"].as_str().is_some_and(|t| t.ends_with("Normalize"))),
            None => true,
        };
        manifest.normalize = Some(normalize);
    }
    manifest.validate().map_err(bad)?;
    Ok(manifest)
}

fn read_json(path: &Path) -> serde_json::Value {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6";

    fn parse(text: &str) -> Result<ModelManifest, String> {
        let m: ModelManifest = toml::from_str(text).map_err(|e| e.message().to_string())?;
        m.validate()?;
        Ok(m)
    }

    #[test]
    fn embedding_manifest_round_trips() {
        let m = parse(&format!(
            "name = \"mini\"\ntask = \"embedding\"\nmax-length = 256\nsha256 = \"{SHA}\"\npooling = \"mean\"\nnormalize = true\n"
        ))
        .unwrap();
        assert_eq!(m.task, Task::Embedding);
        assert_eq!(m.pooling(), Pooling::Mean);
        let again: ModelManifest = toml::from_str(&m.to_toml()).unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn bad_manifests_say_what_is_wrong() {
        let base = format!("name = \"m\"\nmax-length = 128\nsha256 = \"{SHA}\"\n");
        let err = parse(&format!("{base}task = \"embeding\"\n")).unwrap_err();
        assert!(err.contains("unknown variant"), "{err}");
        let err = parse(&format!("{base}task = \"embedding\"\npoolin = \"mean\"\n")).unwrap_err();
        assert!(err.contains("unknown field `poolin`"), "{err}");
        let err = parse(&format!("{base}task = \"sequence-classification\"\n")).unwrap_err();
        assert!(err.contains("needs `labels`"), "{err}");
        let err = parse(&format!(
            "{base}task = \"sequence-classification\"\nlabels = [\"a\", \"a\"]\n"
        ))
        .unwrap_err();
        assert!(err.contains("distinct"), "{err}");
        let err = parse(&format!("{base}task = \"embedding\"\nlabels = [\"a\"]\n")).unwrap_err();
        assert!(err.contains("classification models"), "{err}");
        let err = parse("name = \"m\"\ntask = \"embedding\"\nmax-length = 128\nsha256 = \"xyz\"\n")
            .unwrap_err();
        assert!(err.contains("sha256sum"), "{err}");
        let err = parse(&format!(
            "name = \"M/x\"\ntask = \"embedding\"\nmax-length = 128\nsha256 = \"{SHA}\"\n"
        ))
        .unwrap_err();
        assert!(err.contains("model name"), "{err}");
    }

    #[test]
    fn classifier_config_json_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"architectures": ["BertForSequenceClassification"],
                "id2label": {"1": "toxic", "0": "ok"},
                "problem_type": "multi_label_classification",
                "max_position_embeddings": 512}"#,
        )
        .unwrap();
        let m = infer_manifest(dir.path(), "tox", None, SHA.into()).unwrap();
        assert_eq!(m.task, Task::SequenceClassification);
        assert_eq!(m.labels, ["ok", "toxic"]);
        assert_eq!(m.activation(), Activation::Sigmoid);
        assert_eq!(m.max_length, 512);
        let m = infer_manifest(
            dir.path(),
            "tox",
            Some(Task::PairClassification),
            SHA.into(),
        )
        .unwrap();
        assert_eq!(m.task, Task::PairClassification);
    }

    #[test]
    fn sentence_transformers_folder_is_read() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"architectures": ["BertModel"], "max_position_embeddings": 512}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("sentence_bert_config.json"),
            r#"{"max_seq_length": 256}"#,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("modules.json"),
            r#"[{"type": "sentence_transformers.models.Transformer"}, {"type": "sentence_transformers.models.Pooling"}]"#,
        )
        .unwrap();
        let m = infer_manifest(dir.path(), "st", None, SHA.into()).unwrap();
        assert_eq!(m.task, Task::Embedding);
        assert_eq!(m.max_length, 256);
        assert!(!m.normalize());
    }

    #[test]
    fn classifier_without_config_needs_a_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let err = infer_manifest(dir.path(), "x", Some(Task::PairClassification), SHA.into())
            .unwrap_err();
        assert!(err.to_string().contains("genops-model.toml"), "{err}");
    }
}
