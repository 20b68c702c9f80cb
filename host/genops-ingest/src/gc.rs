//! Garbage collection of one index, under its ingest lock.

use std::path::Path;

use genops_store::{OrphanCounts, Store, VersionStatus};
use serde::Serialize;

use crate::lock::{lock_index, recover_crashed};
use crate::Error;

/// What [`gc_index`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GcReport {
    /// The index.
    pub index: String,
    /// An ingest of the index holds its lock: nothing of it was touched.
    pub busy: bool,
    /// Versions left `building` by a crashed ingest, now marked failed (and deleted with
    /// the other candidates).
    pub recovered: Vec<u32>,
    /// Versions deleted, with the status each had.
    pub deleted: Vec<GcDeleted>,
    /// Half-written version folders removed.
    pub partial_builds: usize,
    /// The documents, chunks and vectors no version uses any more, deleted; `None` when
    /// another index has a version building (its work may not be referenced yet), or
    /// when this index was busy.
    pub orphans: Option<OrphanCounts>,
}

/// A version gc deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GcDeleted {
    /// Its number.
    pub number: u32,
    /// Its status before.
    pub status: VersionStatus,
}

/// Collects the garbage of index `name`: with its ingest lock held, fails the versions a
/// crashed ingest left `building` and removes their folders, deletes the versions that are
/// neither live nor among the `keep` newest ready ones (rows first, then folders), then the
/// documents, chunks and vectors no version uses. When an ingest of the index is running,
/// the report says `busy` and nothing is touched: a crashed ingest of one index no longer
/// blocks gc of every index.
pub async fn gc_index(
    store: &Store,
    data_dir: &Path,
    name: &str,
    keep: usize,
) -> Result<GcReport, Error> {
    let index = store.index(name).await?.name;
    let mut report = GcReport {
        index: index.clone(),
        ..GcReport::default()
    };
    let _lock = match lock_index(data_dir, &index) {
        Ok(lock) => lock,
        Err(Error::Busy(_)) => {
            report.busy = true;
            return Ok(report);
        }
        Err(e) => return Err(e),
    };
    let (recovered, partial) = recover_crashed(store, data_dir, &index).await?;
    report.recovered = recovered;
    report.partial_builds = partial;
    for v in store.gc_candidates(&index, keep).await? {
        let v = store.delete_version(&index, v.number).await?;
        let dir = data_dir.join(&v.folder);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::Io {
                action: "cannot remove",
                path: dir.clone(),
                source: e,
            })?;
        }
        report.deleted.push(GcDeleted {
            number: v.number,
            status: v.status,
        });
    }
    report.orphans = match store.gc_orphans().await {
        Ok(counts) => Some(counts),
        // Another index's ingest is running (or crashed, until its own gc or ingest).
        Err(genops_store::Error::VersionsBuilding(_)) => None,
        Err(e) => return Err(e.into()),
    };
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use genops_store::{ChunkerIdentity, NewVersion};
    use serde_json::json;

    fn new_version(parent: Option<u32>) -> NewVersion {
        NewVersion {
            parent,
            chunker: ChunkerIdentity {
                digest: "sha256:00".into(),
                config: json!({}),
            },
            embedder: None,
        }
    }

    #[tokio::test]
    async fn a_version_left_building_by_a_crash_is_failed_and_gc_proceeds() {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open_in(data.path()).await.unwrap();
        store.create_index("docs").await.unwrap();
        // A crashed ingest: a building version and its half-written folder (pid 0 is no
        // process of ours).
        let crashed = store
            .begin_version("docs", &new_version(None))
            .await
            .unwrap();
        let partial = data.path().join("indexes/docs/v1.building-0");
        std::fs::create_dir_all(&partial).unwrap();
        // Before, gc of any index stopped at the building version.
        assert!(matches!(
            store.gc_orphans().await,
            Err(genops_store::Error::VersionsBuilding(_))
        ));
        let report = gc_index(&store, data.path(), "docs", 2).await.unwrap();
        assert!(!report.busy);
        assert_eq!(report.recovered, vec![crashed.number]);
        assert_eq!(report.partial_builds, 1);
        assert!(!partial.exists());
        assert_eq!(
            report.deleted,
            vec![GcDeleted {
                number: 1,
                status: VersionStatus::Failed
            }]
        );
        assert!(report.orphans.is_some());
    }

    #[tokio::test]
    async fn gc_of_an_index_being_ingested_says_busy_and_touches_nothing() {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open_in(data.path()).await.unwrap();
        store.create_index("docs").await.unwrap();
        let building = store
            .begin_version("docs", &new_version(None))
            .await
            .unwrap();
        let _held = lock_index(data.path(), "docs").unwrap();
        let report = gc_index(&store, data.path(), "docs", 0).await.unwrap();
        assert!(report.busy);
        assert!(report.deleted.is_empty() && report.recovered.is_empty());
        let v = store.version_by_id(building.id).await.unwrap();
        assert_eq!(v.status, VersionStatus::Building);
    }
}
