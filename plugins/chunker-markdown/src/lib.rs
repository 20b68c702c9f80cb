//! The built-in markdown chunker plugin.
