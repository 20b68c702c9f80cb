//! Garbage collection: stale builds, gc candidates, version deletion and orphans.

use super::versions::*;
use super::{begin_write_on, now_ms, SqliteStore};
use crate::{Error, OrphanCounts, Result, Version, VersionStatus};
use std::time::Duration;

/// The operations of [`crate::Store`] of the same names, documented there.
impl SqliteStore {
    pub(crate) async fn stale_building_versions(
        &self,
        older_than: Duration,
    ) -> Result<Vec<Version>> {
        let older_than = i64::try_from(older_than.as_millis()).unwrap_or(i64::MAX);
        let cutoff = now_ms().saturating_sub(older_than);
        let rows: Vec<VersionRow> = sqlx::query_as(&format!(
            "{VERSION_SELECT} WHERE v.status = 'building' AND v.heartbeat_at <= $1 ORDER BY v.id"
        ))
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(VersionRow::into_version).collect()
    }

    pub(crate) async fn delete_version(&self, index: &str, number: u32) -> Result<Version> {
        let mut conn = self.acquire_durable().await?;
        let result = async {
            let mut tx = begin_write_on(&mut conn).await?;
            let version = version_by_number(&mut tx, index, number).await?;
            if version.live {
                return Err(Error::VersionIsLive {
                    index: index.to_string(),
                    number,
                });
            }
            if version.status == VersionStatus::Building {
                return Err(Error::VersionIsBuilding {
                    index: index.to_string(),
                    number,
                });
            }
            sqlx::query("DELETE FROM index_versions WHERE id = $1")
                .bind(version.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(version)
        }
        .await;
        self.release_durable(conn).await;
        result
    }

    pub(crate) async fn gc_orphans(&self) -> Result<OrphanCounts> {
        let mut tx = self.begin_write().await?;
        let building: Vec<(String, i64)> = sqlx::query_as(
            "SELECT index_name, number FROM index_versions WHERE status = 'building' ORDER BY id",
        )
        .fetch_all(&mut *tx)
        .await?;
        if !building.is_empty() {
            return Err(Error::VersionsBuilding(
                building
                    .into_iter()
                    .map(|(index, number)| format!("`{index}` version {number}"))
                    .collect(),
            ));
        }
        // A chunking (document, chunker identity) is used when a version has the document
        // and that chunker, or when one of its chunks has a row in a version. Chunks go by
        // whole chunkings, so that a cached chunking is always complete.
        let chunks = sqlx::query(
            "DELETE FROM chunks WHERE NOT EXISTS ( \
                 SELECT 1 FROM version_documents vd JOIN index_versions v ON v.id = vd.version_id \
                 WHERE vd.document_hash = chunks.document_hash \
                   AND v.chunking_key = chunks.chunking_key) \
             AND NOT EXISTS ( \
                 SELECT 1 FROM chunks c2 JOIN version_chunks vc ON vc.chunk_id = c2.id \
                 WHERE c2.document_hash = chunks.document_hash \
                   AND c2.chunking_key = chunks.chunking_key)",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "DELETE FROM chunkings WHERE NOT EXISTS ( \
                 SELECT 1 FROM chunks c WHERE c.document_hash = chunkings.document_hash \
                   AND c.chunking_key = chunkings.chunking_key) \
             AND NOT EXISTS ( \
                 SELECT 1 FROM version_documents vd JOIN index_versions v ON v.id = vd.version_id \
                 WHERE vd.document_hash = chunkings.document_hash \
                   AND v.chunking_key = chunkings.chunking_key)",
        )
        .execute(&mut *tx)
        .await?;
        let documents = sqlx::query(
            "DELETE FROM documents \
             WHERE NOT EXISTS (SELECT 1 FROM version_documents vd WHERE vd.document_hash = documents.hash) \
             AND NOT EXISTS (SELECT 1 FROM chunkings k WHERE k.document_hash = documents.hash)",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let embeddings = sqlx::query(
            "DELETE FROM embeddings \
             WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.text_sha256 = embeddings.text_sha256) \
             OR NOT EXISTS (SELECT 1 FROM index_versions v WHERE v.embedder_key = embeddings.embedder_key)",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(OrphanCounts {
            documents,
            chunks,
            embeddings,
        })
    }
}
