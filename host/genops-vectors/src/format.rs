//! The on-disk header of a vectors file. See the crate documentation for the layout.

use std::path::Path;

use crate::error::{Error, Result};

/// The first eight bytes of every vectors file.
pub const MAGIC: [u8; 8] = *b"GENOPSVX";

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Size of the header; the matrix starts right after it, at a 64-byte boundary.
pub const HEADER_LEN: usize = 64;

/// The `dtype` field: little-endian IEEE-754 `f32`, the only element type so far.
const DTYPE_F32_LE: u32 = 0;

/// Largest row count: row numbers are `u32`.
pub const MAX_ROWS: u64 = u32::MAX as u64;

/// The fields of a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub dim: u32,
    pub rows: u64,
    pub checksum: u32,
}

impl Header {
    /// Encodes the header, with the header checksum in its last four bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..8].copy_from_slice(&MAGIC);
        out[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        out[12..16].copy_from_slice(&self.dim.to_le_bytes());
        out[16..24].copy_from_slice(&self.rows.to_le_bytes());
        out[24..28].copy_from_slice(&self.checksum.to_le_bytes());
        out[28..32].copy_from_slice(&DTYPE_F32_LE.to_le_bytes());
        let crc = crc32fast::hash(&out[..60]);
        out[60..64].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decodes and checks a header read from `path`. `bytes` is the start of the file, at most
    /// [`HEADER_LEN`] bytes; `file_len` the size of the whole file.
    pub fn decode(path: &Path, bytes: &[u8], file_len: u64) -> Result<Header> {
        let corrupt = |reason: String| Error::CorruptHeader {
            path: path.to_path_buf(),
            reason,
        };
        if file_len == 0 {
            return Err(Error::Empty {
                path: path.to_path_buf(),
            });
        }
        // The magic first, so that a short file of another kind is named as such rather than
        // as a truncated vectors file.
        let magic_len = bytes.len().min(MAGIC.len());
        if bytes[..magic_len] != MAGIC[..magic_len] {
            return Err(Error::BadMagic {
                path: path.to_path_buf(),
                found: bytes[..magic_len].to_vec(),
            });
        }
        if bytes.len() < HEADER_LEN {
            return Err(Error::Truncated {
                path: path.to_path_buf(),
                expected: HEADER_LEN as u64,
                found: file_len,
            });
        }
        let u32_at = |at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let version = u32_at(8);
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let stored_crc = u32_at(60);
        let actual_crc = crc32fast::hash(&bytes[..60]);
        if stored_crc != actual_crc {
            return Err(corrupt(format!(
                "header checksum {stored_crc:08x} does not match its content {actual_crc:08x}"
            )));
        }
        let dim = u32_at(12);
        let mut rows_bytes = [0u8; 8];
        rows_bytes.copy_from_slice(&bytes[16..24]);
        let rows = u64::from_le_bytes(rows_bytes);
        let checksum = u32_at(24);
        let dtype = u32_at(28);
        if dtype != DTYPE_F32_LE {
            return Err(corrupt(format!("unknown element type {dtype}")));
        }
        if dim == 0 {
            return Err(corrupt("dimension is 0".into()));
        }
        if rows > MAX_ROWS {
            return Err(corrupt(format!(
                "{rows} rows, more than the {MAX_ROWS} allowed"
            )));
        }
        let header = Header {
            dim,
            rows,
            checksum,
        };
        let expected = header
            .file_len()
            .ok_or_else(|| corrupt(format!("{rows} rows of {dim} values overflow a file size")))?;
        if file_len < expected {
            return Err(Error::Truncated {
                path: path.to_path_buf(),
                expected,
                found: file_len,
            });
        }
        if file_len > expected {
            return Err(Error::Oversized {
                path: path.to_path_buf(),
                expected,
                found: file_len,
            });
        }
        Ok(header)
    }

    /// Size of the payload in bytes, `None` on overflow.
    pub fn payload_len(&self) -> Option<u64> {
        self.rows.checked_mul(u64::from(self.dim))?.checked_mul(4)
    }

    /// Size of the whole file in bytes, `None` on overflow.
    pub fn file_len(&self) -> Option<u64> {
        self.payload_len()?.checked_add(HEADER_LEN as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            dim: 3,
            rows: 2,
            checksum: 0xdead_beef,
        }
    }

    #[test]
    fn round_trip() {
        let h = header();
        let bytes = h.encode();
        let len = h.file_len().unwrap_or_default();
        assert_eq!(len, 64 + 24);
        let back = Header::decode(Path::new("v.bin"), &bytes, len);
        assert_eq!(back.ok(), Some(h));
    }

    #[test]
    fn a_flipped_header_bit_is_caught() {
        let h = header();
        let mut bytes = h.encode();
        bytes[13] ^= 1;
        let err = Header::decode(Path::new("v.bin"), &bytes, 88);
        assert!(matches!(err, Err(Error::CorruptHeader { .. })), "{err:?}");
    }

    #[test]
    fn a_short_file_with_the_magic_is_truncated() {
        let bytes = header().encode();
        let err = Header::decode(Path::new("v.bin"), &bytes[..20], 20);
        assert!(
            matches!(
                err,
                Err(Error::Truncated {
                    expected: 64,
                    found: 20,
                    ..
                })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn a_short_file_of_another_kind_is_bad_magic() {
        let err = Header::decode(Path::new("v.bin"), b"{\"a\"", 4);
        assert!(matches!(err, Err(Error::BadMagic { .. })), "{err:?}");
    }

    #[test]
    fn a_newer_version_is_named() {
        let mut bytes = header().encode();
        bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
        let err = Header::decode(Path::new("v.bin"), &bytes, 88);
        assert!(
            matches!(
                err,
                Err(Error::UnsupportedVersion {
                    found: 2,
                    supported: 1,
                    ..
                })
            ),
            "{err:?}"
        );
    }

    #[test]
    fn a_damaged_row_count_is_bounded_by_the_file_size() {
        // A header whose own checksum is right but whose row count is not what the file
        // holds: nothing may be sized by the count before it is compared with the file.
        let h = Header {
            dim: 384,
            rows: u64::from(u32::MAX),
            checksum: 0,
        };
        let err = Header::decode(Path::new("v.bin"), &h.encode(), 64 + 384 * 4);
        assert!(
            matches!(&err, Err(Error::Truncated { found: 1600, .. })),
            "{err:?}"
        );
        assert!(format!("{}", err.unwrap_err()).contains("v.bin"));
    }
}
