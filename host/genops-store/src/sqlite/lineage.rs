//! Reading indexes and versions back: the lineage, document sets and chunk rows.

use crate::documents::{ChunkRow, CHUNK_COLUMNS};
use crate::store::{placeholders, BIND_BATCH};
use crate::types::{parse_json, to_u64};
use crate::versions::*;
use crate::{Chunk, Error, Index, Result, Store, Version, VersionDocument};
use std::collections::HashMap;

impl Store {
    /// The index with this name.
    pub async fn index(&self, name: &str) -> Result<Index> {
        let mut conn = self.pool.acquire().await?;
        index_row(&mut conn, name).await
    }

    /// Every index, by name.
    pub async fn list_indexes(&self) -> Result<Vec<Index>> {
        let rows: Vec<IndexRow> = sqlx::query_as(&format!("{INDEX_SELECT} ORDER BY i.name"))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(IndexRow::into_index).collect()
    }

    /// The version with this id.
    pub async fn version_by_id(&self, version_id: i64) -> Result<Version> {
        let mut conn = self.pool.acquire().await?;
        version_by_id(&mut conn, version_id).await
    }

    /// The versions of an index, oldest first.
    pub async fn versions(&self, index: &str) -> Result<Vec<Version>> {
        let mut conn = self.pool.acquire().await?;
        index_row(&mut conn, index).await?;
        versions_of(&mut conn, index).await
    }

    /// Version `number` of an index.
    pub async fn version(&self, index: &str, number: u32) -> Result<Version> {
        let mut conn = self.pool.acquire().await?;
        version_by_number(&mut conn, index, number).await
    }

    /// The live version of an index, if it has one.
    pub async fn live_version(&self, index: &str) -> Result<Option<Version>> {
        let mut conn = self.pool.acquire().await?;
        index_row(&mut conn, index).await?;
        let row: Option<VersionRow> = sqlx::query_as(&format!(
            "{VERSION_SELECT} WHERE i.name = $1 AND i.live_version = v.id"
        ))
        .bind(index)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(VersionRow::into_version).transpose()
    }

    /// The documents of a version, by path.
    pub async fn version_documents(&self, version_id: i64) -> Result<Vec<VersionDocument>> {
        let mut conn = self.pool.acquire().await?;
        version_by_id(&mut conn, version_id).await?;
        type Row = (String, String, String, Option<String>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT path, document_hash, metadata, file, root FROM version_documents \
             WHERE version_id = $1 ORDER BY path",
        )
        .bind(version_id)
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter()
            .map(|(path, document_hash, metadata, file, root)| {
                Ok(VersionDocument {
                    path,
                    document_hash,
                    metadata: parse_json(&metadata, "document metadata")?,
                    file,
                    root,
                })
            })
            .collect()
    }

    /// The chunk at a row of a version.
    pub async fn version_chunk(&self, version_id: i64, row: u64) -> Result<Chunk> {
        let mut chunks = self.version_chunks_at(version_id, &[row]).await?;
        chunks
            .pop()
            .ok_or_else(|| Error::Corrupt("a chunk row vanished".into()))
    }

    /// The chunks at these rows of a version, in the order of `rows` (for mapping search
    /// hits back to chunks). A row the version does not have is an error.
    pub async fn version_chunks_at(&self, version_id: i64, rows: &[u64]) -> Result<Vec<Chunk>> {
        let mut conn = self.pool.acquire().await?;
        let version = version_by_id(&mut conn, version_id).await?;
        let mut found: HashMap<u64, Chunk> = HashMap::with_capacity(rows.len());
        for batch in rows.chunks(BIND_BATCH) {
            let sql = format!(
                "SELECT vc.row_index, {CHUNK_COLUMNS} FROM version_chunks vc \
                 JOIN chunks c ON c.id = vc.chunk_id \
                 WHERE vc.version_id = $1 AND vc.row_index IN ({})",
                placeholders(2, batch.len())
            );
            let mut query = sqlx::query_as::<_, RowChunk>(&sql).bind(version_id);
            for row in batch {
                // A row past i64::MAX cannot exist; binding -1 finds nothing.
                query = query.bind(i64::try_from(*row).unwrap_or(-1));
            }
            for r in query.fetch_all(&mut *conn).await? {
                found.insert(to_u64(r.row_index, "row")?, r.chunk.into_chunk()?);
            }
        }
        let mut chunks = Vec::with_capacity(rows.len());
        for row in rows {
            match found.get(row) {
                Some(chunk) => chunks.push(chunk.clone()),
                None => {
                    return Err(Error::UnknownRow {
                        index: version.index,
                        number: version.number,
                        row: *row,
                        rows: row_count(&mut conn, version_id).await?,
                    })
                }
            }
        }
        Ok(chunks)
    }

    /// Every chunk of a version in row order: element `r` is row `r`.
    pub async fn version_chunks(&self, version_id: i64) -> Result<Vec<Chunk>> {
        let mut conn = self.pool.acquire().await?;
        version_by_id(&mut conn, version_id).await?;
        let rows: Vec<ChunkRow> = sqlx::query_as(&format!(
            "SELECT {CHUNK_COLUMNS} FROM version_chunks vc JOIN chunks c ON c.id = vc.chunk_id \
             WHERE vc.version_id = $1 ORDER BY vc.row_index"
        ))
        .bind(version_id)
        .fetch_all(&mut *conn)
        .await?;
        rows.into_iter().map(ChunkRow::into_chunk).collect()
    }
}
