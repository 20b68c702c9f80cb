//! Names, hashes and the cache keys derived from them.

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The longest index name.
pub const MAX_INDEX_NAME_LEN: usize = 64;

/// Checks an index name: 1 to 64 characters among `a-z`, `0-9`, `-` and `_`, starting with
/// a letter or a digit.
///
/// Names become folder names (`indexes/<name>/v<n>`) and CLI arguments, so they are kept to
/// characters that are safe in both; a leading `-` would read as a flag.
pub fn validate_index_name(name: &str) -> Result<()> {
    let invalid = |reason| {
        Err(Error::InvalidIndexName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() {
        return invalid("it is empty");
    }
    if name.len() > MAX_INDEX_NAME_LEN {
        return invalid("it is longer than 64 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return invalid("it has a character that is not allowed");
    }
    if !name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return invalid("it does not start with a letter or a digit");
    }
    Ok(())
}

/// The sha256 of `bytes` in lowercase hex: the form of document hashes and cache keys.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The key of a chunker identity: the sha256 of the plugin digest and the canonical JSON
/// of its configuration.
///
/// Chunks are cached per (document hash, chunking key): the same document chunked by the
/// same plugin build with the same settings is never chunked again, and changing either
/// gives a new key. The configuration is canonicalised ([`canonical_json`]) so that key
/// order does not matter.
pub fn chunking_key(chunker_digest: &str, config: &Value) -> String {
    identity_key("genops-chunking-v1", chunker_digest, config)
}

/// The key of an embedder identity: the sha256 of the model weights' sha256 and the
/// canonical JSON of the embedding settings (pooling, normalisation, prefix, ...).
///
/// The embedding cache is keyed by (chunk text, embedder key), so a new model file or a
/// changed setting re-embeds, and nothing else does.
pub fn embedder_key(model_sha256: &str, settings: &Value) -> String {
    identity_key("genops-embedder-v1", model_sha256, settings)
}

fn identity_key(domain: &str, digest: &str, config: &Value) -> String {
    // The domain and the newlines keep the two kinds of keys apart and make the
    // concatenation unambiguous (digests contain no newline; canonical JSON escapes them).
    sha256_hex(format!("{domain}\n{digest}\n{}", canonical_json(config)).as_bytes())
}

/// JSON with object keys sorted and no whitespace, so that equal values give equal text.
///
/// Written by hand rather than relying on `serde_json`'s map order, which another crate in
/// the build can switch to insertion order through the `preserve_order` feature.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The folder of a version's files, relative to the data directory.
///
/// Index names are validated to be safe folder names, so this cannot leave `indexes/`.
pub fn version_folder(index: &str, number: u32) -> String {
    format!("indexes/{index}/v{number}")
}

/// Checks that `value` is a sha256 in lowercase hex.
pub(crate) fn check_sha256(what: &'static str, value: &str) -> Result<()> {
    if value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(Error::InvalidHash {
            what,
            value: value.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn index_names() {
        for ok in ["docs", "a", "my-index_2", "0", &"x".repeat(64)] {
            validate_index_name(ok).unwrap();
        }
        for bad in [
            "",
            "Docs",
            "my index",
            "-x",
            "_x",
            "a/b",
            "..",
            "é",
            &"x".repeat(65),
        ] {
            let err = validate_index_name(bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid index name"), "{bad}: {err}");
        }
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a = json!({"b": 1, "a": {"y": [1, {"q": 2, "p": 1}], "x": "s\n"}});
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"x":"s\n","y":[1,{"p":1,"q":2}]},"b":1}"#
        );
    }

    #[test]
    fn keys_depend_on_every_part() {
        let config = json!({"size": 400, "overlap": 50});
        let same = json!({"overlap": 50, "size": 400});
        let key = chunking_key("sha256:aa", &config);
        assert_eq!(key, chunking_key("sha256:aa", &same));
        assert_ne!(key, chunking_key("sha256:ab", &config));
        assert_ne!(
            key,
            chunking_key("sha256:aa", &json!({"size": 401, "overlap": 50}))
        );
        assert_ne!(key, embedder_key("sha256:aa", &config));
        check_sha256("key", &key).unwrap();
        assert!(check_sha256("key", &key.to_uppercase()).is_err());
        assert!(check_sha256("key", "abc").is_err());
    }
}
