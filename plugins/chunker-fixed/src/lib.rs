//! The built-in fixed chunker plugin.
