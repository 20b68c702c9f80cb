//! A chunker that returns at once without calling any host import, so the benchmarks can
//! measure the bare cost of an export call.

use genops_sdk::chunker::{Chunk, Chunker, Document, PluginError, PluginInfo};

/// The exported plugin.
pub struct Empty;

impl Chunker for Empty {
    fn describe() -> PluginInfo {
        PluginInfo::new("chunker-empty", "returns no chunks")
    }

    fn split(_doc: Document) -> Result<Vec<Chunk>, PluginError> {
        Ok(Vec::new())
    }
}

genops_sdk::export_chunker!(Empty);
