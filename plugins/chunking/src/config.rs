//! Reading the `key = value` configuration the plugins receive into typed configs.

pub use genops_plugin_config::ConfigKey;
use genops_plugin_config::{key_list, UnknownKey};

/// A configuration that cannot be used; the message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A key the algorithm does not read, most likely a typo.
    #[error("unknown config key `{key}`; accepted keys are {}", key_list(accepted))]
    UnknownKey {
        /// The key as given.
        key: String,
        /// Every key the algorithm reads.
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
    /// An overlap that would keep a window from moving forward.
    #[error(
        "config `overlap` is {overlap} but `size` is {size}; overlap must be smaller than size, \
         so lower `overlap` or raise `size`"
    )]
    OverlapNotBelowSize {
        /// The overlap asked for.
        overlap: usize,
        /// The size asked for.
        size: usize,
    },
}

impl From<UnknownKey> for ConfigError {
    fn from(e: UnknownKey) -> Self {
        ConfigError::UnknownKey {
            key: e.key,
            accepted: e.accepted,
        }
    }
}

/// The entries of one call, checked against the keys an algorithm reads.
pub(crate) struct Entries<'a>(genops_plugin_config::Entries<'a>);

impl<'a> Entries<'a> {
    pub(crate) fn new(
        entries: &'a [(String, String)],
        keys: &[ConfigKey],
    ) -> Result<Self, ConfigError> {
        Ok(Self(genops_plugin_config::Entries::new(entries, keys)?))
    }

    /// The value of `key`, trimmed; the last one wins when a key repeats.
    pub(crate) fn get(&self, key: &str) -> Option<&'a str> {
        self.0.get(key)
    }

    /// A whole number of at least `min`, or `None` when unset.
    pub(crate) fn count(
        &self,
        key: &'static str,
        min: usize,
    ) -> Result<Option<usize>, ConfigError> {
        let Some(raw) = self.get(key) else {
            return Ok(None);
        };
        match raw.parse::<usize>() {
            Ok(n) if n >= min => Ok(Some(n)),
            _ => Err(ConfigError::InvalidValue {
                key,
                value: raw.to_string(),
                expected: if min == 0 {
                    "a whole number, 0 or more"
                } else {
                    "a whole number of at least 1"
                },
            }),
        }
    }
}

/// Checks that a size is at least 1, for configs built by hand rather than parsed.
pub(crate) fn check_size(size: usize) -> Result<(), ConfigError> {
    if size == 0 {
        return Err(ConfigError::InvalidValue {
            key: "size",
            value: "0".into(),
            expected: "a whole number of at least 1",
        });
    }
    Ok(())
}

/// Checks the size and the constraint shared by every algorithm with a counted overlap.
pub(crate) fn check_overlap(size: usize, overlap: usize) -> Result<(), ConfigError> {
    check_size(size)?;
    if overlap >= size {
        return Err(ConfigError::OverlapNotBelowSize { overlap, size });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[ConfigKey] = &[
        ConfigKey {
            name: "size",
            description: "",
            default: "1",
        },
        ConfigKey {
            name: "overlap",
            description: "",
            default: "0",
        },
    ];

    fn entries(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn unknown_key_lists_the_accepted_ones() {
        let given = entries(&[("sise", "3")]);
        let err = Entries::new(&given, KEYS).err().unwrap();
        assert_eq!(
            err.to_string(),
            "unknown config key `sise`; accepted keys are `size`, `overlap`"
        );
    }

    #[test]
    fn numbers_are_trimmed_and_checked() {
        let given = entries(&[("size", " 12 "), ("overlap", "-1")]);
        let e = Entries::new(&given, KEYS).unwrap();
        assert_eq!(e.count("size", 1), Ok(Some(12)));
        assert_eq!(
            e.count("overlap", 0).unwrap_err().to_string(),
            "config `overlap` has value `-1`; expected a whole number, 0 or more"
        );
    }

    #[test]
    fn zero_size_and_large_overlap_are_refused() {
        assert!(check_overlap(0, 0)
            .unwrap_err()
            .to_string()
            .contains("`size` has value `0`"));
        assert_eq!(
            check_overlap(10, 10).unwrap_err().to_string(),
            "config `overlap` is 10 but `size` is 10; overlap must be smaller than size, so lower \
             `overlap` or raise `size`"
        );
        assert_eq!(check_overlap(10, 9), Ok(()));
    }
}
