//! One index version on disk: a folder written once by [`VersionBuilder`] and then only read
//! by [`IndexVersion`].
//!
//! ```text
//! v3/
//!   version.json   what the folder holds (rows, dimensions, filter fields, format)
//!   rows.jsonl     one line per row: chunk id, source, document, offsets, metadata
//!   text/          the tantivy index (BM25 over the chunk text, which it also stores)
//!   vectors.bin    the chunk embeddings, row i for row i (genops-vectors), if embedded
//!   ann/           the approximate nearest-neighbour graph over vectors.bin, if built
//! ```
//!
//! The builder writes into a sibling folder and renames it into place last, so a folder
//! under the version's name is always complete: a process killed mid-build leaves only a
//! `*.building-*` folder, which [`crate::remove_partial_builds`] clears.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tantivy::collector::{FilterCollector, TopDocs};
use tantivy::query::QueryParser;
use tantivy::schema::{
    Field, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED,
};
use tantivy::{doc, DocAddress, Index, IndexReader, ReloadPolicy, TantivyDocument};

use genops_search::{ChunkRecord, Scored, VectorMode};

use crate::filter::{allowed_rows, Fields, Filter, RowSet};
use crate::vectors::{AnnConfig, Vectors, VectorsWriter};
use crate::Error;

/// The version of the folder layout; a reader refuses folders of a newer one.
pub const FORMAT: u32 = 1;

const META_FILE: &str = "version.json";
const ROWS_FILE: &str = "rows.jsonl";
const TEXT_DIR: &str = "text";
/// The tokenizer of the text field: lowercasing, English stemming.
const TOKENIZER: &str = "en_stem";
/// Memory the tantivy writer may buffer before it writes a segment.
const WRITER_MEMORY: usize = 64 << 20;

/// Longest text query accepted, in bytes. A question, even a pasted paragraph, fits many
/// times over; every term costs a walk of its posting list, so a query the size of a file is
/// a mistake (or an attack) rather than a question.
pub(crate) const MAX_QUERY_BYTES: usize = 8 * 1024;
/// Deepest nesting of brackets accepted in a text query. tantivy's query parser recurses
/// once per level on the caller's stack, and a few thousand levels overflow it, which
/// aborts the whole process instead of failing the query; people nest a handful.
pub(crate) const MAX_QUERY_DEPTH: usize = 32;
/// Largest `version.json` read. It holds counts and the filter field names; anything near
/// this size is not one genops wrote.
const MAX_META_BYTES: u64 = 16 << 20;

/// Fields every row has, usable in filters besides the metadata keys.
pub const BUILTIN_FIELDS: [&str; 2] = ["source", "document"];

/// What a version folder holds, as `version.json` says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionMeta {
    /// The folder layout version ([`FORMAT`]).
    pub format: u32,
    /// Number of chunks.
    pub rows: u32,
    /// Dimensions of the chunk vectors, if the version has vectors.
    pub dimensions: Option<u32>,
    /// Whether an approximate nearest-neighbour graph was built.
    pub ann: bool,
    /// The fields filters may name: `source`, `document` and every metadata key.
    pub fields: Vec<String>,
    /// What the caller recorded about the version (index name, number, embedder, ...).
    #[serde(default)]
    pub extra: serde_json::Value,
}

/// One chunk as it goes into a version.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRow {
    /// The chunk's id in the store, stable across versions for the same chunk.
    pub chunk_id: String,
    /// The document's path as ingested.
    pub source: String,
    /// The document's content hash.
    pub document: String,
    /// Byte offsets of the chunk in the document's text.
    pub start: u64,
    /// End offset (exclusive).
    pub end: u64,
    /// The chunk's text.
    pub text: String,
    /// Document and chunk metadata, merged (chunk keys win).
    pub metadata: BTreeMap<String, String>,
    /// The chunk's embedding, when the version has vectors.
    pub vector: Option<Vec<f32>>,
}

/// The per-row facts kept in memory for filters and lookups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RowInfo {
    chunk: String,
    source: String,
    document: String,
    start: u64,
    end: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    metadata: BTreeMap<String, String>,
}

impl Fields for RowInfo {
    fn field(&self, name: &str) -> Option<&str> {
        match name {
            "source" => Some(&self.source),
            "document" => Some(&self.document),
            other => self.metadata.get(other).map(String::as_str),
        }
    }
}

struct TextSchema {
    schema: Schema,
    row: Field,
    text: Field,
}

fn text_schema() -> TextSchema {
    let mut builder = Schema::builder();
    let row = builder.add_u64_field("row", INDEXED | FAST | STORED);
    let text = builder.add_text_field(
        "text",
        TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(TOKENIZER)
                    .set_index_option(tantivy::schema::IndexRecordOption::WithFreqsAndPositions),
            )
            .set_stored(),
    );
    TextSchema {
        schema: builder.build(),
        row,
        text,
    }
}

/// Writes one version folder. Rows are numbered in the order they are added.
pub struct VersionBuilder {
    final_dir: PathBuf,
    work_dir: PathBuf,
    /// `None` only after `finish` or while dropping.
    writer: Option<tantivy::IndexWriter>,
    schema: TextSchema,
    rows: BufWriter<File>,
    vectors: Option<VectorsWriter>,
    dimensions: Option<u32>,
    fields: BTreeSet<String>,
    count: u32,
    finished: bool,
}

impl VersionBuilder {
    /// Starts a version that will live at `dir`, which must not exist yet. With
    /// `dimensions`, every row must carry a vector of that length.
    pub fn create(dir: &Path, dimensions: Option<u32>) -> Result<Self, Error> {
        if dir.exists() {
            return Err(Error::Exists(dir.to_path_buf()));
        }
        let parent = dir
            .parent()
            .ok_or_else(|| Error::Exists(dir.to_path_buf()))?;
        std::fs::create_dir_all(parent).map_err(|e| Error::io("cannot create", parent, e))?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let work_dir = parent.join(format!("{name}.building-{}", std::process::id()));
        if work_dir.exists() {
            std::fs::remove_dir_all(&work_dir)
                .map_err(|e| Error::io("cannot remove", &work_dir, e))?;
        }
        let text_dir = work_dir.join(TEXT_DIR);
        std::fs::create_dir_all(&text_dir).map_err(|e| Error::io("cannot create", &text_dir, e))?;
        let schema = text_schema();
        let index = Index::create_in_dir(&text_dir, schema.schema.clone())
            .map_err(|e| Error::tantivy("cannot create the text index", e))?;
        // One thread keeps rows in insertion order within segments and the build
        // deterministic; ingestion is dominated by embedding, not by this.
        let writer = index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(|e| Error::tantivy("cannot open the text index writer", e))?;
        let rows_path = work_dir.join(ROWS_FILE);
        let rows =
            File::create(&rows_path).map_err(|e| Error::io("cannot create", &rows_path, e))?;
        let vectors = match dimensions {
            Some(d) => Some(VectorsWriter::create(&work_dir, d)?),
            None => None,
        };
        Ok(Self {
            final_dir: dir.to_path_buf(),
            work_dir,
            writer: Some(writer),
            schema,
            rows: BufWriter::new(rows),
            vectors,
            dimensions,
            fields: BUILTIN_FIELDS.iter().map(|s| s.to_string()).collect(),
            count: 0,
            finished: false,
        })
    }

    /// Adds a row and returns its number.
    pub fn add(&mut self, row: NewRow) -> Result<u32, Error> {
        let number = self.count;
        // Row numbers are u32 everywhere (vectors, filters); refuse the row past the last.
        let next = number.checked_add(1).ok_or_else(|| Error::TooManyRows {
            dir: self.final_dir.clone(),
        })?;
        match (&mut self.vectors, &row.vector) {
            (Some(w), Some(v)) => w.push(v)?,
            (Some(_), None) => {
                return Err(Error::MissingVector {
                    chunk: row.chunk_id,
                })
            }
            (None, Some(_)) => {
                return Err(Error::UnexpectedVector {
                    chunk: row.chunk_id,
                })
            }
            (None, None) => {}
        }
        self.writer
            .as_mut()
            .expect("the writer lives until finish")
            .add_document(doc!(
                self.schema.row => u64::from(number),
                self.schema.text => row.text,
            ))
            .map_err(|e| Error::tantivy("cannot add a chunk to the text index", e))?;
        self.fields.extend(row.metadata.keys().cloned());
        let info = RowInfo {
            chunk: row.chunk_id,
            source: row.source,
            document: row.document,
            start: row.start,
            end: row.end,
            metadata: row.metadata,
        };
        let path = self.work_dir.join(ROWS_FILE);
        serde_json::to_writer(&mut self.rows, &info)
            .map_err(|e| Error::io("cannot write", &path, e.into()))?;
        self.rows
            .write_all(b"\n")
            .map_err(|e| Error::io("cannot write", &path, e))?;
        self.count = next;
        Ok(number)
    }

    /// Rows added so far.
    pub fn len(&self) -> u32 {
        self.count
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Commits everything, builds the approximate graph when asked (and there are vectors),
    /// writes `version.json`, and renames the folder into place.
    pub fn finish(
        mut self,
        ann: Option<&AnnConfig>,
        extra: serde_json::Value,
    ) -> Result<VersionMeta, Error> {
        let mut writer = self.writer.take().expect("the writer lives until finish");
        writer
            .commit()
            .map_err(|e| Error::tantivy("cannot commit the text index", e))?;
        writer
            .wait_merging_threads()
            .map_err(|e| Error::tantivy("cannot finish the text index", e))?;
        let rows_path = self.work_dir.join(ROWS_FILE);
        self.rows
            .flush()
            .and_then(|()| self.rows.get_ref().sync_all())
            .map_err(|e| Error::io("cannot write", &rows_path, e))?;
        let mut built_ann = false;
        if let Some(w) = self.vectors.take() {
            built_ann = w.finish(ann)?;
        }
        let meta = VersionMeta {
            format: FORMAT,
            rows: self.count,
            dimensions: self.dimensions,
            ann: built_ann,
            fields: self.fields.iter().cloned().collect(),
            extra,
        };
        let meta_path = self.work_dir.join(META_FILE);
        let json = serde_json::to_vec_pretty(&meta).expect("version meta serialises");
        write_synced(&meta_path, &json)?;
        std::fs::rename(&self.work_dir, &self.final_dir)
            .map_err(|e| Error::io("cannot move into place", &self.final_dir, e))?;
        if let Some(parent) = self.final_dir.parent() {
            // Make the rename itself durable.
            if let Ok(dir) = File::open(parent) {
                let _ = dir.sync_all();
            }
        }
        self.finished = true;
        Ok(meta)
    }
}

impl Drop for VersionBuilder {
    fn drop(&mut self) {
        if !self.finished {
            // Abandoned: stop tantivy's threads first (they write into the folder), then
            // leave nothing half-built behind.
            drop(self.writer.take());
            let _ = std::fs::remove_dir_all(&self.work_dir);
        }
    }
}

/// The shortest line of rows.jsonl: a row with empty strings, zero offsets and no metadata.
fn min_row_bytes() -> u64 {
    let empty = RowInfo {
        chunk: String::new(),
        source: String::new(),
        document: String::new(),
        start: 0,
        end: 0,
        metadata: BTreeMap::new(),
    };
    serde_json::to_vec(&empty).map_or(1, |v| v.len() as u64 + 1)
}

/// Reads a whole file that genops wrote small, refusing one larger than `limit` before
/// reading it (a damaged or foreign file must not be read into memory whole).
fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let file = File::open(path).map_err(|e| Error::io("cannot read", path, e))?;
    let mut raw = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut raw)
        .map_err(|e| Error::io("cannot read", path, e))?;
    if raw.len() as u64 > limit {
        return Err(Error::Damaged {
            path: path.to_path_buf(),
            message: format!("it is larger than the {limit} bytes such a file can be"),
        });
    }
    Ok(raw)
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut f = File::create(path).map_err(|e| Error::io("cannot create", path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io("cannot write", path, e))
}

/// An index version opened for queries. Cheap to share behind an `Arc`; every method takes
/// `&self` and may be called from many threads.
pub struct IndexVersion {
    dir: PathBuf,
    meta: VersionMeta,
    reader: IndexReader,
    parser: QueryParser,
    text: Field,
    rows: Vec<RowInfo>,
    by_chunk: HashMap<String, u32>,
    addresses: Vec<DocAddress>,
    vectors: Option<Vectors>,
}

impl std::fmt::Debug for IndexVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexVersion")
            .field("dir", &self.dir)
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl IndexVersion {
    /// Opens a version folder written by [`VersionBuilder`].
    pub fn open(dir: &Path) -> Result<Self, Error> {
        let meta_path = dir.join(META_FILE);
        let raw = read_bounded(&meta_path, MAX_META_BYTES).map_err(|e| match e {
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                Error::NotAVersion(dir.to_path_buf())
            }
            other => other,
        })?;
        let meta: VersionMeta = serde_json::from_slice(&raw).map_err(|e| Error::Damaged {
            path: meta_path.clone(),
            message: e.to_string(),
        })?;
        if meta.format > FORMAT {
            return Err(Error::NewerFormat {
                path: dir.to_path_buf(),
                found: meta.format,
            });
        }

        let rows_path = dir.join(ROWS_FILE);
        let file = File::open(&rows_path).map_err(|e| Error::io("cannot read", &rows_path, e))?;
        let rows_bytes = file
            .metadata()
            .map_err(|e| Error::io("cannot read", &rows_path, e))?
            .len();
        // The row count sizes the row table; a damaged count must not, so the reservation
        // is bounded by what rows.jsonl can hold, and the count is checked once it is read.
        let most = rows_bytes / min_row_bytes();
        let mut rows = Vec::with_capacity(u64::from(meta.rows).min(most) as usize);
        for (n, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| Error::io("cannot read", &rows_path, e))?;
            let info: RowInfo = serde_json::from_str(&line).map_err(|e| Error::Damaged {
                path: rows_path.clone(),
                message: format!("line {}: {e}", n + 1),
            })?;
            rows.push(info);
        }
        if rows.len() != meta.rows as usize {
            return Err(Error::Damaged {
                path: rows_path,
                message: format!("{} rows, but version.json says {}", rows.len(), meta.rows),
            });
        }
        let by_chunk = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.chunk.clone(), i as u32))
            .collect();

        let text_dir = dir.join(TEXT_DIR);
        let index = Index::open_in_dir(&text_dir).map_err(|e| Error::Damaged {
            path: text_dir.clone(),
            message: e.to_string(),
        })?;
        let schema = index.schema();
        let text = schema
            .get_field("text")
            .map_err(|e| Error::tantivy("the text index has no text field", e))?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| Error::tantivy("cannot open the text index", e))?;
        let addresses = row_addresses(&reader, meta.rows, &text_dir)?;
        // The default disjunction: any word of the query may match, and BM25 ranks chunks
        // with more of them (and rarer ones) higher.
        let parser = QueryParser::for_index(&index, vec![text]);

        let vectors = match meta.dimensions {
            Some(d) => Some(Vectors::open(dir, d, meta.rows, meta.ann)?),
            None => None,
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            meta,
            reader,
            parser,
            text,
            rows,
            by_chunk,
            addresses,
            vectors,
        })
    }

    /// The version's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What `version.json` says.
    pub fn meta(&self) -> &VersionMeta {
        &self.meta
    }

    /// Number of chunks.
    pub fn len(&self) -> u32 {
        self.meta.rows
    }

    /// Whether the version has no chunks.
    pub fn is_empty(&self) -> bool {
        self.meta.rows == 0
    }

    /// The row of a chunk id, if the version has it.
    pub fn row_of(&self, chunk_id: &str) -> Option<u32> {
        self.by_chunk.get(chunk_id).copied()
    }

    /// The rows that pass every filter (`None`: no filters, every row).
    pub fn allowed(&self, filters: &[Filter]) -> Result<Option<RowSet>, Error> {
        allowed_rows(filters, &self.rows, &self.meta.fields)
    }

    /// The `k` chunks whose text best matches `query` by BM25, best first. Results are the
    /// port's [`Scored`]: a chunk id and a score; [`row_of`](Self::row_of) maps an id to its
    /// row.
    pub fn search_text(
        &self,
        query: &str,
        k: usize,
        filters: &[Filter],
    ) -> Result<Vec<Scored>, Error> {
        let allowed = self.allowed(filters)?;
        self.search_text_in(query, k, allowed.map(Arc::new))
    }

    /// [`search_text`](Self::search_text) with filters already evaluated.
    pub fn search_text_in(
        &self,
        query: &str,
        k: usize,
        allowed: Option<Arc<RowSet>>,
    ) -> Result<Vec<Scored>, Error> {
        check_query(query)?;
        if k == 0 || self.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        // tantivy can panic on queries it accepts (fuzzing found a negated phrase that
        // matches nothing tripping one of its assertions): a query from a user or a plugin
        // must fail that one search, not take the host down with it.
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            // Lenient: a user's question with a stray `:` or quote is still a query.
            let (parsed, _) = self.parser.parse_query_lenient(query);
            let top = TopDocs::with_limit(k).order_by_score();
            match allowed {
                None => searcher.search(&parsed, &top),
                Some(set) => searcher.search(
                    &parsed,
                    &FilterCollector::new(
                        "row".to_string(),
                        move |row: u64| set.contains(row as u32),
                        top,
                    ),
                ),
            }
        }))
        .map_err(|_| {
            Error::BadQuery(
                "the text search engine failed on this query; rephrase it (for example without a negated phrase)".into(),
            )
        })?
        .map_err(|e| Error::tantivy("the text search failed", e))?;
        let mut hits = Vec::with_capacity(found.len());
        for (score, address) in found {
            let row = self.row_at(&searcher, address)?;
            hits.push(Scored {
                chunk_id: self.rows[row as usize].chunk.clone(),
                score: f64::from(score),
            });
        }
        Ok(hits)
    }

    fn row_at(&self, searcher: &tantivy::Searcher, address: DocAddress) -> Result<u32, Error> {
        let column = searcher
            .segment_reader(address.segment_ord)
            .fast_fields()
            .u64("row")
            .map_err(|e| Error::tantivy("the text index has no row column", e))?;
        column
            .first(address.doc_id)
            .map(|r| r as u32)
            .filter(|r| (*r as usize) < self.rows.len())
            .ok_or_else(|| Error::Damaged {
                path: self.dir.join(TEXT_DIR),
                message: format!("document {address:?} has no valid row"),
            })
    }

    /// The `k` chunks whose vectors are nearest `vector` (dot product), best first.
    pub fn search_vector(
        &self,
        vector: &[f32],
        k: usize,
        filters: &[Filter],
        mode: VectorMode,
    ) -> Result<Vec<Scored>, Error> {
        let allowed = self.allowed(filters)?;
        self.search_vector_in(vector, k, allowed.as_ref(), mode)
    }

    /// [`search_vector`](Self::search_vector) with filters already evaluated.
    pub fn search_vector_in(
        &self,
        vector: &[f32],
        k: usize,
        allowed: Option<&RowSet>,
        mode: VectorMode,
    ) -> Result<Vec<Scored>, Error> {
        let vectors = self.vectors.as_ref().ok_or_else(|| Error::NoVectors {
            dir: self.dir.clone(),
        })?;
        let found = vectors.search(vector, k, allowed, mode)?;
        Ok(found
            .into_iter()
            .map(|(row, score)| Scored {
                chunk_id: self.rows[row as usize].chunk.clone(),
                score: f64::from(score),
            })
            .collect())
    }

    /// Reads chunks back by id, in the order asked. An id the version does not have is an
    /// error naming it.
    pub fn fetch(&self, ids: &[&str], with_vectors: bool) -> Result<Vec<ChunkRecord>, Error> {
        let rows: Vec<u32> = ids
            .iter()
            .map(|id| {
                self.row_of(id).ok_or_else(|| Error::UnknownChunk {
                    chunk: id.to_string(),
                    dir: self.dir.clone(),
                })
            })
            .collect::<Result<_, _>>()?;
        self.fetch_rows(&rows, with_vectors)
    }

    /// Reads chunks back by row, in the order asked. Records are the port's
    /// ([`ChunkRecord`]), which carry no row: a caller that needs one has the rows it asked
    /// for, or [`row_of`](Self::row_of).
    pub fn fetch_rows(&self, rows: &[u32], with_vectors: bool) -> Result<Vec<ChunkRecord>, Error> {
        let searcher = self.reader.searcher();
        rows.iter()
            .map(|&row| {
                let info = self.rows.get(row as usize).ok_or_else(|| Error::Damaged {
                    path: self.dir.clone(),
                    message: format!("row {row} is past the last row"),
                })?;
                let doc: TantivyDocument = searcher
                    .doc(self.addresses[row as usize])
                    .map_err(|e| Error::tantivy("cannot read a chunk's text", e))?;
                let text = doc
                    .get_first(self.text)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string();
                let vector = match (&self.vectors, with_vectors) {
                    (Some(v), true) => Some(v.row(row).to_vec()),
                    _ => None,
                };
                Ok(ChunkRecord {
                    chunk_id: info.chunk.clone(),
                    source: info.source.clone(),
                    document: info.document.clone(),
                    text,
                    start: info.start,
                    end: info.end,
                    metadata: info.metadata.clone(),
                    vector,
                })
            })
            .collect()
    }

    /// The vector of a row, when the version has vectors.
    pub fn vector(&self, row: u32) -> Option<&[f32]> {
        self.vectors
            .as_ref()
            .filter(|_| row < self.meta.rows)
            .map(|v| v.row(row))
    }

    /// The vector store, for benchmarks that compare exact and approximate search.
    pub fn vectors(&self) -> Option<&Vectors> {
        self.vectors.as_ref()
    }
}

/// Refuses a query the parser must not see: longer than [`MAX_QUERY_BYTES`], with brackets
/// nested deeper than [`MAX_QUERY_DEPTH`], or with more `NOT`s than that (the parser
/// recurses once per `NOT` as well). Brackets count inside phrases too: the lenient parser
/// may reparse an unclosed phrase as plain terms.
pub(crate) fn check_query(query: &str) -> Result<(), Error> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(Error::BadQuery(format!(
            "the query is {} bytes, more than the {MAX_QUERY_BYTES} allowed; ask a shorter question",
            query.len()
        )));
    }
    let mut depth = 0usize;
    for c in query.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_QUERY_DEPTH {
                    return Err(Error::BadQuery(format!(
                        "the query nests brackets more than {MAX_QUERY_DEPTH} deep; remove some brackets"
                    )));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let nots = query
        .split(|c: char| c.is_whitespace() || "()[]{}".contains(c))
        .filter(|word| *word == "NOT")
        .count();
    if nots > MAX_QUERY_DEPTH {
        return Err(Error::BadQuery(format!(
            "the query has {nots} NOT operators, more than the {MAX_QUERY_DEPTH} allowed; remove some"
        )));
    }
    Ok(())
}

/// Where each row's tantivy document is, read from the `row` column of every segment.
fn row_addresses(reader: &IndexReader, rows: u32, dir: &Path) -> Result<Vec<DocAddress>, Error> {
    let mut addresses = vec![None; rows as usize];
    let searcher = reader.searcher();
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let column = segment
            .fast_fields()
            .u64("row")
            .map_err(|e| Error::tantivy("the text index has no row column", e))?;
        for doc in 0..segment.max_doc() {
            if let Some(row) = column.first(doc) {
                if let Some(slot) = addresses.get_mut(row as usize) {
                    *slot = Some(DocAddress::new(ord as u32, doc));
                }
            }
        }
    }
    addresses
        .into_iter()
        .enumerate()
        .map(|(row, a)| {
            a.ok_or_else(|| Error::Damaged {
                path: dir.to_path_buf(),
                message: format!("row {row} is missing from the text index"),
            })
        })
        .collect()
}
