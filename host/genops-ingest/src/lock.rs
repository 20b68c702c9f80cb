//! The per-index ingest lock, and the recovery of builds whose process died.

use std::path::Path;
use std::time::Duration;

use genops_store::Store;

use crate::Error;

/// Takes the index's ingest lock: one ingest (or gc) per index at a time. The operating
/// system releases it when the process ends, however it ends, so holding it proves that no
/// other ingest of the index is alive.
pub(crate) fn lock_index(data_dir: &Path, index: &str) -> Result<std::fs::File, Error> {
    let path = data_dir.join("indexes").join(format!("{index}.lock"));
    match genops_fs::try_lock(&path) {
        Ok(Some(file)) => Ok(file),
        Ok(None) => Err(Error::Busy(index.to_string())),
        Err(source) => Err(Error::Io {
            action: "cannot lock",
            path,
            source,
        }),
    }
}

/// Marks versions of `index` left `building` by a process that died as failed, and removes
/// their half-written folders, so they are neither live nor in the way. Call it with the
/// index's lock held, so every building version of the index belongs to a dead process.
/// Returns the numbers of the versions it failed and how many folders it removed.
pub(crate) async fn recover_crashed(
    store: &Store,
    data_dir: &Path,
    index: &str,
) -> Result<(Vec<u32>, usize), Error> {
    let mut failed = Vec::new();
    for v in store.stale_building_versions(Duration::ZERO).await? {
        if v.index == index {
            store
                .fail_version(v.id, "the ingest that built it stopped before it finished")
                .await?;
            tracing::warn!(
                index,
                version = v.number,
                "a crashed ingest left this version unfinished; marked failed"
            );
            failed.push(v.number);
        }
    }
    let removed = genops_index::remove_partial_builds(&data_dir.join("indexes").join(index))?;
    Ok((failed, removed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_ingest_per_index_holds_the_lock() {
        let data = tempfile::tempdir().unwrap();
        let held = lock_index(data.path(), "docs").unwrap();
        let err = lock_index(data.path(), "docs").unwrap_err();
        assert!(matches!(err, Error::Busy(_)), "{err}");
        assert!(err.to_string().contains("another ingest of index `docs`"));
        // Another index is free, and the lock is free again once released.
        drop(lock_index(data.path(), "other").unwrap());
        drop(held);
        assert!(lock_index(data.path(), "docs").is_ok());
    }
}
