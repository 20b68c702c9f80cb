//! The files an ingest reads: paths, folders and patterns expanded to [`SourceFile`]s, each
//! with the absolute place it was found, so that later runs find it from anywhere.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::read::Format;
use crate::Error;

/// A file to ingest, as [`crate::expand`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The name its documents go by in the index: the path as given, or as found under a
    /// folder or by a pattern.
    pub name: String,
    /// Where to read it: absolute and canonical, so the same file is the same path from
    /// any working directory.
    pub path: PathBuf,
    /// The absolute, canonical path of what was given that found it: the folder, the
    /// pattern's fixed prefix, or a named file's folder. When a root is gone as a whole,
    /// its files are missing, not deleted, and prune refuses to drop them.
    pub root: PathBuf,
    /// How to read it.
    pub format: Format,
}

/// [`crate::expand`] with relative paths taken from `base` instead of the working
/// directory; names stay as given.
pub fn expand_in(base: &Path, paths: &[String]) -> Result<Vec<SourceFile>, Error> {
    let mut out: BTreeMap<String, SourceFile> = BTreeMap::new();
    for given in paths {
        let path = base.join(given);
        if given.contains(['*', '?', '[']) {
            // The base is a folder, not a pattern: its own `[` or `*` match themselves.
            let pattern = if Path::new(given).is_absolute() {
                given.clone()
            } else {
                format!("{}/{given}", glob::Pattern::escape(&base.to_string_lossy()))
            };
            let matches = glob::glob(&pattern).map_err(|e| Error::BadPattern {
                pattern: given.clone(),
                message: e.to_string(),
            })?;
            let root = canonical(&fixed_prefix(&path))?;
            let mut any = false;
            for m in matches.flatten() {
                if let Some(format) = m.is_file().then(|| Format::of(&m)).flatten() {
                    let name = m.strip_prefix(base).unwrap_or(&m);
                    // A relative pattern names what it finds relatively, as it always did.
                    let name = if Path::new(given).is_absolute() {
                        m.display().to_string()
                    } else {
                        name.display().to_string()
                    };
                    insert(&mut out, name, &m, &root, format)?;
                    any = true;
                }
            }
            if !any {
                return Err(Error::NothingFound(given.clone()));
            }
        } else if path.is_dir() {
            let before = out.len();
            let root = canonical(&path)?;
            walk(&path, Path::new(given), &root, &mut out)?;
            if out.len() == before {
                return Err(Error::NothingFound(given.clone()));
            }
        } else if path.is_file() {
            let format =
                Format::of(&path).ok_or_else(|| Error::UnknownFormat(PathBuf::from(given)))?;
            let file = canonical(&path)?;
            let root = file.parent().map(Path::to_path_buf).unwrap_or_default();
            out.insert(
                given.clone(),
                SourceFile {
                    name: given.clone(),
                    path: file,
                    root,
                    format,
                },
            );
        } else {
            return Err(Error::NoSuchPath(given.clone()));
        }
    }
    Ok(out.into_values().collect())
}

fn insert(
    out: &mut BTreeMap<String, SourceFile>,
    name: String,
    path: &Path,
    root: &Path,
    format: Format,
) -> Result<(), Error> {
    // A file that cannot be resolved (a dangling link) is still listed, by its absolute
    // path: reading it fails, and the reader reports it as skipped with the reason, like
    // any other unreadable file, rather than failing the whole run.
    let path = match canonical(path) {
        Ok(path) => path,
        Err(_) => std::path::absolute(path).map_err(|e| Error::Io {
            action: "cannot resolve",
            path: path.to_path_buf(),
            source: e,
        })?,
    };
    out.insert(
        name.clone(),
        SourceFile {
            name,
            path,
            root: root.to_path_buf(),
            format,
        },
    );
    Ok(())
}

fn canonical(path: &Path) -> Result<PathBuf, Error> {
    std::fs::canonicalize(path).map_err(|e| Error::Io {
        action: "cannot resolve",
        path: path.to_path_buf(),
        source: e,
    })
}

/// The folders of a pattern before its first component with a wildcard.
fn fixed_prefix(pattern: &Path) -> PathBuf {
    let mut prefix = PathBuf::new();
    for component in pattern.components() {
        if let Component::Normal(part) = component {
            if part.to_string_lossy().contains(['*', '?', '[']) {
                break;
            }
        }
        prefix.push(component);
    }
    prefix
}

/// Reads `dir` recursively, naming what it finds under `name`. Symbolic links to folders
/// are not followed: a link back up the tree made the walk loop (duplicate documents, or
/// no end at all), and a link out of the tree reads what was not given. Links to files
/// are read.
fn walk(
    dir: &Path,
    name: &Path,
    root: &Path,
    out: &mut BTreeMap<String, SourceFile>,
) -> Result<(), Error> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let file_name = entry.file_name();
        if file_name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let is_dir = if kind.is_symlink() {
            if path.is_dir() {
                tracing::warn!(path = %path.display(), "not following a link to a folder; give the folder itself to ingest it");
                continue;
            }
            false
        } else {
            kind.is_dir()
        };
        let child = name.join(&file_name);
        if is_dir {
            walk(&path, &child, root, out)?;
        } else if let Some(format) = Format::of(&path) {
            insert(out, child.display().to_string(), &path, root, format)?;
        }
    }
    Ok(())
}

/// The file a document came from, by its name: `a.jsonl#7` came from `a.jsonl`, and
/// `notes#1.txt` is a file of its own. Only a `#` after a JSON Lines file's name starts a
/// record id, so a `#` in any other file name is part of it. Used for documents recorded
/// before the store kept each document's file.
pub(crate) fn file_of(source: &str) -> &str {
    for (at, _) in source.match_indices('#') {
        let file = &source[..at];
        if Format::of(Path::new(file)) == Some(Format::JsonLines) {
            return file;
        }
    }
    source
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_of_a_jsonl_record_is_the_part_before_the_hash() {
        assert_eq!(file_of("data/faq.jsonl#q1"), "data/faq.jsonl");
        assert_eq!(file_of("data/faq.jsonl#q#2"), "data/faq.jsonl");
        assert_eq!(file_of("docs/a.md"), "docs/a.md");
    }

    #[test]
    fn a_file_named_with_a_hash_is_not_taken_for_a_jsonl_record() {
        assert_eq!(file_of("notes/a#b.txt"), "notes/a#b.txt");
        assert_eq!(file_of("c#/x.jsonl#7"), "c#/x.jsonl");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let docs = dir.path().join("docs");
        std::fs::create_dir_all(docs.join("sub")).unwrap();
        std::fs::write(docs.join("a.md"), "# A").unwrap();
        std::fs::write(docs.join("sub/b.txt"), "b").unwrap();
        // A link back to the top, and one to itself's parent: once 41 duplicate documents,
        // or a walk that never ended.
        std::os::unix::fs::symlink(&docs, docs.join("sub/loop")).unwrap();
        std::os::unix::fs::symlink("..", docs.join("sub/up")).unwrap();
        // A link to a file is still read.
        std::os::unix::fs::symlink(docs.join("a.md"), docs.join("sub/alias.md")).unwrap();
        let files = expand_in(dir.path(), &["docs".to_string()]).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["docs/a.md", "docs/sub/alias.md", "docs/sub/b.txt"]);
        let root = std::fs::canonicalize(&docs).unwrap();
        assert!(files.iter().all(|f| f.root == root && f.path.is_absolute()));
    }

    #[test]
    fn relative_paths_are_taken_from_the_base_and_named_as_given() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("docs")).unwrap();
        std::fs::write(dir.path().join("docs/a#1.md"), "x").unwrap();
        let files = expand_in(dir.path(), &["docs/a#1.md".into(), "docs/*.md".into()]).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].name, "docs/a#1.md");
        assert_eq!(
            files[0].root,
            std::fs::canonicalize(dir.path().join("docs")).unwrap()
        );
    }
}
