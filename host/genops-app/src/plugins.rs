//! Naming and loading plugins: an installed plugin by its bare name, or a folder or a
//! `.wasm` file by its path.

use std::path::{Path, PathBuf};

use genops_runtime::typed::PluginKind;
use genops_runtime::{Manifest, Plugin, TypedPlugin};

use crate::{App, Error};

/// What a user named, resolved: the component file and its manifest, if it has one.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The component.
    pub component: PathBuf,
    /// Its manifest; `None` for a bare component.
    pub manifest: Option<Manifest>,
}

/// Whether `target` names a path rather than an installed plugin. Installed names win: a
/// folder in the current directory that is named like a plugin is loaded only when written
/// as a path (`./name`), so it cannot stand in for an installed plugin with its own grants.
pub fn is_path(target: &str) -> bool {
    target.contains('/')
        || target.contains(std::path::MAIN_SEPARATOR)
        || target.starts_with('.')
        || target.ends_with(".wasm")
}

impl App {
    /// Finds what a user named: an installed plugin's name, or a path to a plugin folder or
    /// a `.wasm` file.
    pub fn resolve_plugin(&self, target: &str) -> Result<Resolved, Error> {
        if !is_path(target) {
            return match self.catalog().find(target) {
                Ok(installed) => Ok(Resolved {
                    component: installed.dir.join(installed.manifest.component_file()),
                    manifest: Some(installed.manifest),
                }),
                // A folder of that name here is the likeliest confusion: say why it was
                // not taken. Otherwise the catalog's error names what is installed.
                Err(genops_runtime::Error::UnknownPlugin { .. }) if Path::new(target).exists() => {
                    Err(Error::PluginNotFound {
                        name: target.to_string(),
                        folder_here: true,
                    })
                }
                Err(e) => Err(e.into()),
            };
        }
        let path = Path::new(target);
        if path.is_dir() {
            let manifest = Manifest::from_file(&path.join(genops_manifest::FILE_NAME))?;
            let component = path.join(manifest.component_file());
            return Ok(Resolved {
                component,
                manifest: Some(manifest),
            });
        }
        if path.is_file() {
            return Ok(Resolved {
                component: path.to_path_buf(),
                manifest: None,
            });
        }
        Err(Error::NoSuchPath(target.to_string()))
    }

    /// Loads what a user named.
    pub fn load_plugin(&self, target: &str) -> Result<Plugin, Error> {
        let resolved = self.resolve_plugin(target)?;
        Ok(self
            .runtime()?
            .load_file(&resolved.component, resolved.manifest)?)
    }

    /// Loads what a user named as a plugin of kind `K`; `role` says who needs it in the
    /// error (`--chunker`, `genops chunk`). The kind is checked here, once: the typed
    /// plugin's sessions offer that kind's call only.
    pub fn load_kind<K: PluginKind>(
        &self,
        target: &str,
        role: &str,
    ) -> Result<TypedPlugin<K>, Error> {
        typed(self.load_plugin(target)?, role)
    }
}

/// `plugin` as kind `K`, or the error that names who needed which kind.
pub(crate) fn typed<K: PluginKind>(plugin: Plugin, role: &str) -> Result<TypedPlugin<K>, Error> {
    if plugin.kind() != K::KIND {
        return Err(Error::WrongKind {
            plugin: plugin.id().to_string(),
            expected: K::KIND,
            found: plugin.kind(),
            role: role.to_string(),
        });
    }
    Ok(plugin.into_typed()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_are_installed_plugins_and_paths_are_paths() {
        assert!(!is_path("chunker-recursive"));
        assert!(is_path("./chunker-recursive"));
        assert!(is_path("plugins/chunker-recursive"));
        assert!(is_path("x.wasm"));
        assert!(is_path("/abs/dir"));
    }

    #[test]
    fn a_folder_named_like_a_plugin_is_not_loaded_by_its_bare_name() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::with_config(crate::Layout::new(dir.path()), Default::default());
        // A name that is neither installed nor a folder here: the catalog's answer.
        let err = app.resolve_plugin("no-such-plugin-here").unwrap_err();
        assert!(
            matches!(
                err,
                Error::Runtime(genops_runtime::Error::UnknownPlugin { .. })
            ),
            "{err}"
        );
    }
}
