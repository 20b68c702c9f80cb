//! Metadata filters: one type and one parser for every caller and every index.

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
            _ => Err(Error::InvalidFilter {
                text: text.to_string(),
            }),
        }
    }

    /// Whether a chunk whose field has `actual` (or lacks it: `None`) passes. Numbers
    /// compare as numbers (`9 < 10`), anything else as text.
    pub fn matches(&self, actual: Option<&str>) -> bool {
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

fn compare(a: &str, b: &str) -> Ordering {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.cmp(b),
    }
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
        assert!(f("n<10").matches(Some("9")));
        assert!(!f("n<10").matches(Some("10")));
        assert!(f("s<b").matches(Some("a")));
        assert!(f("n!=1").matches(None));
        assert!(!f("n=1").matches(None));
        assert!(!f("n>=1").matches(None));
    }
}
