//! The chunk stage: each document of the version cut by the chunker, unless the store
//! already has its chunks under this chunking key; what the chunker returns is bounded
//! before it is stored.

use std::collections::BTreeMap;

use genops_runtime::Document;
use genops_store::{NewChunk, NewDocument, Store, VersionDocument};
use serde_json::Value;

use crate::{Error, IngestLimits, Progress};

/// A document of the version being built, as the chunk stage takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedDoc {
    /// Its content hash.
    pub hash: String,
    /// The reader's metadata.
    pub metadata: BTreeMap<String, String>,
    /// Its media type (empty for documents carried over, whose type the store knows).
    pub media_type: String,
    /// The text, when this run read it; documents carried over read theirs from the store
    /// only if they must be chunked again.
    pub text: Option<String>,
    /// The file it was read from ([`VersionDocument::file`]).
    pub file: Option<String>,
    /// What was given that found it ([`VersionDocument::root`]).
    pub root: Option<String>,
}

/// A document with its chunks.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkedDoc {
    /// The document's source name.
    pub source: String,
    /// Its content hash.
    pub hash: String,
    /// The reader's metadata.
    pub metadata: BTreeMap<String, String>,
    /// Its chunks, as stored.
    pub chunks: Vec<genops_store::Chunk>,
}

/// What the chunk stage made.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chunked {
    /// The documents with their chunks, by source.
    pub docs: Vec<ChunkedDoc>,
    /// The version's document set.
    pub version_documents: Vec<VersionDocument>,
    /// Documents cut in this run (the rest had their chunks in the store).
    pub chunked_documents: u64,
}

/// The chunk stage of one version.
pub struct ChunkStage<'a> {
    /// The store, for cached chunks and to keep new ones.
    pub store: &'a Store,
    /// The chunker's session.
    pub session: &'a mut genops_runtime::Session,
    /// The chunker's name, for errors.
    pub plugin: String,
    /// The chunking key of the chunker's identity.
    pub chunking_key: &'a str,
    /// What one document may cost.
    pub limits: &'a IngestLimits,
    /// The version being built, kept alive while the stage runs.
    pub version_id: i64,
}

impl ChunkStage<'_> {
    /// Chunks every document of `set`.
    pub async fn run(
        &mut self,
        set: &BTreeMap<String, PlannedDoc>,
        progress: &mut dyn Progress,
    ) -> Result<Chunked, Error> {
        progress.stage("chunking", set.len() as u64);
        let mut out = Chunked::default();
        for (source, entry) in set {
            if let Some(text) = &entry.text {
                self.store
                    .put_document(NewDocument {
                        hash: &entry.hash,
                        media_type: &entry.media_type,
                        byte_size: text.len() as u64,
                        text,
                    })
                    .await?;
            }
            let chunks = match self
                .store
                .chunks_for(&entry.hash, self.chunking_key)
                .await?
            {
                Some(chunks) => chunks,
                None => {
                    let new = self.cut(source, entry).await?;
                    out.chunked_documents += 1;
                    self.store
                        .put_chunks(&entry.hash, self.chunking_key, &new)
                        .await?
                }
            };
            out.docs.push(ChunkedDoc {
                source: source.clone(),
                hash: entry.hash.clone(),
                metadata: entry.metadata.clone(),
                chunks,
            });
            out.version_documents.push(VersionDocument {
                path: source.clone(),
                document_hash: entry.hash.clone(),
                metadata: metadata_value(&entry.metadata),
                file: entry.file.clone(),
                root: entry.root.clone(),
            });
            self.store.touch_version(self.version_id).await?;
            progress.advance(1);
        }
        progress.finish_stage();
        Ok(out)
    }

    /// Cuts one document with the chunker.
    async fn cut(&mut self, source: &str, entry: &PlannedDoc) -> Result<Vec<NewChunk>, Error> {
        let (text, media_type) = match &entry.text {
            Some(t) => (t.clone(), entry.media_type.clone()),
            None => {
                let doc = self.store.document(&entry.hash).await?.ok_or_else(|| {
                    Error::Store(genops_store::Error::Corrupt(format!(
                        "document {} of {source} is missing from the store",
                        entry.hash
                    )))
                })?;
                (doc.text, doc.media_type)
            }
        };
        let mut metadata: Vec<(String, String)> = entry
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        metadata.push(("source".into(), source.to_string()));
        let doc = Document {
            id: entry.hash.clone(),
            text,
            media_type,
            metadata,
        };
        let pieces = self.session.split(&doc).map_err(|error| Error::Chunker {
            source_name: source.to_string(),
            error,
        })?;
        check_chunks(source, &self.plugin, &doc.text, &pieces, self.limits)?;
        Ok(new_chunks(&doc.text, &pieces))
    }
}

/// Refuses what a chunker returned for one document when it is more chunks, or more chunk
/// text, than `limits` allow. Checked on the offsets alone, before any chunk text is
/// copied: a chunker that returned a 1 MiB document 2,000 times took ingest to 4.4 GB of
/// memory and the database 2.1 GB larger.
pub fn check_chunks(
    source: &str,
    plugin: &str,
    text: &str,
    chunks: &[genops_runtime::Chunk],
    limits: &IngestLimits,
) -> Result<(), Error> {
    let bytes = text.len() as u64;
    let over = |found: String, limit: String, key: &'static str| Error::ChunkLimit {
        source_name: source.to_string(),
        plugin: plugin.to_string(),
        bytes,
        found,
        limit,
        key,
    };
    let max_chunks = limits.max_chunks(bytes);
    let count = chunks.len() as u64;
    if count > max_chunks {
        let key = if max_chunks == limits.max_chunks_per_document {
            "max-chunks-per-document"
        } else {
            "min-chunk-bytes"
        };
        return Err(over(
            format!("{count} chunks"),
            format!("{max_chunks} chunks"),
            key,
        ));
    }
    let max_bytes = limits.max_chunk_bytes(bytes)?;
    let mut total: u64 = 0;
    for c in chunks {
        let len = c.end.saturating_sub(c.start) as u64;
        total = total.saturating_add(len);
        if total > max_bytes {
            // Summed to the end for the message; offsets are cheap.
            let total: u64 = chunks
                .iter()
                .map(|c| c.end.saturating_sub(c.start) as u64)
                .fold(0, u64::saturating_add);
            return Err(over(
                format!("{total} bytes of chunk text"),
                format!("{max_bytes} bytes"),
                "max-chunk-bytes-ratio",
            ));
        }
    }
    Ok(())
}

/// The chunks to store for a document's text and the chunker's offsets (checked by the
/// runtime to lie on character boundaries of the text).
pub fn new_chunks(text: &str, chunks: &[genops_runtime::Chunk]) -> Vec<NewChunk> {
    chunks
        .iter()
        .map(|c| NewChunk {
            start: c.start as u64,
            end: c.end as u64,
            text: text.get(c.start..c.end).unwrap_or_default().to_string(),
            metadata: c
                .metadata
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        })
        .collect()
}

pub(crate) fn metadata_value(map: &BTreeMap<String, String>) -> Value {
    map.iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(text: &str, times: usize) -> Vec<genops_runtime::Chunk> {
        (0..times)
            .map(|_| genops_runtime::Chunk {
                start: 0,
                end: text.len(),
                metadata: vec![],
            })
            .collect()
    }

    #[test]
    fn a_chunker_returning_the_whole_document_thousands_of_times_is_refused() {
        // The hostile review's chunker: a 1 MiB document returned whole 2,000 times.
        let text = "a".repeat(1 << 20);
        let chunks = whole(&text, 2_000);
        let err = check_chunks(
            "big.txt",
            "chunker-hostile@0.1.0",
            &text,
            &chunks,
            &IngestLimits::default(),
        )
        .unwrap_err();
        let message = err.to_string();
        for part in [
            "big.txt",
            "chunker-hostile@0.1.0",
            "2097152000 bytes of chunk text",
            "4194304 bytes",
            "max-chunk-bytes-ratio",
        ] {
            assert!(message.contains(part), "{part}: {message}");
        }
    }

    #[test]
    fn too_many_chunks_of_a_small_document_are_refused_by_count() {
        let text = "word ".repeat(100);
        let chunks: Vec<_> = (0..1_001)
            .map(|i| genops_runtime::Chunk {
                start: i % 100,
                end: i % 100 + 1,
                metadata: vec![],
            })
            .collect();
        let err = check_chunks("a.md", "c", &text, &chunks, &IngestLimits::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("1001 chunks") && err.contains("max-chunks-per-document"),
            "{err}"
        );
    }

    #[test]
    fn ordinary_overlapping_chunks_pass() {
        // 400-byte chunks overlapping by half: about twice the text.
        let text = "x".repeat(100_000);
        let chunks: Vec<_> = (0..)
            .map(|i| i * 200)
            .take_while(|s| s + 400 <= text.len())
            .map(|start| genops_runtime::Chunk {
                start,
                end: start + 400,
                metadata: vec![],
            })
            .collect();
        check_chunks("a.md", "c", &text, &chunks, &IngestLimits::default()).unwrap();
        let new = new_chunks(&text, &chunks[..2]);
        assert_eq!(new[1].start, 200);
        assert_eq!(new[1].text.len(), 400);
    }
}
