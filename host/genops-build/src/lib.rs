//! Builds genops plugins from Rust, C, Python and JavaScript sources into components.
//!
//! A plugin's source folder holds a `genops-plugin.toml` whose `[build]` table names the
//! language (a folder with a `Cargo.toml` and no `[build]` table is Rust). [`build`] runs
//! that language's toolchain against the WIT of [`WORLD_VERSION`], checks that the result is
//! a component exporting the manifest's kind at that version and importing nothing the host
//! lacks,
//! and writes a ready-to-load plugin folder `<out>/<name>/` holding `<name>.wasm` and the
//! manifest.
//!
//! | language | toolchain |
//! |---|---|
//! | Rust | Debian `rustc-web`/`cargo-web` with `-Zbuild-std`, target `wasm32-wasip2` |
//! | C | `wit-bindgen c`, then `clang-19` against wasi-libc, then `wit-component` in process |
//! | Python | `componentize-py` |
//! | JavaScript | componentize-js, run by `node` through `sdk/js/componentize.mjs` |
//!
//! ```no_run
//! let toolchain = genops_build::Toolchain::from_env();
//! let built = genops_build::build("examples/paragraph-c".as_ref(), None, &toolchain)?;
//! println!("{} ({} bytes, {})", built.component.display(), built.size, built.digest);
//! # Ok::<(), genops_build::Error>(())
//! ```
//!
//! Each tool is found through [`Toolchain`], whose defaults match what `scripts/install.sh`
//! installs and whose fields can each be overridden by an environment variable.

mod c;
mod check;
mod javascript;
mod python;
mod rust;
mod tool;
mod wit;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

pub use genops_manifest::{Kind, Language, Manifest};
pub use wit::WORLD_VERSION;

/// Errors building a plugin. Each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The folder has no `genops-plugin.toml`.
    #[error("no plugin manifest at {path}; give the folder that holds genops-plugin.toml")]
    ManifestMissing {
        /// Where the manifest was looked for.
        path: PathBuf,
    },
    /// The manifest does not parse or validate.
    #[error(transparent)]
    Manifest(#[from] genops_manifest::Error),
    /// Neither a `[build]` table nor a `Cargo.toml` says what the source language is.
    #[error(
        "{path} has no [build] table and there is no Cargo.toml beside it; add `[build]` with \
         `language = \"c\"`, \"python\", \"javascript\" or \"rust\""
    )]
    NoLanguage {
        /// The manifest.
        path: PathBuf,
    },
    /// The manifest asks for a world version this crate cannot build for: another line, or
    /// a version newer than the WIT it carries.
    #[error(
        "{path} targets world {world} but this genops builds plugins for worlds 0.1.0 to {known}; \
         set `world` to the oldest of those that has everything the plugin uses \
         (`world = \"0.1.0\"` unless it calls what a later version added)"
    )]
    UnsupportedWorld {
        /// The manifest.
        path: PathBuf,
        /// The version it asks for.
        world: semver::Version,
        /// The newest version this crate can build.
        known: &'static str,
    },
    /// A source file or folder the build needs is not there.
    #[error("{path} does not exist; {hint}")]
    SourceMissing {
        /// The missing file.
        path: PathBuf,
        /// What to change.
        hint: String,
    },
    /// The manifest's `[build]` table does not fit the language.
    #[error("{path}: {message}")]
    BadBuildTable {
        /// The manifest.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A tool of the toolchain is not installed, or not where it was said to be.
    #[error("cannot find {tool}; run scripts/install.sh (it installs {package}) or set {env} to its path")]
    ToolMissing {
        /// The program (or file) that was looked for.
        tool: PathBuf,
        /// The environment variable that overrides it.
        env: &'static str,
        /// What provides it.
        package: &'static str,
    },
    /// A tool could not be started.
    #[error("cannot run {tool}: {source}")]
    Spawn {
        /// The program.
        tool: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A tool ran and failed; `output` is the tail of what it printed.
    #[error("{tool} failed ({status}) building {plugin}:\n{output}{hint}")]
    ToolFailed {
        /// The program's name.
        tool: String,
        /// The plugin being built.
        plugin: String,
        /// The exit status.
        status: String,
        /// The last lines of its error output.
        output: String,
        /// A line on the likely cause, or empty.
        hint: String,
    },
    /// `cargo metadata` answered something unexpected, or the crate has no cdylib.
    #[error("{path}: {message}")]
    Cargo {
        /// The crate's `Cargo.toml`.
        path: PathBuf,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// wit-component could not turn the compiled core module into a component.
    #[error("cannot make a component of {plugin}: {message}")]
    Componentize {
        /// The plugin being built.
        plugin: String,
        /// wit-component's explanation.
        message: String,
    },
    /// The built file is not a component of the plugin's kind and world.
    #[error("{plugin}: {message}")]
    BadComponent {
        /// The plugin being built.
        plugin: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// What was being done (`read`, `write`, `create`).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.to_path_buf();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }
}

/// Where the tools of each language live.
///
/// [`Toolchain::default`] is what `scripts/install.sh` installs on Debian 12;
/// [`Toolchain::from_env`] lets environment variables override each entry. A bare program
/// name is looked up on `PATH` when it is used; a path with a `/` is used as given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toolchain {
    /// The cargo that builds Rust plugins (`GENOPS_WASM_CARGO`, default `/usr/bin/cargo`,
    /// Debian's `cargo-web`): rustup's toolchains lack the wasm32 standard library.
    pub cargo: PathBuf,
    /// The rustc it uses (`GENOPS_WASM_RUSTC`, default `/usr/bin/rustc`, Debian's
    /// `rustc-web`, which finds its own std sources for `-Zbuild-std`).
    pub rustc: PathBuf,
    /// The C compiler (`GENOPS_CLANG`, default `clang-19`).
    pub clang: PathBuf,
    /// The folder with wasi-libc's `libc.a` for `wasm32-wasi` (`GENOPS_WASI_LIBC`, default
    /// `/usr/lib/wasm32-wasi`, Debian's `wasi-libc`). Its headers are expected in
    /// `../../include/wasm32-wasi` (or `../../include`) from there, the layout of both
    /// Debian and wasi-sdk sysroots.
    pub wasi_libc: PathBuf,
    /// wit-bindgen's CLI, for C bindings (`GENOPS_WIT_BINDGEN`, default `wit-bindgen`).
    pub wit_bindgen: PathBuf,
    /// componentize-py (`GENOPS_COMPONENTIZE_PY`, default `componentize-py`).
    pub componentize_py: PathBuf,
    /// Node.js, which runs componentize-js (`GENOPS_NODE`, default `node`).
    pub node: PathBuf,
    /// The folder holding `componentize.mjs` and its `node_modules` (`GENOPS_JS_TOOLS`,
    /// default `sdk/js` of the genops source tree this crate was compiled from).
    pub js_tools: PathBuf,
    /// Cargo's target folder for Rust plugins (`GENOPS_WASM_TARGET_DIR`, default
    /// `$HOME/.cache/genops/target-wasm`), shared by all plugins so the standard library is
    /// compiled once.
    pub wasm_target_dir: PathBuf,
}

impl Default for Toolchain {
    fn default() -> Self {
        Toolchain {
            cargo: "/usr/bin/cargo".into(),
            rustc: "/usr/bin/rustc".into(),
            clang: "clang-19".into(),
            wasi_libc: "/usr/lib/wasm32-wasi".into(),
            wit_bindgen: "wit-bindgen".into(),
            componentize_py: "componentize-py".into(),
            node: "node".into(),
            js_tools: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sdk/js"),
            wasm_target_dir: default_wasm_target_dir(std::env::var_os("HOME")),
        }
    }
}

fn default_wasm_target_dir(home: Option<OsString>) -> PathBuf {
    match home {
        Some(home) if !home.is_empty() => PathBuf::from(home).join(".cache/genops/target-wasm"),
        // Without a home folder the cache goes where every user can write.
        _ => std::env::temp_dir().join("genops-target-wasm"),
    }
}

impl Toolchain {
    /// The defaults, overridden by the `GENOPS_*` environment variables that are set.
    pub fn from_env() -> Toolchain {
        Toolchain::from_lookup(|name| std::env::var_os(name))
    }

    /// The defaults, overridden by the variables `lookup` returns a non-empty value for.
    /// [`Toolchain::from_env`] is this with the process environment; tests and embedders
    /// pass their own.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Toolchain {
        let mut toolchain = Toolchain {
            wasm_target_dir: default_wasm_target_dir(lookup("HOME")),
            ..Toolchain::default()
        };
        for (var, field) in [
            ("GENOPS_WASM_CARGO", &mut toolchain.cargo),
            ("GENOPS_WASM_RUSTC", &mut toolchain.rustc),
            ("GENOPS_CLANG", &mut toolchain.clang),
            ("GENOPS_WASI_LIBC", &mut toolchain.wasi_libc),
            ("GENOPS_WIT_BINDGEN", &mut toolchain.wit_bindgen),
            ("GENOPS_COMPONENTIZE_PY", &mut toolchain.componentize_py),
            ("GENOPS_NODE", &mut toolchain.node),
            ("GENOPS_JS_TOOLS", &mut toolchain.js_tools),
            ("GENOPS_WASM_TARGET_DIR", &mut toolchain.wasm_target_dir),
        ] {
            if let Some(value) = lookup(var).filter(|v| !v.is_empty()) {
                *field = PathBuf::from(value);
            }
        }
        toolchain
    }
}

/// A built plugin folder.
#[derive(Debug, Clone)]
pub struct Built {
    /// The manifest written next to the component, with `component` set.
    pub manifest: Manifest,
    /// The language it was built from.
    pub language: Language,
    /// The output plugin folder, `<out>/<name>/`.
    pub dir: PathBuf,
    /// The component file inside it.
    pub component: PathBuf,
    /// `sha256:<hex>` of the component's bytes.
    pub digest: String,
    /// The component's size in bytes.
    pub size: u64,
    /// How long the whole build took.
    pub elapsed: Duration,
    /// The interfaces the component imports, like `genops:plugin/logging@0.1.0`.
    pub imports: Vec<String>,
    /// The interfaces it exports.
    pub exports: Vec<String>,
}

/// Builds the plugin in `plugin_dir` into `<out_dir>/<name>/` (default out: `<plugin_dir>/dist`).
///
/// Progress goes to [`tracing`] at info level, one event per step; use
/// [`build_with_progress`] to receive the lines directly.
pub fn build(
    plugin_dir: &Path,
    out_dir: Option<&Path>,
    toolchain: &Toolchain,
) -> Result<Built, Error> {
    build_with_progress(
        plugin_dir,
        out_dir,
        toolchain,
        &mut |line| tracing::info!(target: "genops_build", "{line}"),
    )
}

/// [`build`], calling `progress` with one line per step (compiling, componentizing,
/// checking, writing). Steps that run an external tool say so before it starts, since some
/// take minutes.
pub fn build_with_progress(
    plugin_dir: &Path,
    out_dir: Option<&Path>,
    toolchain: &Toolchain,
    progress: &mut dyn FnMut(&str),
) -> Result<Built, Error> {
    let started = Instant::now();
    // The manifest itself is accepted too, since shells complete file names.
    let plugin_dir = match plugin_dir.parent() {
        Some(parent)
            if plugin_dir.ends_with(genops_manifest::FILE_NAME) && plugin_dir.is_file() =>
        {
            parent
        }
        _ => plugin_dir,
    };
    // Tools run inside the plugin folder (so their messages name files as the manifest
    // does), which breaks every relative path given by the caller unless made absolute.
    let plugin_dir = &std::path::absolute(plugin_dir).map_err(Error::io("resolve", plugin_dir))?;
    let manifest_path = plugin_dir.join(genops_manifest::FILE_NAME);
    if !manifest_path.is_file() {
        return Err(Error::ManifestMissing {
            path: manifest_path,
        });
    }
    let mut manifest = Manifest::from_file(&manifest_path)?;
    let language = language_of(&manifest, plugin_dir, &manifest_path)?;
    if !buildable(&manifest.world) {
        return Err(Error::UnsupportedWorld {
            path: manifest_path,
            world: manifest.world.clone(),
            known: WORLD_VERSION,
        });
    }
    progress(&format!(
        "building {} {} ({}) from {}",
        manifest.name,
        manifest.version,
        language.as_str(),
        plugin_dir.display()
    ));

    // Generated bindings, WIT copies and intermediate files go here, never into the
    // source folder, so a build leaves the plugin's sources untouched.
    let scratch = tempfile::Builder::new()
        .prefix("genops-build-")
        .tempdir()
        .map_err(Error::io("create", &std::env::temp_dir()))?;
    let job = Job {
        dir: plugin_dir,
        manifest_path: &manifest_path,
        manifest: &manifest,
        toolchain,
        scratch: scratch.path(),
    };
    let bytes = match language {
        Language::Rust => rust::build(&job, progress)?,
        Language::C => c::build(&job, progress)?,
        Language::Python => python::build(&job, progress)?,
        Language::Javascript => javascript::build(&job, progress)?,
    };

    progress(&format!(
        "checking that the component exports genops:plugin/{}@{WORLD_VERSION}",
        manifest.kind
    ));
    let interfaces = check::check(&bytes, &manifest)?;

    let out_root = out_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| plugin_dir.join("dist"));
    let dir = out_root.join(&manifest.name);
    std::fs::create_dir_all(&dir).map_err(Error::io("create", &dir))?;
    let file_name = format!("{}.wasm", manifest.name);
    let component = dir.join(&file_name);
    write_atomically(&component, &bytes)?;
    manifest.component = Some(PathBuf::from(&file_name));
    write_atomically(
        &dir.join(genops_manifest::FILE_NAME),
        manifest.to_toml_string().as_bytes(),
    )?;

    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    let elapsed = started.elapsed();
    progress(&format!(
        "wrote {} ({}, {}) in {:.1} s",
        component.display(),
        human_size(bytes.len() as u64),
        digest,
        elapsed.as_secs_f64()
    ));
    Ok(Built {
        manifest,
        language,
        dir,
        component,
        digest,
        size: bytes.len() as u64,
        elapsed,
        imports: interfaces.imports,
        exports: interfaces.exports,
    })
}

/// What every language's build step receives.
pub(crate) struct Job<'a> {
    /// The plugin's source folder, absolute.
    pub dir: &'a Path,
    /// Its manifest file, for error messages.
    pub manifest_path: &'a Path,
    pub manifest: &'a Manifest,
    pub toolchain: &'a Toolchain,
    /// A private temporary folder, removed after the build.
    pub scratch: &'a Path,
}

impl Job<'_> {
    /// The `[build]` table's source files as listed, relative to the plugin folder (where
    /// the tools run), after checking that they exist.
    pub fn sources(&self) -> Result<Vec<PathBuf>, Error> {
        let listed = self
            .manifest
            .build
            .as_ref()
            .map(|b| b.sources.as_slice())
            .unwrap_or_default();
        listed
            .iter()
            .map(|source| {
                let path = self.dir.join(source);
                if path.is_file() {
                    Ok(source.clone())
                } else {
                    Err(Error::SourceMissing {
                        path,
                        hint: format!("fix `build.sources` in {}", self.manifest_path.display()),
                    })
                }
            })
            .collect()
    }

    /// The name of the world the plugin implements, like `chunker-plugin`.
    pub fn world(&self) -> String {
        format!("{}-plugin", self.manifest.kind)
    }
}

/// Whether `world` can be a manifest's world: a version of the line this crate carries (the
/// WIT of 0.1.x holds every earlier 0.1 version, since patches only add), not newer than it.
fn buildable(world: &semver::Version) -> bool {
    let newest = semver::Version::parse(WORLD_VERSION).expect("valid world version");
    world.major == newest.major
        && world.minor == newest.minor
        && world.pre.is_empty()
        && *world <= newest
}

fn language_of(manifest: &Manifest, dir: &Path, manifest_path: &Path) -> Result<Language, Error> {
    match &manifest.build {
        Some(build) => Ok(build.language),
        None if dir.join("Cargo.toml").is_file() => Ok(Language::Rust),
        None => Err(Error::NoLanguage {
            path: manifest_path.to_path_buf(),
        }),
    }
}

/// Writes through a temporary file and a rename, so a reader (a host watching the folder for
/// hot swaps) never sees half a component.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut temp = path.as_os_str().to_owned();
    temp.push(".partial");
    let temp = PathBuf::from(temp);
    std::fs::write(&temp, bytes).map_err(Error::io("write", &temp))?;
    std::fs::rename(&temp, path).map_err(Error::io("write", path))
}

fn human_size(bytes: u64) -> String {
    if bytes < 1024 * 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_may_name_any_world_of_the_line_up_to_the_newest() {
        let v = |s: &str| semver::Version::parse(s).unwrap();
        assert!(buildable(&v("0.1.0")));
        assert!(buildable(&v(WORLD_VERSION)));
        assert!(!buildable(&v("0.1.99")));
        assert!(!buildable(&v("0.2.0")));
        assert!(!buildable(&v("0.1.2-rc.1")));
    }

    #[test]
    fn env_vars_override_each_tool() {
        let toolchain = Toolchain::from_lookup(|name| match name {
            "GENOPS_CLANG" => Some("/opt/llvm/bin/clang".into()),
            "GENOPS_WASM_TARGET_DIR" => Some("/tmp/t".into()),
            "GENOPS_NODE" => Some("".into()),
            "HOME" => Some("/home/u".into()),
            _ => None,
        });
        assert_eq!(toolchain.clang, Path::new("/opt/llvm/bin/clang"));
        assert_eq!(toolchain.wasm_target_dir, Path::new("/tmp/t"));
        // An empty variable counts as unset.
        assert_eq!(toolchain.node, Path::new("node"));
        assert_eq!(toolchain.cargo, Path::new("/usr/bin/cargo"));
    }

    #[test]
    fn target_dir_defaults_to_the_home_cache() {
        let toolchain = Toolchain::from_lookup(|name| (name == "HOME").then(|| "/home/u".into()));
        assert_eq!(
            toolchain.wasm_target_dir,
            Path::new("/home/u/.cache/genops/target-wasm")
        );
    }

    #[test]
    fn js_tools_default_to_this_source_tree() {
        let js = Toolchain::default().js_tools;
        assert!(js.join("package.json").is_file(), "{}", js.display());
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(19_179), "18.7 KiB");
        assert_eq!(human_size(12_023_139), "11.5 MiB");
    }
}
