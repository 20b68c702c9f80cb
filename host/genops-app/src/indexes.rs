//! The index service: list, show, diff, roll back, check freshness and collect garbage.

use genops_ingest::JsonlFields;
use genops_store::{Diff, OrphanCounts, Version, VersionStatus};
use serde::Serialize;

use crate::{App, Error};

/// One index as `genops index list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexSummary {
    /// Its name.
    pub name: String,
    /// The live version's number, if one is live.
    pub live_version: Option<u32>,
    /// How many versions it has, of any status.
    pub versions: usize,
    /// Documents in the live version.
    pub documents: Option<u64>,
    /// Chunks in the live version.
    pub chunks: Option<u64>,
    /// The live version's embedding model; `None` for a text-only version.
    pub embedder: Option<String>,
}

/// A version that garbage collection deleted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeletedVersion {
    /// The index.
    pub index: String,
    /// The version's number.
    pub number: u32,
    /// Its status when deleted.
    pub status: VersionStatus,
}

/// What `gc` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GcReport {
    /// The versions deleted, with their folders.
    pub deleted: Vec<DeletedVersion>,
    /// Indexes skipped because an ingest held their lock.
    pub busy: Vec<String>,
    /// Documents, chunks and embeddings no version uses any more, deleted.
    pub orphans: OrphanCounts,
}

/// Index operations; see [`App::indexes`].
pub struct Indexes<'a> {
    app: &'a App,
}

impl App {
    /// The index service.
    pub fn indexes(&self) -> Indexes<'_> {
        Indexes { app: self }
    }
}

impl Indexes<'_> {
    /// Every index with its live version's counts.
    pub async fn list(&self) -> Result<Vec<IndexSummary>, Error> {
        let store = self.app.store().await?;
        let mut out = Vec::new();
        for index in store.list_indexes().await? {
            let versions = store.versions(&index.name).await?;
            let live = versions.iter().find(|v| v.live);
            out.push(IndexSummary {
                live_version: index.live_version,
                versions: versions.len(),
                documents: live.map(|v| v.counts.documents),
                chunks: live.map(|v| v.counts.chunks),
                embedder: live.and_then(|v| v.embedder.as_ref().map(|e| e.model.clone())),
                name: index.name,
            });
        }
        Ok(out)
    }

    /// Every version of `name`, oldest first.
    pub async fn versions(&self, name: &str) -> Result<Vec<Version>, Error> {
        Ok(self.app.store().await?.versions(name).await?)
    }

    /// One version of `name`.
    pub async fn version(&self, name: &str, number: u32) -> Result<Version, Error> {
        Ok(self.app.store().await?.version(name, number).await?)
    }

    /// The documents added, changed and removed between two versions.
    pub async fn diff(&self, name: &str, from: u32, to: u32) -> Result<Diff, Error> {
        Ok(self.app.store().await?.diff(name, from, to).await?)
    }

    /// Makes an earlier version live again. Its files are opened first: a version whose
    /// folder is gone or damaged cannot serve, and must not become live in place of one
    /// that can. (A version that is not ready is refused by the store, which names the
    /// ready ones.)
    pub async fn rollback(&self, name: &str, number: u32) -> Result<Version, Error> {
        let store = self.app.store().await?;
        let target = store.version(name, number).await?;
        if target.status == VersionStatus::Ready {
            genops_index::IndexVersion::open(&self.app.layout().version_dir(&target.folder))
                .map_err(|source| Error::DamagedVersion {
                    index: name.to_string(),
                    version: number,
                    source,
                })?;
        }
        Ok(store.set_live(name, number).await?)
    }

    /// What changed on disk under `paths` since the live version; writes nothing.
    pub async fn status(
        &self,
        name: &str,
        paths: &[String],
        jsonl: &JsonlFields,
    ) -> Result<genops_ingest::Status, Error> {
        let store = self.app.store().await?;
        Ok(genops_ingest::status(store, name, paths, jsonl).await?)
    }

    /// Deletes old versions of `name` (every index when `None`), keeping the live one and
    /// `keep` more ready ones, then what no version uses any more.
    pub async fn gc(&self, name: Option<&str>, keep: usize) -> Result<GcReport, Error> {
        let store = self.app.store().await?;
        let names = match name {
            Some(n) => vec![store.index(n).await?.name],
            None => store
                .list_indexes()
                .await?
                .into_iter()
                .map(|i| i.name)
                .collect(),
        };
        let mut deleted = Vec::new();
        for name in &names {
            for v in store.gc_candidates(name, keep).await? {
                let v = store.delete_version(name, v.number).await?;
                let dir = self.app.layout().version_dir(&v.folder);
                if dir.exists() {
                    std::fs::remove_dir_all(&dir)
                        .map_err(|e| Error::io("cannot remove", &dir, e))?;
                }
                deleted.push(DeletedVersion {
                    index: name.clone(),
                    number: v.number,
                    status: v.status,
                });
            }
            genops_index::remove_partial_builds(&self.app.layout().index(name))?;
        }
        let orphans = store.gc_orphans().await?;
        Ok(GcReport {
            deleted,
            busy: Vec::new(),
            orphans,
        })
    }
}
