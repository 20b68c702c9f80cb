//! Benchmarks of the genops plugin runtime, printed side by side with their native peers.
