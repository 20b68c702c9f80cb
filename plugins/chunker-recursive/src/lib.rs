//! The built-in recursive chunker plugin.
