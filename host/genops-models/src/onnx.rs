//! ONNX Runtime: loading the library once per process, and one session of one model.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::{Tensor, TensorElementType, ValueType};

use crate::catalog;
use crate::tokenize::Encoded;
use crate::Error;

/// The process-wide ONNX Runtime environment. ONNX Runtime can be loaded only once per
/// process, so the first library that loads wins; a failed load can be retried with
/// another path.
static ENVIRONMENT: OnceLock<(ort::environment::Environment, PathBuf)> = OnceLock::new();
static LOADING: Mutex<()> = Mutex::new(());

/// Loads the ONNX Runtime library at `path`, unless one is loaded already. The file's
/// sha256 must match its pin ([`catalog::library_pin`]: this platform's pinned build, or
/// `GENOPS_ONNXRUNTIME_SHA256` for a library installed by hand) before it is opened: loading
/// a library runs its code.
pub fn init_runtime(path: &Path) -> Result<&'static ort::environment::Environment, Error> {
    if let Some((env, _)) = ENVIRONMENT.get() {
        return Ok(env);
    }
    let pin = catalog::library_pin()?;
    init_pinned(path, &pin)
}

fn init_pinned(
    path: &Path,
    pin: &catalog::Sha256Pin,
) -> Result<&'static ort::environment::Environment, Error> {
    let _guard = LOADING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((env, _)) = ENVIRONMENT.get() {
        return Ok(env);
    }
    catalog::verify_library(path, pin)?;
    let failed = |message: String| Error::RuntimeLibrary {
        path: path.to_path_buf(),
        message,
    };
    // Every ort call goes through here first, so ort never falls back to its own search
    // (which panics when the library is missing).
    let builder = ort::init_from(path).map_err(|e| failed(e.to_string()))?;
    let env = builder
        .with_name("genops")
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let (env, _) = ENVIRONMENT.get_or_init(|| (env, path.to_path_buf()));
    tracing::info!(library = %path.display(), "loaded ONNX Runtime");
    Ok(env)
}

/// The library that was loaded, if any.
pub fn loaded_runtime() -> Option<&'static Path> {
    ENVIRONMENT.get().map(|(_, p)| p.as_path())
}

/// The version string of the loaded ONNX Runtime.
pub fn runtime_version() -> Option<String> {
    ENVIRONMENT.get().map(|_| ort::info().to_string())
}

/// What the model's output looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// `[batch, seq, hidden]`: token vectors, pooled by genops.
    Tokens,
    /// `[batch, n]`: one row per input (pooled embeddings, or logits).
    Rows,
}

/// One ONNX session with the names of its inputs worked out.
pub struct Runner {
    model: String,
    session: Session,
    input_ids: String,
    attention_mask: Option<String>,
    token_type_ids: Option<String>,
    output: String,
    output_kind: OutputKind,
}

/// One batch's output: `data` in row-major order with `shape`.
pub struct BatchOutput {
    /// The numbers.
    pub data: Vec<f32>,
    /// `[batch, seq, hidden]` or `[batch, n]`.
    pub shape: Vec<usize>,
    /// The attention mask that was fed, `[batch, seq]`.
    pub mask: Vec<i64>,
}

impl Runner {
    /// Opens `model.onnx` with `intra_threads` threads for its operators.
    pub fn open(
        env: &ort::environment::Environment,
        weights: &Path,
        model: &str,
        intra_threads: usize,
        want_rows: bool,
    ) -> Result<Self, Error> {
        let onnx = |e: ort::Error| Error::Onnx {
            model: model.to_string(),
            message: e.to_string(),
        };
        let bytes = std::fs::read(weights).map_err(|e| Error::io("cannot read", weights, e))?;
        let session = Session::builder(env)
            .map_err(onnx)?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| onnx(e.into()))?
            .with_intra_threads(intra_threads.max(1))
            .map_err(|e| onnx(e.into()))?
            .with_inter_threads(1)
            .map_err(|e| onnx(e.into()))?
            .commit_from_memory(&bytes)
            .map_err(|e| Error::Onnx {
                model: model.to_string(),
                message: format!(
                    "cannot load {} ({e}); it must be a valid ONNX model file",
                    weights.display()
                ),
            })?;
        let shape = |message: String| Error::Shape {
            model: model.to_string(),
            message,
        };
        let mut input_ids = None;
        let mut attention_mask = None;
        let mut token_type_ids = None;
        for input in session.inputs() {
            let name = input.name().to_string();
            let ty = input.dtype().tensor_type();
            if ty != Some(TensorElementType::Int64) {
                return Err(shape(format!(
                    "input `{name}` is {ty:?}, but genops feeds int64 token ids; export the model with int64 inputs"
                )));
            }
            match name.as_str() {
                n if n.contains("input_ids") => input_ids = Some(name),
                n if n.contains("attention_mask") => attention_mask = Some(name),
                n if n.contains("token_type_ids") => token_type_ids = Some(name),
                _ => {
                    return Err(shape(format!(
                        "input `{name}` is not one genops can feed (input_ids, attention_mask, token_type_ids)"
                    )))
                }
            }
        }
        let input_ids =
            input_ids.ok_or_else(|| shape("the model has no `input_ids` input".into()))?;
        let rank = |t: &ValueType| t.tensor_shape().map(|s| s.len());
        // Embedding models: prefer token vectors (pooled here, and usable per token);
        // classifiers: the logits.
        let pick = session
            .outputs()
            .iter()
            .find(|o| {
                let r = rank(o.dtype());
                if want_rows {
                    r == Some(2)
                } else {
                    r == Some(3)
                }
            })
            .or_else(|| {
                session
                    .outputs()
                    .iter()
                    .find(|o| rank(o.dtype()) == Some(2))
            })
            .ok_or_else(|| {
                shape(format!(
                    "no output of shape [batch, seq, hidden] or [batch, n] (outputs: {})",
                    session
                        .outputs()
                        .iter()
                        .map(|o| o.name().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        if pick.dtype().tensor_type() != Some(TensorElementType::Float32) {
            return Err(shape(format!(
                "output `{}` is {:?}, but genops reads float32",
                pick.name(),
                pick.dtype().tensor_type()
            )));
        }
        let output_kind = if rank(pick.dtype()) == Some(3) {
            OutputKind::Tokens
        } else {
            OutputKind::Rows
        };
        let output = pick.name().to_string();
        Ok(Self {
            model: model.to_string(),
            session,
            input_ids,
            attention_mask,
            token_type_ids,
            output,
            output_kind,
        })
    }

    /// Whether the output is per token or per row.
    pub fn output_kind(&self) -> OutputKind {
        self.output_kind
    }

    /// Runs one batch, padded to its longest input.
    pub fn run(&mut self, batch: &[&Encoded]) -> Result<BatchOutput, Error> {
        let rows = batch.len();
        let seq = batch.iter().map(|e| e.ids.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0i64; rows * seq];
        let mut mask = vec![0i64; rows * seq];
        let mut types = vec![0i64; rows * seq];
        for (r, e) in batch.iter().enumerate() {
            let at = r * seq;
            ids[at..at + e.ids.len()].copy_from_slice(&e.ids);
            types[at..at + e.type_ids.len()].copy_from_slice(&e.type_ids);
            mask[at..at + e.ids.len()].fill(1);
        }
        let onnx = |e: ort::Error| Error::Onnx {
            model: self.model.clone(),
            message: e.to_string(),
        };
        let mut feeds: Vec<(String, ort::session::SessionInputValue<'_>)> = Vec::with_capacity(3);
        feeds.push((
            self.input_ids.clone(),
            Tensor::from_array(([rows, seq], ids)).map_err(onnx)?.into(),
        ));
        if let Some(name) = &self.attention_mask {
            feeds.push((
                name.clone(),
                Tensor::from_array(([rows, seq], mask.clone()))
                    .map_err(onnx)?
                    .into(),
            ));
        }
        if let Some(name) = &self.token_type_ids {
            feeds.push((
                name.clone(),
                Tensor::from_array(([rows, seq], types))
                    .map_err(onnx)?
                    .into(),
            ));
        }
        let model = self.model.clone();
        let output_name = self.output.clone();
        let outputs = self.session.run(feeds).map_err(|e| Error::Onnx {
            model: model.clone(),
            message: e.to_string(),
        })?;
        let (shape, data) = outputs[output_name.as_str()]
            .try_extract_tensor::<f32>()
            .map_err(|e| Error::Onnx {
                model: model.clone(),
                message: e.to_string(),
            })?;
        let shape: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
        if shape.first() != Some(&rows) || shape.iter().product::<usize>() != data.len() {
            return Err(Error::Shape {
                model,
                message: format!(
                    "output `{output_name}` has shape {shape:?} for a batch of {rows}"
                ),
            });
        }
        Ok(BatchOutput {
            data: data.to_vec(),
            shape,
            mask,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shared library this process has mapped, found at run time (any will do: it only
    /// has to be a real library that `dlopen` would accept).
    fn some_loaded_library() -> PathBuf {
        let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
        maps.lines()
            .filter_map(|l| l.split_whitespace().nth(5))
            .map(PathBuf::from)
            .find(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.contains(".so"))
            })
            .expect("a mapped shared library")
    }

    fn mapped(path: &Path) -> bool {
        std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .contains(&path.display().to_string())
    }

    #[test]
    fn a_substituted_library_is_refused_before_it_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        let library = dir.path().join("libonnxruntime.so.1.31.1");
        std::fs::copy(some_loaded_library(), &library).unwrap();
        let pin = catalog::library_pin().unwrap();
        let err = init_pinned(&library, &pin).unwrap_err();
        let message = err.to_string();
        assert!(
            matches!(&err, Error::Sha256Mismatch { pin: p, .. } if p.sha256 == pin.sha256),
            "{message}"
        );
        assert!(
            message.contains(&pin.sha256)
                && message.contains(&crate::store::sha256_file(&library).unwrap())
                && message.contains("genops models install --force"),
            "{message}"
        );
        assert!(!mapped(&library), "the refused library was loaded");
        assert!(loaded_runtime().is_none());
    }

    #[test]
    fn a_library_with_changed_bytes_is_refused_before_it_is_opened() {
        let dir = tempfile::tempdir().unwrap();
        let library = dir.path().join("libonnxruntime.so");
        let mut bytes = std::fs::read(some_loaded_library()).unwrap();
        std::fs::write(&library, &bytes).unwrap();
        let pin = catalog::Sha256Pin {
            sha256: crate::store::sha256_file(&library).unwrap(),
            pinned_by: "the test".into(),
            fix: "none".into(),
        };
        catalog::verify_library(&library, &pin).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        std::fs::write(&library, &bytes).unwrap();
        let err = init_pinned(&library, &pin).unwrap_err();
        assert!(matches!(err, Error::Sha256Mismatch { .. }), "{err}");
        assert!(!mapped(&library), "the refused library was loaded");
    }
}
