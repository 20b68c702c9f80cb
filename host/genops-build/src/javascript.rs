//! JavaScript plugins: componentize-js embeds the module into the StarlingMonkey engine,
//! run by node through `componentize.mjs` in the JS tools folder.

use std::process::Command;

use crate::tool::{self, Tool};
use crate::{wit, Error, Job};

pub(crate) fn build(job: &Job<'_>, progress: &mut dyn FnMut(&str)) -> Result<Vec<u8>, Error> {
    let tc = job.toolchain;
    let node = Tool {
        program: &tc.node,
        env: "GENOPS_NODE",
        package: "the Debian package nodejs (node 18 or later)",
    }
    .resolve()?;
    let script = tc.js_tools.join("componentize.mjs");
    let engine = tc
        .js_tools
        .join("node_modules/@bytecodealliance/componentize-js/package.json");
    for needed in [&script, &engine] {
        if !needed.is_file() {
            return Err(Error::ToolMissing {
                tool: needed.clone(),
                env: "GENOPS_JS_TOOLS",
                package: "componentize-js with `npm ci` in sdk/js",
            });
        }
    }
    let sources = job.sources()?;
    let [source] = sources.as_slice() else {
        return Err(Error::BadBuildTable {
            path: job.manifest_path.to_path_buf(),
            message: format!(
                "a javascript plugin lists exactly one module in `build.sources`, not {}; \
                 import the other modules from it",
                sources.len()
            ),
        });
    };

    let world = job.world();
    let wit = wit::write(job.scratch)?;
    let output = job.scratch.join("component.wasm");
    progress(&format!(
        "componentizing {} for {world} with componentize-js (5 to 15 s)",
        source.display()
    ));
    let mut command = Command::new(&node);
    command
        .current_dir(job.dir)
        .arg(&script)
        .arg("--source")
        .arg(source)
        .arg("--wit")
        .arg(&wit)
        .args(["--world", &world])
        .arg("--out")
        .arg(&output);
    tool::run(command, &job.manifest.name, js_hint)?;
    std::fs::read(&output).map_err(Error::io("read", &output))
}

fn js_hint(output: &str) -> Option<&'static str> {
    if output.contains("during Wizer initialization") {
        Some(
            "the module calls a genops import (config, logging) at its top level, which runs \
             at build time, when there is no host; call them inside the exported functions",
        )
    } else if output.contains("Cannot find module") && output.contains("componentize-js") {
        Some("run `npm ci` in sdk/js (scripts/install.sh does)")
    } else if output.contains("does not export") {
        Some(
            "the module must export an object named after the interface with every function \
             (for a chunker: `export const chunker = { describe, split }`)",
        )
    } else {
        None
    }
}
