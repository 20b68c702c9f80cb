//! Comparing two versions' document sets.

use super::versions::*;
use super::SqliteStore;
use crate::types::to_u64;
use crate::{Diff, Result, VersionCounts};
use sqlx::SqliteConnection;

/// The operations of [`crate::Store`] of the same names, documented there.
impl SqliteStore {
    pub(crate) async fn diff(&self, index: &str, from: u32, to: u32) -> Result<Diff> {
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
}

// The four parts of a diff between version $1 (a, older) and version $2 (b, newer).
pub(crate) const ADDED: &str = "FROM version_documents b WHERE b.version_id = $2 AND NOT EXISTS \
     (SELECT 1 FROM version_documents a WHERE a.version_id = $1 AND a.path = b.path)";
pub(crate) const REMOVED: &str = "FROM version_documents a WHERE a.version_id = $1 AND NOT EXISTS \
     (SELECT 1 FROM version_documents b WHERE b.version_id = $2 AND b.path = a.path)";
pub(crate) const CHANGED: &str = "FROM version_documents b JOIN version_documents a \
     ON a.version_id = $1 AND a.path = b.path \
     WHERE b.version_id = $2 AND a.document_hash <> b.document_hash";
pub(crate) const UNCHANGED: &str = "FROM version_documents b JOIN version_documents a \
     ON a.version_id = $1 AND a.path = b.path \
     WHERE b.version_id = $2 AND a.document_hash = b.document_hash";

pub(crate) async fn path_list(
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

pub(crate) async fn count2(
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

pub(crate) async fn diff_counts(
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
