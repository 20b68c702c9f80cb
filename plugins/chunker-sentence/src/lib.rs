//! The built-in sentence chunker plugin.
