//! Reading indexes and versions back: the lineage, document sets and chunk rows.

use super::documents::{ChunkRow, CHUNK_COLUMNS};
use super::versions::*;
use super::{placeholders, SqliteStore, BIND_BATCH};
use crate::types::{parse_json, to_u64};
use crate::{Chunk, Error, Index, Result, Version, VersionDocument};
use std::collections::HashMap;

/// The operations of [`crate::Store`] of the same names, documented there.
impl SqliteStore {
    pub(crate) async fn index(&self, name: &str) -> Result<Index> {
        let mut conn = self.pool.acquire().await?;
        index_row(&mut conn, name).await
    }

    pub(crate) async fn list_indexes(&self) -> Result<Vec<Index>> {
        let rows: Vec<IndexRow> = sqlx::query_as(&format!("{INDEX_SELECT} ORDER BY i.name"))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(IndexRow::into_index).collect()
    }

    pub(crate) async fn version_by_id(&self, version_id: i64) -> Result<Version> {
        let mut conn = self.pool.acquire().await?;
        version_by_id(&mut conn, version_id).await
    }

    pub(crate) async fn versions(&self, index: &str) -> Result<Vec<Version>> {
        let mut conn = self.pool.acquire().await?;
        index_row(&mut conn, index).await?;
        versions_of(&mut conn, index).await
    }

    pub(crate) async fn version(&self, index: &str, number: u32) -> Result<Version> {
        let mut conn = self.pool.acquire().await?;
        version_by_number(&mut conn, index, number).await
    }

    pub(crate) async fn live_version(&self, index: &str) -> Result<Option<Version>> {
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

    pub(crate) async fn version_documents(&self, version_id: i64) -> Result<Vec<VersionDocument>> {
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

    pub(crate) async fn version_chunks_at(
        &self,
        version_id: i64,
        rows: &[u64],
    ) -> Result<Vec<Chunk>> {
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

    pub(crate) async fn version_chunks(&self, version_id: i64) -> Result<Vec<Chunk>> {
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
