//! The stages of one ingest, each a step with named input and output that can be run and
//! tested alone: [`read`] files into documents, [`chunk`] documents (or take the store's
//! chunks), [`embed`] chunks (or take the store's vectors), and [`index`] them into a
//! version folder.

pub mod chunk;
pub mod embed;
pub mod index;
pub mod read;
