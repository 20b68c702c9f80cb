//! The life of index versions: indexes created, versions begun, filled, finished, failed
//! and made live; and the row types and helpers the other store modules share.

use super::diff::diff_counts;
use super::documents::ChunkRow;
use super::{begin_write_on, now_ms, placeholders, SqliteStore, BIND_BATCH};
use crate::error::is_unique_violation;
use crate::keys::{canonical_json, chunking_key, embedder_key, version_folder};
use crate::types::{parse_json, to_i64, to_u32, to_u64};
use crate::{
    ChunkerIdentity, EmbedderIdentity, Error, Index, NewVersion, Result, Version, VersionCounts,
    VersionDocument, VersionStatus,
};
use serde_json::Value;
use sqlx::{FromRow, SqliteConnection};
use std::collections::HashSet;
use std::ops::Range;

#[derive(FromRow)]
pub(crate) struct IndexRow {
    name: String,
    created_at: i64,
    live_number: Option<i64>,
}

impl IndexRow {
    pub(crate) fn into_index(self) -> Result<Index> {
        Ok(Index {
            name: self.name,
            created_at: self.created_at,
            live_version: self
                .live_number
                .map(|n| to_u32(n, "version number"))
                .transpose()?,
        })
    }
}

pub(crate) const INDEX_SELECT: &str =
    "SELECT i.name, i.created_at, v.number AS live_number FROM indexes i \
     LEFT JOIN index_versions v ON v.id = i.live_version";

#[derive(FromRow)]
pub(crate) struct VersionRow {
    id: i64,
    index_name: String,
    number: i64,
    parent_number: Option<i64>,
    status: String,
    live: i64,
    error: Option<String>,
    created_at: i64,
    heartbeat_at: i64,
    finished_at: Option<i64>,
    chunker_digest: String,
    chunker_config: String,
    chunking_key: String,
    embedder_model: Option<String>,
    embedder_sha256: Option<String>,
    embedder_settings: Option<String>,
    embedder_key: Option<String>,
    document_count: i64,
    chunk_count: i64,
    added_count: i64,
    changed_count: i64,
    removed_count: i64,
    unchanged_count: i64,
    folder: String,
    stats: String,
}

pub(crate) const VERSION_SELECT: &str =
    "SELECT v.id, v.index_name, v.number, v.parent_number, v.status, \
     CASE WHEN i.live_version = v.id THEN 1 ELSE 0 END AS live, v.error, v.created_at, \
     v.heartbeat_at, v.finished_at, v.chunker_digest, v.chunker_config, v.chunking_key, \
     v.embedder_model, v.embedder_sha256, v.embedder_settings, v.embedder_key, \
     v.document_count, v.chunk_count, v.added_count, v.changed_count, v.removed_count, \
     v.unchanged_count, v.folder, v.stats \
     FROM index_versions v JOIN indexes i ON i.name = v.index_name";

impl VersionRow {
    pub(crate) fn into_version(self) -> Result<Version> {
        let embedder = match (
            self.embedder_model,
            self.embedder_sha256,
            self.embedder_settings,
        ) {
            (Some(model), Some(sha256), Some(settings)) => Some(EmbedderIdentity {
                model,
                sha256,
                settings: parse_json(&settings, "embedder settings")?,
            }),
            _ => None,
        };
        Ok(Version {
            id: self.id,
            index: self.index_name,
            number: to_u32(self.number, "version number")?,
            parent: self
                .parent_number
                .map(|n| to_u32(n, "parent version number"))
                .transpose()?,
            status: VersionStatus::parse(&self.status)?,
            live: self.live != 0,
            error: self.error,
            created_at: self.created_at,
            heartbeat_at: self.heartbeat_at,
            finished_at: self.finished_at,
            chunker: ChunkerIdentity {
                digest: self.chunker_digest,
                config: parse_json(&self.chunker_config, "chunker config")?,
            },
            chunking_key: self.chunking_key,
            embedder,
            embedder_key: self.embedder_key,
            counts: VersionCounts {
                documents: to_u64(self.document_count, "document count")?,
                chunks: to_u64(self.chunk_count, "chunk count")?,
                added: to_u64(self.added_count, "added count")?,
                changed: to_u64(self.changed_count, "changed count")?,
                removed: to_u64(self.removed_count, "removed count")?,
                unchanged: to_u64(self.unchanged_count, "unchanged count")?,
            },
            folder: self.folder,
            stats: parse_json(&self.stats, "version stats")?,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct RowChunk {
    pub(crate) row_index: i64,
    #[sqlx(flatten)]
    pub(crate) chunk: ChunkRow,
}

/// The operations of [`crate::Store`] of the same names, documented there.
impl SqliteStore {
    pub(crate) async fn create_index(&self, name: &str) -> Result<Index> {
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO indexes (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            return Err(Error::IndexExists(name.to_string()));
        }
        let index = index_row(&mut tx, name).await?;
        tx.commit().await?;
        Ok(index)
    }

    pub(crate) async fn ensure_index(&self, name: &str) -> Result<Index> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO indexes (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        let index = index_row(&mut tx, name).await?;
        tx.commit().await?;
        Ok(index)
    }

    pub(crate) async fn begin_version(&self, index: &str, new: &NewVersion) -> Result<Version> {
        let mut tx = self.begin_write().await?;
        index_row(&mut tx, index).await?;
        if let Some(parent) = new.parent {
            let parent_version = version_by_number(&mut tx, index, parent)
                .await
                .map_err(|e| match e {
                    Error::UnknownVersion { .. } => Error::InvalidParent {
                        index: index.to_string(),
                        parent,
                        reason: e.to_string(),
                    },
                    other => other,
                })?;
            if parent_version.status != VersionStatus::Ready {
                return Err(Error::InvalidParent {
                    index: index.to_string(),
                    parent,
                    reason: format!(
                        "it is {}, and only a ready version can be derived from",
                        parent_version.status
                    ),
                });
            }
        }
        let (number,): (i64,) = sqlx::query_as(
            "UPDATE indexes SET next_version = next_version + 1 WHERE name = $1 \
             RETURNING next_version - 1",
        )
        .bind(index)
        .fetch_one(&mut *tx)
        .await?;
        let number_u32 = to_u32(number, "version number")?;
        let now = now_ms();
        let embedder = new.embedder.as_ref();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO index_versions (index_name, number, parent_number, status, created_at, \
             heartbeat_at, chunker_digest, chunker_config, chunking_key, embedder_model, \
             embedder_sha256, embedder_settings, embedder_key, folder) \
             VALUES ($1, $2, $3, 'building', $4, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             RETURNING id",
        )
        .bind(index)
        .bind(number)
        .bind(new.parent.map(i64::from))
        .bind(now)
        .bind(&new.chunker.digest)
        .bind(canonical_json(&new.chunker.config))
        .bind(chunking_key(&new.chunker.digest, &new.chunker.config))
        .bind(embedder.map(|e| e.model.as_str()))
        .bind(embedder.map(|e| e.sha256.as_str()))
        .bind(embedder.map(|e| canonical_json(&e.settings)))
        .bind(embedder.map(|e| embedder_key(&e.sha256, &e.settings)))
        .bind(version_folder(index, number_u32))
        .fetch_one(&mut *tx)
        .await?;
        let version = version_by_id(&mut tx, id).await?;
        tx.commit().await?;
        Ok(version)
    }

    pub(crate) async fn touch_version(&self, version_id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        building(&mut tx, version_id, "touched").await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn put_version_documents(
        &self,
        version_id: i64,
        documents: &[VersionDocument],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let version = building(&mut tx, version_id, "given documents").await?;
        let hashes: Vec<String> = documents
            .iter()
            .map(|d| d.document_hash.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let stored = existing(&mut tx, "SELECT hash FROM documents WHERE hash IN", &hashes).await?;
        if let Some(missing) = hashes.iter().find(|h| !stored.contains(*h)) {
            return Err(Error::UnknownDocument(missing.clone()));
        }
        for document in documents {
            let inserted = sqlx::query(
                "INSERT INTO version_documents \
                 (version_id, path, document_hash, metadata, file, root) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(version_id)
            .bind(&document.path)
            .bind(&document.document_hash)
            .bind(document.metadata.to_string())
            .bind(&document.file)
            .bind(&document.root)
            .execute(&mut *tx)
            .await;
            match inserted {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(Error::DuplicatePath {
                        index: version.index,
                        number: version.number,
                        path: document.path.clone(),
                    })
                }
                Err(e) => return Err(e.into()),
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn append_version_chunks(
        &self,
        version_id: i64,
        chunk_ids: &[i64],
    ) -> Result<Range<u64>> {
        let mut tx = self.begin_write().await?;
        building(&mut tx, version_id, "given chunks").await?;
        let stored = existing(&mut tx, "SELECT id FROM chunks WHERE id IN", chunk_ids).await?;
        if let Some(missing) = chunk_ids.iter().find(|id| !stored.contains(*id)) {
            return Err(Error::UnknownChunk(*missing));
        }
        let first = row_count(&mut tx, version_id).await?;
        for (row, chunk_id) in (to_i64(first, "row")?..).zip(chunk_ids) {
            sqlx::query(
                "INSERT INTO version_chunks (version_id, row_index, chunk_id) VALUES ($1, $2, $3)",
            )
            .bind(version_id)
            .bind(row)
            .bind(chunk_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(first..first + chunk_ids.len() as u64)
    }

    pub(crate) async fn finish_version(&self, version_id: i64, stats: &Value) -> Result<Version> {
        let mut conn = self.acquire_durable().await?;
        let result = async {
            let mut tx = begin_write_on(&mut conn).await?;
            let version = building(&mut tx, version_id, "finished").await?;
            let documents = scalar(
                &mut tx,
                "SELECT COUNT(*) FROM version_documents WHERE version_id = $1",
                version_id,
            )
            .await?;
            let chunks = row_count(&mut tx, version_id).await?;
            let parent_id = match version.parent {
                Some(parent) => version_id_of(&mut tx, &version.index, parent).await?,
                None => None,
            };
            let counts = match parent_id {
                Some(parent_id) => {
                    let mut counts = diff_counts(&mut tx, parent_id, version_id).await?;
                    counts.documents = documents;
                    counts.chunks = chunks;
                    counts
                }
                None => VersionCounts {
                    documents,
                    chunks,
                    added: documents,
                    ..VersionCounts::default()
                },
            };
            sqlx::query(
                "UPDATE index_versions SET status = 'ready', finished_at = $2, heartbeat_at = $2, \
                 document_count = $3, chunk_count = $4, added_count = $5, changed_count = $6, \
                 removed_count = $7, unchanged_count = $8, stats = $9 WHERE id = $1",
            )
            .bind(version_id)
            .bind(now_ms())
            .bind(to_i64(counts.documents, "document count")?)
            .bind(to_i64(counts.chunks, "chunk count")?)
            .bind(to_i64(counts.added, "added count")?)
            .bind(to_i64(counts.changed, "changed count")?)
            .bind(to_i64(counts.removed, "removed count")?)
            .bind(to_i64(counts.unchanged, "unchanged count")?)
            .bind(stats.to_string())
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE indexes SET live_version = $2 WHERE name = $1")
                .bind(&version.index)
                .bind(version_id)
                .execute(&mut *tx)
                .await?;
            let version = version_by_id(&mut tx, version_id).await?;
            tx.commit().await?;
            Ok(version)
        }
        .await;
        self.release_durable(conn).await;
        result
    }

    pub(crate) async fn fail_version(&self, version_id: i64, message: &str) -> Result<Version> {
        let mut conn = self.acquire_durable().await?;
        let result = async {
            let mut tx = begin_write_on(&mut conn).await?;
            building(&mut tx, version_id, "failed").await?;
            sqlx::query(
                "UPDATE index_versions SET status = 'failed', error = $2, finished_at = $3 \
                 WHERE id = $1",
            )
            .bind(version_id)
            .bind(message)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            let version = version_by_id(&mut tx, version_id).await?;
            tx.commit().await?;
            Ok(version)
        }
        .await;
        self.release_durable(conn).await;
        result
    }

    pub(crate) async fn set_live(&self, index: &str, number: u32) -> Result<Version> {
        let mut conn = self.acquire_durable().await?;
        let result = async {
            let mut tx = begin_write_on(&mut conn).await?;
            let version = version_by_number(&mut tx, index, number).await?;
            if version.status != VersionStatus::Ready {
                let ready = versions_of(&mut tx, index)
                    .await?
                    .into_iter()
                    .filter(|v| v.status == VersionStatus::Ready)
                    .map(|v| v.number)
                    .collect();
                return Err(Error::NotReady {
                    index: index.to_string(),
                    number,
                    status: version.status,
                    ready,
                });
            }
            sqlx::query("UPDATE indexes SET live_version = $2 WHERE name = $1")
                .bind(index)
                .bind(version.id)
                .execute(&mut *tx)
                .await?;
            let version = version_by_id(&mut tx, version.id).await?;
            tx.commit().await?;
            Ok(version)
        }
        .await;
        self.release_durable(conn).await;
        result
    }
}

pub(crate) async fn scalar(conn: &mut SqliteConnection, sql: &str, id: i64) -> Result<u64> {
    let (n,): (i64,) = sqlx::query_as(sql).bind(id).fetch_one(conn).await?;
    to_u64(n, "count")
}

/// How many chunk rows a version has (rows are dense from 0).
pub(crate) async fn row_count(conn: &mut SqliteConnection, version_id: i64) -> Result<u64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(MAX(row_index) + 1, 0) FROM version_chunks WHERE version_id = $1",
    )
    .bind(version_id)
    .fetch_one(conn)
    .await?;
    to_u64(n, "row count")
}

/// Which of `values` are in the table; `select_in` is `SELECT col FROM table WHERE col IN`.
pub(crate) async fn existing<T>(
    conn: &mut SqliteConnection,
    select_in: &str,
    values: &[T],
) -> Result<HashSet<T>>
where
    T: Clone + Eq + std::hash::Hash + Send + Sync,
    for<'q> T: sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    for<'r> T: sqlx::Decode<'r, sqlx::Sqlite>,
    T: Unpin,
{
    let mut found = HashSet::with_capacity(values.len());
    for batch in values.chunks(BIND_BATCH) {
        let sql = format!("{select_in} ({})", placeholders(1, batch.len()));
        let mut query = sqlx::query_scalar::<_, T>(&sql);
        for value in batch {
            query = query.bind(value.clone());
        }
        found.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(found)
}

pub(crate) async fn index_names(conn: &mut SqliteConnection) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT name FROM indexes ORDER BY name")
        .fetch_all(conn)
        .await?)
}

/// The index, or [`Error::UnknownIndex`] naming the ones that exist.
pub(crate) async fn index_row(conn: &mut SqliteConnection, name: &str) -> Result<Index> {
    let row: Option<IndexRow> = sqlx::query_as(&format!("{INDEX_SELECT} WHERE i.name = $1"))
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(row) => row.into_index(),
        None => Err(Error::UnknownIndex {
            name: name.to_string(),
            existing: index_names(conn).await?,
        }),
    }
}

pub(crate) async fn versions_of(conn: &mut SqliteConnection, index: &str) -> Result<Vec<Version>> {
    let rows: Vec<VersionRow> = sqlx::query_as(&format!(
        "{VERSION_SELECT} WHERE v.index_name = $1 ORDER BY v.number"
    ))
    .bind(index)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(VersionRow::into_version).collect()
}

/// Version `number` of an index, or an error naming the index's versions (or the indexes).
pub(crate) async fn version_by_number(
    conn: &mut SqliteConnection,
    index: &str,
    number: u32,
) -> Result<Version> {
    index_row(conn, index).await?;
    let row: Option<VersionRow> = sqlx::query_as(&format!(
        "{VERSION_SELECT} WHERE v.index_name = $1 AND v.number = $2"
    ))
    .bind(index)
    .bind(i64::from(number))
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => row.into_version(),
        None => {
            let existing = sqlx::query_scalar::<_, i64>(
                "SELECT number FROM index_versions WHERE index_name = $1 ORDER BY number",
            )
            .bind(index)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|n| to_u32(n, "version number"))
            .collect::<Result<_>>()?;
            Err(Error::UnknownVersion {
                index: index.to_string(),
                number,
                existing,
            })
        }
    }
}

pub(crate) async fn version_id_of(
    conn: &mut SqliteConnection,
    index: &str,
    number: u32,
) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM index_versions WHERE index_name = $1 AND number = $2")
            .bind(index)
            .bind(i64::from(number))
            .fetch_optional(conn)
            .await?,
    )
}

pub(crate) async fn version_by_id(conn: &mut SqliteConnection, id: i64) -> Result<Version> {
    let row: Option<VersionRow> = sqlx::query_as(&format!("{VERSION_SELECT} WHERE v.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.ok_or(Error::UnknownVersionId(id))?.into_version()
}

/// The version, if it is building (and records a sign of life), or
/// [`Error::NotBuilding`]. Runs inside the caller's write transaction.
pub(crate) async fn building(
    conn: &mut SqliteConnection,
    version_id: i64,
    action: &'static str,
) -> Result<Version> {
    let version = version_by_id(conn, version_id).await?;
    if version.status != VersionStatus::Building {
        return Err(Error::NotBuilding {
            index: version.index,
            number: version.number,
            status: version.status,
            action,
        });
    }
    sqlx::query("UPDATE index_versions SET heartbeat_at = $2 WHERE id = $1")
        .bind(version_id)
        .bind(now_ms())
        .execute(conn)
        .await?;
    Ok(version)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::{ChunkerIdentity, NewDocument, NewVersion, Store, VersionDocument};

    async fn refused(store: &Store, sql: &str) {
        let error = sqlx::query(sql)
            .execute(&store.sqlite().pool)
            .await
            .expect_err(sql)
            .to_string();
        assert!(
            error.contains("FOREIGN KEY constraint failed"),
            "{sql}: {error}"
        );
    }

    #[tokio::test]
    async fn foreign_keys_are_enforced() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_in(dir.path()).await.unwrap();
        let on: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&store.sqlite().pool)
            .await
            .unwrap();
        assert_eq!(on, 1);

        let new = NewVersion {
            parent: None,
            chunker: ChunkerIdentity {
                digest: "sha256:00".into(),
                config: json!({}),
            },
            embedder: None,
        };
        store.create_index("a").await.unwrap();
        store.create_index("b").await.unwrap();
        let a1 = store.begin_version("a", &new).await.unwrap();
        let b1 = store.begin_version("b", &new).await.unwrap();
        let hash = crate::sha256_hex(b"x");
        store
            .put_document(NewDocument {
                hash: &hash,
                media_type: "text/plain",
                byte_size: 1,
                text: "x",
            })
            .await
            .unwrap();
        store
            .put_version_documents(
                a1.id,
                &[VersionDocument {
                    path: "x".into(),
                    document_hash: hash.clone(),
                    metadata: json!({}),
                    ..VersionDocument::default()
                }],
            )
            .await
            .unwrap();
        store.finish_version(a1.id, &json!({})).await.unwrap();

        refused(
            &store,
            "INSERT INTO index_versions (index_name, number, status, created_at, heartbeat_at, \
             chunker_digest, chunker_config, chunking_key, folder) \
             VALUES ('nope', 1, 'building', 0, 0, 'd', '{}', 'k', 'f')",
        )
        .await;
        refused(
            &store,
            &format!(
                "INSERT INTO chunks (document_hash, chunking_key, ordinal, start_byte, end_byte, \
                 text, text_sha256, metadata) VALUES ('{hash}', 'never-chunked', 0, 0, 1, 'x', 'h', '{{}}')"
            ),
        )
        .await;
        refused(
            &store,
            &format!(
                "INSERT INTO version_documents (version_id, path, document_hash, metadata) \
                 VALUES ({}, 'y', 'unknown', '{{}}')",
                b1.id
            ),
        )
        .await;
        // The live version of `a` cannot be a version of `b`.
        refused(
            &store,
            &format!(
                "UPDATE indexes SET live_version = {} WHERE name = 'a'",
                b1.id
            ),
        )
        .await;
        refused(
            &store,
            &format!("DELETE FROM index_versions WHERE id = {}", a1.id),
        )
        .await;
        refused(
            &store,
            &format!("DELETE FROM documents WHERE hash = '{hash}'"),
        )
        .await;
    }
}
