//! A loaded plugin and the sessions that call it.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use genops_manifest::{Kind, Manifest};
use wasmtime::Store;

use crate::bindings::{self, types as wit};
use crate::imports::models::ModelsState;
use crate::imports::search::SearchState;
use crate::imports::wasi::{DeadlineInWasi, TailPipe};
use crate::imports::HostState;
use crate::runtime::{LoadSource, Runtime};
use crate::{Error, Fault, PluginError};

/// Who a plugin is: its manifest's name and version and the digest of its component bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct PluginId {
    /// The manifest's name.
    pub name: String,
    /// The manifest's version.
    pub version: semver::Version,
    /// `sha256:<hex>` of the component.
    pub digest: String,
}

impl fmt::Display for PluginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let short = self
            .digest
            .strip_prefix("sha256:")
            .map_or(self.digest.as_str(), |h| &h[..h.len().min(12)]);
        write!(f, "plugin {}@{} (sha256:{short})", self.name, self.version)
    }
}

/// The limits each call of a plugin runs under, after ceilings were applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    /// Cap of all linear memories of an instance together.
    pub memory_bytes: u64,
    /// Deadline of one call.
    pub timeout: Duration,
    /// Instruction budget of one call, when the host meters fuel.
    pub fuel: Option<u64>,
}

pub(crate) enum Pre {
    Chunker(bindings::chunker::ChunkerPluginPre<HostState>),
    Retriever(bindings::retriever::RetrieverPluginPre<HostState>),
    Evaluator(bindings::evaluator::EvaluatorPluginPre<HostState>),
    Guardrail(bindings::guardrail::GuardrailPluginPre<HostState>),
}

pub(crate) enum Bound {
    Chunker(bindings::chunker::ChunkerPlugin),
    Retriever(bindings::retriever::RetrieverPlugin),
    Evaluator(bindings::evaluator::EvaluatorPlugin),
    Guardrail(bindings::guardrail::GuardrailPlugin),
}

/// A compiled, checked and pre-linked plugin. Cheap to clone; clones share the compiled
/// code, so a registry can hand one to every in-flight call.
#[derive(Clone)]
pub struct Plugin {
    pub(crate) inner: Arc<PluginInner>,
}

pub(crate) struct PluginInner {
    pub(crate) id: PluginId,
    pub(crate) manifest: Manifest,
    pub(crate) kind: Kind,
    pub(crate) world: semver::Version,
    pub(crate) limits: CallLimits,
    /// The models the manifest grants, shared by every instance.
    pub(crate) granted_models: Arc<[String]>,
    /// The indexes the manifest grants (`*`: every index), shared by every instance.
    pub(crate) granted_indexes: Arc<[String]>,
    pub(crate) pre: Pre,
    pub(crate) runtime: Runtime,
    pub(crate) load_source: LoadSource,
    pub(crate) load_time: Duration,
    pub(crate) size: usize,
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.inner.id)
            .field("kind", &self.inner.kind)
            .finish_non_exhaustive()
    }
}

/// A document handed to a plugin.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// Identifier (a path or a content hash).
    pub id: String,
    /// The text.
    pub text: String,
    /// Media type, for example `text/markdown`.
    pub media_type: String,
    /// Document metadata.
    pub metadata: Vec<(String, String)>,
}

/// A chunk as byte offsets into its document's text, checked by the host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Chunk {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// Chunk metadata from the plugin.
    pub metadata: Vec<(String, String)>,
}

/// One configuration key a plugin reads.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ConfigOption {
    /// The key.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its default, if any.
    pub default_value: Option<String>,
}

/// What a plugin says about itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PluginInfo {
    /// Short name.
    pub name: String,
    /// One sentence.
    pub description: String,
    /// The configuration keys it reads.
    pub config: Vec<ConfigOption>,
}

impl Plugin {
    /// Name, version and digest.
    pub fn id(&self) -> &PluginId {
        &self.inner.id
    }

    /// The manifest the plugin was loaded with.
    pub fn manifest(&self) -> &Manifest {
        &self.inner.manifest
    }

    /// The plugin kind, read from the component's exports.
    pub fn kind(&self) -> Kind {
        self.inner.kind
    }

    /// The `genops:plugin` version the component exports.
    pub fn world(&self) -> &semver::Version {
        &self.inner.world
    }

    /// The limits each call runs under.
    pub fn limits(&self) -> CallLimits {
        self.inner.limits
    }

    /// Whether the machine code came from the cache.
    pub fn load_source(&self) -> LoadSource {
        self.inner.load_source
    }

    /// How long loading took (reading, checking, compiling or deserializing, linking).
    pub fn load_time(&self) -> Duration {
        self.inner.load_time
    }

    /// Size of the component in bytes.
    pub fn size(&self) -> usize {
        self.inner.size
    }

    /// Starts a session: the manifest's config defaults overlaid with `overrides`. The
    /// instance is created on the first call and reused by later calls of the session.
    pub fn session(&self, overrides: &BTreeMap<String, String>) -> Session {
        let mut config = self.inner.manifest.config.clone();
        config.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
        Session {
            plugin: self.clone(),
            config: config.into_iter().collect(),
            live: None,
        }
    }

    /// Asks the plugin to describe itself, in a fresh instance.
    pub fn describe(&self) -> Result<PluginInfo, Error> {
        self.session(&BTreeMap::new()).describe()
    }

    /// Describes the plugin and refuses any key of `overrides` it does not read, naming the
    /// keys it does: a misspelt key would otherwise be ignored without a word.
    pub fn check_config(&self, overrides: &BTreeMap<String, String>) -> Result<PluginInfo, Error> {
        let info = self.describe()?;
        if let Some(key) = overrides
            .keys()
            .find(|k| !info.config.iter().any(|o| &o.name == *k))
        {
            return Err(Error::UnknownConfigKey {
                plugin: Box::new(self.id().clone()),
                key: key.clone(),
                known: info.config.iter().map(|o| o.name.clone()).collect(),
            });
        }
        Ok(info)
    }
}

struct Live {
    store: Store<HostState>,
    bound: Bound,
    stderr: TailPipe,
}

/// One instance of a plugin, reused across the calls of a batch (chunking many documents,
/// say). Instantiation is cheap for Rust and C guests, but about half a millisecond for
/// Python ones, so a batch should share a session. After a fault the instance is dropped
/// and the next call starts a fresh one.
pub struct Session {
    plugin: Plugin,
    config: Vec<(String, String)>,
    live: Option<Live>,
}

impl Session {
    /// The plugin this session calls.
    pub fn plugin(&self) -> &Plugin {
        &self.plugin
    }

    /// Creates the instance now rather than on the first call.
    pub fn instantiate(&mut self) -> Result<(), Error> {
        if self.live.is_some() {
            return Ok(());
        }
        let inner = &self.plugin.inner;
        let runtime = &inner.runtime.inner;
        let state = HostState::new(
            inner.id.clone(),
            self.config.clone(),
            inner.limits.memory_bytes,
            ModelsState::new(
                inner.id.clone(),
                runtime.models.clone(),
                inner.granted_models.clone(),
            ),
            SearchState::new(
                inner.id.clone(),
                inner.runtime.indexes(),
                inner.granted_indexes.clone(),
                runtime.models.clone(),
            ),
        );
        let stderr = state.wasi.stderr.clone();
        let mut store = Store::new(&runtime.engine, state);
        store.limiter(|s| &mut s.limiter);
        self.arm(&mut store);
        let result = off_tokio(|| match &inner.pre {
            Pre::Chunker(pre) => pre.instantiate(&mut store).map(Bound::Chunker),
            Pre::Retriever(pre) => pre.instantiate(&mut store).map(Bound::Retriever),
            Pre::Evaluator(pre) => pre.instantiate(&mut store).map(Bound::Evaluator),
            Pre::Guardrail(pre) => pre.instantiate(&mut store).map(Bound::Guardrail),
        });
        match result {
            Ok(bound) => {
                self.live = Some(Live {
                    store,
                    bound,
                    stderr,
                });
                Ok(())
            }
            Err(e) => Err(classify(
                &inner.id,
                &inner.limits,
                e,
                &store,
                &stderr,
                Stage::Instantiate,
            )),
        }
    }

    /// Sets the deadline, fuel and per-call budgets before a call into the guest. The
    /// deadline is both epoch ticks (which stop wasm code) and an instant (which the host
    /// imports that block or run models check, since ticks cannot stop host code).
    fn arm(&self, store: &mut Store<HostState>) {
        let inner = &self.plugin.inner;
        let timeout = inner.limits.timeout;
        let tick = inner.runtime.inner.config.epoch_tick_ms;
        // The timeout is at most runtime.max-timeout-ms, which `RuntimeConfig::validate`
        // checked to fit in ticks and as an instant.
        let millis = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        let ticks = crate::config::deadline_ticks(millis, tick).unwrap_or(u64::MAX);
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        if let Some(fuel) = inner.limits.fuel {
            store
                .set_fuel(fuel)
                .expect("fuel is enabled whenever limits carry fuel");
        }
        let now = Instant::now();
        let deadline = now
            .checked_add(timeout)
            .unwrap_or(now + Duration::from_secs(86_400));
        store.data_mut().begin_call(deadline);
    }

    /// Runs one export call with the limits armed, turning traps into [`Error::Fault`].
    pub(crate) fn call<R: Send>(
        &mut self,
        f: impl FnOnce(&mut Store<HostState>, &Bound) -> wasmtime::Result<R> + Send,
    ) -> Result<R, Error> {
        self.instantiate()?;
        let mut live = self.live.take().expect("instantiated above");
        self.arm(&mut live.store);
        let result = {
            let Live { store, bound, .. } = &mut live;
            off_tokio(|| f(store, bound))
        };
        match result {
            Ok(value) => {
                self.live = Some(live);
                Ok(value)
            }
            // The instance may be in any state after a trap; it is dropped here.
            Err(e) => {
                let inner = &self.plugin.inner;
                Err(classify(
                    &inner.id,
                    &inner.limits,
                    e,
                    &live.store,
                    &live.stderr,
                    Stage::Call,
                ))
            }
        }
    }

    pub(crate) fn wrong_kind(&self, expected: Kind) -> Error {
        Error::WrongKind {
            source_name: self.plugin.inner.id.to_string(),
            expected,
            expected_by: "the call",
            found: self.plugin.inner.kind,
        }
    }

    /// Asks the plugin to describe itself.
    pub fn describe(&mut self) -> Result<PluginInfo, Error> {
        let info = self.call(|store, bound| match bound {
            Bound::Chunker(b) => b.genops_plugin_chunker().call_describe(store),
            Bound::Retriever(b) => b.genops_plugin_retriever().call_describe(store),
            Bound::Evaluator(b) => b.genops_plugin_evaluator().call_describe(store),
            Bound::Guardrail(b) => b.genops_plugin_guardrail().call_describe(store),
        })?;
        Ok(PluginInfo {
            name: info.name,
            description: info.description,
            config: info
                .config
                .into_iter()
                .map(|o| ConfigOption {
                    name: o.name,
                    description: o.description,
                    default_value: o.default_value,
                })
                .collect(),
        })
    }

    /// Splits a document with a chunker plugin. The chunks' offsets are checked against the
    /// document: a plugin that returns offsets outside it, or inside a UTF-8 character, gets
    /// [`Error::BadOutput`].
    pub fn split(&mut self, doc: &Document) -> Result<Vec<Chunk>, Error> {
        if self.plugin.inner.kind != Kind::Chunker {
            return Err(self.wrong_kind(Kind::Chunker));
        }
        let limit = self.plugin.inner.runtime.inner.config.max_document_bytes;
        if doc.text.len() > limit {
            return Err(Error::DocumentTooLarge {
                document: doc.id.clone(),
                size: doc.text.len(),
                limit,
            });
        }
        let wit_doc = wit::Document {
            id: doc.id.clone(),
            text: doc.text.clone(),
            media_type: doc.media_type.clone(),
            metadata: doc.metadata.clone(),
        };
        let result = self.call(|store, bound| match bound {
            Bound::Chunker(b) => b.genops_plugin_chunker().call_split(store, &wit_doc),
            _ => unreachable!("kind checked above"),
        })?;
        let chunks = result.map_err(|e| Error::Plugin {
            plugin: Box::new(self.plugin.inner.id.clone()),
            error: plugin_error(e),
        })?;
        check_chunks(&self.plugin.inner.id, &doc.text, chunks)
    }
}

pub(crate) fn check_chunks(
    id: &PluginId,
    text: &str,
    chunks: Vec<wit::Chunk>,
) -> Result<Vec<Chunk>, Error> {
    let bad = |message: String| Error::BadOutput {
        plugin: Box::new(id.clone()),
        message,
    };
    let len = text.len() as u64;
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            if c.start > c.end {
                return Err(bad(format!(
                    "chunk {i} starts at byte {} after its end at byte {}",
                    c.start, c.end
                )));
            }
            if c.end > len {
                return Err(bad(format!(
                    "chunk {i} ends at byte {} past the end of the document ({len} bytes)",
                    c.end
                )));
            }
            for offset in [c.start, c.end] {
                if !text.is_char_boundary(offset as usize) {
                    return Err(bad(format!(
                        "chunk {i} has offset {offset}, which is inside a UTF-8 character"
                    )));
                }
            }
            Ok(Chunk {
                start: c.start as usize,
                end: c.end as usize,
                metadata: c.metadata,
            })
        })
        .collect()
}

pub(crate) fn plugin_error(e: wit::PluginError) -> PluginError {
    match e {
        wit::PluginError::InvalidConfig(m) => PluginError::InvalidConfig(m),
        wit::PluginError::InvalidInput(m) => PluginError::InvalidInput(m),
        wit::PluginError::Unsupported(m) => PluginError::Unsupported(m),
        wit::PluginError::Host(m) => PluginError::Host(m),
        wit::PluginError::Other(m) => PluginError::Other(m),
    }
}

/// When a wasmtime error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Creating the instance (which runs the component's start functions).
    Instantiate,
    /// Inside a call of an export, host imports included.
    Call,
}

fn classify(
    id: &PluginId,
    limits: &CallLimits,
    error: wasmtime::Error,
    store: &Store<HostState>,
    stderr: &TailPipe,
    stage: Stage,
) -> Error {
    let fault = if let Some(asked) = store.data().limiter.exceeded {
        Fault::MemoryLimit {
            limit: limits.memory_bytes,
            asked,
        }
    } else if error.downcast_ref::<DeadlineInWasi>().is_some() {
        Fault::Timeout {
            after: limits.timeout,
        }
    } else {
        match error.downcast_ref::<wasmtime::Trap>() {
            Some(wasmtime::Trap::Interrupt) => Fault::Timeout {
                after: limits.timeout,
            },
            Some(wasmtime::Trap::OutOfFuel) => Fault::OutOfFuel {
                fuel: limits.fuel.unwrap_or_default(),
            },
            Some(wasmtime::Trap::StackOverflow) => Fault::StackOverflow,
            Some(trap) => Fault::Trap {
                message: trap.to_string(),
            },
            // Wasmtime refuses to lift a string that is not UTF-8, whether the plugin passes
            // it to a host import or returns it from an export. That is the plugin breaking
            // the canonical ABI, which stops it like a trap.
            None if error.downcast_ref::<std::str::Utf8Error>().is_some() => Fault::InvalidValue {
                message: format!("a string that is not UTF-8: {}", error.root_cause()),
            },
            // During a call, anything else that stops the plugin (another value wasmtime
            // cannot lift, a WASI exit) is the plugin's doing too; the host's own imports
            // never fail a call.
            None if stage == Stage::Call => Fault::Trap {
                message: error.root_cause().to_string(),
            },
            None => {
                return Error::Runtime {
                    plugin: Box::new(id.clone()),
                    message: format!("{error:#}"),
                }
            }
        }
    };
    let contents = stderr.contents();
    let text = String::from_utf8_lossy(&contents);
    let tail: String = {
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        lines[lines.len().saturating_sub(5)..].join("\n")
    };
    Error::Fault {
        plugin: Box::new(id.clone()),
        fault,
        stderr: tail,
    }
}

/// Runs `f` where wasmtime-wasi may block on its own tokio runtime. Its synchronous WASI
/// functions (stream writes, polls) call `block_on`, which panics on a thread that is inside
/// a tokio runtime (a caller's `block_on`, an async task): a plugin printing a line would take
/// the host down. Such callers get the call run on a scoped thread of its own, outside any
/// runtime; everyone else runs it in place.
fn off_tokio<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("genops-plugin-call".into())
            .spawn_scoped(scope, f)
            .expect("a thread for the plugin call starts")
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> PluginId {
        PluginId {
            name: "p".into(),
            version: semver::Version::new(1, 0, 0),
            digest: "sha256:0123456789abcdef0123".into(),
        }
    }

    fn chunk(start: u64, end: u64) -> wit::Chunk {
        wit::Chunk {
            start,
            end,
            metadata: vec![],
        }
    }

    #[test]
    fn chunks_inside_the_document_pass() {
        let chunks =
            check_chunks(&id(), "héllo", vec![chunk(0, 1), chunk(1, 3), chunk(3, 6)]).unwrap();
        assert_eq!(chunks.len(), 3);
    }

    #[test]
    fn offsets_past_the_end_are_refused() {
        let err = check_chunks(&id(), "abc", vec![chunk(0, 4)]).unwrap_err();
        assert!(
            err.to_string()
                .contains("past the end of the document (3 bytes)"),
            "{err}"
        );
    }

    #[test]
    fn offsets_inside_a_character_are_refused() {
        let err = check_chunks(&id(), "héllo", vec![chunk(0, 2)]).unwrap_err();
        assert!(
            err.to_string().contains("inside a UTF-8 character"),
            "{err}"
        );
    }

    #[test]
    fn reversed_offsets_are_refused() {
        let err = check_chunks(&id(), "hello", vec![chunk(3, 1)]).unwrap_err();
        assert!(err.to_string().contains("after its end"), "{err}");
    }

    #[test]
    fn ids_show_a_short_digest() {
        assert_eq!(id().to_string(), "plugin p@1.0.0 (sha256:0123456789ab)");
    }
}
