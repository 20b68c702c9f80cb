//! Durable file-system steps that the genops stores share: the plugin catalog, the model
//! store and ingestion each serialise their writers with an advisory lock on a file, and
//! make renames survive a crash by syncing the folder that holds them.
//!
//! A lock is held for as long as the returned [`File`] lives, and the operating system
//! releases it when the process ends however it ends, so holding it proves that no other
//! writer is alive. Errors are plain [`std::io::Error`]s; each store names the path in its
//! own error type.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("index.lock");
//! let held = genops_fs::try_lock(&path).unwrap().expect("free");
//! assert!(genops_fs::try_lock(&path).unwrap().is_none(), "busy while held");
//! drop(held);
//! assert!(genops_fs::try_lock(&path).unwrap().is_some());
//! ```

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::Path;

/// Opens (creating it and its folder if needed) the lock file at `path`, without locking.
pub fn open_lock(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

/// Takes the exclusive lock at `path`, waiting for its holder to let go.
pub fn lock(path: &Path) -> io::Result<File> {
    let file = open_lock(path)?;
    file.lock()?;
    Ok(file)
}

/// Takes the exclusive lock at `path` if no one holds it; `None` when someone does.
pub fn try_lock(path: &Path) -> io::Result<Option<File>> {
    let file = open_lock(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Flushes a folder's entries (new names, renames) to disk. Folders cannot be opened for
/// syncing on every platform; where they cannot, a rename is as durable as the OS makes it.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir).and_then(|f| f.sync_all()) {
        Err(e) if cfg!(unix) => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_exclusive_until_its_file_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/a.lock");
        let held = lock(&path).unwrap();
        assert!(try_lock(&path).unwrap().is_none());
        drop(held);
        assert!(try_lock(&path).unwrap().is_some());
    }

    #[test]
    fn syncing_a_folder_works_and_a_missing_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        sync_dir(dir.path()).unwrap();
        assert!(sync_dir(&dir.path().join("missing")).is_err());
    }
}
