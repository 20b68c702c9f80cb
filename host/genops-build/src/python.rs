//! Python plugins: componentize-py bundles CPython, the plugin's module and the generated
//! bindings into one component.

use std::path::Path;
use std::process::Command;

use crate::tool::{self, Tool};
use crate::{wit, Error, Job};

pub(crate) fn build(job: &Job<'_>, progress: &mut dyn FnMut(&str)) -> Result<Vec<u8>, Error> {
    let componentize_py = Tool {
        program: &job.toolchain.componentize_py,
        env: "GENOPS_COMPONENTIZE_PY",
        package: "componentize-py 0.25.1 with pip",
    }
    .resolve()?;
    // The manifest validation guarantees a module for python builds.
    let module = job
        .manifest
        .build
        .as_ref()
        .and_then(|b| b.module.as_deref())
        .unwrap_or_default();
    let file = job.dir.join(format!("{module}.py"));
    let package = job.dir.join(module).join("__init__.py");
    if !file.is_file() && !package.is_file() {
        return Err(Error::SourceMissing {
            path: file,
            hint: format!(
                "`build.module` in {} names a module ({module}.py or {module}/__init__.py) \
                 that defines the exported class",
                job.manifest_path.display()
            ),
        });
    }

    // componentize-py's embedded Python runs the module once at build time and would leave
    // a `__pycache__` of its own CPython version in the folder it was given, so it gets a
    // copy of the sources instead of the author's folder.
    let sources = job.scratch.join("src");
    copy_sources(job.dir, &sources)?;

    let world = job.world();
    let wit = wit::write(job.scratch)?;
    let output = job.scratch.join("component.wasm");
    progress(&format!(
        "componentizing module {module} for {world} with componentize-py (5 to 15 s)"
    ));
    let mut command = Command::new(&componentize_py);
    command
        .current_dir(&sources)
        .arg("-d")
        .arg(&wit)
        .args(["-w", &world, "componentize", module, "-p"])
        .arg(&sources)
        .arg("-o")
        .arg(&output);
    tool::run(command, &job.manifest.name, python_hint)?;
    std::fs::read(&output).map_err(Error::io("read", &output))
}

/// Folders that are build output or caches, never part of the plugin's code.
const SKIPPED: [&str; 2] = ["dist", "__pycache__"];

/// Copies the plugin's files, without hidden entries and the folders in [`SKIPPED`] (the
/// default output folder among them, which holds earlier components of 17 MiB each).
fn copy_sources(from: &Path, to: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(to).map_err(Error::io("create", to))?;
    for entry in std::fs::read_dir(from).map_err(Error::io("read", from))? {
        let entry = entry.map_err(Error::io("read", from))?;
        let name = entry.file_name();
        let name_text = name.to_string_lossy();
        if name_text.starts_with('.') || SKIPPED.contains(&name_text.as_ref()) {
            continue;
        }
        let source = entry.path();
        let target = to.join(&name);
        // Follows symbolic links, so a vendored package linked into the folder is copied.
        if source.is_dir() {
            copy_sources(&source, &target)?;
        } else if source.is_file() {
            std::fs::copy(&source, &target).map_err(Error::io("copy", &source))?;
        }
    }
    Ok(())
}

fn python_hint(output: &str) -> Option<&'static str> {
    if output.contains("called trapping stub: genops:plugin/") {
        Some(
            "the module calls a genops import (config, logging) while it is imported, which \
             happens at build time, when there is no host; call them inside the methods",
        )
    } else if output.contains("ModuleNotFoundError") || output.contains("No module named") {
        Some(
            "componentize-py bundles only what it finds on -p (the plugin folder) and the \
             Python path it runs with; vendor pure-Python dependencies into the plugin folder",
        )
    } else if output.contains("AttributeError") && output.contains("has no attribute") {
        Some(
            "the module must define a class named after the exported interface (for a \
             chunker: `class Chunker(exports.Chunker)`)",
        )
    } else {
        None
    }
}
