//! The `genops` command line.
fn main() {}
