//! Opening files, migrations, and databases this build must not touch.

use std::path::Path;

use genops_store::{Error, Store, StoreOptions, DATABASE_FILE};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, SqliteConnection};

use crate::{err, temp_store};

async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn fresh_file_is_migrated_and_reopen_is_a_no_op() {
    let (dir, store) = temp_store().await;
    let path = dir.path().join(DATABASE_FILE);
    assert_eq!(store.path(), Some(path.as_path()));
    store.create_index("docs").await.unwrap();
    store.close().await;

    let mut conn = raw(&path).await;
    let applied: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let all: Vec<(i64, bool)> = (1..=Store::schema_version()).map(|v| (v, true)).collect();
    assert_eq!(applied, all);
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(journal, "wal");
    drop(conn);

    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.list_indexes().await.unwrap()[0].name, "docs");
    let mut conn = raw(&path).await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        count,
        Store::schema_version(),
        "reopening applies nothing again"
    );
}

#[tokio::test]
async fn open_in_creates_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("a/b");
    let store = Store::open_in(&data_dir).await.unwrap();
    store.create_index("x").await.unwrap();
    assert!(data_dir.join(DATABASE_FILE).is_file());
}

#[tokio::test]
async fn database_from_a_newer_genops_is_refused_and_left_alone() {
    let (dir, store) = temp_store().await;
    store.create_index("docs").await.unwrap();
    store.close().await;
    let path = dir.path().join(DATABASE_FILE);
    let mut conn = raw(&path).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99990101, 'from the future', 1, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);

    let error = err(Store::open(&path).await);
    assert!(
        matches!(
            error,
            Error::TooNew {
                found: 99990101,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("upgrade genops"), "{message}");
    assert!(message.contains("genops.db"), "{message}");

    let mut conn = raw(&path).await;
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY 1")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let mut expected: Vec<i64> = (1..=Store::schema_version()).collect();
    expected.push(99990101);
    assert_eq!(versions, expected);
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM indexes")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(names, vec!["docs"]);
}

#[tokio::test]
async fn database_with_a_different_migration_is_refused() {
    let (dir, store) = temp_store().await;
    store.close().await;
    let path = dir.path().join(DATABASE_FILE);
    let mut conn = raw(&path).await;
    sqlx::query("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    drop(conn);
    let error = err(Store::open(&path).await);
    assert!(
        matches!(error, Error::ForeignMigration { version: 1, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("initial"), "{error}");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    let error = err(Store::open(&path).await);
    assert!(matches!(error, Error::Open { .. }), "{error:?}");
    assert!(error.to_string().contains("genops.db"), "{error}");
}

#[tokio::test]
async fn two_processes_opening_a_fresh_file_at_once_both_succeed() {
    // Two pools stand in for two processes: the migration runs under the write lock, so
    // the second waits for the first and then finds nothing to do.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let (a, b) = tokio::join!(Store::open(&path), Store::open(&path));
    a.unwrap().create_index("a").await.unwrap();
    b.unwrap().create_index("b").await.unwrap();
}

#[tokio::test]
async fn postgres_url_is_refused_clearly_without_echoing_the_url() {
    let options = StoreOptions::default();
    for url in [
        "postgres://genops:s3cret@localhost:5432/genops",
        "postgresql://genops:s3cret@localhost/genops",
        "POSTGRES://genops:s3cret@localhost/genops",
    ] {
        let error = err(Store::connect(url, &options).await);
        assert!(
            matches!(error, Error::UnsupportedBackend { .. }),
            "{url}: {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains("PostgreSQL is not built into this genops yet"),
            "{message}"
        );
        assert!(!message.contains("s3cret"), "the URL leaked: {message}");
    }
}

#[tokio::test]
async fn store_urls_pick_the_backend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DATABASE_FILE);
    let options = StoreOptions::default();
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url, &options).await.unwrap();
    assert_eq!(store.path(), Some(path.as_path()));
    store.create_index("docs").await.unwrap();
    store.close().await;
    let store = Store::open(&path).await.unwrap();
    assert_eq!(store.list_indexes().await.unwrap()[0].name, "docs");
    store.close().await;

    let memory = Store::connect("sqlite::memory:", &options).await.unwrap();
    assert_eq!(memory.path(), None);
    memory.create_index("docs").await.unwrap();

    let error = err(Store::connect("mysql://localhost/genops", &options).await);
    assert!(matches!(error, Error::Invalid { .. }), "{error:?}");
    let error = err(Store::connect("sqlite://", &options).await);
    assert!(matches!(error, Error::Invalid { .. }), "{error:?}");
}
