//! Chunking algorithms shared by the built-in chunker plugins, usable natively too.
