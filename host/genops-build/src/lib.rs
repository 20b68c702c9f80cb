//! Builds genops plugins from Rust, C, Python and JavaScript sources into components.
