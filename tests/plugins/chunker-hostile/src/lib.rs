//! A chunker that misbehaves on purpose, for the host's sandbox tests.
