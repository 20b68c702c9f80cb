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
        // Values the runtime derives from the settings must not overflow: the largest
        // memory in bytes, the longest deadline in epoch ticks and as an instant, the pool's
        // sizes, the stack in bytes.
        mib_to_bytes(self.max_memory_mb, "max-memory-mb")?;
        deadline_ticks(self.max_timeout_ms, self.epoch_tick_ms)?;
        // A deadline is an instant and a count of epoch ticks; a day bounds both well.
        if self.max_timeout_ms > MAX_TIMEOUT_MS {
            return fail(format!(
                "max-timeout-ms is {}; use at most {MAX_TIMEOUT_MS} (a day)",
                self.max_timeout_ms
            ));
        }
        if self
            .pool_instances
            .checked_mul(POOL_CORE_INSTANCES_PER_COMPONENT)
            .is_none()
        {
            return fail(format!(
                "pool-instances is {}; use at most {}",
                self.pool_instances,
                u32::MAX / POOL_CORE_INSTANCES_PER_COMPONENT
            ));
        }
        if self.max_wasm_stack_kib.checked_mul(1024).is_none() {
            return fail(format!(
                "max-wasm-stack-kib is {}, too large; use at most 1048576 (1 GiB)",
                self.max_wasm_stack_kib
            ));
        }
        Ok(())
    }
}

/// The longest deadline the runtime accepts, in milliseconds: a day.
const MAX_TIMEOUT_MS: u64 = 86_400_000;

/// Core instances the pool reserves per component instance (componentize-py and
/// componentize-js components hold a dozen).
pub(crate) const POOL_CORE_INSTANCES_PER_COMPONENT: u32 = 16;

/// `mb` MiB in bytes, or an error naming the setting when that does not fit.
pub(crate) fn mib_to_bytes(mb: u64, setting: &str) -> Result<u64, Error> {
    mb.checked_mul(1 << 20).ok_or_else(|| {
        Error::Config(format!(
            "{setting} is {mb} MiB, more bytes than this system can count; use at most 4096"
        ))
    })
}

/// The epoch deadline of a call of `timeout_ms` with ticks of `tick_ms`: the ticks the
/// timeout spans, rounded up, plus one because the current tick is already under way.
pub(crate) fn deadline_ticks(timeout_ms: u64, tick_ms: u64) -> Result<u64, Error> {
    timeout_ms
        .div_ceil(tick_ms.max(1))
        .checked_add(1)
        .ok_or_else(|| {
            Error::Config(format!(
                "a timeout of {timeout_ms} ms is too long to count in epoch ticks; use at most a day (86400000)"
            ))
        })
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
    fn settings_that_overflow_derived_values_are_refused_not_wrapped() {
        let config = |f: fn(&mut RuntimeConfig)| {
            let mut c = RuntimeConfig::default();
            f(&mut c);
            c.validate().unwrap_err().to_string()
        };
        let err = config(|c| {
            c.max_timeout_ms = u64::MAX;
            c.epoch_tick_ms = 1;
        });
        assert!(
            err.contains("max-timeout-ms") || err.contains("timeout of"),
            "{err}"
        );
        let err = config(|c| c.max_timeout_ms = u64::MAX - 1);
        assert!(err.contains("max-timeout-ms"), "{err}");
        let err = config(|c| c.pool_instances = u32::MAX);
        assert!(err.contains("pool-instances"), "{err}");
        let err = config(|c| c.max_wasm_stack_kib = usize::MAX);
        assert!(err.contains("max-wasm-stack-kib"), "{err}");
        assert!(mib_to_bytes(u64::MAX, "max-memory-mb")
            .unwrap_err()
            .to_string()
            .contains("max-memory-mb"));
        assert_eq!(deadline_ticks(1000, 5).unwrap(), 201);
        assert!(deadline_ticks(u64::MAX, 1).is_err());
    }

    #[test]
    fn inconsistent_settings_say_what_to_fix() {
        let config: RuntimeConfig =
            toml::from_str("default-memory-mb = 512\nmax-memory-mb = 128").unwrap();
        let err = config.validate().unwrap_err().to_string();
        assert!(err.contains("default-memory-mb (512)"), "{err}");
    }
}
