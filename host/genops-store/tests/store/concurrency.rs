//! Readers beside a writer (WAL), writers queueing on the write lock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use genops_store::{Error, VersionStatus, DATABASE_FILE};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use crate::{build_version, err, open_impatient};

#[tokio::test]
async fn readers_are_not_blocked_by_a_writer_and_writers_wait_then_fail_busy() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_impatient(&dir).await;
    build_version(&store, "docs", None, &[("a", "a\n")]).await;

    // Another process holds the write lock with an uncommitted change.
    let mut other = SqliteConnectOptions::new()
        .filename(dir.path().join(DATABASE_FILE))
        .connect()
        .await
        .unwrap();
    let mut tx = other.begin_with("BEGIN IMMEDIATE").await.unwrap();
    sqlx::query("INSERT INTO indexes (name, created_at) VALUES ('hidden', 0)")
        .execute(&mut *tx)
        .await
        .unwrap();

    let names: Vec<String> = tokio::time::timeout(Duration::from_secs(5), store.list_indexes())
        .await
        .expect("a reader does not wait for the writer")
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, vec!["docs"], "the reader sees the last commit only");
    assert!(store.live_version("docs").await.unwrap().unwrap().live);

    let error = err(store.create_index("blocked").await);
    assert!(matches!(error, Error::Busy), "{error:?}");
    assert!(error.to_string().contains("retry"), "{error}");

    tx.commit().await.unwrap();
    store.create_index("after").await.unwrap();
    let names: Vec<String> = store
        .list_indexes()
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, vec!["after", "docs", "hidden"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_version_is_always_ready_while_versions_are_built() {
    let (_dir, store) = crate::temp_store().await;
    build_version(&store, "docs", None, &[("a", "0\n")]).await;
    let done = Arc::new(AtomicBool::new(false));

    let writer = {
        let store = store.clone();
        let done = done.clone();
        tokio::spawn(async move {
            for n in 1..=8u32 {
                let text = format!("{n}\n");
                build_version(&store, "docs", Some(n), &[("a", &text), ("b", "b\n")]).await;
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    // A second writer on another index queues on the write lock beside the first.
    let other_writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 0..8u32 {
                let parent = (n > 0).then_some(n);
                build_version(&store, "other", parent, &[("x", &format!("x{n}\n"))]).await;
            }
        })
    };
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let store = store.clone();
            let done = done.clone();
            tokio::spawn(async move {
                let mut last = 0;
                let mut reads = 0;
                while !done.load(Ordering::SeqCst) {
                    let live = store.live_version("docs").await.unwrap().unwrap();
                    assert_eq!(live.status, VersionStatus::Ready);
                    assert!(live.number >= last, "the live version went back");
                    last = live.number;
                    let documents = store.version_documents(live.id).await.unwrap();
                    assert_eq!(documents.len() as u64, live.counts.documents);
                    reads += 1;
                    tokio::task::yield_now().await;
                }
                reads
            })
        })
        .collect();
    writer.await.unwrap();
    other_writer.await.unwrap();
    for reader in readers {
        assert!(reader.await.unwrap() > 0);
    }
    assert_eq!(store.live_version("docs").await.unwrap().unwrap().number, 9);
    assert_eq!(
        store.live_version("other").await.unwrap().unwrap().number,
        8
    );
}
