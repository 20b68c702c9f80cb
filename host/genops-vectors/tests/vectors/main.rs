//! Integration tests of genops-vectors, one module per area.

mod ann;
mod common;
mod exact;
mod file;
mod writer;
