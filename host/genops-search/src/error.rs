/// Errors of the search port, split by whose fault they are: the plugin sees each as its own
/// case of the WIT `search-error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No index of that name, or none with a live version. The message names the indexes
    /// there are.
    #[error("{0}")]
    UnknownIndex(String),
    /// The caller asked wrongly: an unknown filter field, a vector of the wrong length, an
    /// unknown chunk id, a vector search on an index without vectors.
    #[error("{0}")]
    InvalidQuery(String),
    /// A filter could not be parsed.
    #[error("`{text}` is not a filter; write field=value, field!=value, field<value, field<=value, field>value, field>=value or field^=prefix")]
    InvalidFilter {
        /// What was given.
        text: String,
    },
    /// The index failed (a damaged file, an I/O error).
    #[error("{0}")]
    Failed(String),
}
