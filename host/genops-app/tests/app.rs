//! The application layer over a real data directory: a real SQLite store, real files.

use genops_app::{App, ErrorKind, Fix, Layout};

fn app() -> (tempfile::TempDir, App) {
    let dir = tempfile::tempdir().unwrap();
    let app = App::with_config(Layout::new(dir.path()), Default::default());
    (dir, app)
}

#[tokio::test]
async fn a_fresh_data_directory_lists_no_indexes_and_creates_its_store_where_the_layout_says() {
    let (dir, app) = app();
    assert!(app.indexes().list().await.unwrap().is_empty());
    assert!(app.layout().database().is_file());
    assert!(app.layout().database().starts_with(dir.path()));
    let report = app.indexes().gc(None, 2).await.unwrap();
    assert!(report.indexes.is_empty() && report.deleted() == 0);
    app.close().await;
}

#[tokio::test]
async fn unknown_names_are_not_found_with_the_fix() {
    let (_dir, app) = app();
    let err = app.indexes().versions("nope").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.kind().http_status(), 404);
    assert_eq!(
        err.fix(),
        Some(Fix::Ingest {
            index: "nope".into()
        })
    );
    let err = app.indexes().rollback("nope", 1).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = app
        .searcher("nope", "retriever-bm25", Default::default())
        .await
        .err()
        .expect("no such plugin");
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    let err = app.indexes().gc(Some("nope"), 2).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    app.close().await;
}

#[tokio::test]
async fn a_missing_plugin_path_is_not_found() {
    let (_dir, app) = app();
    let err = app.load_plugin("./no/such/folder").err().unwrap();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains("does not exist"), "{err}");
    app.close().await;
}

#[test]
fn a_config_file_with_an_unknown_key_is_invalid_and_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("genops.toml"), "[runtime]\nfuell = true\n").unwrap();
    let err = App::open(Some(dir.path().to_path_buf()), None)
        .err()
        .unwrap();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert!(err.to_string().contains("genops.toml"), "{err}");
}

#[tokio::test]
async fn a_postgres_store_url_is_refused_clearly_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = genops_app::Config::default();
    config.store.url = Some("postgres://genops:secret@db.internal/genops".into());
    let app = App::with_config(Layout::new(dir.path()), config);
    let err = app.indexes().list().await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("PostgreSQL is not built into this genops"),
        "{text}"
    );
    assert!(!text.contains("secret"), "{text}");
    assert!(!app.layout().database().exists());
}

#[tokio::test]
async fn live_indexes_are_opened_once_while_no_index_moves() {
    let (_dir, app) = app();
    let first = app.live_indexes().await.unwrap();
    let again = app.live_indexes().await.unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&first, &again),
        "reopened with nothing moved"
    );
    app.close().await;
}
