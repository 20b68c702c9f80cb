//! What one document may cost: the bounds that keep a large file or a misbehaving chunker
//! from taking the host's memory and the store's disk.

use serde::{Deserialize, Serialize};

use crate::Error;

/// Chunk text below which the byte bound never applies: a small document cut with a large
/// overlap is harmless however often its text repeats.
const CHUNK_BYTES_FLOOR: u64 = 64 << 10;

/// The ingest limits, `[ingest]` in genops.toml. Every key has a default; unknown keys are
/// refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct IngestLimits {
    /// Largest file read, in bytes; a larger file is skipped with the reason, before it is
    /// read. 64 MiB by default: the most the runtime hands a chunker as one document.
    pub max_file_bytes: u64,
    /// Chunks one document may be cut into: this many, or one per `min-chunk-bytes` of its
    /// text when that is more. 1,000 by default.
    pub max_chunks_per_document: u64,
    /// See `max-chunks-per-document`; 8 bytes by default (a few words per chunk).
    pub min_chunk_bytes: u64,
    /// The text of a document's chunks, summed, as a multiple of the document's text
    /// (chunks of at most 64 KiB in all are always allowed). 4 by default: overlapping
    /// chunks repeat part of the text, rarely all of it twice; more is a chunker
    /// repeating the document.
    pub max_chunk_bytes_ratio: u64,
}

impl Default for IngestLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 64 << 20,
            max_chunks_per_document: 1_000,
            min_chunk_bytes: 8,
            max_chunk_bytes_ratio: 4,
        }
    }
}

impl IngestLimits {
    /// Checks that every limit is usable (none is zero).
    pub fn validate(&self) -> Result<(), Error> {
        for (key, value) in [
            ("max-file-bytes", self.max_file_bytes),
            ("max-chunks-per-document", self.max_chunks_per_document),
            ("min-chunk-bytes", self.min_chunk_bytes),
            ("max-chunk-bytes-ratio", self.max_chunk_bytes_ratio),
        ] {
            if value == 0 {
                return Err(Error::BadLimit {
                    key,
                    message: "is 0; it must be at least 1".into(),
                });
            }
        }
        Ok(())
    }

    /// The most chunks a document of `text_bytes` may give.
    pub fn max_chunks(&self, text_bytes: u64) -> u64 {
        let by_size = text_bytes / self.min_chunk_bytes.max(1);
        self.max_chunks_per_document.max(by_size)
    }

    /// The most chunk text, summed, a document of `text_bytes` may give.
    pub fn max_chunk_bytes(&self, text_bytes: u64) -> Result<u64, Error> {
        let bound = text_bytes
            .checked_mul(self.max_chunk_bytes_ratio)
            .ok_or_else(|| Error::BadLimit {
                key: "max-chunk-bytes-ratio",
                message: format!(
                    "is {}, which overflows for a document of {text_bytes} bytes; lower it",
                    self.max_chunk_bytes_ratio
                ),
            })?;
        Ok(bound.max(CHUNK_BYTES_FLOOR))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_with_defaults_and_refuse_unknown_keys() {
        let limits: IngestLimits = serde_json::from_str(r#"{"max-file-bytes": 10}"#).unwrap();
        assert_eq!(limits.max_file_bytes, 10);
        assert_eq!(limits.max_chunk_bytes_ratio, 4);
        let err = serde_json::from_str::<IngestLimits>(r#"{"max-files": 10}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn a_zero_limit_is_refused_rather_than_divided_by() {
        let limits = IngestLimits {
            min_chunk_bytes: 0,
            ..IngestLimits::default()
        };
        let err = limits.validate().unwrap_err();
        assert!(err.to_string().contains("min-chunk-bytes"), "{err}");
        // Even unvalidated, the count bound does not divide by zero.
        assert_eq!(limits.max_chunks(100), 1_000);
    }

    #[test]
    fn a_huge_ratio_overflows_into_an_error_not_a_wrap() {
        let limits = IngestLimits {
            max_chunk_bytes_ratio: u64::MAX,
            ..IngestLimits::default()
        };
        let err = limits.max_chunk_bytes(2).unwrap_err();
        assert!(err.to_string().contains("overflows"), "{err}");
        assert_eq!(limits.max_chunk_bytes(0).unwrap(), CHUNK_BYTES_FLOOR);
    }

    #[test]
    fn bounds_grow_with_the_document() {
        let limits = IngestLimits::default();
        assert_eq!(limits.max_chunks(100), 1_000);
        assert_eq!(limits.max_chunks(1 << 20), (1 << 20) / 8);
        assert_eq!(limits.max_chunk_bytes(1 << 20).unwrap(), 4 << 20);
    }
}
