//! The engine, the linker and loading: bytes in, a checked and pre-instantiated plugin out.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use genops_manifest::{Kind, Manifest};
use genops_models::Models;
use genops_search::Indexes;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings;
use crate::cache::{Cache, CompileCache};
use crate::config::{mib_to_bytes, POOL_CORE_INSTANCES_PER_COMPONENT};
use crate::imports::HostState;
use crate::plugin::{CallLimits, Plugin, PluginInner, Pre};
use crate::{Allocator, Error, PluginId, RuntimeConfig, WORLD_VERSION};

/// The plugin host: one wasmtime engine, one linker with the host imports, an optional
/// on-disk cache of compiled components, the native models plugins may call (if any), and a
/// thread that drives deadlines.
///
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<RuntimeInner>,
}

pub(crate) struct RuntimeInner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<HostState>,
    pub(crate) config: RuntimeConfig,
    cache: Option<Cache>,
    pub(crate) models: Option<Models>,
    /// The indexes retriever plugins may search; replaceable while plugins run, so a
    /// service can move to a new live version without reloading them.
    pub(crate) indexes: RwLock<Option<Arc<dyn Indexes>>>,
    engine_key: String,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for RuntimeInner {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// How a component was turned into machine code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadSource {
    /// Compiled now (and written to the cache, if there is one).
    Compiled,
    /// Read from the precompiled cache.
    Cache,
}

/// What `genops plugin inspect` shows of a component, read without compiling it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Inspection {
    /// `sha256:<hex>` of the component bytes: the plugin's identity.
    pub digest: String,
    /// Size in bytes.
    pub size: usize,
    /// The plugin kind its exports say, if it exports a genops plugin interface.
    pub kind: Option<Kind>,
    /// The `genops:plugin` version of that export.
    pub world: Option<semver::Version>,
    /// Top-level export names.
    pub exports: Vec<String>,
    /// Top-level import names.
    pub imports: Vec<String>,
}

impl Runtime {
    /// Creates a runtime without native models. `cache_dir` holds compiled components, with
    /// the key that vouches for them beside it ([`CompileCache::beside`]); `None` compiles
    /// every time. Plugins that call the models import get a `failed` error saying the host
    /// runs without models.
    pub fn new(config: RuntimeConfig, cache_dir: Option<PathBuf>) -> Result<Runtime, Error> {
        Self::with_cache(config, cache_dir.map(CompileCache::beside), None)
    }

    /// Creates a runtime whose plugins may call `models`, each plugin only the models its
    /// manifest grants (`[capabilities] models`). With models attached, loading refuses a
    /// plugin granted a model that is not installed, so the mistake shows at install time
    /// rather than on the plugin's first call. The cache is as in [`Runtime::new`].
    pub fn with_models(
        config: RuntimeConfig,
        cache_dir: Option<PathBuf>,
        models: Option<Models>,
    ) -> Result<Runtime, Error> {
        Self::with_cache(config, cache_dir.map(CompileCache::beside), models)
    }

    /// Creates a runtime with a compile cache whose key file is named
    /// ([`CompileCache::in_data_dir`] is the data directory's layout) and, optionally,
    /// models.
    pub fn with_cache(
        config: RuntimeConfig,
        cache: Option<CompileCache>,
        models: Option<Models>,
    ) -> Result<Runtime, Error> {
        config.validate()?;
        let cache = cache.as_ref().map(Cache::open).transpose()?;
        let mut wasm = Config::new();
        wasm.wasm_component_model(true)
            .epoch_interruption(true)
            .consume_fuel(config.fuel)
            .max_wasm_stack(config.max_wasm_stack_kib * 1024);
        if config.allocator == Allocator::Pooling {
            let mut pool = PoolingAllocationConfig::new();
            let instances = config.pool_instances;
            // Components built by componentize-py and componentize-js hold a dozen core
            // instances, several memories and large function tables; size the pool for them.
            // `validate` checked that these products fit.
            pool.total_component_instances(instances)
                .total_core_instances(instances * POOL_CORE_INSTANCES_PER_COMPONENT)
                .total_memories(instances.saturating_mul(4))
                .total_tables(instances.saturating_mul(8))
                .total_stacks(0)
                .max_core_instances_per_component(64)
                .max_memories_per_component(8)
                .max_tables_per_component(16)
                .max_memories_per_module(1)
                .max_tables_per_module(4)
                .table_elements(config.pool_table_elements)
                .max_component_instance_size(4 << 20)
                .max_core_instance_size(4 << 20)
                .max_memory_size(
                    usize::try_from(mib_to_bytes(config.max_memory_mb, "max-memory-mb")?)
                        .unwrap_or(usize::MAX),
                )
                .linear_memory_keep_resident(1 << 20)
                .table_keep_resident(64 << 10);
            wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&wasm).map_err(|e| Error::Engine(format!("{e:#}")))?;

        let mut linker = Linker::<HostState>::new(&engine);
        crate::imports::add_to_linker(&mut linker).map_err(|e| Error::Engine(format!("{e:#}")))?;

        let engine_key = {
            let mut hasher = Sha256Hasher::default();
            engine.precompile_compatibility_hash().hash(&mut hasher);
            hex::encode(&hasher.0.finalize()[..8])
        };

        let stop_ticker = Arc::new(AtomicBool::new(false));
        spawn_epoch_ticker(
            engine.clone(),
            Duration::from_millis(config.epoch_tick_ms),
            stop_ticker.clone(),
        );

        Ok(Runtime {
            inner: Arc::new(RuntimeInner {
                engine,
                linker,
                config,
                cache,
                models,
                indexes: RwLock::new(None),
                engine_key,
                stop_ticker,
            }),
        })
    }

    /// The runtime's settings.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// Sets the indexes retriever plugins may search through the `search` import (each
    /// plugin only those its manifest grants under `[capabilities] indexes`). Instances
    /// created after the call see the new resolver; calls in flight finish with the old one.
    pub fn set_indexes(&self, indexes: Option<Arc<dyn Indexes>>) {
        *self
            .inner
            .indexes
            .write()
            .unwrap_or_else(|e| e.into_inner()) = indexes;
    }

    /// The indexes retriever plugins may search, if any are set.
    pub fn indexes(&self) -> Option<Arc<dyn Indexes>> {
        self.inner
            .indexes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The native models plugins may call, if the runtime has them.
    pub fn models(&self) -> Option<&Models> {
        self.inner.models.as_ref()
    }

    /// Loads a plugin folder: `genops-plugin.toml` and the component it names.
    pub fn load_dir(&self, dir: &Path) -> Result<Plugin, Error> {
        let manifest_path = dir.join(genops_manifest::FILE_NAME);
        let manifest = Manifest::from_file(&manifest_path)?;
        let component_path = dir.join(manifest.component_file());
        let bytes = std::fs::read(&component_path)
            .map_err(|e| Error::io("cannot read", &component_path, e))?;
        self.load_bytes(
            &bytes,
            Some(manifest),
            &component_path.display().to_string(),
        )
    }

    /// Loads a component file. Without a manifest, the plugin's name is the file stem, its
    /// version `0.0.0`, and its kind and world are read from its exports.
    pub fn load_file(&self, path: &Path, manifest: Option<Manifest>) -> Result<Plugin, Error> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read", path, e))?;
        self.load_bytes(&bytes, manifest, &path.display().to_string())
    }

    /// Loads component bytes. `source_name` names them in errors.
    pub fn load_bytes(
        &self,
        bytes: &[u8],
        manifest: Option<Manifest>,
        source_name: &str,
    ) -> Result<Plugin, Error> {
        let started = Instant::now();
        let inspection = inspect_bytes(bytes, source_name)?;
        let (kind, world) = match (inspection.kind, &inspection.world) {
            (Some(kind), Some(world)) => (kind, world.clone()),
            _ => {
                return Err(Error::UnsupportedWorld {
                    source_name: source_name.to_string(),
                    exports: inspection.exports,
                    accepted: accepted_exports(),
                })
            }
        };
        let manifest = match manifest {
            Some(m) => {
                if m.kind != kind {
                    return Err(Error::WrongKind {
                        source_name: source_name.to_string(),
                        expected: m.kind,
                        expected_by: "its manifest",
                        found: kind,
                    });
                }
                m
            }
            None => synthesized_manifest(source_name, kind, &world)?,
        };
        check_manifest_world(&manifest)?;
        self.check_model_grants(&manifest)?;
        check_index_grants(&manifest)?;
        let id = PluginId {
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            digest: inspection.digest.clone(),
        };
        let limits = self.call_limits(&manifest)?;
        let granted_models: Arc<[String]> = manifest.capabilities.models.clone().into();
        let granted_indexes: Arc<[String]> = manifest.capabilities.indexes.clone().into();

        let (component, load_source) = self.compile(bytes, &inspection.digest, source_name)?;
        let instance_pre =
            self.inner
                .linker
                .instantiate_pre(&component)
                .map_err(|e| Error::Link {
                    source_name: source_name.to_string(),
                    message: format!("{e:#}"),
                })?;
        let typed = |e: wasmtime::Error| Error::UnsupportedWorld {
            source_name: source_name.to_string(),
            exports: vec![format!(
                "genops:plugin/{kind}@{world} with different types ({e:#})"
            )],
            accepted: accepted_exports(),
        };
        let pre = match kind {
            Kind::Chunker => {
                Pre::Chunker(bindings::chunker::ChunkerPluginPre::new(instance_pre).map_err(typed)?)
            }
            Kind::Retriever => Pre::Retriever(
                bindings::retriever::RetrieverPluginPre::new(instance_pre).map_err(typed)?,
            ),
            Kind::Evaluator => Pre::Evaluator(
                bindings::evaluator::EvaluatorPluginPre::new(instance_pre).map_err(typed)?,
            ),
            Kind::Guardrail => Pre::Guardrail(
                bindings::guardrail::GuardrailPluginPre::new(instance_pre).map_err(typed)?,
            ),
        };
        if manifest.limits.fuel.is_some() && !self.inner.config.fuel {
            tracing::warn!(plugin = %id, "the manifest sets limits.fuel but the host runs without fuel metering (runtime.fuel = false); only the deadline and memory cap apply");
        }
        Ok(Plugin {
            inner: Arc::new(PluginInner {
                id,
                manifest,
                kind,
                world,
                limits,
                granted_models,
                granted_indexes,
                pre,
                runtime: self.clone(),
                load_source,
                load_time: started.elapsed(),
                size: bytes.len(),
            }),
        })
    }

    /// Checks that every model the manifest grants is a model name and, when the runtime has
    /// models, that it is installed and readable.
    fn check_model_grants(&self, manifest: &Manifest) -> Result<(), Error> {
        for model in &manifest.capabilities.models {
            let unavailable = |reason: String| Error::ModelUnavailable {
                plugin: format!("{}@{}", manifest.name, manifest.version),
                model: model.clone(),
                reason,
            };
            // Only names are grantable: a path would let a manifest reach any folder.
            if let Err(message) = genops_models::check_name(model) {
                return Err(unavailable(format!(
                    "{message}; grant installed models by name"
                )));
            }
            let Some(models) = &self.inner.models else {
                continue;
            };
            match models.store().resolve(model) {
                Ok(_) => {}
                Err(genops_models::Error::UnknownModel { installed, .. }) => {
                    return Err(unavailable(format!(
                        "this host has no model of that name (installed: {}); install it, or remove it from the manifest",
                        if installed.is_empty() {
                            "none".to_string()
                        } else {
                            installed.join(", ")
                        }
                    )))
                }
                Err(e) => return Err(unavailable(format!("the model cannot be used: {e}"))),
            }
        }
        Ok(())
    }

    fn call_limits(&self, manifest: &Manifest) -> Result<CallLimits, Error> {
        let c = &self.inner.config;
        let ceiling = |limit: &'static str,
                       asked: Option<u64>,
                       default: u64,
                       allowed: u64,
                       setting: &'static str| {
            match asked {
                Some(asked) if asked > allowed => Err(Error::LimitAboveCeiling {
                    plugin: format!("{}@{}", manifest.name, manifest.version),
                    limit,
                    asked,
                    allowed,
                    setting,
                }),
                Some(asked) => Ok(asked),
                None => Ok(default),
            }
        };
        let memory_mb = ceiling(
            "memory-mb",
            manifest.limits.memory_mb,
            c.default_memory_mb,
            c.max_memory_mb,
            "max-memory-mb",
        )?;
        let timeout_ms = ceiling(
            "timeout-ms",
            manifest.limits.timeout_ms,
            c.default_timeout_ms,
            c.max_timeout_ms,
            "max-timeout-ms",
        )?;
        let fuel = if c.fuel {
            Some(ceiling(
                "fuel",
                manifest.limits.fuel,
                c.default_fuel,
                c.max_fuel,
                "max-fuel",
            )?)
        } else {
            None
        };
        Ok(CallLimits {
            memory_bytes: mib_to_bytes(memory_mb, "limits.memory-mb")?,
            timeout: Duration::from_millis(timeout_ms),
            fuel,
        })
    }

    /// Compiles a component, or reads it from the cache keyed by its digest and the
    /// engine's settings (a cached artifact from other settings would not load). Only an
    /// artifact whose integrity tag holds is used (see `cache.rs`).
    fn compile(
        &self,
        bytes: &[u8],
        digest: &str,
        source_name: &str,
    ) -> Result<(Component, LoadSource), Error> {
        let engine = &self.inner.engine;
        let key = &self.inner.engine_key;
        if let Some(component) = self
            .inner
            .cache
            .as_ref()
            .and_then(|cache| cache.load(engine, digest, key))
        {
            return Ok((component, LoadSource::Cache));
        }
        let component = Component::new(engine, bytes).map_err(|e| Error::Compile {
            source_name: source_name.to_string(),
            message: format!("{e:#}"),
        })?;
        if let Some(cache) = &self.inner.cache {
            cache.store(&component, digest, key);
        }
        Ok((component, LoadSource::Compiled))
    }
}

/// Reads a component's identity and interface names without compiling it.
pub fn inspect_bytes(bytes: &[u8], source_name: &str) -> Result<Inspection, Error> {
    if !bytes.starts_with(b"\0asm") || bytes.len() < 8 {
        return Err(Error::NotWasm {
            source_name: source_name.to_string(),
        });
    }
    if wasmparser::Parser::is_core_wasm(bytes) {
        return Err(Error::CoreModule {
            source_name: source_name.to_string(),
        });
    }
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
    let mut exports = Vec::new();
    let mut imports = Vec::new();
    let mut depth = 0usize;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| Error::Compile {
            source_name: source_name.to_string(),
            message: format!("malformed component: {e}"),
        })?;
        use wasmparser::Payload;
        match payload {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentExportSection(section) if depth == 1 => {
                for export in section {
                    let export = export.map_err(|e| Error::Compile {
                        source_name: source_name.to_string(),
                        message: format!("malformed export section: {e}"),
                    })?;
                    exports.push(export.name.name.to_string());
                }
            }
            Payload::ComponentImportSection(section) if depth == 1 => {
                for import in section {
                    let import = import.map_err(|e| Error::Compile {
                        source_name: source_name.to_string(),
                        message: format!("malformed import section: {e}"),
                    })?;
                    imports.push(import.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    let (kind, world) = exports
        .iter()
        .find_map(|name| supported_export(name))
        .map_or((None, None), |(k, v)| (Some(k), Some(v)));
    Ok(Inspection {
        digest,
        size: bytes.len(),
        kind,
        world,
        exports,
        imports,
    })
}

/// Checks that every index the manifest grants is an index name or `*`. Whether the index
/// exists is asked at each search: indexes come and go while a plugin stays loaded.
pub(crate) fn check_index_grants(manifest: &Manifest) -> Result<(), Error> {
    for index in &manifest.capabilities.indexes {
        let valid = index == "*"
            || (!index.is_empty()
                && index.len() <= 64
                && index.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                }));
        if !valid {
            return Err(Error::InvalidGrant {
                plugin: format!("{}@{}", manifest.name, manifest.version),
                message: format!(
                    "index `{index}` under [capabilities] indexes is not an index name (lowercase letters, digits, `-` and `_`, at most 64) or `*` (every index)"
                ),
            });
        }
    }
    Ok(())
}

/// `genops:plugin/<kind>@<version>` with a version this host implements.
fn supported_export(name: &str) -> Option<(Kind, semver::Version)> {
    let rest = name.strip_prefix("genops:plugin/")?;
    let (kind, version) = rest.split_once('@')?;
    let kind = Kind::parse(kind)?;
    let version = semver::Version::parse(version).ok()?;
    implemented(&version).then_some((kind, version))
}

fn host_version() -> semver::Version {
    semver::Version::parse(WORLD_VERSION).expect("valid world version")
}

/// Whether this host implements `version` of `genops:plugin`: the same line (while the major
/// version is 0, a minor bump may break, so the line is `0.minor`) and not newer. Patches
/// only add items (`@since`), so a host of 0.1.2 serves everything a 0.1.0 plugin uses.
pub(crate) fn implemented(version: &semver::Version) -> bool {
    let host = host_version();
    let same_line = if host.major == 0 {
        version.major == 0 && version.minor == host.minor
    } else {
        version.major == host.major
    };
    same_line && version.pre.is_empty() && *version <= host
}

/// The line of versions this host implements, which is also the name of its WIT folder
/// (`wit/plugin@0.1`).
pub(crate) fn world_line() -> String {
    let host = host_version();
    if host.major == 0 {
        format!("0.{}", host.minor)
    } else {
        host.major.to_string()
    }
}

/// The export names a plugin of `kind` may have, for error messages.
pub(crate) fn accepted_export(kind: Kind) -> String {
    let host = host_version();
    let oldest = semver::Version::new(host.major, if host.major == 0 { host.minor } else { 0 }, 0);
    if oldest == host {
        format!("genops:plugin/{kind}@{host}")
    } else {
        format!("genops:plugin/{kind}@{oldest} to @{host}")
    }
}

fn accepted_exports() -> Vec<String> {
    Kind::ALL.into_iter().map(accepted_export).collect()
}

/// The manifest's `world` is the `genops:plugin` version the plugin needs at least; the
/// component may export any version of the line up to this host's (a plugin built now
/// exports the newest version even when it needs only what 0.1.0 had).
pub(crate) fn check_manifest_world(manifest: &Manifest) -> Result<(), Error> {
    if implemented(&manifest.world) {
        Ok(())
    } else {
        Err(Error::UnsupportedManifestWorld {
            plugin: format!("{}@{}", manifest.name, manifest.version),
            world: manifest.world.clone(),
        })
    }
}

fn synthesized_manifest(
    source_name: &str,
    kind: Kind,
    world: &semver::Version,
) -> Result<Manifest, Error> {
    let stem = Path::new(source_name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("plugin");
    let name: String = stem
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '-',
        })
        .collect();
    let name = name.trim_matches('-');
    let name = if name.is_empty() { "plugin" } else { name };
    Ok(Manifest::from_toml_str(&format!(
        "name = \"{name}\"\nversion = \"0.0.0\"\nkind = \"{kind}\"\nworld = \"{world}\"\n"
    ))?)
}

fn spawn_epoch_ticker(engine: Engine, tick: Duration, stop: Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("genops-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                engine.increment_epoch();
            }
        })
        .expect("the epoch thread starts");
}

/// Feeds `Hash` output into SHA-256 so the cache key is stable across processes.
#[derive(Default)]
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supported_exports_follow_semver_of_0_x() {
        assert_eq!(WORLD_VERSION, "0.1.2");
        assert!(supported_export("genops:plugin/chunker@0.1.0").is_some());
        assert!(supported_export("genops:plugin/chunker@0.1.1").is_some());
        assert!(supported_export("genops:plugin/retriever@0.1.2").is_some());
        assert!(supported_export("genops:plugin/guardrail@0.1.0").is_some());
        // Newer than the host: it may import what this host lacks.
        assert!(supported_export("genops:plugin/chunker@0.1.3").is_none());
        assert!(supported_export("genops:plugin/chunker@0.1.2-rc.1").is_none());
        assert!(supported_export("genops:plugin/chunker@0.0.1").is_none());
        assert!(supported_export("genops:plugin/chunker@0.2.0").is_none());
        assert!(supported_export("genops:plugin/chunker@1.0.0").is_none());
        assert!(supported_export("genops:plugin/splitter@0.1.0").is_none());
        assert!(supported_export("other:plugin/chunker@0.1.0").is_none());
    }

    #[test]
    fn the_line_and_accepted_exports_name_the_range() {
        assert_eq!(world_line(), "0.1");
        assert_eq!(
            accepted_export(Kind::Evaluator),
            "genops:plugin/evaluator@0.1.0 to @0.1.2"
        );
    }

    #[test]
    fn manifest_world_is_the_version_the_plugin_needs_at_least() {
        let manifest = |world: &str| {
            Manifest::from_toml_str(&format!(
                "name = \"p\"\nversion = \"1.0.0\"\nkind = \"chunker\"\nworld = \"{world}\"\n"
            ))
            .unwrap()
        };
        check_manifest_world(&manifest("0.1.0")).unwrap();
        check_manifest_world(&manifest("0.1.1")).unwrap();
        check_manifest_world(&manifest("0.1.2")).unwrap();
        let newer = check_manifest_world(&manifest("0.1.3"))
            .unwrap_err()
            .to_string();
        assert!(
            newer.contains("needs genops:plugin@0.1.3") && newer.contains("upgrade genops"),
            "{newer}"
        );
        let other_line = check_manifest_world(&manifest("0.2.0"))
            .unwrap_err()
            .to_string();
        assert!(other_line.contains("wit/plugin@0.1"), "{other_line}");
    }

    #[test]
    fn garbage_is_not_wasm() {
        let err = inspect_bytes(b"hello world", "x.wasm").unwrap_err();
        assert!(matches!(err, Error::NotWasm { .. }), "{err}");
    }

    #[test]
    fn core_modules_are_named_as_such() {
        let module = wat::parse_str("(module)").unwrap();
        let err = inspect_bytes(&module, "m.wasm").unwrap_err();
        assert!(matches!(err, Error::CoreModule { .. }), "{err}");
        assert!(err.to_string().contains("not a component"), "{err}");
    }

    #[test]
    fn manifests_are_synthesized_from_file_names() {
        let m = synthesized_manifest(
            "dir/My_Plugin.wasm",
            Kind::Chunker,
            &"0.1.1".parse().unwrap(),
        )
        .unwrap();
        assert_eq!(m.name, "my-plugin");
        assert_eq!(m.kind, Kind::Chunker);
    }
}
