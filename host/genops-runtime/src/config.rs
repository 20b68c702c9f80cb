use serde::{Deserialize, Serialize};

use crate::Error;

/// How the host allocates instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Allocator {
    /// Pre-reserved slots: instantiation costs microseconds. The default.
    Pooling,
    /// Memory mapped on each instantiation: slower, but no reservation up front.
    OnDemand,
}

/// The operator's settings for the plugin runtime (`[runtime]` in `genops.toml`).
///
/// Defaults apply to plugins whose manifest leaves a limit unset; ceilings bound what any
/// manifest may ask for. A manifest above a ceiling is refused at load time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct RuntimeConfig {
    /// Instance allocation strategy.
    pub allocator: Allocator,
    /// Memory cap of one plugin instance when its manifest sets none, in MiB.
    pub default_memory_mb: u64,
    /// The most memory any manifest may ask for, in MiB.
    pub max_memory_mb: u64,
    /// Deadline of one call when the manifest sets none, in milliseconds.
    pub default_timeout_ms: u64,
    /// The longest deadline any manifest may ask for, in milliseconds.
    pub max_timeout_ms: u64,
    /// Meter instructions with fuel. Costs 20 to 35 % on Python and JavaScript guests.
    pub fuel: bool,
    /// Fuel of one call when fuel is on and the manifest sets none.
    pub default_fuel: u64,
    /// The most fuel any manifest may ask for.
    pub max_fuel: u64,
    /// Granularity of deadlines, in milliseconds.
    pub epoch_tick_ms: u64,
    /// Largest document handed to a plugin, in bytes.
    pub max_document_bytes: usize,
    /// Largest WebAssembly stack of a call, in KiB.
    pub max_wasm_stack_kib: usize,
    /// Instances that can be alive at once with the pooling allocator.
    pub pool_instances: u32,
    /// Largest table (function references) of one instance with the pooling allocator.
    pub pool_table_elements: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            allocator: Allocator::Pooling,
            default_memory_mb: 256,
            max_memory_mb: 2048,
            default_timeout_ms: 10_000,
            max_timeout_ms: 300_000,
            fuel: false,
            default_fuel: 50_000_000_000,
            max_fuel: 1_000_000_000_000,
            epoch_tick_ms: 5,
            max_document_bytes: 64 << 20,
            max_wasm_stack_kib: 1024,
            pool_instances: 64,
            pool_table_elements: 100_000,
        }
    }
}

impl RuntimeConfig {
    /// Checks that the settings are consistent.
    pub fn validate(&self) -> Result<(), Error> {
        let fail = |m: String| Err(Error::Config(m));
        if self.default_memory_mb == 0 || self.default_memory_mb > self.max_memory_mb {
            return fail(format!(
                "default-memory-mb ({}) must be between 1 and max-memory-mb ({})",
                self.default_memory_mb, self.max_memory_mb
            ));
        }
        if self.max_memory_mb > 4096 {
            return fail(format!(
                "max-memory-mb is {}; a 32-bit WebAssembly memory holds at most 4096 MiB",
                self.max_memory_mb
            ));
        }
        if self.default_timeout_ms == 0 || self.default_timeout_ms > self.max_timeout_ms {
            return fail(format!(
                "default-timeout-ms ({}) must be between 1 and max-timeout-ms ({})",
                self.default_timeout_ms, self.max_timeout_ms
            ));
        }
        if self.fuel && (self.default_fuel == 0 || self.default_fuel > self.max_fuel) {
            return fail(format!(
                "default-fuel ({}) must be between 1 and max-fuel ({})",
                self.default_fuel, self.max_fuel
            ));
        }
        if self.epoch_tick_ms == 0 || self.epoch_tick_ms > 1000 {
            return fail(format!(
                "epoch-tick-ms is {}; use 1 to 1000",
                self.epoch_tick_ms
            ));
        }
        if self.max_document_bytes == 0 {
            return fail("max-document-bytes must be positive".into());
        }
        if self.max_wasm_stack_kib < 64 {
            return fail(format!(
                "max-wasm-stack-kib is {}; use at least 64",
                self.max_wasm_stack_kib
            ));
        }
        if self.pool_instances == 0 {
            return fail("pool-instances must be positive".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        RuntimeConfig::default().validate().unwrap();
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = toml::from_str::<RuntimeConfig>("max-memroy-mb = 3").unwrap_err();
        assert!(
            err.to_string().contains("unknown field `max-memroy-mb`"),
            "{err}"
        );
    }

    #[test]
    fn inconsistent_settings_say_what_to_fix() {
        let config: RuntimeConfig =
            toml::from_str("default-memory-mb = 512\nmax-memory-mb = 128").unwrap();
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("default-memory-mb (512)"), "{err}");
    }
}
