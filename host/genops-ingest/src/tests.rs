//! Prune and status against a live version, from other working folders: the document set
//! planning without a chunker.

use std::path::Path;

use genops_store::{ChunkerIdentity, NewDocument, NewVersion, Store, VersionDocument};
use serde_json::json;

use crate::ingest::plan_documents;
use crate::stages::chunk::metadata_value;
use crate::stages::read::read_files;
use crate::{expand_in, status_in, Error, IngestLimits, JsonlFields, Silent};

/// A project folder with a docs tree, a file named with `#`, and a JSON Lines file.
fn project(root: &Path) {
    let docs = root.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("a.md"), "# A\\nalpha").unwrap();
    std::fs::write(docs.join("b#1.txt"), "bravo").unwrap();
    std::fs::write(
        docs.join("faq.jsonl"),
        "{\"id\":\"q1\",\"text\":\"one\"}\n{\"id\":\"q2\",\"text\":\"two\"}\n",
    )
    .unwrap();
}

/// Plans a version from `paths` read under `base` and makes it live in the store, as an
/// ingest would (without chunks: status and prune look at documents only).
async fn ingest_documents(store: &Store, base: &Path, paths: &[&str], prune: bool) -> Vec<String> {
    let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
    let files = expand_in(base, &paths).unwrap();
    let read = read_files(
        &files,
        &JsonlFields::default(),
        &IngestLimits::default(),
        &mut Silent,
    );
    store.ensure_index("docs").await.unwrap();
    let parent = store.live_version("docs").await.unwrap();
    let previous = match &parent {
        Some(p) => store.version_documents(p.id).await.unwrap(),
        None => vec![],
    };
    let set = plan_documents(&previous, read, prune, base).unwrap();
    let version = store
        .begin_version(
            "docs",
            &NewVersion {
                parent: parent.map(|p| p.number),
                chunker: ChunkerIdentity {
                    digest: "sha256:00".into(),
                    config: json!({}),
                },
                embedder: None,
            },
        )
        .await
        .unwrap();
    let mut documents = vec![];
    for (source, doc) in &set {
        if let Some(text) = &doc.text {
            store
                .put_document(NewDocument {
                    hash: &doc.hash,
                    media_type: &doc.media_type,
                    byte_size: text.len() as u64,
                    text,
                })
                .await
                .unwrap();
        }
        documents.push(VersionDocument {
            path: source.clone(),
            document_hash: doc.hash.clone(),
            metadata: metadata_value(&doc.metadata),
            file: doc.file.clone(),
            root: doc.root.clone(),
        });
    }
    store
        .put_version_documents(version.id, &documents)
        .await
        .unwrap();
    store.finish_version(version.id, &json!({})).await.unwrap();
    set.into_keys().collect()
}

async fn plan_from(store: &Store, base: &Path, paths: &[&str]) -> Result<Vec<String>, Error> {
    let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
    let files = expand_in(base, &paths)?;
    let read = read_files(
        &files,
        &JsonlFields::default(),
        &IngestLimits::default(),
        &mut Silent,
    );
    let live = store.live_version("docs").await?.unwrap();
    let previous = store.version_documents(live.id).await?;
    Ok(plan_documents(&previous, read, true, base)?
        .into_keys()
        .collect())
}

async fn status_from(store: &Store, base: &Path, paths: &[&str]) -> crate::Status {
    let paths: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
    status_in(
        store,
        base,
        "docs",
        &paths,
        &JsonlFields::default(),
        &IngestLimits::default(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn prune_and_status_from_another_folder_keep_documents_whose_files_exist() {
    let tmp = tempfile::tempdir().unwrap();
    let proj = tmp.path().join("proj");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    project(&proj);
    let store = Store::open_in_memory().await.unwrap();
    let names = ingest_documents(&store, &proj, &["docs"], false).await;
    assert_eq!(
        names,
        [
            "docs/a.md",
            "docs/b#1.txt",
            "docs/faq.jsonl#q1",
            "docs/faq.jsonl#q2"
        ]
    );

    // From another folder, one new file pruned in: nothing else is dropped (relative
    // names once resolved against the working folder, and a prune dropped everything).
    std::fs::write(proj.join("docs/new.txt"), "new").unwrap();
    let planned = plan_from(&store, &elsewhere, &["../proj/docs/new.txt"])
        .await
        .unwrap();
    assert_eq!(planned.len(), 5, "{planned:?}");
    let status = status_from(&store, &elsewhere, &["../proj/docs/new.txt"]).await;
    assert!(status.removed.is_empty(), "{status:?}");
    assert_eq!(status.added, ["../proj/docs/new.txt"]);

    // A file deleted is dropped, from anywhere.
    std::fs::remove_file(proj.join("docs/a.md")).unwrap();
    let planned = plan_from(&store, &elsewhere, &["../proj/docs/new.txt"])
        .await
        .unwrap();
    assert!(!planned.contains(&"docs/a.md".to_string()), "{planned:?}");
    assert_eq!(planned.len(), 4);
    let status = status_from(&store, &elsewhere, &["../proj/docs/new.txt"]).await;
    assert_eq!(status.removed, ["docs/a.md"]);
}

#[tokio::test]
async fn prune_refuses_when_a_source_root_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let proj = tmp.path().join("proj");
    project(&proj);
    std::fs::create_dir_all(proj.join("other")).unwrap();
    std::fs::write(proj.join("other/c.txt"), "charlie").unwrap();
    let store = Store::open_in_memory().await.unwrap();
    ingest_documents(&store, &proj, &["docs"], false).await;
    // The whole tree is gone (an unmounted disk, a moved checkout): missing, not deleted.
    std::fs::rename(proj.join("docs"), proj.join("moved")).unwrap();
    let err = plan_from(&store, &proj, &["other"]).await.unwrap_err();
    assert!(
        matches!(err, Error::SourceRootMissing { documents: 4, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("mount or restore"), "{err}");
    let status = status_from(&store, &proj, &["other"]).await;
    assert!(status.removed.is_empty(), "{status:?}");
    assert!(
        status.unreadable[0].source.ends_with("docs"),
        "{:?}",
        status.unreadable
    );
}

#[tokio::test]
async fn a_file_named_with_a_hash_is_read_replaced_and_pruned_as_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let proj = tmp.path().join("proj");
    project(&proj);
    let store = Store::open_in_memory().await.unwrap();
    ingest_documents(&store, &proj, &["docs"], false).await;
    // `docs/b#1.txt` was once taken for record `1.txt` of a file `docs/b`: reported
    // removed, and pruned, while it was there.
    std::fs::write(proj.join("docs/b#1.txt"), "bravo two").unwrap();
    let status = status_from(&store, &proj, &["docs/b#1.txt"]).await;
    assert_eq!(status.changed, ["docs/b#1.txt"]);
    assert!(status.removed.is_empty(), "{status:?}");
    let planned = plan_from(&store, &proj, &["docs/b#1.txt"]).await.unwrap();
    assert_eq!(planned.len(), 4, "{planned:?}");
    std::fs::remove_file(proj.join("docs/b#1.txt")).unwrap();
    let planned = plan_from(&store, &proj, &["docs/a.md"]).await.unwrap();
    assert_eq!(
        planned,
        ["docs/a.md", "docs/faq.jsonl#q1", "docs/faq.jsonl#q2"]
    );
    let status = status_from(&store, &proj, &["docs"]).await;
    assert_eq!(status.removed, ["docs/b#1.txt"]);
}
