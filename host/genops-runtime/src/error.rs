use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::PluginId;

/// Errors of the plugin runtime.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What the runtime was doing (`cannot read`, `cannot write`, ...).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The plugin's manifest is invalid.
    #[error(transparent)]
    Manifest(#[from] genops_manifest::Error),
    /// The runtime configuration is inconsistent.
    #[error("invalid runtime configuration: {0}")]
    Config(String),
    /// The key that vouches for compiled artifacts cannot be used.
    #[error("compile cache key {path}: {message}")]
    CacheKey {
        /// The key file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
    /// The wasmtime engine could not be created.
    #[error("cannot start the WebAssembly engine: {0}")]
    Engine(String),
    /// The bytes are not WebAssembly at all.
    #[error("{source_name} is not a WebAssembly file (it does not start with `\\0asm`); give the path of a component built from a plugin's source")]
    NotWasm {
        /// The file or plugin the bytes came from.
        source_name: String,
    },
    /// The bytes are a core module, which cannot carry a WIT world.
    #[error("{source_name} is a core WebAssembly module, not a component; build it as a component (`wasm-tools component new` wraps a core module)")]
    CoreModule {
        /// The file or plugin the bytes came from.
        source_name: String,
    },
    /// Cranelift refused the component (invalid or unsupported WebAssembly).
    #[error("cannot compile {source_name}: {message}")]
    Compile {
        /// The file or plugin the bytes came from.
        source_name: String,
        /// Wasmtime's message.
        message: String,
    },
    /// The component exports no genops plugin interface the host supports.
    #[error("{source_name} exports {}, but this host accepts {}; rebuild the plugin against wit/plugin@{} (genops:plugin@{})", list(.exports), list(.accepted), crate::runtime::world_line(), crate::WORLD_VERSION)]
    UnsupportedWorld {
        /// The file or plugin the bytes came from.
        source_name: String,
        /// Every export name of the component.
        exports: Vec<String>,
        /// The plugin interfaces the host accepts.
        accepted: Vec<String>,
    },
    /// The manifest's `world` (the `genops:plugin` version the plugin needs at least) is not
    /// one this host implements.
    #[error("{plugin} needs genops:plugin@{world} (`world` in its manifest), but this host implements genops:plugin@{}; {}", crate::WORLD_VERSION, world_hint(.world))]
    UnsupportedManifestWorld {
        /// The plugin, as `name@version`.
        plugin: String,
        /// The manifest's `world`.
        world: semver::Version,
    },
    /// The manifest grants a model this host cannot offer.
    #[error("{plugin} is granted model `{model}` under [capabilities] models in its genops-plugin.toml, but {reason}")]
    ModelUnavailable {
        /// The plugin, as `name@version`.
        plugin: String,
        /// The model the manifest lists.
        model: String,
        /// Why the model cannot be offered, and what to do.
        reason: String,
    },
    /// A config key was set that the plugin does not read.
    #[error("{plugin} has no config key `{key}`; it reads: {}", if .known.is_empty() { "none".to_string() } else { .known.join(", ") })]
    UnknownConfigKey {
        /// The plugin.
        plugin: Box<PluginId>,
        /// The key that was set.
        key: String,
        /// The keys it reads.
        known: Vec<String>,
    },
    /// The manifest grants something that cannot be granted.
    #[error("{plugin}: {message}; fix its genops-plugin.toml")]
    InvalidGrant {
        /// The plugin, as `name@version`.
        plugin: String,
        /// What is wrong.
        message: String,
    },
    /// The component's kind differs from what its manifest or the caller says.
    #[error("{source_name} is a {found} plugin (it exports genops:plugin/{found}), but {expected_by} says {expected}")]
    WrongKind {
        /// The file or plugin the bytes came from.
        source_name: String,
        /// The kind that was expected.
        expected: genops_manifest::Kind,
        /// Who expected it (`its manifest`, `the command`).
        expected_by: &'static str,
        /// The kind the component implements.
        found: genops_manifest::Kind,
    },
    /// The component imports something this host does not provide.
    #[error("{source_name} cannot be linked: {message}; plugins may import only genops:plugin/logging, genops:plugin/config, genops:plugin/models, genops:plugin/search (retrievers) and wasi:* 0.2 interfaces")]
    Link {
        /// The file or plugin the bytes came from.
        source_name: String,
        /// Wasmtime's message, naming the import.
        message: String,
    },
    /// The manifest asks for more than the operator allows.
    #[error("{plugin} asks for {asked} in limits.{limit}, but this host allows at most {allowed} (runtime.{setting}); lower the manifest's limit or raise the host's ceiling")]
    LimitAboveCeiling {
        /// The plugin.
        plugin: String,
        /// The manifest key under `[limits]`.
        limit: &'static str,
        /// What the manifest asks for.
        asked: u64,
        /// The operator's ceiling.
        allowed: u64,
        /// The runtime configuration key of the ceiling.
        setting: &'static str,
    },
    /// A document is larger than the host accepts.
    #[error("document {document} is {} bytes, more than the {} bytes this host accepts (runtime.max-document-bytes); split the file or raise the limit", .size, .limit)]
    DocumentTooLarge {
        /// The document's id.
        document: String,
        /// Its size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The plugin returned one of its own errors.
    #[error("{plugin} returned an error: {error}")]
    Plugin {
        /// The plugin.
        plugin: Box<PluginId>,
        /// The plugin's error.
        error: PluginError,
    },
    /// The plugin was stopped by the host: a trap, a timeout, its memory cap or its fuel.
    #[error("{plugin} {fault}{}", stderr_tail(.stderr))]
    Fault {
        /// The plugin.
        plugin: Box<PluginId>,
        /// What happened.
        fault: Fault,
        /// The last lines the plugin wrote to stderr, if any (a Rust panic message, say).
        stderr: String,
    },
    /// The plugin returned something that breaks the contract.
    #[error("{plugin} broke the plugin contract: {message}")]
    BadOutput {
        /// The plugin.
        plugin: Box<PluginId>,
        /// What is wrong.
        message: String,
    },
    /// No plugin of that name is known.
    #[error("no plugin named `{name}`; {}", known(.available))]
    UnknownPlugin {
        /// The name asked for.
        name: String,
        /// The names that are known.
        available: Vec<String>,
    },
    /// There is no earlier version to roll back to.
    #[error("plugin `{name}` has no earlier version to roll back to")]
    NothingToRollBack {
        /// The plugin's name.
        name: String,
    },
    /// Any other wasmtime failure (instantiation outside the cases above).
    #[error("{plugin}: {message}")]
    Runtime {
        /// The plugin.
        plugin: Box<PluginId>,
        /// Wasmtime's message.
        message: String,
    },
}

/// How the host stopped a plugin call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The call ran past its deadline.
    Timeout {
        /// The deadline.
        after: Duration,
    },
    /// The plugin tried to grow a memory past its cap.
    MemoryLimit {
        /// The cap in bytes.
        limit: u64,
        /// The size it asked for in bytes.
        asked: u64,
    },
    /// The plugin used up its instruction budget.
    OutOfFuel {
        /// The budget.
        fuel: u64,
    },
    /// The plugin recursed until its stack ran out.
    StackOverflow,
    /// The plugin handed the host a value the canonical ABI forbids (a string that is not
    /// UTF-8, a pointer outside its memory, an unknown variant case) when calling a host
    /// import or returning from an export. Wasmtime refuses to lift it, which stops the
    /// plugin like a trap.
    InvalidValue {
        /// Wasmtime's description.
        message: String,
    },
    /// Any other trap: a panic, an out-of-bounds access, `unreachable`.
    Trap {
        /// Wasmtime's description.
        message: String,
    },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Timeout { after } => write!(
                f,
                "timed out after {} ms and was stopped; raise limits.timeout-ms if the work is legitimate",
                after.as_millis()
            ),
            Fault::MemoryLimit { limit, asked } => write!(
                f,
                "tried to grow its memory to {} MiB past its cap of {} MiB and was stopped; raise limits.memory-mb if the work is legitimate",
                asked.div_ceil(1 << 20),
                limit >> 20
            ),
            Fault::OutOfFuel { fuel } => write!(
                f,
                "used up its fuel ({fuel} units) and was stopped; raise limits.fuel if the work is legitimate"
            ),
            Fault::StackOverflow => f.write_str("overflowed its stack (runaway recursion?) and was stopped"),
            Fault::InvalidValue { message } => write!(
                f,
                "passed the host an invalid value ({message}) and was stopped; the plugin breaks the canonical ABI (a string that is not UTF-8, say), which is a bug in the plugin or its bindings"
            ),
            Fault::Trap { message } => write!(f, "trapped: {message}"),
        }
    }
}

/// An error a plugin returned on purpose (the WIT `plugin-error` variant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// A configuration value is missing, malformed or out of range.
    InvalidConfig(String),
    /// The input cannot be handled.
    InvalidInput(String),
    /// The plugin does not support what was asked.
    Unsupported(String),
    /// A host import the plugin called failed.
    Host(String),
    /// Anything else.
    Other(String),
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginError::InvalidConfig(m) => write!(f, "invalid config: {m}"),
            PluginError::InvalidInput(m) => write!(f, "invalid input: {m}"),
            PluginError::Unsupported(m) => write!(f, "unsupported: {m}"),
            PluginError::Host(m) => write!(f, "host import failed: {m}"),
            PluginError::Other(m) => f.write_str(m),
        }
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".to_string()
    } else {
        items.join(", ")
    }
}

fn known(names: &[String]) -> String {
    if names.is_empty() {
        "no plugins are installed".into()
    } else {
        format!("installed: {}", names.join(", "))
    }
}

fn world_hint(world: &semver::Version) -> String {
    let host = semver::Version::parse(crate::WORLD_VERSION).expect("valid world version");
    if world.major == host.major && world.minor == host.minor {
        "upgrade genops to a release that implements it, or build the plugin for an older world if it does not use what that version added".into()
    } else {
        format!(
            "rebuild the plugin against wit/plugin@{} and set `world` to the oldest version that has everything it uses (the `@since` marks in the WIT say which)",
            crate::runtime::world_line()
        )
    }
}

fn stderr_tail(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        String::new()
    } else {
        format!(" (plugin stderr: {})", trimmed.replace('\n', " | "))
    }
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
