//! The read stage: source files into documents, each knowing the file it came from.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::read::{read_source, JsonlFields, Skipped, SourceDoc};
use crate::{IngestLimits, Progress, SourceFile};

/// A document read in this run.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadDoc {
    /// The document.
    pub doc: SourceDoc,
    /// The file it came from (absolute, canonical).
    pub file: PathBuf,
    /// What was given that found the file ([`SourceFile::root`]).
    pub root: PathBuf,
}

/// What the read stage found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadFiles {
    /// The documents, in file order.
    pub docs: Vec<ReadDoc>,
    /// Files read whole: their documents replace what they held before.
    pub read: BTreeSet<PathBuf>,
    /// Files found, read or not: a file found but unreadable keeps its documents.
    pub found: BTreeSet<PathBuf>,
    /// Files and lines skipped, with the reason.
    pub skipped: Vec<Skipped>,
}

/// Reads `files` into documents. A file that cannot be read, is not text, or is larger
/// than `limits.max_file_bytes` is skipped with the reason; the rest is read.
pub fn read_files(
    files: &[SourceFile],
    jsonl: &JsonlFields,
    limits: &IngestLimits,
    progress: &mut dyn Progress,
) -> ReadFiles {
    let mut out = ReadFiles::default();
    progress.stage("reading", files.len() as u64);
    for file in files {
        out.found.insert(file.path.clone());
        let result = read_bounded(&file.path, limits.max_file_bytes)
            .and_then(|bytes| read_source(&file.name, &bytes, file.format, jsonl));
        match result {
            Ok((docs, skipped)) => {
                out.read.insert(file.path.clone());
                out.docs.extend(docs.into_iter().map(|doc| ReadDoc {
                    doc,
                    file: file.path.clone(),
                    root: file.root.clone(),
                }));
                out.skipped.extend(skipped);
            }
            Err(reason) => out.skipped.push(Skipped {
                source: file.name.clone(),
                reason,
            }),
        }
        progress.advance(1);
    }
    progress.finish_stage();
    out
}

/// The bytes of a file of at most `limit` bytes, or why not. The size is checked before
/// reading, and the read stops past the limit, so neither a huge file nor one that grows
/// while it is read is taken into memory whole.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let too_large = |size: u64| {
        format!(
            "is {size} bytes, over the ingest limit of {limit} (`max-file-bytes` under [ingest] in genops.toml); split the file or raise the limit"
        )
    };
    let cannot = |e: std::io::Error| format!("cannot be read ({e}); check its permissions");
    let file = std::fs::File::open(path).map_err(cannot)?;
    let size = file.metadata().map_err(cannot)?.len();
    if size > limit {
        return Err(too_large(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Format;
    use crate::Silent;

    fn source(dir: &Path, name: &str, text: &str, format: Format) -> SourceFile {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        SourceFile {
            name: name.into(),
            path,
            root: dir.to_path_buf(),
            format,
        }
    }

    #[test]
    fn a_file_over_the_size_limit_is_skipped_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            source(dir.path(), "big.txt", &"x".repeat(2_000), Format::Text),
            source(dir.path(), "small.txt", "hello", Format::Text),
        ];
        let limits = IngestLimits {
            max_file_bytes: 1_000,
            ..IngestLimits::default()
        };
        let read = read_files(&files, &JsonlFields::default(), &limits, &mut Silent);
        assert_eq!(read.docs.len(), 1);
        assert_eq!(read.docs[0].doc.source, "small.txt");
        assert_eq!(read.skipped.len(), 1);
        assert_eq!(read.skipped[0].source, "big.txt");
        assert!(
            read.skipped[0].reason.contains("2000 bytes")
                && read.skipped[0].reason.contains("max-file-bytes"),
            "{:?}",
            read.skipped[0]
        );
        // Found but not read: its documents are kept, not replaced.
        assert!(read.found.contains(&files[0].path) && !read.read.contains(&files[0].path));
    }

    #[test]
    fn a_bounded_read_stops_at_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        std::fs::write(&path, "0123456789").unwrap();
        assert_eq!(read_bounded(&path, 10).unwrap(), b"0123456789");
        assert!(read_bounded(&path, 9).unwrap_err().contains("10 bytes"));
    }

    #[test]
    fn documents_know_their_file_and_root() {
        let dir = tempfile::tempdir().unwrap();
        let files = [source(
            dir.path(),
            "q#1.jsonl",
            "{\"id\":\"a\",\"text\":\"alpha\"}\n",
            Format::JsonLines,
        )];
        let read = read_files(
            &files,
            &JsonlFields::default(),
            &IngestLimits::default(),
            &mut Silent,
        );
        assert_eq!(read.docs[0].doc.source, "q#1.jsonl#a");
        assert_eq!(read.docs[0].file, files[0].path);
        assert_eq!(read.docs[0].root, dir.path());
    }
}
