//! The configuration of the built-in retrievers, read from the `key = value` entries the
//! host hands a plugin (manifest defaults overlaid with what the caller set).

/// The most results one search call of the host may ask for (its `search` import refuses
/// more), and so the largest candidate depth a retriever accepts.
pub const MAX_SEARCH_K: u32 = 10_000;

pub use genops_plugin_config::ConfigKey;
use genops_plugin_config::{key_list, UnknownKey};

/// A configuration that cannot be used; the message names the key and the value and says
/// what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A key the retriever does not read, most likely a typo.
    #[error("unknown config key `{key}`; {}", accepted_list(accepted))]
    UnknownKey {
        /// The key as given.
        key: String,
        /// Every key the retriever reads.
        accepted: Vec<&'static str>,
    },
    /// A value that does not parse or is out of range.
    #[error("config `{key}` has value `{value}`; expected {expected}")]
    InvalidValue {
        /// The key.
        key: &'static str,
        /// The value as given.
        value: String,
        /// What the key accepts.
        expected: &'static str,
    },
    /// Both fusion weights are 0, so the hybrid retriever would run no search.
    #[error(
        "config `text-weight` has value `{text}` and `vector-weight` has value `{vector}`; with \
         both at 0 there is no search to run, so set at least one above 0"
    )]
    NoSearch {
        /// `text-weight` as given.
        text: String,
        /// `vector-weight` as given.
        vector: String,
    },
}

fn accepted_list(keys: &[&str]) -> String {
    if keys.is_empty() {
        return "this retriever reads no config keys".to_string();
    }
    format!("accepted keys are {}", key_list(keys))
}

/// A retriever's typed configuration.
pub trait RetrieverConfig: Sized {
    /// Every key the retriever reads, in the order `describe()` lists them.
    const KEYS: &'static [ConfigKey];

    /// Reads the entries of one call. Unknown keys are errors, as are values that do not
    /// parse or are out of range; when a key repeats, the last value wins.
    fn from_entries(entries: &[(String, String)]) -> Result<Self, ConfigError>;
}

/// How a vector search finds its neighbours (the `search` import's `vector-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VectorMode {
    /// The approximate graph when the index has one and the query has no filters, else
    /// exact.
    #[default]
    Auto,
    /// Compare with every vector.
    Exact,
    /// The approximate graph; an error when the index has none.
    Approximate,
}

impl VectorMode {
    /// The mode as written in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            VectorMode::Auto => "auto",
            VectorMode::Exact => "exact",
            VectorMode::Approximate => "approximate",
        }
    }
}

/// How many candidates a search returns before a retriever combines or reranks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Depth {
    /// A number that grows with the query's `k`; each retriever documents its formula.
    #[default]
    Auto,
    /// A fixed number, from 1 to [`MAX_SEARCH_K`].
    Fixed(u32),
}

impl Depth {
    /// The depth for a query of `k` hits: `auto(k)` for [`Depth::Auto`], a fixed depth
    /// raised to `k` (fewer candidates could not fill `k` hits), never above
    /// [`MAX_SEARCH_K`].
    fn resolve(self, k: u32, auto: impl FnOnce(u32) -> u32) -> u32 {
        let depth = match self {
            Depth::Auto => auto(k),
            Depth::Fixed(n) => n.max(k),
        };
        depth.min(MAX_SEARCH_K)
    }
}

impl From<UnknownKey> for ConfigError {
    fn from(e: UnknownKey) -> Self {
        ConfigError::UnknownKey {
            key: e.key,
            accepted: e.accepted,
        }
    }
}

/// The entries of one call, checked against the keys a retriever reads.
struct Entries<'a>(genops_plugin_config::Entries<'a>);

impl<'a> Entries<'a> {
    fn new(entries: &'a [(String, String)], keys: &[ConfigKey]) -> Result<Self, ConfigError> {
        Ok(Self(genops_plugin_config::Entries::new(entries, keys)?))
    }

    /// The value of `key`, trimmed; the last one wins when a key repeats.
    fn get(&self, key: &str) -> Option<&'a str> {
        self.0.get(key)
    }

    fn invalid(key: &'static str, value: &str, expected: &'static str) -> ConfigError {
        ConfigError::InvalidValue {
            key,
            value: value.to_string(),
            expected,
        }
    }

    /// A finite number accepted by `valid`, or `default` when unset.
    fn number(
        &self,
        key: &'static str,
        default: f64,
        valid: impl Fn(f64) -> bool,
        expected: &'static str,
    ) -> Result<f64, ConfigError> {
        let Some(raw) = self.get(key) else {
            return Ok(default);
        };
        match raw.parse::<f64>() {
            // `f64::from_str` takes `inf` and `NaN`, which no key accepts.
            Ok(x) if x.is_finite() && valid(x) => Ok(x),
            _ => Err(Self::invalid(key, raw, expected)),
        }
    }

    fn mode(&self, key: &'static str) -> Result<VectorMode, ConfigError> {
        match self.get(key) {
            None | Some("auto") => Ok(VectorMode::Auto),
            Some("exact") => Ok(VectorMode::Exact),
            Some("approximate") => Ok(VectorMode::Approximate),
            Some(other) => Err(Self::invalid(
                key,
                other,
                "`auto`, `exact` or `approximate`",
            )),
        }
    }

    fn depth(&self, key: &'static str) -> Result<Depth, ConfigError> {
        match self.get(key) {
            None | Some("auto") => Ok(Depth::Auto),
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_SEARCH_K).contains(&n) => Ok(Depth::Fixed(n)),
                _ => Err(Self::invalid(
                    key,
                    raw,
                    "`auto` or a whole number from 1 to 10000",
                )),
            },
        }
    }
}

const MODE: ConfigKey = ConfigKey {
    name: "mode",
    description: "how the vector search finds neighbours: `auto` (the approximate graph when \
                  the index has one and the query has no filters, else exact), `exact` (every \
                  vector) or `approximate` (the graph; an error when the index has none)",
    default: "auto",
};

/// `retriever-bm25` reads no configuration: BM25 over the chunk text, as the index has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Bm25Config;

impl RetrieverConfig for Bm25Config {
    const KEYS: &'static [ConfigKey] = &[];

    fn from_entries(entries: &[(String, String)]) -> Result<Self, ConfigError> {
        Entries::new(entries, Self::KEYS)?;
        Ok(Bm25Config)
    }
}

/// The configuration of `retriever-vector`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VectorConfig {
    /// `mode`: how the vector search finds neighbours.
    pub mode: VectorMode,
}

impl RetrieverConfig for VectorConfig {
    const KEYS: &'static [ConfigKey] = &[MODE];

    fn from_entries(entries: &[(String, String)]) -> Result<Self, ConfigError> {
        let e = Entries::new(entries, Self::KEYS)?;
        Ok(Self {
            mode: e.mode("mode")?,
        })
    }
}

/// The configuration of `retriever-hybrid`: a BM25 and a vector search, fused by
/// reciprocal rank fusion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HybridConfig {
    /// `depth`: candidates each search returns before fusion.
    pub depth: Depth,
    /// `rrf-k`: the rank constant of the fusion.
    pub rrf_k: f64,
    /// `text-weight`: weight of the BM25 ranking; 0 skips the text search.
    pub text_weight: f64,
    /// `vector-weight`: weight of the vector ranking; 0 skips the vector search.
    pub vector_weight: f64,
    /// `mode`: how the vector search finds neighbours.
    pub mode: VectorMode,
}

impl Default for HybridConfig {
    fn default() -> Self {
        Self {
            depth: Depth::Auto,
            rrf_k: crate::DEFAULT_RRF_K,
            text_weight: 1.0,
            vector_weight: 1.0,
            mode: VectorMode::Auto,
        }
    }
}

impl HybridConfig {
    /// The depth `auto` stands for, before the cap: deep enough that a chunk ranked well by
    /// one search and only fairly by the other still gets both contributions (at k = 5,
    /// ten times the hits asked for), and never fewer than `k`.
    pub const AUTO_DEPTH: u32 = 50;

    /// Candidates each search returns for a query of `k` hits: `max(k, 50)` for `auto`, a
    /// fixed depth raised to `k`, at most [`MAX_SEARCH_K`].
    pub fn depth_for(&self, k: u32) -> u32 {
        self.depth.resolve(k, |k| k.max(Self::AUTO_DEPTH))
    }
}

impl RetrieverConfig for HybridConfig {
    const KEYS: &'static [ConfigKey] = &[
        ConfigKey {
            name: "depth",
            description: "candidates each search returns before fusion: `auto` for max(k, 50), \
                          or a whole number from 1 to 10000 (raised to k when below it); a \
                          chunk below this depth in one search gets nothing from that search",
            default: "auto",
        },
        ConfigKey {
            name: "rrf-k",
            description: "the rank constant of reciprocal rank fusion, 0 or more: a chunk at \
                          rank r of a search gains weight / (rrf-k + r); larger values weigh \
                          agreement between the searches over a first place in one",
            default: "60",
        },
        ConfigKey {
            name: "text-weight",
            description: "weight of the BM25 ranking in the fusion, 0 or more; 0 skips the \
                          text search",
            default: "1",
        },
        ConfigKey {
            name: "vector-weight",
            description: "weight of the vector ranking in the fusion, 0 or more; 0 skips the \
                          vector search (and the query's embedding)",
            default: "1",
        },
        MODE,
    ];

    fn from_entries(entries: &[(String, String)]) -> Result<Self, ConfigError> {
        let e = Entries::new(entries, Self::KEYS)?;
        let non_negative = |x: f64| x >= 0.0;
        let config = Self {
            depth: e.depth("depth")?,
            rrf_k: e.number(
                "rrf-k",
                crate::DEFAULT_RRF_K,
                non_negative,
                "a number, 0 or more",
            )?,
            text_weight: e.number("text-weight", 1.0, non_negative, "a number, 0 or more")?,
            vector_weight: e.number("vector-weight", 1.0, non_negative, "a number, 0 or more")?,
            mode: e.mode("mode")?,
        };
        if config.text_weight == 0.0 && config.vector_weight == 0.0 {
            return Err(ConfigError::NoSearch {
                text: e.get("text-weight").unwrap_or("1").to_string(),
                vector: e.get("vector-weight").unwrap_or("1").to_string(),
            });
        }
        Ok(config)
    }
}

/// The configuration of `retriever-mmr`: vector candidates reranked by maximal marginal
/// relevance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MmrConfig {
    /// `fetch-k`: the vector candidates MMR chooses from.
    pub fetch_k: Depth,
    /// `lambda`: relevance against diversity, from 0 to 1.
    pub lambda: f64,
    /// `mode`: how the vector search finds neighbours.
    pub mode: VectorMode,
}

impl Default for MmrConfig {
    fn default() -> Self {
        Self {
            fetch_k: Depth::Auto,
            lambda: crate::DEFAULT_LAMBDA,
            mode: VectorMode::Auto,
        }
    }
}

impl MmrConfig {
    /// Candidates fetched for a query of `k` hits: `max(4k, 20)` for `auto` (enough
    /// alternatives to replace the near-duplicates among the first `k`), a fixed number
    /// raised to `k`, at most [`MAX_SEARCH_K`].
    pub fn fetch_k_for(&self, k: u32) -> u32 {
        self.fetch_k.resolve(k, |k| k.saturating_mul(4).max(20))
    }
}

impl RetrieverConfig for MmrConfig {
    const KEYS: &'static [ConfigKey] = &[
        ConfigKey {
            name: "fetch-k",
            description: "vector candidates MMR chooses from: `auto` for max(4k, 20), or a whole \
                          number from 1 to 10000 (raised to k when below it)",
            default: "auto",
        },
        ConfigKey {
            name: "lambda",
            description: "relevance against diversity, from 0 to 1: 1 keeps the vector order, \
                          lower values push chunks similar to earlier hits down",
            default: "0.5",
        },
        MODE,
    ];

    fn from_entries(entries: &[(String, String)]) -> Result<Self, ConfigError> {
        let e = Entries::new(entries, Self::KEYS)?;
        Ok(Self {
            fetch_k: e.depth("fetch-k")?,
            lambda: e.number(
                "lambda",
                crate::DEFAULT_LAMBDA,
                |x| (0.0..=1.0).contains(&x),
                "a number from 0 to 1",
            )?,
            mode: e.mode("mode")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn error<C: RetrieverConfig + std::fmt::Debug>(pairs: &[(&str, &str)]) -> String {
        C::from_entries(&entries(pairs)).unwrap_err().to_string()
    }

    #[test]
    fn defaults_when_nothing_is_set() {
        assert_eq!(Bm25Config::from_entries(&[]), Ok(Bm25Config));
        assert_eq!(VectorConfig::from_entries(&[]), Ok(VectorConfig::default()));
        assert_eq!(HybridConfig::from_entries(&[]), Ok(HybridConfig::default()));
        assert_eq!(MmrConfig::from_entries(&[]), Ok(MmrConfig::default()));
    }

    #[test]
    fn every_default_in_keys_parses_to_the_default_config() {
        fn defaults<C: RetrieverConfig>() -> Vec<(String, String)> {
            C::KEYS
                .iter()
                .map(|k| (k.name.to_string(), k.default.to_string()))
                .collect()
        }
        assert_eq!(
            VectorConfig::from_entries(&defaults::<VectorConfig>()),
            Ok(VectorConfig::default())
        );
        assert_eq!(
            HybridConfig::from_entries(&defaults::<HybridConfig>()),
            Ok(HybridConfig::default())
        );
        assert_eq!(
            MmrConfig::from_entries(&defaults::<MmrConfig>()),
            Ok(MmrConfig::default())
        );
    }

    #[test]
    fn values_are_trimmed_and_the_last_one_wins() {
        let config = HybridConfig::from_entries(&entries(&[
            ("rrf-k", "10"),
            ("rrf-k", " 20 "),
            ("depth", " 7"),
            ("text-weight", "0"),
            ("mode", "exact"),
        ]))
        .unwrap();
        assert_eq!(config.rrf_k, 20.0);
        assert_eq!(config.depth, Depth::Fixed(7));
        assert_eq!(config.text_weight, 0.0);
        assert_eq!(config.mode, VectorMode::Exact);
    }

    #[test]
    fn bad_values_name_the_key_the_value_and_what_is_accepted() {
        assert_eq!(
            error::<MmrConfig>(&[("lambda", "2")]),
            "config `lambda` has value `2`; expected a number from 0 to 1"
        );
        assert_eq!(
            error::<MmrConfig>(&[("lambda", "NaN")]),
            "config `lambda` has value `NaN`; expected a number from 0 to 1"
        );
        assert_eq!(
            error::<VectorConfig>(&[("mode", "sideways")]),
            "config `mode` has value `sideways`; expected `auto`, `exact` or `approximate`"
        );
        assert_eq!(
            error::<HybridConfig>(&[("rrf-k", "-1")]),
            "config `rrf-k` has value `-1`; expected a number, 0 or more"
        );
        assert_eq!(
            error::<HybridConfig>(&[("vector-weight", "inf")]),
            "config `vector-weight` has value `inf`; expected a number, 0 or more"
        );
        for depth in ["0", "10001", "-3", "many"] {
            assert_eq!(
                error::<HybridConfig>(&[("depth", depth)]),
                format!(
                    "config `depth` has value `{depth}`; expected `auto` or a whole number from \
                     1 to 10000"
                )
            );
        }
        assert!(
            error::<MmrConfig>(&[("fetch-k", "0")]).starts_with("config `fetch-k` has value `0`")
        );
    }

    #[test]
    fn both_weights_at_zero_leave_no_search() {
        assert_eq!(
            error::<HybridConfig>(&[("text-weight", "0"), ("vector-weight", "0.0")]),
            "config `text-weight` has value `0` and `vector-weight` has value `0.0`; with both \
             at 0 there is no search to run, so set at least one above 0"
        );
    }

    #[test]
    fn unknown_keys_list_the_accepted_ones() {
        assert_eq!(
            error::<MmrConfig>(&[("lamda", "0.3")]),
            "unknown config key `lamda`; accepted keys are `fetch-k`, `lambda`, `mode`"
        );
        assert_eq!(
            error::<Bm25Config>(&[("mode", "exact")]),
            "unknown config key `mode`; this retriever reads no config keys"
        );
    }

    #[test]
    fn depths_grow_with_k_and_stay_under_the_host_limit() {
        let hybrid = HybridConfig::default();
        assert_eq!(hybrid.depth_for(5), 50);
        assert_eq!(hybrid.depth_for(80), 80);
        assert_eq!(hybrid.depth_for(20_000), MAX_SEARCH_K);
        let fixed = HybridConfig {
            depth: Depth::Fixed(10),
            ..HybridConfig::default()
        };
        assert_eq!(fixed.depth_for(5), 10);
        assert_eq!(fixed.depth_for(30), 30, "raised to k");

        let mmr = MmrConfig::default();
        assert_eq!(mmr.fetch_k_for(1), 20);
        assert_eq!(mmr.fetch_k_for(5), 20);
        assert_eq!(mmr.fetch_k_for(10), 40);
        assert_eq!(mmr.fetch_k_for(u32::MAX), MAX_SEARCH_K);
        let fixed = MmrConfig {
            fetch_k: Depth::Fixed(8),
            ..MmrConfig::default()
        };
        assert_eq!(fixed.fetch_k_for(3), 8);
        assert_eq!(fixed.fetch_k_for(12), 12);
    }
}
