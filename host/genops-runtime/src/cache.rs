//! The cache of compiled components, with artifacts the runtime can trust.
//!
//! Deserialising an artifact runs its machine code in the host, so an artifact must be one
//! this runtime compiled, for this component and this engine. Each artifact file starts with
//! an HMAC-SHA256 tag over the artifact bytes, the component's digest and the engine key,
//! keyed by a secret kept in a file outside the cache folder. Whoever can write the cache
//! folder but not read the key cannot make an artifact the runtime accepts: an artifact
//! copied from another plugin carries the other digest in its tag, and patched bytes break
//! the tag. An artifact that fails the check is compiled again and overwritten, with a
//! warning.

use std::io::Write;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use wasmtime::component::Component;
use wasmtime::Engine;

use crate::Error;

/// Length of the key and of a tag, in bytes.
const KEY_BYTES: usize = 32;
const TAG_BYTES: usize = 32;
/// Bound into every tag, so a tag made for another purpose with the same key never matches.
const DOMAIN: &[u8] = b"genops compiled component v1\0";

/// Where compiled components are cached and where the key that vouches for them is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileCache {
    /// The folder of compiled artifacts, created with mode 0700.
    pub dir: PathBuf,
    /// The key file, outside `dir`: created with mode 0600 and random bytes if missing.
    pub key_file: PathBuf,
}

impl CompileCache {
    /// A cache in `dir` with the key in `key_file`.
    pub fn new(dir: impl Into<PathBuf>, key_file: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            key_file: key_file.into(),
        }
    }

    /// The layout of a data directory: artifacts in `<data-dir>/cache/compiled/`, the key in
    /// `<data-dir>/cache.key`.
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self::new(
            data_dir.join("cache").join("compiled"),
            data_dir.join("cache.key"),
        )
    }

    /// A cache in `dir` with its key next to the folder, in `<dir>.key`: outside the folder,
    /// so whoever may only write the cache folder cannot read or replace it.
    pub fn beside(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        let mut key_file = dir.clone().into_os_string();
        key_file.push(".key");
        Self::new(dir, key_file)
    }
}

/// An opened cache: the folder and the key.
pub(crate) struct Cache {
    dir: PathBuf,
    key: [u8; KEY_BYTES],
}

impl Cache {
    pub(crate) fn open(cache: &CompileCache) -> Result<Self, Error> {
        let dir = &cache.dir;
        if cache.key_file.starts_with(dir) {
            return Err(Error::CacheKey {
                path: cache.key_file.clone(),
                message: format!(
                    "the key must be kept outside the cache folder {}; choose a key file elsewhere",
                    dir.display()
                ),
            });
        }
        create_private_dir(dir).map_err(|e| Error::io("cannot create", dir, e))?;
        let key = read_or_create_key(&cache.key_file)?;
        Ok(Self {
            dir: dir.clone(),
            key,
        })
    }

    fn path(&self, digest: &str, engine_key: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir.join(format!("{hex}-{engine_key}.cwasm"))
    }

    fn tag(&self, artifact: &[u8], digest: &str, engine_key: &str) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length works");
        for part in [
            DOMAIN,
            digest.as_bytes(),
            b"\0",
            engine_key.as_bytes(),
            b"\0",
        ] {
            mac.update(part);
        }
        mac.update(artifact);
        mac
    }

    /// The cached component of `digest`, if there is an artifact and its tag holds. Any
    /// other artifact is reported and ignored; the caller compiles and stores a fresh one.
    pub(crate) fn load(
        &self,
        engine: &Engine,
        digest: &str,
        engine_key: &str,
    ) -> Option<Component> {
        let path = self.path(digest, engine_key);
        // Read into memory rather than mapped: a mapped file that someone truncates or
        // rewrites in place would crash the host with SIGBUS, and a copy that was checked is
        // the copy that runs.
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                tracing::warn!(path = %path.display(), "cannot read a compiled artifact, compiling again: {e}");
                return None;
            }
        };
        let verified = bytes.len() > TAG_BYTES && {
            let (tag, artifact) = bytes.split_at(TAG_BYTES);
            self.tag(artifact, digest, engine_key)
                .verify_slice(tag)
                .is_ok()
        };
        if !verified {
            tracing::warn!(
                path = %path.display(),
                "compiled artifact fails its integrity check (not written by this runtime for this component, or altered); compiling again and replacing it"
            );
            return None;
        }
        match deserialize(engine, &bytes[TAG_BYTES..]) {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), "ignoring unreadable compiled artifact, compiling again: {e:#}");
                None
            }
        }
    }

    /// Writes the artifact of `component` with its tag, through a temporary file and a
    /// rename, so a reader sees a whole artifact or none.
    pub(crate) fn store(&self, component: &Component, digest: &str, engine_key: &str) {
        let path = self.path(digest, engine_key);
        if let Err(e) = self.write(component, digest, engine_key, &path) {
            tracing::warn!(path = %path.display(), "cannot cache the compiled component: {e}");
        }
    }

    fn write(
        &self,
        component: &Component,
        digest: &str,
        engine_key: &str,
        path: &Path,
    ) -> std::io::Result<()> {
        let artifact = component.serialize().map_err(std::io::Error::other)?;
        let tag = self
            .tag(&artifact, digest, engine_key)
            .finalize()
            .into_bytes();
        let tmp = self.dir.join(format!(
            ".tmp-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        let result = (|| {
            let mut file = private_file(&tmp)?;
            file.write_all(&tag)?;
            file.write_all(&artifact)?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

#[allow(unsafe_code)]
fn deserialize(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: the artifact's tag was verified with a key only this runtime's owner can
    // read, so these bytes are exactly what `Component::serialize` produced for this
    // component and engine key; wasmtime also checks that they match the engine's version
    // and settings.
    unsafe { Component::deserialize(engine, artifact) }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder.create(dir)?;
        // An older runtime may have created the folder with the umask's mode.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    builder.create(dir)
}

fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

fn read_or_create_key(path: &Path) -> Result<[u8; KEY_BYTES], Error> {
    let bad = |message: String| Error::CacheKey {
        path: path.to_path_buf(),
        message,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            return bytes.try_into().map_err(|b: Vec<u8>| {
                bad(format!(
                    "it holds {} bytes, not {KEY_BYTES}; delete it (and the cache folder) and a new key is made",
                    b.len()
                ))
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("cannot read", path, e)),
    }
    let mut key = [0u8; KEY_BYTES];
    getrandom::fill(&mut key).map_err(|e| bad(format!("no random bytes for a new key: {e}")))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io("cannot create", parent, e))?;
    }
    match private_file(path) {
        Ok(mut file) => {
            file.write_all(&key)
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io("cannot write", path, e))?;
            Ok(key)
        }
        // Another process made the key first: use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_or_create_key(path),
        Err(e) => Err(Error::io("cannot create", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_inside_the_cache_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path().join("c"), dir.path().join("c").join("key"));
        let err = Cache::open(&cache).err().expect("refused").to_string();
        assert!(err.contains("outside the cache folder"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn the_key_is_private_and_kept_and_the_folder_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::in_data_dir(dir.path());
        let first = Cache::open(&cache).unwrap().key;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&cache.key_file), 0o600);
        assert_eq!(mode(&cache.dir), 0o700);
        assert_eq!(Cache::open(&cache).unwrap().key, first, "the key is reused");
        std::fs::write(&cache.key_file, b"short").unwrap();
        let err = Cache::open(&cache).err().expect("refused").to_string();
        assert!(err.contains("delete it"), "{err}");
    }

    #[test]
    fn keys_sit_beside_the_folder() {
        let c = CompileCache::beside("/data/cache/compiled");
        assert_eq!(c.key_file, Path::new("/data/cache/compiled.key"));
    }
}
