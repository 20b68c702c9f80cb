//! C plugins: wit-bindgen's C bindings, clang against wasi-libc, then wit-component turns
//! the core module into a component in process.

use std::path::{Path, PathBuf};
use std::process::Command;

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};

use crate::tool::{self, Tool};
use crate::{wit, Error, Job};

pub(crate) fn build(job: &Job<'_>, progress: &mut dyn FnMut(&str)) -> Result<Vec<u8>, Error> {
    let tc = job.toolchain;
    let wit_bindgen = Tool {
        program: &tc.wit_bindgen,
        env: "GENOPS_WIT_BINDGEN",
        package: "wit-bindgen-cli 0.63.0 with cargo install",
    }
    .resolve()?;
    let clang = Tool {
        program: &tc.clang,
        env: "GENOPS_CLANG",
        package: "the Debian packages clang-19, lld-19 and libclang-rt-19-dev-wasm32",
    }
    .resolve()?;
    let sysroot = Sysroot::find(&tc.wasi_libc)?;
    let sources = job.sources()?;

    let world = job.world();
    let wit = wit::write(job.scratch)?;
    let generated = job.scratch.join("gen");
    progress(&format!(
        "generating C bindings for {world} with wit-bindgen"
    ));
    let mut command = Command::new(&wit_bindgen);
    command
        .arg("c")
        .arg(&wit)
        .args(["--world", &world])
        .arg("--out-dir")
        .arg(&generated);
    tool::run(command, &job.manifest.name, |_| None)?;
    let (binding_sources, binding_objects) = generated_files(&generated)?;

    let module = job.scratch.join("module.wasm");
    progress(&format!(
        "compiling {} C file{} with {}",
        sources.len(),
        if sources.len() == 1 { "" } else { "s" },
        clang.display()
    ));
    let mut command = Command::new(&clang);
    command
        // Relative paths in diagnostics, as the author wrote them in the manifest.
        .current_dir(job.dir)
        // Debian's wasi-libc (a 2022 snapshot) installs under this triple only; with the
        // newer name `wasm32-wasip1` clang would not find its start files.
        .arg("--target=wasm32-wasi")
        // A library with exports rather than a program with `main`: no `_start`, and
        // static constructors run before the first export call.
        .arg("-mexec-model=reactor")
        .arg("-O2")
        .arg(format!("--sysroot={}", sysroot.root.display()))
        // Only wasi-libc's headers: without this a header wasi-libc lacks would be taken
        // from the host's /usr/include and fail in confusing ways.
        .arg("-nostdlibinc")
        .arg("-isystem")
        .arg(&sysroot.include)
        .arg(format!("-L{}", tc.wasi_libc.display()))
        .arg("-I")
        .arg(&generated)
        .arg("-I.")
        // Drops names and debug info; the component-type section the bindings carry stays.
        .arg("-Wl,--strip-all")
        .args(job.manifest.build.iter().flat_map(|b| b.flags.iter()))
        .args(&sources)
        .args(&binding_sources)
        .args(&binding_objects)
        .arg("-o")
        .arg(&module);
    tool::run(command, &job.manifest.name, clang_hint)?;

    progress("turning the core module into a component");
    let bytes = std::fs::read(&module).map_err(Error::io("read", &module))?;
    let componentize_error = |e| componentize_error(&job.manifest.name, e);
    // The reactor adapter maps whatever preview1 calls wasi-libc makes onto WASI 0.2; a
    // module that makes none gets no WASI imports at all.
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(&bytes)
        .map_err(componentize_error)?
        .adapter(
            WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME,
            WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
        )
        .map_err(componentize_error)?
        .encode()
        .map_err(componentize_error)
}

/// wit-component's errors are anyhow chains; `{:#}` prints every cause on one line.
fn componentize_error(plugin: &str, error: impl std::fmt::Display) -> Error {
    Error::Componentize {
        plugin: plugin.to_string(),
        message: format!("{error:#}"),
    }
}

/// wasi-libc's layout: libraries in `<root>/lib/wasm32-wasi`, headers in
/// `<root>/include/wasm32-wasi` (Debian, recent wasi-sdk) or `<root>/include` (older wasi-sdk).
struct Sysroot {
    root: PathBuf,
    include: PathBuf,
}

impl Sysroot {
    fn find(libs: &Path) -> Result<Sysroot, Error> {
        let missing = |tool: PathBuf| Error::ToolMissing {
            tool,
            env: "GENOPS_WASI_LIBC",
            package: "the Debian package wasi-libc",
        };
        if !libs.join("libc.a").is_file() {
            return Err(missing(libs.join("libc.a")));
        }
        let root = libs
            .parent()
            .and_then(Path::parent)
            .ok_or_else(|| missing(libs.to_path_buf()))?
            .to_path_buf();
        let include = [root.join("include/wasm32-wasi"), root.join("include")]
            .into_iter()
            .find(|dir| dir.join("stdlib.h").is_file())
            .ok_or_else(|| missing(root.join("include/wasm32-wasi/stdlib.h")))?;
        Ok(Sysroot { root, include })
    }
}

/// The `.c` files and the `.o` file (the component-type section) wit-bindgen wrote. Listed
/// rather than named, because their names derive from the world's.
fn generated_files(dir: &Path) -> Result<(Vec<PathBuf>, Vec<PathBuf>), Error> {
    let mut sources = Vec::new();
    let mut objects = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(Error::io("read", dir))? {
        let path = entry.map_err(Error::io("read", dir))?.path();
        match path.extension().and_then(|e| e.to_str()) {
            Some("c") => sources.push(path),
            Some("o") => objects.push(path),
            _ => {}
        }
    }
    sources.sort();
    objects.sort();
    Ok((sources, objects))
}

fn clang_hint(output: &str) -> Option<&'static str> {
    if output.contains("wasm-ld") && output.contains("doesn't exist") {
        Some("clang has no wasm linker; install lld-19 (scripts/install.sh)")
    } else if output.contains("libclang_rt.builtins") {
        Some("clang lacks its wasm32 runtime library; install libclang-rt-19-dev-wasm32 (scripts/install.sh)")
    } else if output.contains("undefined symbol: exports_") {
        Some("every function of the exported interface must be defined; see the generated header")
    } else {
        None
    }
}
