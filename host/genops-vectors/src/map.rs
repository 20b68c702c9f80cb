//! The crate's only `unsafe` code: mapping a vectors file into memory and viewing its bytes
//! as `f32`. Everything else is safe Rust that works on the slices handed out here.
#![allow(unsafe_code)]

use std::fs::File;
use std::io;

use memmap2::Mmap;

/// Maps `file` read-only into memory.
pub(crate) fn map_read_only(file: &File) -> io::Result<Mmap> {
    // SAFETY: a mapping is undefined behaviour only if the file changes under it. A vectors
    // file is written once, through a temporary file that `VectorWriter::finish` renames into
    // place, and is never opened for writing again: a rebuilt index version renames a new
    // file over the old name, which leaves the inode we map untouched (the kernel keeps it
    // until the last mapping goes). Only someone editing the file in place by hand, outside
    // genops, could break this, as they could corrupt any other file the program trusts.
    unsafe { Mmap::map(file) }
}

/// Views little-endian bytes as `f32`, or `None` if `bytes` is not 4-byte aligned or not a
/// whole number of `f32`.
pub(crate) fn as_f32(bytes: &[u8]) -> Option<&[f32]> {
    // SAFETY: every bit pattern is a valid `f32`, and `align_to` only puts into the middle
    // slice the part of `bytes` that is correctly aligned for `f32`; we accept the result only
    // when that middle slice covers all of `bytes`. The lifetime stays that of `bytes`.
    let (head, body, tail) = unsafe { bytes.align_to::<f32>() };
    (head.is_empty() && tail.is_empty()).then_some(body)
}
