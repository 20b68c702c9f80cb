//! Metadata filters, evaluated once per query into the set of rows they allow, which both
//! the text and the vector search then honour.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::Error;

/// How a filter compares a chunk's field with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FilterOp {
    /// Equal.
    Eq,
    /// Not equal (a chunk without the field passes).
    NotEq,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// The field starts with the value.
    Prefix,
}

impl FilterOp {
    /// The operator as written in filters on the command line (`year>=2000`).
    pub fn symbol(self) -> &'static str {
        match self {
            FilterOp::Eq => "=",
            FilterOp::NotEq => "!=",
            FilterOp::Lt => "<",
            FilterOp::Lte => "<=",
            FilterOp::Gt => ">",
            FilterOp::Gte => ">=",
            FilterOp::Prefix => "^=",
        }
    }
}

/// A condition on one field of a chunk; all filters of a query must hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// `source`, `document`, or a metadata key of the chunk or its document.
    pub field: String,
    /// The comparison.
    pub op: FilterOp,
    /// The value compared with.
    pub value: String,
}

impl Filter {
    /// Parses `field=value`, `field!=value`, `field<value`, `field<=value`, `field>value`,
    /// `field>=value` or `field^=prefix`.
    pub fn parse(text: &str) -> Result<Filter, Error> {
        // Two-character operators first, so `a<=b` is not read as `a<` `=b`.
        const OPS: [(&str, FilterOp); 7] = [
            ("!=", FilterOp::NotEq),
            ("<=", FilterOp::Lte),
            (">=", FilterOp::Gte),
            ("^=", FilterOp::Prefix),
            ("=", FilterOp::Eq),
            ("<", FilterOp::Lt),
            (">", FilterOp::Gt),
        ];
        let found = OPS
            .iter()
            .filter_map(|(sym, op)| text.find(sym).map(|at| (at, *sym, *op)))
            .min_by_key(|(at, sym, _)| (*at, std::cmp::Reverse(sym.len())));
        match found {
            Some((at, sym, op)) if at > 0 => Ok(Filter {
                field: text[..at].trim().to_string(),
                op,
                value: text[at + sym.len()..].trim().to_string(),
            }),
            _ => Err(Error::InvalidFilter(format!(
                "`{text}` is not a filter; write field=value, field!=value, field<value, field<=value, field>value, field>=value or field^=prefix"
            ))),
        }
    }

    /// Whether a chunk whose field has `actual` (or lacks it) passes.
    fn passes(&self, actual: Option<&str>) -> bool {
        let Some(actual) = actual else {
            return self.op == FilterOp::NotEq;
        };
        match self.op {
            FilterOp::Eq => actual == self.value,
            FilterOp::NotEq => actual != self.value,
            FilterOp::Prefix => actual.starts_with(&self.value),
            FilterOp::Lt => compare(actual, &self.value) == Ordering::Less,
            FilterOp::Lte => compare(actual, &self.value) != Ordering::Greater,
            FilterOp::Gt => compare(actual, &self.value) == Ordering::Greater,
            FilterOp::Gte => compare(actual, &self.value) != Ordering::Less,
        }
    }
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}{}", self.field, self.op.symbol(), self.value)
    }
}

/// Numbers compare as numbers (`9 < 10`), anything else as text.
fn compare(a: &str, b: &str) -> Ordering {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.cmp(b),
    }
}

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
        if filters.iter().all(|f| f.passes(fields.field(&f.field))) {
            set.insert(row as u32);
        }
    }
    Ok(Some(set))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_operator() {
        let cases = [
            ("year>=2000", "year", FilterOp::Gte, "2000"),
            ("year<=2000", "year", FilterOp::Lte, "2000"),
            ("year<2000", "year", FilterOp::Lt, "2000"),
            ("year>2000", "year", FilterOp::Gt, "2000"),
            ("lang=en", "lang", FilterOp::Eq, "en"),
            ("lang!=en", "lang", FilterOp::NotEq, "en"),
            ("source^=docs/", "source", FilterOp::Prefix, "docs/"),
            ("title=a=b", "title", FilterOp::Eq, "a=b"),
        ];
        for (text, field, op, value) in cases {
            let f = Filter::parse(text).unwrap();
            assert_eq!(
                (f.field.as_str(), f.op, f.value.as_str()),
                (field, op, value)
            );
            assert_eq!(Filter::parse(&f.to_string()).unwrap(), f);
        }
        for bad in ["", "year", "=2000"] {
            let err = Filter::parse(bad).unwrap_err().to_string();
            assert!(err.contains("field=value"), "{err}");
        }
    }

    #[test]
    fn numbers_compare_as_numbers_and_missing_fields_only_pass_not_eq() {
        let f = |s: &str| Filter::parse(s).unwrap();
        assert!(f("n<10").passes(Some("9")));
        assert!(!f("n<10").passes(Some("10")));
        assert!(f("s<b").passes(Some("a")));
        assert!(f("n!=1").passes(None));
        assert!(!f("n=1").passes(None));
        assert!(!f("n>=1").passes(None));
    }

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
