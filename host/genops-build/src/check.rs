//! Checks that a build produced what the host will load: a component that exports the
//! manifest's kind at the world version it was built against ([`WORLD_VERSION`]) and
//! imports only what the host provides.

use genops_manifest::Manifest;
use wit_component::DecodedWasm;
use wit_parser::{Resolve, WorldItem, WorldKey};

use crate::{Error, WORLD_VERSION};

/// The interfaces a component imports and exports, by full name.
#[derive(Debug)]
pub(crate) struct Interfaces {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

pub(crate) fn check(bytes: &[u8], manifest: &Manifest) -> Result<Interfaces, Error> {
    let bad = |message: String| Error::BadComponent {
        plugin: manifest.name.clone(),
        message,
    };
    if !wasmparser::Parser::is_component(bytes) {
        return Err(bad(
            "the build produced a core module, not a component; a Rust crate must target \
             wasm32-wasip2"
                .into(),
        ));
    }
    let (resolve, world) = match wit_component::decode(bytes) {
        Ok(DecodedWasm::Component(resolve, world)) => (resolve, world),
        Ok(DecodedWasm::WitPackage(..)) => {
            return Err(bad(
                "the build produced a WIT package, not a component".into()
            ))
        }
        Err(e) => return Err(bad(format!("the component does not decode: {e:#}"))),
    };
    let world = &resolve.worlds[world];
    let imports: Vec<String> = world
        .imports
        .iter()
        .map(|(key, item)| name(&resolve, key, item))
        .collect();
    let exports: Vec<String> = world
        .exports
        .iter()
        .map(|(key, item)| name(&resolve, key, item))
        .collect();

    // The sources were built against the WIT of WORLD_VERSION, whatever older version the
    // manifest says the plugin needs, so that is the version of the export.
    let package = format!("genops:plugin/{{}}@{WORLD_VERSION}");
    let expected = package.replace("{}", manifest.kind.as_str());
    if !exports.contains(&expected) {
        return Err(bad(format!(
            "the component exports [{}] but a {} plugin built against genops:plugin@{WORLD_VERSION} \
             must export {expected}; check `kind` in the manifest and the world the sources target",
            exports.join(", "),
            manifest.kind,
        )));
    }
    // `search` is linked for every kind, but only the retriever world imports it.
    let provided =
        ["types", "logging", "config", "models", "search"].map(|i| package.replace("{}", i));
    if let Some(extra) = imports
        .iter()
        .find(|i| !provided.contains(i) && !i.starts_with("wasi:"))
    {
        return Err(bad(format!(
            "the component imports {extra}, which the genops host does not provide; \
             plugins may import only {} and wasi interfaces",
            provided.join(", ")
        )));
    }
    Ok(Interfaces { imports, exports })
}

/// An import's or export's full name: `ns:pkg/iface@version` for interfaces, the plain name
/// for functions and types at the world's root.
fn name(resolve: &Resolve, key: &WorldKey, item: &WorldItem) -> String {
    if let WorldItem::Interface { id, .. } = item {
        if let Some(name) = resolve.id_of(*id) {
            return name;
        }
    }
    resolve.name_world_key(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest::from_toml_str(
            "name = \"p\"\nversion = \"0.1.0\"\nkind = \"chunker\"\nworld = \"0.1.0\"\n",
        )
        .unwrap()
    }

    #[test]
    fn core_module_is_refused() {
        let empty_module = b"\0asm\x01\0\0\0";
        let err = check(empty_module, &manifest()).unwrap_err().to_string();
        assert!(err.contains("core module"), "{err}");
    }

    #[test]
    fn component_without_the_export_is_refused() {
        let empty_component = b"\0asm\x0d\0\x01\0";
        let err = check(empty_component, &manifest()).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "must export genops:plugin/chunker@{WORLD_VERSION}"
            )),
            "{err}"
        );
    }
}
