//! Installed plugins on disk: `<root>/<name>/<version>/` holding the manifest and component.

use std::path::{Path, PathBuf};

use genops_manifest::{Manifest, FILE_NAME};

use crate::runtime::inspect_bytes;
use crate::{Error, Registry, Runtime};

/// The folder of installed plugins (`<data-dir>/plugins`).
#[derive(Debug, Clone)]
pub struct Catalog {
    root: PathBuf,
}

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
        Catalog { root: root.into() }
    }

    /// The folder plugins are installed in.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Copies a plugin folder (a manifest and its component) into the catalog, replacing the
    /// same name and version if present. The component is checked first: it must be a
    /// component whose kind matches the manifest, and the manifest's world one this host
    /// implements.
    pub fn install_from(&self, plugin_dir: &Path) -> Result<Installed, Error> {
        let manifest = Manifest::from_file(&plugin_dir.join(FILE_NAME))?;
        crate::runtime::check_manifest_world(&manifest)?;
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

        let parent = self.root.join(&manifest.name);
        std::fs::create_dir_all(&parent).map_err(|e| Error::io("cannot create", &parent, e))?;
        let target = parent.join(manifest.version.to_string());
        // Write a complete copy beside the target, then swap it in, so a reader never sees a
        // half-written plugin.
        let staging = parent.join(format!(".staging-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(|e| Error::io("cannot create", &staging, e))?;
        let mut installed_manifest = manifest.clone();
        let file = PathBuf::from(format!("{}.wasm", manifest.name));
        installed_manifest.component = Some(file.clone());
        std::fs::write(staging.join(&file), &bytes)
            .map_err(|e| Error::io("cannot write", staging.join(&file), e))?;
        std::fs::write(staging.join(FILE_NAME), installed_manifest.to_toml_string())
            .map_err(|e| Error::io("cannot write", staging.join(FILE_NAME), e))?;
        if target.exists() {
            std::fs::remove_dir_all(&target)
                .map_err(|e| Error::io("cannot replace", &target, e))?;
        }
        std::fs::rename(&staging, &target).map_err(|e| Error::io("cannot install", &target, e))?;
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
        let mut found = Vec::new();
        let mut broken = Vec::new();
        let names = match std::fs::read_dir(&self.root) {
            Ok(names) => names,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((found, broken)),
            Err(e) => return Err(Error::io("cannot read", &self.root, e)),
        };
        for name_dir in names.flatten() {
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
