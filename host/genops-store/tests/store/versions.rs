//! Indexes, version numbering, lineage, live pointer, rollback, diff and gc.

use std::time::Duration;

use genops_store::{
    chunking_key, embedder_key, sha256_hex, Error, NewVersion, OrphanCounts, Store,
    VersionDocument, VersionStatus, DATABASE_FILE,
};
use serde_json::json;

use crate::{
    begin_with_files, build_version, chunker, embedder, err, new_version, put_text, temp_store,
};

#[tokio::test]
async fn invalid_index_names_are_refused() {
    let (_dir, store) = temp_store().await;
    for bad in [
        "",
        "Docs",
        "my docs",
        "-docs",
        "a/b",
        "../x",
        &"x".repeat(65),
    ] {
        let error = err(store.create_index(bad).await);
        assert!(
            matches!(error, Error::InvalidIndexName { .. }),
            "{bad}: {error:?}"
        );
        assert!(error.to_string().contains("lowercase letters"), "{error}");
        assert!(matches!(
            err(store.ensure_index(bad).await),
            Error::InvalidIndexName { .. }
        ));
    }
    store.create_index("docs_v-2").await.unwrap();
    assert!(matches!(
        err(store.create_index("docs_v-2").await),
        Error::IndexExists(_)
    ));
    let again = store.ensure_index("docs_v-2").await.unwrap();
    assert_eq!(again.live_version, None);
    assert_eq!(store.list_indexes().await.unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_index_names_what_exists() {
    let (_dir, store) = temp_store().await;
    let message = err(store.index("docs").await).to_string();
    assert_eq!(message, "no index `docs` (indexes: none)");
    store.create_index("b").await.unwrap();
    store.create_index("a").await.unwrap();
    let message = err(store.versions("docs").await).to_string();
    assert!(
        message.starts_with("no index `docs` (indexes: a, b)"),
        "{message}"
    );
    assert!(err(store.live_version("docs").await)
        .to_string()
        .contains("indexes: a, b"));
    assert!(matches!(
        err(store.begin_version("docs", &new_version(None)).await),
        Error::UnknownIndex { .. }
    ));
}

#[tokio::test]
async fn versions_are_numbered_per_index_and_never_reused() {
    let (_dir, store) = temp_store().await;
    let v1 = build_version(&store, "a", None, &[("x", "x\n")]).await;
    let v2 = build_version(&store, "a", Some(1), &[("x", "x2\n")]).await;
    let b1 = build_version(&store, "b", None, &[("x", "x\n")]).await;
    assert_eq!((v1.number, v2.number, b1.number), (1, 2, 1));
    assert_eq!(
        (v1.folder.as_str(), b1.folder.as_str()),
        ("indexes/a/v1", "indexes/b/v1")
    );

    // Deleting the newest non-live version does not free its number.
    let v3 = store
        .begin_version("a", &new_version(Some(2)))
        .await
        .unwrap();
    store.fail_version(v3.id, "test").await.unwrap();
    store.delete_version("a", 3).await.unwrap();
    store.delete_version("a", 1).await.unwrap();
    let v4 = store
        .begin_version("a", &new_version(Some(2)))
        .await
        .unwrap();
    assert_eq!(v4.number, 4);
    let numbers: Vec<u32> = store
        .versions("a")
        .await
        .unwrap()
        .iter()
        .map(|v| v.number)
        .collect();
    assert_eq!(numbers, vec![2, 4]);
}

#[tokio::test]
async fn lineage_and_identities_are_recorded() {
    let (_dir, store) = temp_store().await;
    build_version(&store, "docs", None, &[("a.md", "a\n")]).await;
    let v2 = store
        .begin_version(
            "docs",
            &NewVersion {
                parent: Some(1),
                chunker: chunker(),
                embedder: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(v2.parent, Some(1));
    assert_eq!(v2.status, VersionStatus::Building);
    assert!(!v2.live);
    assert_eq!(v2.finished_at, None);
    assert_eq!(v2.chunker, chunker());
    assert_eq!(
        v2.chunking_key,
        chunking_key(&chunker().digest, &chunker().config)
    );
    assert_eq!((v2.embedder.clone(), v2.embedder_key.clone()), (None, None));

    let v3 = store
        .begin_version("docs", &new_version(Some(1)))
        .await
        .unwrap();
    assert_eq!(v3.embedder, Some(embedder()));
    assert_eq!(
        v3.embedder_key,
        Some(embedder_key(&embedder().sha256, &embedder().settings))
    );

    // A parent must be a ready version of the same index.
    let error = err(store.begin_version("docs", &new_version(Some(2))).await);
    assert!(
        matches!(error, Error::InvalidParent { parent: 2, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("building"), "{error}");
    let error = err(store.begin_version("docs", &new_version(Some(9))).await);
    assert!(error.to_string().contains("versions: 1, 2, 3"), "{error}");
    let bad = NewVersion {
        parent: None,
        chunker: genops_store::ChunkerIdentity {
            digest: String::new(),
            config: json!({}),
        },
        embedder: None,
    };
    assert!(matches!(
        err(store.begin_version("docs", &bad).await),
        Error::Invalid { .. }
    ));
}

#[tokio::test]
async fn finish_marks_ready_and_moves_live_in_one_step() {
    let (_dir, store) = temp_store().await;
    let v1 = build_version(&store, "docs", None, &[("a", "a\nb\n"), ("b", "c\n")]).await;
    assert_eq!(v1.status, VersionStatus::Ready);
    assert!(v1.live);
    assert!(v1.finished_at.is_some());
    assert_eq!(v1.stats, json!({"files": 2}));
    assert_eq!(
        (v1.counts.documents, v1.counts.chunks, v1.counts.added),
        (2, 3, 2)
    );
    assert_eq!(store.index("docs").await.unwrap().live_version, Some(1));

    let v2 = begin_with_files(&store, "docs", Some(1), &[("a", "a\nb\n"), ("c", "d\n")]).await;
    let live = store.live_version("docs").await.unwrap().unwrap();
    assert_eq!(live.number, 1, "a building version is not live");

    let v2 = store.finish_version(v2.id, &json!({})).await.unwrap();
    assert!(v2.live);
    let c = v2.counts;
    assert_eq!(
        (
            c.documents,
            c.chunks,
            c.added,
            c.changed,
            c.removed,
            c.unchanged
        ),
        (2, 3, 1, 0, 1, 1)
    );
    let versions = store.versions("docs").await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.live).collect::<Vec<_>>(),
        vec![false, true]
    );

    // Finished is final.
    let error = err(store.finish_version(v2.id, &json!({})).await);
    assert!(
        matches!(
            error,
            Error::NotBuilding {
                status: VersionStatus::Ready,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(matches!(
        err(store.fail_version(v2.id, "late").await),
        Error::NotBuilding { .. }
    ));
    assert!(matches!(
        err(store.append_version_chunks(v2.id, &[]).await),
        Error::NotBuilding { .. }
    ));
    assert!(matches!(
        err(store.finish_version(999, &json!({})).await),
        Error::UnknownVersionId(999)
    ));
}

#[tokio::test]
async fn a_version_left_building_by_a_crash_is_never_live() {
    let (dir, store) = temp_store().await;
    build_version(&store, "docs", None, &[("a", "a\n")]).await;
    let crashed = begin_with_files(&store, "docs", Some(1), &[("a", "a2\n"), ("b", "b\n")]).await;
    // The process dies: its pool goes away without finishing.
    store.close().await;
    drop(store);

    let store = genops_store::Store::open(&dir.path().join(DATABASE_FILE))
        .await
        .unwrap();
    let live = store.live_version("docs").await.unwrap().unwrap();
    assert_eq!(live.number, 1);
    assert_eq!(store.version_documents(live.id).await.unwrap().len(), 1);
    let left = store.version("docs", crashed.number).await.unwrap();
    assert_eq!(left.status, VersionStatus::Building);
    assert!(!left.live);

    let stale = store.stale_building_versions(Duration::ZERO).await.unwrap();
    assert_eq!(
        stale.iter().map(|v| v.id).collect::<Vec<_>>(),
        vec![crashed.id]
    );
    assert!(store
        .stale_building_versions(Duration::from_secs(3600))
        .await
        .unwrap()
        .is_empty());

    let failed = store
        .fail_version(crashed.id, "abandoned by a crashed process")
        .await
        .unwrap();
    assert_eq!(failed.status, VersionStatus::Failed);
    assert_eq!(
        failed.error.as_deref(),
        Some("abandoned by a crashed process")
    );
    assert!(store
        .stale_building_versions(Duration::ZERO)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.live_version("docs").await.unwrap().unwrap().number, 1);
}

#[tokio::test]
async fn rollback_refuses_unknown_building_and_failed_versions() {
    let (_dir, store) = temp_store().await;
    build_version(&store, "docs", None, &[("a", "a\n")]).await;
    build_version(&store, "docs", Some(1), &[("a", "b\n")]).await;
    let v3 = store
        .begin_version("docs", &new_version(Some(2)))
        .await
        .unwrap();
    store.fail_version(v3.id, "boom").await.unwrap();
    store
        .begin_version("docs", &new_version(Some(2)))
        .await
        .unwrap();

    let error = err(store.set_live("docs", 7).await);
    assert_eq!(
        error.to_string(),
        "index `docs` has no version 7 (versions: 1, 2, 3, 4)"
    );
    let error = err(store.set_live("docs", 3).await);
    assert_eq!(
        error.to_string(),
        "version 3 of index `docs` is failed, and only a ready version can be live (ready versions: 1, 2)"
    );
    let error = err(store.set_live("docs", 4).await);
    assert!(
        matches!(
            error,
            Error::NotReady {
                status: VersionStatus::Building,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(matches!(
        err(store.set_live("nope", 1).await),
        Error::UnknownIndex { .. }
    ));
    assert_eq!(store.live_version("docs").await.unwrap().unwrap().number, 2);

    let rolled_back = store.set_live("docs", 1).await.unwrap();
    assert!(rolled_back.live);
    assert_eq!(store.live_version("docs").await.unwrap().unwrap().number, 1);
    assert_eq!(store.index("docs").await.unwrap().live_version, Some(1));
    store.set_live("docs", 2).await.unwrap();
    assert_eq!(store.live_version("docs").await.unwrap().unwrap().number, 2);
}

#[tokio::test]
async fn diff_lists_added_removed_and_changed_paths() {
    let (_dir, store) = temp_store().await;
    build_version(
        &store,
        "docs",
        None,
        &[
            ("a.md", "a\n"),
            ("b.md", "b\n"),
            ("c.md", "c\n"),
            ("e.md", "e\n"),
        ],
    )
    .await;
    let v2 = build_version(
        &store,
        "docs",
        Some(1),
        &[
            ("a.md", "a\n"),
            ("b.md", "b changed\n"),
            ("d.md", "d\n"),
            ("e.md", "e\n"),
        ],
    )
    .await;

    let diff = store.diff("docs", 1, 2).await.unwrap();
    assert_eq!(diff.added, vec!["d.md"]);
    assert_eq!(diff.removed, vec!["c.md"]);
    assert_eq!(diff.changed, vec!["b.md"]);
    assert_eq!(diff.unchanged, 2);
    let c = v2.counts;
    assert_eq!((c.added, c.removed, c.changed, c.unchanged), (1, 1, 1, 2));

    let back = store.diff("docs", 2, 1).await.unwrap();
    assert_eq!(
        (back.added, back.removed),
        (vec!["c.md".to_string()], vec!["d.md".to_string()])
    );
    assert_eq!(back.changed, vec!["b.md"]);

    let same = store.diff("docs", 2, 2).await.unwrap();
    assert!(same.added.is_empty() && same.removed.is_empty() && same.changed.is_empty());
    assert_eq!(same.unchanged, 4);
    assert!(matches!(
        err(store.diff("docs", 1, 5).await),
        Error::UnknownVersion { number: 5, .. }
    ));
}

#[tokio::test]
async fn version_documents_refuse_duplicates_and_unknown_documents() {
    let (_dir, store) = temp_store().await;
    let version = begin_with_files(&store, "docs", None, &[("a", "a\n")]).await;
    let (hash, _) = put_text(&store, "b\n").await;
    let doc = |path: &str, hash: &str| VersionDocument {
        path: path.into(),
        document_hash: hash.into(),
        metadata: json!({}),
        ..VersionDocument::default()
    };
    let error = err(store
        .put_version_documents(version.id, &[doc("a", &hash)])
        .await);
    assert_eq!(
        error.to_string(),
        "path `a` is given twice to version 1 of index `docs`; a version maps each path to one document"
    );
    let missing = sha256_hex(b"never stored");
    let error = err(store
        .put_version_documents(version.id, &[doc("z", &missing)])
        .await);
    assert!(matches!(error, Error::UnknownDocument(h) if h == missing));
    assert!(matches!(
        err(store
            .put_version_documents(version.id, &[doc("z", "nothex")])
            .await),
        Error::InvalidHash { .. }
    ));
    assert!(matches!(
        err(store
            .put_version_documents(version.id, &[doc("", &hash)])
            .await),
        Error::Invalid { .. }
    ));
    // A failed batch leaves nothing behind.
    store
        .put_version_documents(version.id, &[doc("b", &hash)])
        .await
        .unwrap();
    let paths: Vec<String> = store
        .version_documents(version.id)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.path)
        .collect();
    assert_eq!(paths, vec!["a", "b"]);
}

#[tokio::test]
async fn version_documents_keep_the_file_and_root_they_were_read_from() {
    let (_dir, store) = temp_store().await;
    let version = begin_with_files(&store, "docs", None, &[]).await;
    let (hash, _) = put_text(&store, "b\n").await;
    let doc = VersionDocument {
        path: "docs/b.md".into(),
        document_hash: hash,
        metadata: json!({}),
        file: Some("/srv/checkout/docs/b.md".into()),
        root: Some("/srv/checkout/docs".into()),
    };
    store
        .put_version_documents(version.id, std::slice::from_ref(&doc))
        .await
        .unwrap();
    assert_eq!(
        store.version_documents(version.id).await.unwrap(),
        vec![doc]
    );
}

#[tokio::test]
async fn version_rows_map_back_to_chunks() {
    let (_dir, store) = temp_store().await;
    let version = store.ensure_index("docs").await.unwrap();
    assert_eq!(version.live_version, None);
    let version = store
        .begin_version("docs", &new_version(None))
        .await
        .unwrap();
    let (_, first) = put_text(&store, "one\ntwo\n").await;
    let (_, second) = put_text(&store, "three\n").await;
    assert_eq!(
        store
            .append_version_chunks(version.id, &first)
            .await
            .unwrap(),
        0..2
    );
    assert_eq!(
        store
            .append_version_chunks(version.id, &second)
            .await
            .unwrap(),
        2..3
    );
    assert!(matches!(
        err(store.append_version_chunks(version.id, &[123_456]).await),
        Error::UnknownChunk(123_456)
    ));

    assert_eq!(
        store.version_chunk(version.id, 2).await.unwrap().text,
        "three"
    );
    let texts = |chunks: Vec<genops_store::Chunk>| -> Vec<String> {
        chunks.into_iter().map(|c| c.text).collect()
    };
    assert_eq!(
        texts(store.version_chunks(version.id).await.unwrap()),
        vec!["one", "two", "three"]
    );
    assert_eq!(
        texts(
            store
                .version_chunks_at(version.id, &[2, 0, 2])
                .await
                .unwrap()
        ),
        vec!["three", "one", "three"]
    );
    let error = err(store.version_chunk(version.id, 3).await);
    assert_eq!(
        error.to_string(),
        "version 1 of index `docs` has no chunk at row 3 (it has 3 rows)"
    );
    assert!(matches!(
        err(store.version_chunks_at(version.id, &[u64::MAX]).await),
        Error::UnknownRow { .. }
    ));
}

#[tokio::test]
async fn gc_candidates_keep_live_building_and_recent_ready_versions() {
    let (_dir, store) = temp_store().await;
    for n in 1..=4 {
        build_version(&store, "docs", None, &[("a", &format!("{n}\n"))]).await;
    }
    let failed = store
        .begin_version("docs", &new_version(None))
        .await
        .unwrap();
    store.fail_version(failed.id, "x").await.unwrap();
    store
        .begin_version("docs", &new_version(None))
        .await
        .unwrap();
    store.set_live("docs", 1).await.unwrap();

    let numbers = |versions: Vec<genops_store::Version>| -> Vec<u32> {
        versions.iter().map(|v| v.number).collect()
    };
    // 1 live, 6 building, 3 and 4 the two most recent ready ones; 5 failed.
    assert_eq!(
        numbers(store.gc_candidates("docs", 2).await.unwrap()),
        vec![2, 5]
    );
    assert_eq!(
        numbers(store.gc_candidates("docs", 0).await.unwrap()),
        vec![2, 3, 4, 5]
    );
    assert_eq!(
        numbers(store.gc_candidates("docs", 10).await.unwrap()),
        vec![5]
    );

    let error = err(store.delete_version("docs", 1).await);
    assert!(
        matches!(error, Error::VersionIsLive { number: 1, .. }),
        "{error:?}"
    );
    assert!(matches!(
        err(store.delete_version("docs", 6).await),
        Error::VersionIsBuilding { number: 6, .. }
    ));
    let deleted = store.delete_version("docs", 2).await.unwrap();
    assert_eq!(deleted.folder, "indexes/docs/v2");
    assert!(matches!(
        err(store.version_documents(deleted.id).await),
        Error::UnknownVersionId(_)
    ));
}

#[tokio::test]
async fn gc_orphans_deletes_only_what_no_version_uses() {
    let (_dir, store) = temp_store().await;
    let ekey = embedder_key(&embedder().sha256, &embedder().settings);
    let v1 = build_version(&store, "docs", None, &[("a", "kept\n"), ("b", "dropped\n")]).await;
    let v1_chunks = store.version_chunks(v1.id).await.unwrap();
    let vectors: Vec<(i64, Vec<f32>)> = v1_chunks.iter().map(|c| (c.id, vec![1.0, 2.0])).collect();
    store.put_embeddings(&ekey, &vectors).await.unwrap();
    // A chunking of `kept` with another chunker, used by no version.
    let (kept_hash, _) = put_text(&store, "kept\n").await;
    let other_key = chunking_key("sha256:other", &json!({}));
    store
        .put_chunks(
            &kept_hash,
            &other_key,
            &[genops_store::NewChunk {
                start: 0,
                end: 4,
                text: "kept".into(),
                metadata: json!(null),
            }],
        )
        .await
        .unwrap();

    let v2 = build_version(&store, "docs", Some(1), &[("a", "kept\n")]).await;
    assert!(matches!(
        err(store.delete_version("docs", 2).await),
        Error::VersionIsLive { .. }
    ));
    let building = store
        .begin_version("docs", &new_version(Some(2)))
        .await
        .unwrap();
    let error = err(store.gc_orphans().await);
    assert!(error.to_string().contains("`docs` version 3"), "{error}");
    store.fail_version(building.id, "x").await.unwrap();

    // While v1 exists, only the chunking no version uses is orphaned.
    let orphans = store.gc_orphans().await.unwrap();
    assert_eq!(
        orphans,
        OrphanCounts {
            documents: 0,
            chunks: 1,
            embeddings: 0
        }
    );
    assert_eq!(
        store.chunks_for(&kept_hash, &other_key).await.unwrap(),
        None
    );

    store.delete_version("docs", 1).await.unwrap();
    let orphans = store.gc_orphans().await.unwrap();
    assert_eq!(
        orphans,
        OrphanCounts {
            documents: 1,
            chunks: 1,
            embeddings: 1
        },
        "the document `dropped`, its chunk and its vector"
    );

    let dropped = sha256_hex(b"dropped\n");
    assert_eq!(store.document(&dropped).await.unwrap(), None);
    assert!(store.document(&kept_hash).await.unwrap().is_some());
    let kept_chunks = store.version_chunks(v2.id).await.unwrap();
    assert_eq!(kept_chunks.len(), 1);
    let cached = store.embeddings(&[kept_chunks[0].id], &ekey).await.unwrap();
    assert_eq!(cached[&kept_chunks[0].id], vec![1.0, 2.0]);
    assert_eq!(store.gc_orphans().await.unwrap(), Default::default());
}

#[tokio::test]
async fn in_memory_store_works_for_tests() {
    let store = Store::open_in_memory().await.unwrap();
    assert_eq!(store.path(), None);
    let v = build_version(&store, "docs", None, &[("a", "a\n")]).await;
    assert!(v.live);
}
