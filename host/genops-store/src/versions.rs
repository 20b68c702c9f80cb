//! Indexes, index versions, their document sets and chunk rows, diff and gc.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::time::Duration;

use serde_json::Value;
use sqlx::{FromRow, SqliteConnection};

use crate::documents::{ChunkRow, CHUNK_COLUMNS};
use crate::error::is_unique_violation;
use crate::keys::{canonical_json, check_sha256, chunking_key, embedder_key, validate_index_name};
use crate::store::{begin_write_on, now_ms, placeholders, BIND_BATCH};
use crate::types::{parse_json, to_i64, to_u32, to_u64};
use crate::{
    Chunk, ChunkerIdentity, Diff, EmbedderIdentity, Error, Index, NewVersion, OrphanCounts, Result,
    Store, Version, VersionCounts, VersionDocument, VersionStatus,
};

#[derive(FromRow)]
struct IndexRow {
    name: String,
    created_at: i64,
    live_number: Option<i64>,
}

impl IndexRow {
    fn into_index(self) -> Result<Index> {
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

const INDEX_SELECT: &str = "SELECT i.name, i.created_at, v.number AS live_number FROM indexes i \
     LEFT JOIN index_versions v ON v.id = i.live_version";

#[derive(FromRow)]
struct VersionRow {
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

const VERSION_SELECT: &str = "SELECT v.id, v.index_name, v.number, v.parent_number, v.status, \
     CASE WHEN i.live_version = v.id THEN 1 ELSE 0 END AS live, v.error, v.created_at, \
     v.heartbeat_at, v.finished_at, v.chunker_digest, v.chunker_config, v.chunking_key, \
     v.embedder_model, v.embedder_sha256, v.embedder_settings, v.embedder_key, \
     v.document_count, v.chunk_count, v.added_count, v.changed_count, v.removed_count, \
     v.unchanged_count, v.folder, v.stats \
     FROM index_versions v JOIN indexes i ON i.name = v.index_name";

impl VersionRow {
    fn into_version(self) -> Result<Version> {
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
struct RowChunk {
    row_index: i64,
    #[sqlx(flatten)]
    chunk: ChunkRow,
}

/// The folder of a version's files, relative to the data directory.
///
/// Index names are validated to be safe folder names, so this cannot leave `indexes/`.
pub fn version_folder(index: &str, number: u32) -> String {
    format!("indexes/{index}/v{number}")
}

impl Store {
    /// Creates an empty index; fails if the name is invalid or taken.
    pub async fn create_index(&self, name: &str) -> Result<Index> {
        validate_index_name(name)?;
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

    /// The index with this name, created empty if there is none.
    pub async fn ensure_index(&self, name: &str) -> Result<Index> {
        validate_index_name(name)?;
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

    /// Begins a new version of an index, numbered after every version the index ever had,
    /// with status `building`. It is not live until [`Store::finish_version`].
    ///
    /// Begin the version before storing the documents and chunks it will refer to:
    /// [`Store::gc_orphans`] refuses to run while a version is building, and would otherwise
    /// be free to collect them in between.
    pub async fn begin_version(&self, index: &str, new: &NewVersion) -> Result<Version> {
        if new.chunker.digest.is_empty() {
            return Err(Error::Invalid {
                what: "chunker identity".into(),
                reason: "the plugin digest is empty".into(),
            });
        }
        if let Some(embedder) = &new.embedder {
            if embedder.sha256.is_empty() || embedder.model.is_empty() {
                return Err(Error::Invalid {
                    what: "embedder identity".into(),
                    reason: "the model name or its sha256 is empty".into(),
                });
            }
        }
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

    /// Records a sign of life of the process building a version, so that
    /// [`Store::stale_building_versions`] does not take it for crashed. Every write to a
    /// building version does this too.
    pub async fn touch_version(&self, version_id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        building(&mut tx, version_id, "touched").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds documents (source path -> content hash, with metadata) to a building version,
    /// in one transaction; may be called several times. A path given twice is refused, as
    /// is a hash that is not stored.
    pub async fn put_version_documents(
        &self,
        version_id: i64,
        documents: &[VersionDocument],
    ) -> Result<()> {
        for document in documents {
            check_sha256("document hash", &document.document_hash)?;
            if document.path.is_empty() {
                return Err(Error::Invalid {
                    what: "document path".into(),
                    reason: format!("the path of document {} is empty", document.document_hash),
                });
            }
        }
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

    /// Appends chunks to a building version's rows, in one transaction, and returns the
    /// rows they got: the next free rows, in the order given. Row `r` is the `r`-th vector
    /// of the version's vector file and the key its full-text index stores.
    pub async fn append_version_chunks(
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

    /// Marks a building version ready and makes it the index's live version, in one
    /// transaction; returns it. Its counts are computed here from its documents and chunk
    /// rows and compared with its parent's; `stats` is kept as given.
    ///
    /// Call it after the version's files are complete on disk: until this commits, the
    /// previous live version is served, and a crash leaves this one `building` and never
    /// live. The commit is durable (`synchronous = FULL`) before this returns.
    pub async fn finish_version(&self, version_id: i64, stats: &Value) -> Result<Version> {
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

    /// Marks a building version failed with a message; returns it. The live version does
    /// not change. Used for an ingest that gave up, and for versions a crashed process left
    /// building ([`Store::stale_building_versions`]).
    pub async fn fail_version(&self, version_id: i64, message: &str) -> Result<Version> {
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

    /// Makes a ready version live (a rollback, or a roll forward); returns it. Refuses a
    /// version that is building or failed. The commit is durable before this returns.
    pub async fn set_live(&self, index: &str, number: u32) -> Result<Version> {
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

    /// How version `to` of an index differs from version `from`, by source path and
    /// content hash. Versions of any status can be compared.
    pub async fn diff(&self, index: &str, from: u32, to: u32) -> Result<Diff> {
        // One read transaction: both document sets from the same snapshot.
        let mut tx = self.pool.begin().await?;
        let from_id = version_by_number(&mut tx, index, from).await?.id;
        let to_id = version_by_number(&mut tx, index, to).await?.id;
        let paths =
            |select: &str, from_clause: &str| format!("SELECT {select} {from_clause} ORDER BY 1");
        let mut diff = Diff {
            added: path_list(&mut tx, &paths("b.path", ADDED), from_id, to_id).await?,
            removed: path_list(&mut tx, &paths("a.path", REMOVED), from_id, to_id).await?,
            changed: path_list(&mut tx, &paths("b.path", CHANGED), from_id, to_id).await?,
            unchanged: 0,
        };
        diff.unchanged = count2(&mut tx, UNCHANGED, from_id, to_id).await?;
        tx.commit().await?;
        Ok(diff)
    }

    /// Versions of every index still `building` whose last sign of life is at least
    /// `older_than` ago, oldest first. A process that crashed mid-ingest leaves these; the
    /// caller marks them failed ([`Store::fail_version`]) once it knows their builder is gone
    /// (`Duration::ZERO` lists every building version).
    pub async fn stale_building_versions(&self, older_than: Duration) -> Result<Vec<Version>> {
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

    /// Versions of an index that gc may delete, oldest first: those that are neither live,
    /// nor building, nor among the `keep` most recent ready versions (kept for rollback).
    /// Failed versions are always candidates.
    pub async fn gc_candidates(&self, index: &str, keep: usize) -> Result<Vec<Version>> {
        let versions = self.versions(index).await?;
        let kept: HashSet<i64> = versions
            .iter()
            .rev()
            .filter(|v| v.status == VersionStatus::Ready)
            .take(keep)
            .map(|v| v.id)
            .collect();
        Ok(versions
            .into_iter()
            .filter(|v| !v.live && v.status != VersionStatus::Building && !kept.contains(&v.id))
            .collect())
    }

    /// Deletes a version's rows (its documents and chunk rows with it) and returns it, so
    /// that the caller can remove its folder. Refuses the live version and a building one.
    ///
    /// Delete the rows first and the folder after: a crash in between leaves a folder that
    /// no version names (garbage to sweep), never a version whose files are gone. The commit
    /// is durable before this returns.
    pub async fn delete_version(&self, index: &str, number: u32) -> Result<Version> {
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

    /// Deletes, in one transaction, what no version refers to any more: chunks of chunkings
    /// that no version uses, documents in no version's document set, and cached embeddings
    /// of texts no chunk has or of embedders no version uses. Failed versions still count
    /// as users, so a retried ingest finds its work cached; delete them first to free it.
    ///
    /// Refuses to run while a version is building: its documents and chunks may be stored
    /// but not yet referenced.
    pub async fn gc_orphans(&self) -> Result<OrphanCounts> {
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

// The four parts of a diff between version $1 (a, older) and version $2 (b, newer).
const ADDED: &str = "FROM version_documents b WHERE b.version_id = $2 AND NOT EXISTS \
     (SELECT 1 FROM version_documents a WHERE a.version_id = $1 AND a.path = b.path)";
const REMOVED: &str = "FROM version_documents a WHERE a.version_id = $1 AND NOT EXISTS \
     (SELECT 1 FROM version_documents b WHERE b.version_id = $2 AND b.path = a.path)";
const CHANGED: &str = "FROM version_documents b JOIN version_documents a \
     ON a.version_id = $1 AND a.path = b.path \
     WHERE b.version_id = $2 AND a.document_hash <> b.document_hash";
const UNCHANGED: &str = "FROM version_documents b JOIN version_documents a \
     ON a.version_id = $1 AND a.path = b.path \
     WHERE b.version_id = $2 AND a.document_hash = b.document_hash";

async fn path_list(
    conn: &mut SqliteConnection,
    sql: &str,
    from_id: i64,
    to_id: i64,
) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(sql)
        .bind(from_id)
        .bind(to_id)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(|(p,)| p).collect())
}

async fn count2(
    conn: &mut SqliteConnection,
    from_clause: &str,
    from_id: i64,
    to_id: i64,
) -> Result<u64> {
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) {from_clause}"))
        .bind(from_id)
        .bind(to_id)
        .fetch_one(conn)
        .await?;
    to_u64(n, "count")
}

async fn diff_counts(
    conn: &mut SqliteConnection,
    from_id: i64,
    to_id: i64,
) -> Result<VersionCounts> {
    Ok(VersionCounts {
        added: count2(conn, ADDED, from_id, to_id).await?,
        removed: count2(conn, REMOVED, from_id, to_id).await?,
        changed: count2(conn, CHANGED, from_id, to_id).await?,
        unchanged: count2(conn, UNCHANGED, from_id, to_id).await?,
        ..VersionCounts::default()
    })
}

async fn scalar(conn: &mut SqliteConnection, sql: &str, id: i64) -> Result<u64> {
    let (n,): (i64,) = sqlx::query_as(sql).bind(id).fetch_one(conn).await?;
    to_u64(n, "count")
}

/// How many chunk rows a version has (rows are dense from 0).
async fn row_count(conn: &mut SqliteConnection, version_id: i64) -> Result<u64> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COALESCE(MAX(row_index) + 1, 0) FROM version_chunks WHERE version_id = $1",
    )
    .bind(version_id)
    .fetch_one(conn)
    .await?;
    to_u64(n, "row count")
}

/// Which of `values` are in the table; `select_in` is `SELECT col FROM table WHERE col IN`.
async fn existing<T>(
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

async fn index_names(conn: &mut SqliteConnection) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT name FROM indexes ORDER BY name")
        .fetch_all(conn)
        .await?)
}

/// The index, or [`Error::UnknownIndex`] naming the ones that exist.
async fn index_row(conn: &mut SqliteConnection, name: &str) -> Result<Index> {
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

async fn versions_of(conn: &mut SqliteConnection, index: &str) -> Result<Vec<Version>> {
    let rows: Vec<VersionRow> = sqlx::query_as(&format!(
        "{VERSION_SELECT} WHERE v.index_name = $1 ORDER BY v.number"
    ))
    .bind(index)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(VersionRow::into_version).collect()
}

/// Version `number` of an index, or an error naming the index's versions (or the indexes).
async fn version_by_number(
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

async fn version_id_of(
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

async fn version_by_id(conn: &mut SqliteConnection, id: i64) -> Result<Version> {
    let row: Option<VersionRow> = sqlx::query_as(&format!("{VERSION_SELECT} WHERE v.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.ok_or(Error::UnknownVersionId(id))?.into_version()
}

/// The version, if it is building (and records a sign of life), or
/// [`Error::NotBuilding`]. Runs inside the caller's write transaction.
async fn building(
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
            .execute(&store.pool)
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
            .fetch_one(&store.pool)
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
