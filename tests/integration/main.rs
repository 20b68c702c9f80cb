//! Integration tests: real components built from this repository, loaded by the real host.

mod builtins;
mod hot_swap;
mod kinds;
mod languages;
mod loading;
mod models;
mod retrievers;
mod sandbox;
