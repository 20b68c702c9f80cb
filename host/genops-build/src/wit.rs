//! The WIT of the `genops:plugin` package, carried inside the binary so that building a
//! plugin never depends on where (or whether) the genops source tree is.

use std::path::{Path, PathBuf};

use crate::Error;

/// The version of the `genops:plugin` world this crate builds plugins against: the newest of
/// the 0.1 line. A plugin's manifest may name any earlier version of the line as its `world`
/// (the version it needs at least); hosts of any later 0.1.x load it.
pub const WORLD_VERSION: &str = "0.1.2";

const FILES: [(&str, &str); 3] = [
    (
        "types.wit",
        include_str!("../../../wit/plugin@0.1/types.wit"),
    ),
    ("host.wit", include_str!("../../../wit/plugin@0.1/host.wit")),
    (
        "worlds.wit",
        include_str!("../../../wit/plugin@0.1/worlds.wit"),
    ),
];

/// Writes the WIT package into `<scratch>/wit/` and returns that folder.
pub(crate) fn write(scratch: &Path) -> Result<PathBuf, Error> {
    let dir = scratch.join("wit");
    std::fs::create_dir_all(&dir).map_err(Error::io("create", &dir))?;
    for (name, text) in FILES {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(Error::io("write", &path))?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_package_is_the_declared_version() {
        for (_, text) in FILES {
            assert!(
                text.contains(&format!("package genops:plugin@{WORLD_VERSION};")),
                "{text}"
            );
        }
    }
}
