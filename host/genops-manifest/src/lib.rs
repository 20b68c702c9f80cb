//! The genops plugin manifest.
//!
//! Every plugin ships as a WebAssembly component plus a `genops-plugin.toml` that says what it
//! is (name, version, kind, the version of the `genops:plugin` world it was built against),
//! what it may use (limits and capabilities, nothing by default) and its configuration
//! defaults. Unknown keys are errors, so a typo never silently changes what a plugin may do.
//!
//! ```
//! let manifest = genops_manifest::Manifest::from_toml_str(r#"
//!     name = "chunker-fixed"
//!     version = "0.1.0"
//!     kind = "chunker"
//!     world = "0.1.0"
//!
//!     [limits]
//!     memory-mb = 64
//!
//!     [config]
//!     size = 1000
//! "#).unwrap();
//! assert_eq!(manifest.component_file(), std::path::Path::new("chunker-fixed.wasm"));
//! assert_eq!(manifest.config["size"], "1000");
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file name a manifest has inside a plugin folder.
pub const FILE_NAME: &str = "genops-plugin.toml";

/// Errors reading or validating a manifest.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read manifest {path}: {source}")]
    Read {
        /// The manifest's path.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The file is not valid TOML, has unknown keys, or lacks required ones.
    #[error("invalid manifest {path}: {message}")]
    Parse {
        /// The manifest's path, or `<inline>`.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A value is well-formed TOML but not acceptable.
    #[error("invalid manifest {path}: `{field}` {message}")]
    Invalid {
        /// The manifest's path, or `<inline>`.
        path: PathBuf,
        /// The offending key.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// The four plugin kinds; each has its own world in `wit/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Splits documents into chunks.
    Chunker,
    /// Ranks chunks for a query.
    Retriever,
    /// Scores question/answer samples.
    Evaluator,
    /// Allows, blocks or rewrites text.
    Guardrail,
}

impl Kind {
    /// Every kind, in a stable order.
    pub const ALL: [Kind; 4] = [
        Kind::Chunker,
        Kind::Retriever,
        Kind::Evaluator,
        Kind::Guardrail,
    ];

    /// The kind's name, which is also the name of the interface its world exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Chunker => "chunker",
            Kind::Retriever => "retriever",
            Kind::Evaluator => "evaluator",
            Kind::Guardrail => "guardrail",
        }
    }

    /// Parses a kind name.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Resource limits a plugin asks for on each call. Each is bounded by the host's ceilings;
/// unset ones take the host's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Limits {
    /// Linear memory cap in MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mb: Option<u64>,
    /// Wall-clock deadline of one call in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
    /// Instruction budget of one call (only when the host runs with fuel metering).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fuel: Option<u64>,
}

/// What a plugin may reach beyond its own memory. Empty means nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Capabilities {
    /// Model names the plugin may call through the host's model imports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// Index names the plugin may search through the host's index imports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<String>,
}

/// The language a plugin's source is written in, for `genops plugin build`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Language {
    /// A Rust crate using `genops-sdk`.
    Rust,
    /// C sources built with wit-bindgen's C generator and clang.
    C,
    /// A Python module built with componentize-py.
    Python,
    /// A JavaScript module built with componentize-js.
    Javascript,
}

impl Language {
    /// The language's name as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::C => "c",
            Language::Python => "python",
            Language::Javascript => "javascript",
        }
    }
}

/// How `genops plugin build` turns the plugin's source folder into a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Build {
    /// The source language.
    pub language: Language,
    /// Source files relative to the manifest (C: the `.c` files; JavaScript: one module).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<PathBuf>,
    /// Python: the module that defines the exported class (file `<module>.py`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// Extra flags for the compiler (C only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
}

/// A parsed and validated `genops-plugin.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Manifest {
    /// Lowercase letters, digits and `-`, 1 to 64 characters.
    pub name: String,
    /// The plugin's own version (semver).
    pub version: semver::Version,
    /// Which world the component implements.
    pub kind: Kind,
    /// Version of the `genops:plugin` package the component was built against.
    pub world: semver::Version,
    /// One sentence on what the plugin does.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The component file relative to the manifest; `<name>.wasm` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<PathBuf>,
    /// Per-call resource limits.
    #[serde(default, skip_serializing_if = "is_default")]
    pub limits: Limits,
    /// Models and indexes the plugin may use.
    #[serde(default, skip_serializing_if = "is_default")]
    pub capabilities: Capabilities,
    /// Configuration defaults handed to the plugin; values are kept as strings.
    #[serde(
        default,
        deserialize_with = "config_values",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub config: BTreeMap<String, String>,
    /// How to build the plugin from source; ignored when loading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<Build>,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Accepts strings, integers, floats and booleans as configuration values, so a manifest can
/// say `size = 1000` instead of `size = "1000"`; arrays and tables are refused.
fn config_values<'de, D>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let raw = BTreeMap::<String, toml::Value>::deserialize(deserializer)?;
    raw.into_iter()
        .map(|(key, value)| {
            let text = match value {
                toml::Value::String(s) => s,
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(serde::de::Error::custom(format!(
                        "config `{key}` is a {}; values must be strings, numbers or booleans",
                        other.type_str()
                    )))
                }
            };
            Ok((key, text))
        })
        .collect()
}

impl Manifest {
    /// Reads and validates a manifest file.
    pub fn from_file(path: &Path) -> Result<Manifest, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses and validates manifest text.
    pub fn from_toml_str(text: &str) -> Result<Manifest, Error> {
        Self::parse(text, Path::new("<inline>"))
    }

    fn parse(text: &str, path: &Path) -> Result<Manifest, Error> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| Error::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        manifest.validate(path)?;
        Ok(manifest)
    }

    fn validate(&self, path: &Path) -> Result<(), Error> {
        let invalid = |field: &str, message: String| Error::Invalid {
            path: path.to_path_buf(),
            field: field.to_string(),
            message,
        };
        if !valid_name(&self.name) {
            return Err(invalid(
                "name",
                format!(
                    "is `{}`; use 1 to 64 lowercase letters, digits and `-`, starting with a letter or digit",
                    self.name
                ),
            ));
        }
        if let Some(component) = &self.component {
            if component.is_absolute()
                || component
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                return Err(invalid(
                    "component",
                    format!(
                        "is `{}`; it must be a path inside the plugin folder",
                        component.display()
                    ),
                ));
            }
        }
        for (field, value) in [
            ("limits.memory-mb", self.limits.memory_mb),
            ("limits.timeout-ms", self.limits.timeout_ms),
            ("limits.fuel", self.limits.fuel),
        ] {
            if value == Some(0) {
                return Err(invalid(
                    field,
                    "is 0; give a positive value or leave it out for the host default".into(),
                ));
            }
        }
        for key in self.config.keys() {
            if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c == '=') {
                return Err(invalid(
                    "config",
                    format!("has the key `{key}`; keys must be non-empty with no spaces or `=`"),
                ));
            }
        }
        if let Some(build) = &self.build {
            let needs_sources = matches!(build.language, Language::C | Language::Javascript);
            if needs_sources && build.sources.is_empty() {
                return Err(invalid(
                    "build.sources",
                    format!(
                        "is empty; a {} plugin lists its source files",
                        build.language.as_str()
                    ),
                ));
            }
            if build.language == Language::Python && build.module.is_none() {
                return Err(invalid(
                    "build.module",
                    "is missing; a python plugin names the module that defines its class".into(),
                ));
            }
        }
        Ok(())
    }

    /// The component file relative to the manifest's folder.
    pub fn component_file(&self) -> PathBuf {
        self.component
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("{}.wasm", self.name)))
    }

    /// The manifest as TOML text.
    pub fn to_toml_string(&self) -> String {
        toml::to_string(self).expect("a manifest always serializes")
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str =
        "name = \"x\"\nversion = \"1.2.3\"\nkind = \"chunker\"\nworld = \"0.1.0\"\n";

    #[test]
    fn minimal_manifest_takes_defaults() {
        let m = Manifest::from_toml_str(MINIMAL).unwrap();
        assert_eq!(m.kind, Kind::Chunker);
        assert_eq!(m.limits, Limits::default());
        assert!(m.capabilities.models.is_empty() && m.capabilities.indexes.is_empty());
        assert_eq!(m.component_file(), PathBuf::from("x.wasm"));
    }

    #[test]
    fn unknown_top_level_key_is_named() {
        let err = Manifest::from_toml_str(&format!("{MINIMAL}colour = \"red\"\n")).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("unknown field `colour`"), "{text}");
    }

    #[test]
    fn unknown_limit_key_is_named() {
        let err = Manifest::from_toml_str(&format!("{MINIMAL}[limits]\nmemory = 3\n")).unwrap_err();
        assert!(err.to_string().contains("unknown field `memory`"), "{err}");
    }

    #[test]
    fn missing_field_is_named() {
        let err =
            Manifest::from_toml_str("name = \"x\"\nversion = \"1.0.0\"\nkind = \"chunker\"\n")
                .unwrap_err();
        assert!(err.to_string().contains("missing field `world`"), "{err}");
    }

    #[test]
    fn unknown_kind_lists_the_accepted_ones() {
        let err = Manifest::from_toml_str(&MINIMAL.replace("chunker", "splitter")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("splitter") && text.contains("retriever"),
            "{text}"
        );
    }

    #[test]
    fn bad_names_and_paths_are_refused() {
        for (manifest, field) in [
            (MINIMAL.replace("\"x\"", "\"Bad Name\""), "`name`"),
            (
                format!("{MINIMAL}component = \"../escape.wasm\"\n"),
                "`component`",
            ),
            (
                format!("{MINIMAL}[limits]\ntimeout-ms = 0\n"),
                "`limits.timeout-ms`",
            ),
        ] {
            let err = Manifest::from_toml_str(&manifest).unwrap_err();
            assert!(err.to_string().contains(field), "{err}");
        }
    }

    #[test]
    fn config_scalars_become_strings_and_tables_are_refused() {
        let m = Manifest::from_toml_str(&format!(
            "{MINIMAL}[config]\nsize = 10\nratio = 0.5\nstrict = true\nunit = \"chars\"\n"
        ))
        .unwrap();
        assert_eq!(m.config["size"], "10");
        assert_eq!(m.config["ratio"], "0.5");
        assert_eq!(m.config["strict"], "true");
        assert_eq!(m.config["unit"], "chars");
        let err = Manifest::from_toml_str(&format!("{MINIMAL}[config]\nlist = [1]\n")).unwrap_err();
        assert!(err.to_string().contains("values must be strings"), "{err}");
    }

    #[test]
    fn build_section_is_checked_per_language() {
        let err =
            Manifest::from_toml_str(&format!("{MINIMAL}[build]\nlanguage = \"c\"\n")).unwrap_err();
        assert!(err.to_string().contains("build.sources"), "{err}");
        let err = Manifest::from_toml_str(&format!("{MINIMAL}[build]\nlanguage = \"python\"\n"))
            .unwrap_err();
        assert!(err.to_string().contains("build.module"), "{err}");
    }

    #[test]
    fn round_trips_through_toml() {
        let m = Manifest::from_toml_str(&format!(
            "{MINIMAL}description = \"d\"\n[limits]\nmemory-mb = 8\n[capabilities]\nmodels = [\"m\"]\n[config]\nk = \"v\"\n"
        ))
        .unwrap();
        assert_eq!(Manifest::from_toml_str(&m.to_toml_string()).unwrap(), m);
    }

    #[test]
    fn missing_file_error_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let err = Manifest::from_file(&path).unwrap_err();
        assert!(err.to_string().contains(FILE_NAME), "{err}");
    }
}
