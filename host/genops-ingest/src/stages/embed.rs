//! The embed stage: a vector for each chunk, from the store's cache when this embedder
//! embedded the same text before, else from the model.

use std::collections::{BTreeMap, HashSet};

use genops_store::Store;

use super::chunk::ChunkedDoc;
use crate::{Error, Progress};

/// Texts embedded per call of the model: large enough to keep the batching queue full,
/// small enough that progress moves.
pub const EMBED_BATCH: usize = 256;

/// What embeds chunk texts: a model, or a fake in tests.
pub trait Embedder {
    /// The embedder key the store caches vectors under.
    fn key(&self) -> &str;
    /// One vector per text, in order.
    fn embed(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error>;
}

/// An embedding model of genops-models.
pub struct ModelEmbedder<'a> {
    /// The models.
    pub models: &'a genops_models::Models,
    /// The model's name.
    pub model: &'a str,
    /// Its embedder key.
    pub key: &'a str,
}

impl Embedder for ModelEmbedder<'_> {
    fn key(&self) -> &str {
        self.key
    }

    fn embed(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
        Ok(self
            .models
            .embed(self.model, texts)?
            .into_iter()
            .map(|e| e.vector)
            .collect())
    }
}

/// One chunk ready to index.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddedChunk {
    /// The document's source name.
    pub source: String,
    /// The document's content hash.
    pub document: String,
    /// The document's metadata.
    pub metadata: BTreeMap<String, String>,
    /// The chunk.
    pub chunk: genops_store::Chunk,
    /// Its vector, when the version has vectors.
    pub vector: Option<Vec<f32>>,
}

/// What the embed stage made.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Embedded {
    /// Every chunk of the version, in row order.
    pub chunks: Vec<EmbeddedChunk>,
    /// Chunks embedded in this run (the rest reused the store's vectors).
    pub embedded_chunks: u64,
    /// The vectors' length, when the version has vectors.
    pub dimensions: Option<u32>,
}

/// The embed stage of one version.
pub struct EmbedStage<'a> {
    /// The store, for cached vectors and to keep new ones.
    pub store: &'a Store,
    /// The version being built, kept alive while the stage runs.
    pub version_id: i64,
}

impl EmbedStage<'_> {
    /// Gives every chunk of `docs` its vector (none without an embedder).
    pub async fn run(
        &self,
        docs: Vec<ChunkedDoc>,
        embedder: Option<&mut dyn Embedder>,
        progress: &mut dyn Progress,
    ) -> Result<Embedded, Error> {
        let mut chunks: Vec<EmbeddedChunk> = docs
            .into_iter()
            .flat_map(|d| {
                let (source, document, metadata) = (d.source, d.hash, d.metadata);
                d.chunks.into_iter().map(move |chunk| EmbeddedChunk {
                    source: source.clone(),
                    document: document.clone(),
                    metadata: metadata.clone(),
                    chunk,
                    vector: None,
                })
            })
            .collect();
        let Some(embedder) = embedder else {
            return Ok(Embedded {
                chunks,
                ..Embedded::default()
            });
        };
        let key = embedder.key().to_string();
        let ids: Vec<i64> = chunks.iter().map(|c| c.chunk.id).collect();
        let mut cached = self.store.embeddings(&ids, &key).await?;
        let mut seen = HashSet::new();
        let missing: Vec<usize> = (0..chunks.len())
            .filter(|&i| !cached.contains_key(&ids[i]) && seen.insert(ids[i]))
            .collect();
        progress.stage("embedding", missing.len() as u64);
        let mut embedded_chunks = 0;
        for batch in missing.chunks(EMBED_BATCH) {
            let texts: Vec<&str> = batch
                .iter()
                .map(|&i| chunks[i].chunk.text.as_str())
                .collect();
            let vectors = embedder.embed(&texts)?;
            let pairs: Vec<(i64, Vec<f32>)> = batch
                .iter()
                .zip(vectors)
                .map(|(&i, v)| (ids[i], v))
                .collect();
            self.store.put_embeddings(&key, &pairs).await?;
            embedded_chunks += pairs.len() as u64;
            cached.extend(pairs);
            self.store.touch_version(self.version_id).await?;
            progress.advance(batch.len() as u64);
        }
        progress.finish_stage();
        for c in &mut chunks {
            // Two sources with the same content share chunks, so a vector may serve twice.
            c.vector = cached.get(&c.chunk.id).cloned();
        }
        let dimensions = match chunks.iter().find_map(|c| c.vector.as_ref()) {
            Some(v) => u32::try_from(v.len()).map_err(|_| {
                Error::BadVectors(format!(
                    "the model gave vectors of {} values, more than an index version holds",
                    v.len()
                ))
            })?,
            None => 0,
        };
        Ok(Embedded {
            chunks,
            embedded_chunks,
            dimensions: Some(dimensions),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Silent;
    use genops_store::{ChunkerIdentity, NewChunk, NewDocument, NewVersion};
    use serde_json::json;

    struct Fake {
        key: String,
        calls: Vec<Vec<String>>,
    }

    impl Embedder for Fake {
        fn key(&self) -> &str {
            &self.key
        }

        fn embed(&mut self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
            self.calls
                .push(texts.iter().map(|t| t.to_string()).collect());
            Ok(texts.iter().map(|t| vec![t.len() as f32, 1.0]).collect())
        }
    }

    #[tokio::test]
    async fn chunks_are_embedded_once_and_then_taken_from_the_store() {
        let store = Store::open_in_memory().await.unwrap();
        store.create_index("docs").await.unwrap();
        let version = store
            .begin_version(
                "docs",
                &NewVersion {
                    parent: None,
                    chunker: ChunkerIdentity {
                        digest: "sha256:00".into(),
                        config: json!({}),
                    },
                    embedder: None,
                },
            )
            .await
            .unwrap();
        let text = "one two";
        let hash = genops_store::sha256_hex(text.as_bytes());
        store
            .put_document(NewDocument {
                hash: &hash,
                media_type: "text/plain",
                byte_size: 7,
                text,
            })
            .await
            .unwrap();
        let new = [
            NewChunk {
                start: 0,
                end: 3,
                text: "one".into(),
                metadata: json!({}),
            },
            NewChunk {
                start: 4,
                end: 7,
                text: "two".into(),
                metadata: json!({}),
            },
        ];
        let key = genops_store::chunking_key("sha256:00", &json!({}));
        let chunks = store.put_chunks(&hash, &key, &new).await.unwrap();
        let doc = |source: &str| ChunkedDoc {
            source: source.into(),
            hash: hash.clone(),
            metadata: BTreeMap::new(),
            chunks: chunks.clone(),
        };
        let stage = EmbedStage {
            store: &store,
            version_id: version.id,
        };
        let mut fake = Fake {
            key: genops_store::embedder_key(&genops_store::sha256_hex(b"fake"), &json!({})),
            calls: vec![],
        };
        // Two sources with the same content: each chunk text is embedded once.
        let out = stage
            .run(
                vec![doc("a.txt"), doc("b.txt")],
                Some(&mut fake),
                &mut Silent,
            )
            .await
            .unwrap();
        assert_eq!(out.chunks.len(), 4);
        assert_eq!(out.embedded_chunks, 2);
        assert_eq!(out.dimensions, Some(2));
        assert_eq!(out.chunks[2].vector, Some(vec![3.0, 1.0]));
        assert_eq!(fake.calls, vec![vec!["one".to_string(), "two".to_string()]]);
        let again = stage
            .run(vec![doc("a.txt")], Some(&mut fake), &mut Silent)
            .await
            .unwrap();
        assert_eq!(again.embedded_chunks, 0);
        assert_eq!(fake.calls.len(), 1);
        // Without an embedder, no vectors and no dimensions.
        let text_only = stage
            .run(vec![doc("a.txt")], None, &mut Silent)
            .await
            .unwrap();
        assert!(text_only.dimensions.is_none() && text_only.chunks[0].vector.is_none());
    }
}
