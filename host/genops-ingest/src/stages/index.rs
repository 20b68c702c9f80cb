//! The index stage: the chunks and their vectors written into the version's folder, which
//! appears under its name only when complete.

use std::path::PathBuf;

use genops_index::{AnnConfig, NewRow, VersionBuilder, VersionMeta};

use super::embed::EmbeddedChunk;
use crate::{Error, Progress};

/// The index stage of one version.
pub struct IndexStage<'a> {
    /// The version's folder (absolute); it must not exist yet.
    pub dir: PathBuf,
    /// The vectors' length, when the version has vectors.
    pub dimensions: Option<u32>,
    /// Build the approximate nearest-neighbour graph...
    pub ann: Option<&'a AnnConfig>,
    /// ...when the version has at least this many chunks.
    pub ann_min_rows: usize,
    /// What `version.json` records about the version besides its files.
    pub extra: serde_json::Value,
}

/// What the index stage wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Indexed {
    /// What `version.json` says.
    pub meta: VersionMeta,
    /// The chunk of each row, in row order.
    pub chunk_ids: Vec<i64>,
}

impl IndexStage<'_> {
    /// Writes `chunks` as rows 0, 1, ... of the version.
    pub fn write(
        &self,
        chunks: Vec<EmbeddedChunk>,
        progress: &mut dyn Progress,
    ) -> Result<Indexed, Error> {
        progress.stage("indexing", chunks.len() as u64);
        let mut builder = VersionBuilder::create(&self.dir, self.dimensions)?;
        let mut chunk_ids = Vec::with_capacity(chunks.len());
        for c in chunks {
            let mut metadata = c.metadata;
            metadata.extend(crate::ingest::metadata_map(&c.chunk.metadata));
            chunk_ids.push(c.chunk.id);
            builder.add(NewRow {
                chunk_id: c.chunk.id.to_string(),
                source: c.source,
                document: c.document,
                start: c.chunk.start,
                end: c.chunk.end,
                text: c.chunk.text,
                metadata,
                vector: c.vector,
            })?;
            progress.advance(1);
        }
        let rows = usize::try_from(builder.len()).unwrap_or(usize::MAX);
        let ann = self.ann.filter(|_| rows >= self.ann_min_rows.max(1));
        let meta = builder.finish(ann, self.extra.clone())?;
        progress.finish_stage();
        Ok(Indexed { meta, chunk_ids })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Silent;
    use std::collections::BTreeMap;

    fn chunk(id: i64, text: &str, vector: Option<Vec<f32>>) -> EmbeddedChunk {
        EmbeddedChunk {
            source: "a.md".into(),
            document: "d".into(),
            metadata: BTreeMap::from([("title".to_string(), "A".to_string())]),
            chunk: genops_store::Chunk {
                id,
                document_hash: "d".into(),
                chunking_key: "k".into(),
                ordinal: id as u32,
                start: 0,
                end: text.len() as u64,
                text: text.into(),
                text_sha256: String::new(),
                metadata: serde_json::json!({"heading": "H"}),
            },
            vector,
        }
    }

    #[test]
    fn chunks_become_rows_of_a_version_that_opens() {
        let dir = tempfile::tempdir().unwrap();
        let stage = IndexStage {
            dir: dir.path().join("v1"),
            dimensions: Some(2),
            ann: None,
            ann_min_rows: 0,
            extra: serde_json::json!({"index": "docs"}),
        };
        let chunks = vec![
            chunk(7, "the cat", Some(vec![1.0, 0.0])),
            chunk(9, "the dog", Some(vec![0.0, 1.0])),
        ];
        let out = stage.write(chunks, &mut Silent).unwrap();
        assert_eq!(out.chunk_ids, vec![7, 9]);
        assert_eq!(out.meta.rows, 2);
        let version = genops_index::IndexVersion::open(&dir.path().join("v1")).unwrap();
        let hits = version.search_text("dog", 1, &[]).unwrap();
        assert_eq!(hits[0].chunk_id, "9");
        let back = version.fetch(&["7"], false).unwrap();
        assert_eq!(back[0].metadata["title"], "A");
        assert_eq!(back[0].metadata["heading"], "H");
    }

    #[test]
    fn a_row_without_its_vector_fails_and_leaves_no_folder() {
        let dir = tempfile::tempdir().unwrap();
        let stage = IndexStage {
            dir: dir.path().join("v1"),
            dimensions: Some(2),
            ann: None,
            ann_min_rows: 0,
            extra: serde_json::Value::Null,
        };
        assert!(stage.write(vec![chunk(1, "x", None)], &mut Silent).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
