//! The SQLite backend: opening the database file, schema migrations, and the transaction
//! helpers; one module per concern below (documents and caches, version lifecycle, lineage
//! and reads, diff, gc) holds its SQL.
//!
//! What is SQLite's own and stays here: WAL mode, the busy timeout, `BEGIN IMMEDIATE` to
//! take the single write lock up front, and `PRAGMA synchronous` for the durable commits.
//! The statements themselves are portable (see the crate documentation).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::migrate::{Migrate, Migrator};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, SqliteConnection, Transaction};

use crate::{Error, Result, StoreOptions};

mod diff;
mod documents;
mod gc;
mod lineage;
mod versions;

/// The schema migrations, embedded at compile time from `migrations/`.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The SQLite backend of [`crate::Store`]: a pool on one database file (or on memory).
///
/// Its methods take arguments that [`crate::Store`] has already checked (hash formats,
/// index names, chunk spans, vector lengths).
#[derive(Debug, Clone)]
pub(crate) struct SqliteStore {
    pub(crate) pool: SqlitePool,
    path: Option<PathBuf>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and brings its schema up to
    /// date.
    ///
    /// Every connection runs in WAL mode (readers never wait for the writer), with foreign
    /// keys enforced and `synchronous = NORMAL`; see the crate documentation for why NORMAL
    /// and which commits are made FULL.
    pub(crate) async fn open(path: &Path, options: &StoreOptions) -> Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let connect = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout);
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .connect_with(connect)
            .await
            .map_err(|source| Error::Open {
                path: path.to_path_buf(),
                source,
            })?;
        let store = SqliteStore {
            pool,
            path: Some(path.to_path_buf()),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// A fresh database in memory, for tests. It lives as long as the store.
    pub(crate) async fn open_in_memory() -> Result<SqliteStore> {
        let connect = SqliteConnectOptions::new()
            .in_memory(true)
            .foreign_keys(true);
        // Every connection to `:memory:` is its own database, so the pool holds exactly one
        // connection and never lets it go. The store never holds a connection while asking
        // for another, so one is enough.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(connect)
            .await
            .map_err(|source| Error::Open {
                path: PathBuf::from(":memory:"),
                source,
            })?;
        let store = SqliteStore { pool, path: None };
        store.migrate().await?;
        Ok(store)
    }

    /// The database file, or `None` in memory.
    pub(crate) fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Closes every connection, checkpointing the WAL into the database file. Calls made
    /// after this fail.
    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    /// The newest schema version this build knows.
    pub(crate) fn schema_version() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }

    fn display_path(&self) -> PathBuf {
        self.path
            .clone()
            .unwrap_or_else(|| PathBuf::from(":memory:"))
    }

    /// Applies the migrations this database lacks.
    ///
    /// sqlx's own `Migrator::run` takes no lock on SQLite, so two processes opening a fresh
    /// file at once could both try to create the tables. Here the whole check-and-apply
    /// runs inside one `BEGIN IMMEDIATE` transaction: the second process waits for the
    /// first, then sees its migrations as applied. Each migration runs in a savepoint.
    async fn migrate(&self) -> Result<()> {
        let path = self.display_path();
        let migrate_err = |source| Error::Migrate {
            path: path.clone(),
            source,
        };
        let mut tx = self.begin_write().await?;
        tx.ensure_migrations_table().await.map_err(migrate_err)?;
        if let Some(version) = tx.dirty_version().await.map_err(migrate_err)? {
            return Err(migrate_err(sqlx::migrate::MigrateError::Dirty(version)));
        }
        let applied = tx.list_applied_migrations().await.map_err(migrate_err)?;
        let known: HashMap<i64, &sqlx::migrate::Migration> = MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| (m.version, m))
            .collect();
        let supported = SqliteStore::schema_version();

        // A newer genops's database is refused before anything is written to it.
        if let Some(found) = applied.iter().map(|m| m.version).max() {
            if found > supported {
                return Err(Error::TooNew {
                    path: path.clone(),
                    found,
                    supported,
                });
            }
        }
        let applied: HashMap<i64, _> = applied.into_iter().map(|m| (m.version, m)).collect();
        for (version, recorded) in &applied {
            let same = known
                .get(version)
                .is_some_and(|m| m.checksum == recorded.checksum);
            if !same {
                let description = self
                    .migration_description(&mut tx, *version)
                    .await
                    .unwrap_or_default();
                return Err(Error::ForeignMigration {
                    path: path.clone(),
                    version: *version,
                    description,
                });
            }
        }
        let mut pending: Vec<_> = known
            .values()
            .filter(|m| !applied.contains_key(&m.version))
            .collect();
        pending.sort_by_key(|m| m.version);
        for migration in pending {
            tx.apply(migration).await.map_err(migrate_err)?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn migration_description(
        &self,
        conn: &mut SqliteConnection,
        version: i64,
    ) -> Result<String> {
        let (description,): (String,) =
            sqlx::query_as("SELECT description FROM _sqlx_migrations WHERE version = $1")
                .bind(version)
                .fetch_one(conn)
                .await?;
        Ok(description)
    }

    /// A write transaction that takes the write lock at once.
    ///
    /// A deferred transaction that reads and then writes can fail with SQLITE_BUSY without
    /// waiting when another connection wrote in between; taking the lock first makes every
    /// writer wait its turn (up to the busy timeout) and see the latest data.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// A connection whose commits are durable (`synchronous = FULL`), for the commits the
    /// caller acts on outside the database; give it back with [`SqliteStore::release_durable`].
    pub(crate) async fn acquire_durable(&self) -> Result<PoolConnection<Sqlite>> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("PRAGMA synchronous = FULL")
            .execute(&mut *conn)
            .await?;
        Ok(conn)
    }

    /// Puts a connection from [`SqliteStore::acquire_durable`] back to `synchronous = NORMAL`. If
    /// that fails the connection stays FULL, which is only slower.
    pub(crate) async fn release_durable(&self, mut conn: PoolConnection<Sqlite>) {
        let _ = sqlx::query("PRAGMA synchronous = NORMAL")
            .execute(&mut *conn)
            .await;
    }
}

/// Begins a write transaction on a connection the caller holds.
pub(crate) async fn begin_write_on(conn: &mut SqliteConnection) -> Result<Transaction<'_, Sqlite>> {
    Ok(conn.begin_with("BEGIN IMMEDIATE").await?)
}

/// Now, in unix milliseconds.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// How many values one statement binds at most. SQLite allows 32766; PostgreSQL 65535.
pub(crate) const BIND_BATCH: usize = 500;

/// `$first, $first+1, ...` for `count` parameters.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn durable_connections_go_back_to_normal() {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions {
            max_connections: 1,
            ..StoreOptions::default()
        };
        let store = SqliteStore::open(&dir.path().join(crate::DATABASE_FILE), &options)
            .await
            .unwrap();
        let synchronous = |store: &SqliteStore| {
            let pool = store.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>("PRAGMA synchronous")
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        // 1 is NORMAL, 2 is FULL.
        assert_eq!(synchronous(&store).await, 1);
        let mut conn = store.acquire_durable().await.unwrap();
        let full: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(full, 2);
        store.release_durable(conn).await;
        assert_eq!(synchronous(&store).await, 1);
    }
}
