//! Metadata filters, evaluated once per query into the set of rows they allow, which both
//! the text and the vector search then honour.

use crate::Error;

// The filter type and its parser live in the search port, so the runtime, the CLI and the
// index share one of each.
pub use genops_search::{Filter, FilterOp};

/// A set of row numbers of one index version, as a bitset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowSet {
    words: Vec<u64>,
    len: u32,
}

impl RowSet {
    /// An empty set over `rows` rows.
    pub fn empty(rows: u32) -> Self {
        Self {
            words: vec![0; (rows as usize).div_ceil(64)],
            len: 0,
        }
    }

    /// Adds a row.
    pub fn insert(&mut self, row: u32) {
        let (w, b) = ((row / 64) as usize, row % 64);
        if let Some(word) = self.words.get_mut(w) {
            if *word & (1 << b) == 0 {
                *word |= 1 << b;
                self.len += 1;
            }
        }
    }

    /// Whether the set holds `row`.
    #[inline]
    pub fn contains(&self, row: u32) -> bool {
        self.words
            .get((row / 64) as usize)
            .is_some_and(|w| w & (1 << (row % 64)) != 0)
    }

    /// How many rows the set holds.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The searchable fields of one row: its source, its document and its metadata.
pub(crate) trait Fields {
    fn field(&self, name: &str) -> Option<&str>;
}

/// The rows that pass every filter, or `None` when there are no filters (every row passes).
/// A filter on a field that no row of the version has is an error naming the fields that
/// exist, since it would silently match nothing (or everything, for `!=`).
pub(crate) fn allowed_rows<R: Fields>(
    filters: &[Filter],
    rows: &[R],
    known: &[String],
) -> Result<Option<RowSet>, Error> {
    if filters.is_empty() {
        return Ok(None);
    }
    for f in filters {
        if !known.iter().any(|k| k == &f.field) {
            return Err(Error::UnknownField {
                field: f.field.clone(),
                known: known.to_vec(),
            });
        }
    }
    let mut set = RowSet::empty(rows.len() as u32);
    for (row, fields) in rows.iter().enumerate() {
        if filters.iter().all(|f| f.matches(fields.field(&f.field))) {
            set.insert(row as u32);
        }
    }
    Ok(Some(set))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_sets_hold_what_was_inserted() {
        let mut s = RowSet::empty(130);
        for r in [0, 63, 64, 129, 129] {
            s.insert(r);
        }
        assert_eq!(s.len(), 4);
        assert!(s.contains(64) && !s.contains(65) && !s.contains(1000));
        s.insert(5000);
        assert_eq!(s.len(), 4, "rows past the end are ignored");
    }
}
