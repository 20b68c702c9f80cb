use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Error;

/// `[models]` in `genops.toml`. Unknown keys are errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ModelsConfig {
    /// Path of `libonnxruntime.so`; by default the one `genops models install` fetched.
    /// `GENOPS_ONNXRUNTIME` overrides it.
    pub onnxruntime: Option<PathBuf>,
    /// Threads ONNX Runtime uses inside one session; 0 means one per core.
    pub intra_threads: usize,
    /// Sessions per model, each on its own worker thread, running batches side by side.
    pub sessions: usize,
    /// Most inputs in one batch.
    pub batch_size: usize,
    /// Most padded tokens in one batch (inputs times the longest input's length), so a
    /// batch of long inputs does not take gigabytes.
    pub max_batch_tokens: usize,
    /// Most texts in one request.
    pub max_texts: usize,
    /// Longest text accepted, in bytes. Models read only their first few hundred tokens;
    /// longer documents are chunked before they are embedded.
    pub max_text_bytes: usize,
}

impl Default for ModelsConfig {
    fn default() -> Self {
        Self {
            onnxruntime: None,
            intra_threads: 0,
            sessions: 1,
            batch_size: 32,
            max_batch_tokens: 16_384,
            max_texts: 4096,
            max_text_bytes: 256 * 1024,
        }
    }
}

impl ModelsConfig {
    /// Checks the ranges serde cannot.
    pub fn validate(&self) -> Result<(), Error> {
        let check = |ok: bool, what: String| if ok { Ok(()) } else { Err(Error::Config(what)) };
        check(
            (1..=64).contains(&self.sessions),
            format!(
                "models.sessions = {} must be between 1 and 64",
                self.sessions
            ),
        )?;
        check(
            self.intra_threads <= 256,
            format!(
                "models.intra-threads = {} must be at most 256 (0 means one per core)",
                self.intra_threads
            ),
        )?;
        check(
            (1..=4096).contains(&self.batch_size),
            format!(
                "models.batch-size = {} must be between 1 and 4096",
                self.batch_size
            ),
        )?;
        check(
            self.max_batch_tokens >= 512,
            format!(
                "models.max-batch-tokens = {} must be at least 512",
                self.max_batch_tokens
            ),
        )?;
        check(
            self.max_texts >= 1,
            "models.max-texts must be at least 1".to_string(),
        )?;
        check(
            self.max_text_bytes >= 1024,
            format!(
                "models.max-text-bytes = {} must be at least 1024",
                self.max_text_bytes
            ),
        )
    }

    /// Intra-op threads with 0 resolved to the number of cores.
    pub fn intra_threads(&self) -> usize {
        if self.intra_threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.intra_threads
        }
    }
}
