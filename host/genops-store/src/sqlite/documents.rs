//! Documents, chunks and the embedding cache.

use std::collections::HashMap;

use sqlx::{FromRow, SqliteConnection};

use super::{now_ms, placeholders, SqliteStore, BIND_BATCH};
use crate::keys::sha256_hex;
use crate::types::{parse_json, to_i64, to_u32, to_u64};
use crate::{Chunk, Document, Error, NewChunk, NewDocument, Result};

#[derive(FromRow)]
struct DocumentRow {
    hash: String,
    media_type: String,
    byte_size: i64,
    text: String,
    created_at: i64,
}

#[derive(FromRow)]
pub(crate) struct ChunkRow {
    id: i64,
    document_hash: String,
    chunking_key: String,
    ordinal: i64,
    start_byte: i64,
    end_byte: i64,
    text: String,
    text_sha256: String,
    metadata: String,
}

/// The columns of [`ChunkRow`], for a query on `chunks c`.
pub(crate) const CHUNK_COLUMNS: &str = "c.id, c.document_hash, c.chunking_key, c.ordinal, \
     c.start_byte, c.end_byte, c.text, c.text_sha256, c.metadata";

impl ChunkRow {
    pub(crate) fn into_chunk(self) -> Result<Chunk> {
        Ok(Chunk {
            id: self.id,
            document_hash: self.document_hash,
            chunking_key: self.chunking_key,
            ordinal: to_u32(self.ordinal, "chunk ordinal")?,
            start: to_u64(self.start_byte, "chunk start")?,
            end: to_u64(self.end_byte, "chunk end")?,
            text: self.text,
            text_sha256: self.text_sha256,
            metadata: parse_json(&self.metadata, "chunk metadata")?,
        })
    }
}

/// The operations of [`crate::Store`] of the same names, documented there.
impl SqliteStore {
    pub(crate) async fn put_document(&self, document: NewDocument<'_>) -> Result<bool> {
        let byte_size = to_i64(document.byte_size, "document byte size")?;
        let done = sqlx::query(
            "INSERT INTO documents (hash, media_type, byte_size, text, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (hash) DO NOTHING",
        )
        .bind(document.hash)
        .bind(document.media_type)
        .bind(byte_size)
        .bind(document.text)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub(crate) async fn document(&self, hash: &str) -> Result<Option<Document>> {
        let row: Option<DocumentRow> = sqlx::query_as(
            "SELECT hash, media_type, byte_size, text, created_at FROM documents WHERE hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(Document {
                hash: r.hash,
                media_type: r.media_type,
                byte_size: to_u64(r.byte_size, "document byte size")?,
                text: r.text,
                created_at: r.created_at,
            })
        })
        .transpose()
    }

    pub(crate) async fn chunks_for(
        &self,
        document_hash: &str,
        chunking_key: &str,
    ) -> Result<Option<Vec<Chunk>>> {
        let mut conn = self.pool.acquire().await?;
        chunks_of(&mut conn, document_hash, chunking_key).await
    }

    pub(crate) async fn put_chunks(
        &self,
        document_hash: &str,
        chunking_key: &str,
        chunks: &[NewChunk],
    ) -> Result<Vec<Chunk>> {
        let count = i64::try_from(chunks.len()).map_err(|_| Error::Invalid {
            what: "chunks".into(),
            reason: "too many".into(),
        })?;

        let mut tx = self.begin_write().await?;
        require_document(&mut tx, document_hash).await?;
        let inserted = sqlx::query(
            "INSERT INTO chunkings (document_hash, chunking_key, chunk_count, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (document_hash, chunking_key) DO NOTHING",
        )
        .bind(document_hash)
        .bind(chunking_key)
        .bind(count)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            let existing = chunks_of(&mut tx, document_hash, chunking_key).await?;
            return Ok(existing.unwrap_or_default());
        }

        let mut stored = Vec::with_capacity(chunks.len());
        for (ordinal, chunk) in chunks.iter().enumerate() {
            let text_sha256 = sha256_hex(chunk.text.as_bytes());
            let metadata = chunk.metadata.to_string();
            let ordinal_i64 = to_i64(ordinal as u64, "chunk ordinal")?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO chunks (document_hash, chunking_key, ordinal, start_byte, end_byte, \
                 text, text_sha256, metadata) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(document_hash)
            .bind(chunking_key)
            .bind(ordinal_i64)
            .bind(to_i64(chunk.start, "chunk start")?)
            .bind(to_i64(chunk.end, "chunk end")?)
            .bind(&chunk.text)
            .bind(&text_sha256)
            .bind(&metadata)
            .fetch_one(&mut *tx)
            .await?;
            stored.push(Chunk {
                id,
                document_hash: document_hash.to_string(),
                chunking_key: chunking_key.to_string(),
                ordinal: to_u32(ordinal_i64, "chunk ordinal")?,
                start: chunk.start,
                end: chunk.end,
                text: chunk.text.clone(),
                text_sha256,
                metadata: chunk.metadata.clone(),
            });
        }
        tx.commit().await?;
        Ok(stored)
    }

    pub(crate) async fn embeddings(
        &self,
        chunk_ids: &[i64],
        embedder_key: &str,
    ) -> Result<HashMap<i64, Vec<f32>>> {
        let mut found = HashMap::with_capacity(chunk_ids.len());
        for batch in chunk_ids.chunks(BIND_BATCH) {
            let sql = format!(
                "SELECT c.id, e.dimensions, e.vector FROM chunks c \
                 JOIN embeddings e ON e.embedder_key = $1 AND e.text_sha256 = c.text_sha256 \
                 WHERE c.id IN ({})",
                placeholders(2, batch.len())
            );
            let mut query = sqlx::query_as::<_, (i64, i64, Vec<u8>)>(&sql).bind(embedder_key);
            for id in batch {
                query = query.bind(id);
            }
            for (id, dimensions, blob) in query.fetch_all(&self.pool).await? {
                found.insert(id, decode_vector(&blob, dimensions)?);
            }
        }
        Ok(found)
    }

    pub(crate) async fn put_embeddings<V: AsRef<[f32]>>(
        &self,
        embedder_key: &str,
        vectors: &[(i64, V)],
    ) -> Result<()> {
        // `Store` has checked that there are vectors, all of one non-zero length.
        let Some((_, first)) = vectors.first() else {
            return Ok(());
        };
        let dimensions = first.as_ref().len();

        let mut tx = self.begin_write().await?;
        let stored: Option<(i64,)> =
            sqlx::query_as("SELECT dimensions FROM embeddings WHERE embedder_key = $1 LIMIT 1")
                .bind(embedder_key)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((stored,)) = stored {
            if usize::try_from(stored).ok() != Some(dimensions) {
                return Err(Error::Invalid {
                    what: "embeddings".into(),
                    reason: format!(
                        "they have {dimensions} dimensions, but this embedder's cached vectors \
                         have {stored}; an embedder key must name one model and its settings"
                    ),
                });
            }
        }

        let ids: Vec<i64> = vectors.iter().map(|(id, _)| *id).collect();
        let text_hashes = text_hashes(&mut tx, &ids).await?;
        let dimensions = to_i64(dimensions as u64, "embedding dimensions")?;
        let now = now_ms();
        for (id, vector) in vectors {
            let text_sha256 = text_hashes.get(id).ok_or(Error::UnknownChunk(*id))?;
            sqlx::query(
                "INSERT INTO embeddings (embedder_key, text_sha256, dimensions, vector, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (embedder_key, text_sha256) DO NOTHING",
            )
            .bind(embedder_key)
            .bind(text_sha256)
            .bind(dimensions)
            .bind(encode_vector(vector.as_ref()))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Fails with [`Error::UnknownDocument`] unless the document is stored.
pub(crate) async fn require_document(conn: &mut SqliteConnection, hash: &str) -> Result<()> {
    let found: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM documents WHERE hash = $1")
        .bind(hash)
        .fetch_optional(conn)
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(Error::UnknownDocument(hash.to_string())),
    }
}

async fn chunks_of(
    conn: &mut SqliteConnection,
    document_hash: &str,
    chunking_key: &str,
) -> Result<Option<Vec<Chunk>>> {
    let chunked: Option<(i64,)> = sqlx::query_as(
        "SELECT chunk_count FROM chunkings WHERE document_hash = $1 AND chunking_key = $2",
    )
    .bind(document_hash)
    .bind(chunking_key)
    .fetch_optional(&mut *conn)
    .await?;
    if chunked.is_none() {
        return Ok(None);
    }
    let rows: Vec<ChunkRow> = sqlx::query_as(&format!(
        "SELECT {CHUNK_COLUMNS} FROM chunks c \
         WHERE c.document_hash = $1 AND c.chunking_key = $2 ORDER BY c.ordinal"
    ))
    .bind(document_hash)
    .bind(chunking_key)
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(ChunkRow::into_chunk)
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// The text hashes of these chunks, by id; unknown ids are absent.
async fn text_hashes(conn: &mut SqliteConnection, ids: &[i64]) -> Result<HashMap<i64, String>> {
    let mut found = HashMap::with_capacity(ids.len());
    for batch in ids.chunks(BIND_BATCH) {
        let sql = format!(
            "SELECT id, text_sha256 FROM chunks WHERE id IN ({})",
            placeholders(1, batch.len())
        );
        let mut query = sqlx::query_as::<_, (i64, String)>(&sql);
        for id in batch {
            query = query.bind(id);
        }
        found.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(found)
}

/// f32 little-endian: the layout of the vector files too, and the same on every machine.
fn encode_vector(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn decode_vector(blob: &[u8], dimensions: i64) -> Result<Vec<f32>> {
    if usize::try_from(dimensions)
        .ok()
        .and_then(|d| d.checked_mul(4))
        != Some(blob.len())
    {
        return Err(Error::Corrupt(format!(
            "a cached embedding has {} bytes for {dimensions} dimensions",
            blob.len()
        )));
    }
    Ok(blob
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}
