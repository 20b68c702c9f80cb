//! Installed plugins on disk: `<root>/<name>/<version>/` holding the manifest and component.
//!
//! An install writes a staging folder (`.staging-*`) beside its target, fsyncs it and
//! renames it into place, under an exclusive lock on `<root>/.lock`; what a killed install
//! leaves is removed by the next install or listing, and names starting with `.` are never
//! listed.

use std::path::{Path, PathBuf};

use genops_manifest::{Manifest, FILE_NAME};

use crate::runtime::inspect_bytes;
use crate::{Error, Registry, Runtime, RuntimeConfig};

/// The folder of installed plugins (`<data-dir>/plugins`).
#[derive(Debug, Clone)]
pub struct Catalog {
    root: PathBuf,
    ceilings: Option<RuntimeConfig>,
}

const STAGING_PREFIX: &str = ".staging-";
const OLD_PREFIX: &str = ".old-";
const LOCK_FILE: &str = ".lock";

/// One installed plugin version.
#[derive(Debug, Clone)]
pub struct Installed {
    /// Its manifest.
    pub manifest: Manifest,
    /// Its folder.
    pub dir: PathBuf,
    /// `sha256:<hex>` of its component.
    pub digest: String,
    /// Size of its component in bytes.
    pub size: usize,
}

impl Catalog {
    /// A catalog rooted at `root`; the folder is created on first install.
    pub fn new(root: impl Into<PathBuf>) -> Catalog {
        Catalog {
            root: root.into(),
            ceilings: None,
        }
    }

    /// Also refuses, at install, manifests whose limits exceed `config`'s ceilings (which
    /// the runtime would refuse at every load).
    pub fn with_ceilings(mut self, config: &RuntimeConfig) -> Catalog {
        self.ceilings = Some(config.clone());
        self
    }

    /// The folder plugins are installed in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Copies a plugin folder (a manifest and its component) into the catalog, replacing the
    /// same name and version if present. The checks a load makes without compiling run
    /// first, so nothing is installed that every load would refuse: the bytes must be a
    /// component exporting a world this host supports, of the manifest's kind; the
    /// manifest's world one this host implements; its grants well-formed; and its limits
    /// under the ceilings, when the catalog knows them ([`Catalog::with_ceilings`]).
    pub fn install_from(&self, plugin_dir: &Path) -> Result<Installed, Error> {
        let manifest = Manifest::from_file(&plugin_dir.join(FILE_NAME))?;
        crate::runtime::check_manifest_world(&manifest)?;
        check_grants(&manifest)?;
        if let Some(ceilings) = &self.ceilings {
            check_limits(&manifest, ceilings)?;
        }
        let source = plugin_dir.join(manifest.component_file());
        let bytes = std::fs::read(&source).map_err(|e| Error::io("cannot read", &source, e))?;
        let inspection = inspect_bytes(&bytes, &source.display().to_string())?;
        match inspection.kind {
            Some(kind) if kind == manifest.kind => {}
            Some(kind) => {
                return Err(Error::WrongKind {
                    source_name: source.display().to_string(),
                    expected: manifest.kind,
                    expected_by: "its manifest",
                    found: kind,
                })
            }
            None => {
                return Err(Error::UnsupportedWorld {
                    source_name: source.display().to_string(),
                    exports: inspection.exports,
                    accepted: vec![crate::runtime::accepted_export(manifest.kind)],
                })
            }
        }

        let _lock = self.lock()?;
        let parent = self.root.join(&manifest.name);
        std::fs::create_dir_all(&parent).map_err(|e| Error::io("cannot create", &parent, e))?;
        let version = manifest.version.to_string();
        let target = parent.join(&version);
        // Write a complete copy beside the target, flush it, then rename it in, so neither a
        // reader nor a crash ever sees a half-written plugin.
        let staging = parent.join(format!("{STAGING_PREFIX}{version}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(|e| Error::io("cannot create", &staging, e))?;
        let mut installed_manifest = manifest.clone();
        let file = PathBuf::from(format!("{}.wasm", manifest.name));
        installed_manifest.component = Some(file.clone());
        write_synced(&staging.join(&file), &bytes)?;
        write_synced(
            &staging.join(FILE_NAME),
            installed_manifest.to_toml_string().as_bytes(),
        )?;
        sync_dir(&staging)?;
        // A version being replaced is moved aside rather than deleted first: if the process
        // dies between the two renames, the next cleanup puts it back.
        let old = parent.join(format!("{OLD_PREFIX}{version}-{}", std::process::id()));
        let had_old = target.exists();
        if had_old {
            let _ = std::fs::remove_dir_all(&old);
            std::fs::rename(&target, &old).map_err(|e| Error::io("cannot replace", &target, e))?;
        }
        if let Err(e) = std::fs::rename(&staging, &target) {
            if had_old {
                let _ = std::fs::rename(&old, &target);
            }
            let _ = std::fs::remove_dir_all(&staging);
            return Err(Error::io("cannot install", &target, e));
        }
        if had_old {
            let _ = std::fs::remove_dir_all(&old);
        }
        sync_dir(&parent)?;
        Ok(Installed {
            manifest: installed_manifest,
            dir: target,
            digest: inspection.digest,
            size: bytes.len(),
        })
    }

    /// Every installed version, sorted by name then version, and the folders that could not
    /// be read (with why).
    pub fn list(&self) -> Result<(Vec<Installed>, Vec<Error>), Error> {
        // Clean up after killed installs, unless an install is running now (its staging
        // folder is not stale).
        if let Some(_lock) = self.try_lock()? {
            self.clean_stale();
        }
        let mut found = Vec::new();
        let mut broken = Vec::new();
        let names = match std::fs::read_dir(&self.root) {
            Ok(names) => names,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((found, broken)),
            Err(e) => return Err(Error::io("cannot read", &self.root, e)),
        };
        for name_dir in names.flatten() {
            if !name_dir.path().is_dir() {
                continue;
            }
            let versions = match std::fs::read_dir(name_dir.path()) {
                Ok(v) => v,
                Err(_) => continue,
            };
            for version_dir in versions.flatten() {
                let dir = version_dir.path();
                if dir
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                {
                    continue;
                }
                match read_installed(&dir) {
                    Ok(installed) => found.push(installed),
                    Err(e) => broken.push(e),
                }
            }
        }
        found.sort_by(|a, b| {
            (&a.manifest.name, &a.manifest.version).cmp(&(&b.manifest.name, &b.manifest.version))
        });
        Ok((found, broken))
    }

    /// The newest installed version of `name`.
    pub fn find(&self, name: &str) -> Result<Installed, Error> {
        let (all, _) = self.list()?;
        let mut names: Vec<String> = all.iter().map(|i| i.manifest.name.clone()).collect();
        names.dedup();
        all.into_iter()
            .filter(|i| i.manifest.name == name)
            .max_by(|a, b| a.manifest.version.cmp(&b.manifest.version))
            .ok_or_else(|| Error::UnknownPlugin {
                name: name.to_string(),
                available: names,
            })
    }

    /// Loads every installed plugin into a registry: the newest version of each name is
    /// active and older ones are its rollback history. Plugins that fail to load are
    /// returned with their errors; the rest still load.
    pub fn load_registry(&self, runtime: &Runtime) -> Result<(Registry, Vec<Error>), Error> {
        let (all, mut errors) = self.list()?;
        let registry = Registry::new();
        for installed in all {
            match runtime.load_dir(&installed.dir) {
                Ok(plugin) => {
                    registry.install(plugin);
                }
                Err(e) => errors.push(e),
            }
        }
        Ok((registry, errors))
    }
}

impl Catalog {
    /// Takes the install lock, waiting for another install to finish, then cleans up.
    fn lock(&self) -> Result<std::fs::File, Error> {
        let path = self.root.join(LOCK_FILE);
        let file = genops_fs::lock(&path).map_err(|e| Error::io("cannot lock", &path, e))?;
        self.clean_stale();
        Ok(file)
    }

    fn try_lock(&self) -> Result<Option<std::fs::File>, Error> {
        if !self.root.is_dir() {
            return Ok(None);
        }
        let path = self.root.join(LOCK_FILE);
        genops_fs::try_lock(&path).map_err(|e| Error::io("cannot lock", &path, e))
    }

    /// Removes the staging folders of killed installs and puts back a version that was
    /// moved aside when its replacement never arrived. Only under the install lock.
    fn clean_stale(&self) {
        let names = std::fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten();
        for name_dir in names.filter(|e| e.path().is_dir()) {
            let parent = name_dir.path();
            for entry in std::fs::read_dir(&parent).into_iter().flatten().flatten() {
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                let path = entry.path();
                if name.starts_with(STAGING_PREFIX) {
                    tracing::info!(path = %path.display(), "removing what an interrupted plugin install left");
                    let _ = std::fs::remove_dir_all(&path);
                } else if let Some(rest) = name.strip_prefix(OLD_PREFIX) {
                    // `.old-<version>-<pid>`
                    let version = rest.rsplit_once('-').map_or(rest, |(v, _)| v);
                    let target = parent.join(version);
                    if semver::Version::parse(version).is_ok() && !target.exists() {
                        let _ = std::fs::rename(&path, &target);
                    } else {
                        let _ = std::fs::remove_dir_all(&path);
                    }
                }
            }
            // A name whose only install was killed is left empty.
            let _ = std::fs::remove_dir(&parent);
        }
    }
}

/// The grants a load refuses when malformed: model names (a path would let a manifest
/// reach any folder) and index names or `*`. Whether a granted model is installed is
/// checked at load, since models may be installed after the plugin.
pub(crate) fn check_grants(manifest: &Manifest) -> Result<(), Error> {
    let plugin = || format!("{}@{}", manifest.name, manifest.version);
    for model in &manifest.capabilities.models {
        if let Err(message) = genops_models::check_name(model) {
            return Err(Error::ModelUnavailable {
                plugin: plugin(),
                model: model.clone(),
                reason: format!("{message}; grant installed models by name"),
            });
        }
    }
    // The same check a load makes, so install refuses what every load would.
    crate::runtime::check_index_grants(manifest)
}

/// The manifest's limits against the operator's ceilings, as a load checks them.
pub(crate) fn check_limits(manifest: &Manifest, ceilings: &RuntimeConfig) -> Result<(), Error> {
    let limits = &manifest.limits;
    let mut checks = vec![
        (
            "memory-mb",
            limits.memory_mb,
            ceilings.max_memory_mb,
            "max-memory-mb",
        ),
        (
            "timeout-ms",
            limits.timeout_ms,
            ceilings.max_timeout_ms,
            "max-timeout-ms",
        ),
    ];
    if ceilings.fuel {
        checks.push(("fuel", limits.fuel, ceilings.max_fuel, "max-fuel"));
    }
    for (limit, asked, allowed, setting) in checks {
        if let Some(asked) = asked.filter(|&a| a > allowed) {
            return Err(Error::LimitAboveCeiling {
                plugin: format!("{}@{}", manifest.name, manifest.version),
                limit,
                asked,
                allowed,
                setting,
            });
        }
    }
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut file = std::fs::File::create(path).map_err(|e| Error::io("cannot write", path, e))?;
    std::io::Write::write_all(&mut file, bytes).map_err(|e| Error::io("cannot write", path, e))?;
    file.sync_all()
        .map_err(|e| Error::io("cannot sync", path, e))
}

/// Flushes a folder's entries (new names, renames) to disk.
fn sync_dir(dir: &Path) -> Result<(), Error> {
    genops_fs::sync_dir(dir).map_err(|e| Error::io("cannot sync", dir, e))
}

fn read_installed(dir: &Path) -> Result<Installed, Error> {
    let manifest = Manifest::from_file(&dir.join(FILE_NAME))?;
    let path = dir.join(manifest.component_file());
    let bytes = std::fs::read(&path).map_err(|e| Error::io("cannot read", &path, e))?;
    let inspection = inspect_bytes(&bytes, &path.display().to_string())?;
    Ok(Installed {
        manifest,
        dir: dir.to_path_buf(),
        digest: inspection.digest,
        size: bytes.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A component that exports `export` (an empty instance: installing never compiles it).
    fn component(export: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(component (instance $i) (export "{export}" (instance $i)))"#
        ))
        .unwrap()
    }

    fn plugin_dir(root: &Path, manifest: &str, export: &str) -> PathBuf {
        let dir = root.join("src");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(FILE_NAME), manifest).unwrap();
        std::fs::write(dir.join("p.wasm"), component(export)).unwrap();
        dir
    }

    fn manifest(kind: &str, world: &str, extra: &str) -> String {
        format!(
            "name = \"p\"\nversion = \"1.0.0\"\nkind = \"{kind}\"\nworld = \"{world}\"\n{extra}"
        )
    }

    const CHUNKER: &str = "genops:plugin/chunker@0.1.0";

    fn listed(catalog: &Catalog) -> Vec<String> {
        let (found, broken) = catalog.list().unwrap();
        assert!(broken.is_empty(), "{broken:?}");
        found
            .iter()
            .map(|i| format!("{}@{}", i.manifest.name, i.manifest.version))
            .collect()
    }

    #[test]
    fn a_killed_install_is_cleaned_up_and_not_listed() {
        let tmp = tempfile::tempdir().unwrap();
        let catalog = Catalog::new(tmp.path().join("plugins"));
        let src = plugin_dir(tmp.path(), &manifest("chunker", "0.1.0", ""), CHUNKER);
        // A killed install of a new plugin left a complete-looking staging folder.
        let staging = catalog.root().join("q").join(".staging-1.0.0-4242");
        std::fs::create_dir_all(&staging).unwrap();
        std::fs::copy(src.join(FILE_NAME), staging.join(FILE_NAME)).unwrap();
        std::fs::copy(src.join("p.wasm"), staging.join("p.wasm")).unwrap();
        assert!(listed(&catalog).is_empty());
        assert!(!staging.exists() && !catalog.root().join("q").exists());

        std::fs::create_dir_all(&staging).unwrap();
        catalog.install_from(&src).unwrap();
        assert!(!catalog.root().join("q").exists());
        assert_eq!(listed(&catalog), ["p@1.0.0"]);
        let left: Vec<_> = std::fs::read_dir(catalog.root().join("p"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, ["1.0.0"]);
    }

    #[test]
    fn a_version_moved_aside_by_a_killed_reinstall_is_put_back() {
        let tmp = tempfile::tempdir().unwrap();
        let catalog = Catalog::new(tmp.path().join("plugins"));
        let src = plugin_dir(tmp.path(), &manifest("chunker", "0.1.0", ""), CHUNKER);
        let installed = catalog.install_from(&src).unwrap();
        // Killed between moving 1.0.0 aside and renaming its replacement in.
        let aside = catalog.root().join("p").join(".old-1.0.0-4242");
        std::fs::rename(&installed.dir, &aside).unwrap();
        assert_eq!(listed(&catalog), ["p@1.0.0"]);
        assert!(!aside.exists());
        // A reinstall over an installed version replaces it.
        catalog.install_from(&src).unwrap();
        assert_eq!(listed(&catalog), ["p@1.0.0"]);
    }

    #[test]
    fn a_manifest_whose_kind_disagrees_with_the_component_is_refused_at_install() {
        let tmp = tempfile::tempdir().unwrap();
        let catalog = Catalog::new(tmp.path().join("plugins"));
        let src = plugin_dir(tmp.path(), &manifest("retriever", "0.1.0", ""), CHUNKER);
        let err = catalog.install_from(&src).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, Error::WrongKind { .. }), "{message}");
        assert!(
            message.contains("chunker") && message.contains("retriever"),
            "{message}"
        );
        assert!(listed(&catalog).is_empty());
    }

    #[test]
    fn a_manifest_whose_world_is_newer_than_the_host_is_refused_at_install() {
        let tmp = tempfile::tempdir().unwrap();
        let catalog = Catalog::new(tmp.path().join("plugins"));
        let src = plugin_dir(tmp.path(), &manifest("chunker", "0.1.9", ""), CHUNKER);
        let err = catalog.install_from(&src).unwrap_err();
        assert!(
            matches!(err, Error::UnsupportedManifestWorld { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade genops"), "{err}");
        // So is a component that exports a newer world than the host's.
        let src = plugin_dir(
            tmp.path(),
            &manifest("chunker", "0.1.0", ""),
            "genops:plugin/chunker@0.1.9",
        );
        let err = catalog.install_from(&src).unwrap_err();
        assert!(matches!(err, Error::UnsupportedWorld { .. }), "{err}");
        assert!(listed(&catalog).is_empty());
    }

    #[test]
    fn malformed_grants_and_limits_above_the_ceilings_are_refused_at_install() {
        let tmp = tempfile::tempdir().unwrap();
        let catalog = Catalog::new(tmp.path().join("plugins"));
        let grants = [
            "[capabilities]\nmodels = [\"../../etc\"]\n",
            "[capabilities]\nindexes = [\"Docs/*\"]\n",
        ];
        for extra in grants {
            let src = plugin_dir(tmp.path(), &manifest("chunker", "0.1.0", extra), CHUNKER);
            let err = catalog.install_from(&src).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::ModelUnavailable { .. } | Error::InvalidGrant { .. }
                ),
                "{extra}: {err}"
            );
        }
        let big = manifest("chunker", "0.1.0", "[limits]\nmemory-mb = 5000\n");
        let src = plugin_dir(tmp.path(), &big, CHUNKER);
        // Without known ceilings the limit is the load's business.
        catalog.install_from(&src).unwrap();
        let strict =
            Catalog::new(tmp.path().join("strict")).with_ceilings(&RuntimeConfig::default());
        let err = strict.install_from(&src).unwrap_err();
        assert!(matches!(err, Error::LimitAboveCeiling { .. }), "{err}");
        assert!(err.to_string().contains("max-memory-mb"), "{err}");
    }
}
