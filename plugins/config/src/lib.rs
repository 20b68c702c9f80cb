//! The `key = value` configuration the host hands a plugin (its manifest's defaults overlaid
//! with what the caller set), as the built-in plugins read it: each plugin declares its
//! [`ConfigKey`]s, a key it does not declare is refused (it is most likely a typo that would
//! otherwise be ignored), and values are read trimmed, the last of a repeated key winning.
//!
//! Shared by `genops-chunking` and `genops-retrieval`, whose typed configs parse values on
//! top of [`Entries`] and keep errors of their own.

/// One configuration key a plugin reads, as shown to users by `describe()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigKey {
    /// The key as written in a manifest or on the command line.
    pub name: &'static str,
    /// What the key controls.
    pub description: &'static str,
    /// The value used when the key is not set.
    pub default: &'static str,
}

/// A key the plugin does not read; each crate turns it into its own error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    /// The key as given.
    pub key: String,
    /// Every key the plugin reads.
    pub accepted: Vec<&'static str>,
}

/// The keys as a list for messages: `` `a`, `b` ``.
pub fn key_list(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The entries of one call, checked against the keys a plugin reads.
#[derive(Debug, Clone, Copy)]
pub struct Entries<'a> {
    entries: &'a [(String, String)],
}

impl<'a> Entries<'a> {
    /// The entries, or the first key that is not among `keys`.
    pub fn new(entries: &'a [(String, String)], keys: &[ConfigKey]) -> Result<Self, UnknownKey> {
        if let Some((key, _)) = entries
            .iter()
            .find(|(key, _)| !keys.iter().any(|k| k.name == key))
        {
            return Err(UnknownKey {
                key: key.clone(),
                accepted: keys.iter().map(|k| k.name).collect(),
            });
        }
        Ok(Self { entries })
    }

    /// The value of `key`, trimmed; the last one wins when a key repeats.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: [ConfigKey; 2] = [
        ConfigKey {
            name: "size",
            description: "",
            default: "1",
        },
        ConfigKey {
            name: "mode",
            description: "",
            default: "auto",
        },
    ];

    fn entries(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn values_are_trimmed_and_the_last_wins() {
        let e = entries(&[("size", " 3 "), ("size", "4")]);
        let parsed = Entries::new(&e, &KEYS).unwrap();
        assert_eq!(parsed.get("size"), Some("4"));
        assert_eq!(parsed.get("mode"), None);
    }

    #[test]
    fn unknown_keys_name_what_is_accepted() {
        let e = entries(&[("szie", "3")]);
        let err = Entries::new(&e, &KEYS).unwrap_err();
        assert_eq!(err.key, "szie");
        assert_eq!(key_list(&err.accepted), "`size`, `mode`");
    }
}
