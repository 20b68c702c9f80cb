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

/// What `gc` did, index by index.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GcReport {
    /// One report per index collected, in name order.
    pub indexes: Vec<genops_ingest::GcReport>,
}

impl GcReport {
    /// Versions deleted over all indexes.
    pub fn deleted(&self) -> usize {
        self.indexes.iter().map(|i| i.deleted.len()).sum()
    }

    /// Documents, chunks and embeddings no version uses, deleted over all indexes.
    pub fn orphans(&self) -> OrphanCounts {
        let mut total = OrphanCounts::default();
        for o in self.indexes.iter().filter_map(|i| i.orphans.as_ref()) {
            total.documents += o.documents;
            total.chunks += o.chunks;
            total.embeddings += o.embeddings;
        }
        total
    }
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
        let here = std::env::current_dir()
            .map_err(|e| Error::io("cannot read the current directory", ".", e))?;
        Ok(
            genops_ingest::status_in(store, &here, name, paths, jsonl, &self.app.config().ingest)
                .await?,
        )
    }

    /// Deletes old versions of `name` (every index when `None`), keeping the live one and
    /// `keep` more ready ones, then what no version uses any more. Each index is collected
    /// under its ingest lock: an index being ingested is reported busy and left alone, and
    /// versions a crashed ingest left `building` are failed and removed.
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
        let mut indexes = Vec::with_capacity(names.len());
        for name in &names {
            indexes.push(genops_ingest::gc_index(store, self.app.data_dir(), name, keep).await?);
        }
        Ok(GcReport { indexes })
    }
}
