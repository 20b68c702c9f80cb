//! Documents, the chunk cache and the embedding cache.

use genops_store::{chunking_key, embedder_key, sha256_hex, Error, NewChunk, NewDocument};
use serde_json::json;

use crate::{chunker, err, put_text, temp_store};

fn chunk(start: u64, end: u64, text: &str) -> NewChunk {
    NewChunk {
        start,
        end,
        text: text.into(),
        metadata: json!({"heading": "intro"}),
    }
}

#[tokio::test]
async fn a_document_is_stored_once() {
    let (_dir, store) = temp_store().await;
    let text = "hello";
    let hash = sha256_hex(b"<p>hello</p>");
    let doc = NewDocument {
        hash: &hash,
        media_type: "text/html",
        byte_size: 12,
        text,
    };
    assert!(store.put_document(doc).await.unwrap());
    let again = NewDocument {
        text: "another extraction",
        ..doc
    };
    assert!(!store.put_document(again).await.unwrap());
    let stored = store.document(&hash).await.unwrap().unwrap();
    assert_eq!(
        (
            stored.text.as_str(),
            stored.media_type.as_str(),
            stored.byte_size
        ),
        ("hello", "text/html", 12)
    );
    assert_eq!(store.document(&sha256_hex(b"other")).await.unwrap(), None);

    let error = err(store.document("ABC").await);
    assert_eq!(
        error.to_string(),
        "invalid document hash `ABC`: expected a sha256 as 64 lowercase hex digits"
    );
    let upper = hash.to_uppercase();
    assert!(matches!(
        err(store
            .put_document(NewDocument {
                hash: &upper,
                ..doc
            })
            .await),
        Error::InvalidHash { .. }
    ));
}

#[tokio::test]
async fn chunks_are_cached_per_document_and_chunker() {
    let (_dir, store) = temp_store().await;
    let text = "one two";
    let hash = sha256_hex(text.as_bytes());
    let key = chunking_key(&chunker().digest, &chunker().config);
    let error = err(store.put_chunks(&hash, &key, &[chunk(0, 3, "one")]).await);
    assert!(matches!(error, Error::UnknownDocument(_)), "{error:?}");

    store
        .put_document(NewDocument {
            hash: &hash,
            media_type: "text/plain",
            byte_size: 7,
            text,
        })
        .await
        .unwrap();
    assert_eq!(store.chunks_for(&hash, &key).await.unwrap(), None);
    let stored = store
        .put_chunks(&hash, &key, &[chunk(0, 3, "one"), chunk(4, 7, "two")])
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(
        stored.iter().map(|c| c.ordinal).collect::<Vec<_>>(),
        vec![0, 1]
    );
    assert_eq!(stored[1].start, 4);
    assert_eq!(stored[1].metadata, json!({"heading": "intro"}));
    assert_eq!(stored[0].text_sha256, sha256_hex(b"one"));
    assert_eq!(
        store.chunks_for(&hash, &key).await.unwrap(),
        Some(stored.clone())
    );

    // Chunked again with the same identity: the first set stays.
    let again = store
        .put_chunks(&hash, &key, &[chunk(0, 7, "one two")])
        .await
        .unwrap();
    assert_eq!(again, stored);

    // Another config is another cache entry; no chunks is a cached answer too.
    let other = chunking_key(&chunker().digest, &json!({"size": 10}));
    assert_eq!(store.chunks_for(&hash, &other).await.unwrap(), None);
    assert!(store
        .put_chunks(&hash, &other, &[])
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.chunks_for(&hash, &other).await.unwrap(), Some(vec![]));

    let third = chunking_key("sha256:third", &json!({}));
    let error = err(store.put_chunks(&hash, &third, &[chunk(5, 2, "x")]).await);
    assert!(
        error.to_string().contains("starts at 5 after its end 2"),
        "{error}"
    );
    assert_eq!(store.chunks_for(&hash, &third).await.unwrap(), None);
    assert!(matches!(
        err(store.chunks_for(&hash, "config").await),
        Error::InvalidHash {
            what: "chunking key",
            ..
        }
    ));
}

#[tokio::test]
async fn embeddings_are_cached_by_text_and_embedder() {
    let (_dir, store) = temp_store().await;
    let key = embedder_key(&"ab".repeat(32), &json!({"pooling": "mean"}));
    let other_key = embedder_key(&"cd".repeat(32), &json!({"pooling": "mean"}));
    let (_, a) = put_text(&store, "shared\nonly in a\n").await;
    let (_, b) = put_text(&store, "shared\n").await;
    assert_ne!(a[0], b[0], "two documents, two chunks");

    assert!(store.embeddings(&a, &key).await.unwrap().is_empty());
    let vectors = vec![
        (a[0], vec![0.25f32, -1.5, f32::MIN_POSITIVE]),
        (a[1], vec![1.0, 2.0, 3.0]),
    ];
    store.put_embeddings(&key, &vectors).await.unwrap();

    let found = store.embeddings(&[a[0], a[1], b[0]], &key).await.unwrap();
    assert_eq!(found.len(), 3, "the chunk of b has the same text as a[0]");
    assert_eq!(found[&a[0]], vec![0.25f32, -1.5, f32::MIN_POSITIVE]);
    assert_eq!(found[&b[0]], found[&a[0]]);
    assert!(store.embeddings(&a, &other_key).await.unwrap().is_empty());

    // Storing again keeps the first vector.
    store
        .put_embeddings(&key, &[(a[0], [9.0f32, 9.0, 9.0])])
        .await
        .unwrap();
    assert_eq!(
        store.embeddings(&[a[0]], &key).await.unwrap()[&a[0]][0],
        0.25
    );

    let error = err(store.put_embeddings(&key, &[(a[0], vec![1.0f32])]).await);
    assert!(error.to_string().contains("have 3"), "{error}");
    let error = err(store
        .put_embeddings(&other_key, &[(a[0], vec![1.0f32]), (a[1], vec![1.0, 2.0])])
        .await);
    assert!(matches!(error, Error::Invalid { .. }), "{error:?}");
    assert!(matches!(
        err(store
            .put_embeddings(&other_key, &[(a[0], Vec::<f32>::new())])
            .await),
        Error::Invalid { .. }
    ));
    assert!(matches!(
        err(store
            .put_embeddings(&other_key, &[(987_654, vec![1.0f32])])
            .await),
        Error::UnknownChunk(987_654)
    ));
    store
        .put_embeddings::<Vec<f32>>(&other_key, &[])
        .await
        .unwrap();
}

#[tokio::test]
async fn many_ids_are_looked_up_in_batches() {
    let (_dir, store) = temp_store().await;
    let text: String = (0..1200).map(|i| format!("line {i}\n")).collect();
    let (_, ids) = put_text(&store, &text).await;
    assert_eq!(ids.len(), 1200);
    let key = embedder_key("model", &json!({}));
    let vectors: Vec<(i64, [f32; 2])> = ids.iter().map(|&id| (id, [id as f32, 0.5])).collect();
    store.put_embeddings(&key, &vectors).await.unwrap();
    let found = store.embeddings(&ids, &key).await.unwrap();
    assert_eq!(found.len(), 1200);
    assert_eq!(found[&ids[1100]], vec![ids[1100] as f32, 0.5]);
}
