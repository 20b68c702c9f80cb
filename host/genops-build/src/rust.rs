//! Rust plugins: a cargo crate with a `cdylib` target, built for `wasm32-wasip2`, whose
//! output already is a component.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tool::{self, Tool};
use crate::{Error, Job};

const TARGET: &str = "wasm32-wasip2";
const CARGO_PACKAGE: &str = "the Debian packages cargo-web, rustc-web and rust-web-src";

pub(crate) fn build(job: &Job<'_>, progress: &mut dyn FnMut(&str)) -> Result<Vec<u8>, Error> {
    let tc = job.toolchain;
    let cargo = Tool {
        program: &tc.cargo,
        env: "GENOPS_WASM_CARGO",
        package: CARGO_PACKAGE,
    }
    .resolve()?;
    let rustc = Tool {
        program: &tc.rustc,
        env: "GENOPS_WASM_RUSTC",
        package: CARGO_PACKAGE,
    }
    .resolve()?;
    let cargo_toml = job.dir.join("Cargo.toml");
    if !cargo_toml.is_file() {
        return Err(Error::SourceMissing {
            path: cargo_toml,
            hint: "a rust plugin is a cargo crate whose Cargo.toml sits beside genops-plugin.toml"
                .into(),
        });
    }

    let (package, lib) = cdylib(job, &cargo, &rustc, &cargo_toml)?;
    progress(&format!(
        "compiling crate {package} for {TARGET} with {} (the first build also compiles the \
         standard library, 1 to 2 minutes)",
        cargo.display()
    ));
    let mut command = cargo_command(&cargo, &rustc);
    command
        .args([
            "build",
            "--release",
            "-Zbuild-std=std,panic_abort",
            "--target",
            TARGET,
        ])
        .arg("--manifest-path")
        .arg(&cargo_toml)
        .args(["-p", &package])
        .arg("--target-dir")
        .arg(&tc.wasm_target_dir)
        // The release profile, whatever the crate's workspace sets: full speed (plugins sit
        // on hot paths, and opt-level "s" halved chunking throughput), whole-program
        // optimisation, no unwinding, no symbols. Debug info would be stripped anyway;
        // turning it off also keeps the standard library's build the same for every
        // workspace, so it is compiled once per target folder.
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "3")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_STRIP", "true")
        // wasm32-wasip2's std links against wasi-libc, which Debian keeps outside rustc's
        // sysroot.
        .env(
            "CARGO_TARGET_WASM32_WASIP2_RUSTFLAGS",
            // SIMD128 is part of WebAssembly 2.0 and enabled in the host's engine; it lets
            // std's memchr and the like work 16 bytes at a time.
            format!(
                "-L native={} -C target-feature=+simd128",
                tc.wasi_libc.display()
            ),
        );
    tool::run(command, &job.manifest.name, rust_hint)?;

    let output = tc
        .wasm_target_dir
        .join(TARGET)
        .join("release")
        .join(format!("{}.wasm", lib.replace('-', "_")));
    std::fs::read(&output).map_err(Error::io("read", &output))
}

/// A cargo command that uses Debian's rustc and none of the caller's flags meant for host
/// builds (a `-C target-cpu=native` in `RUSTFLAGS` would break the wasm build, and any flag
/// change rebuilds the standard library).
fn cargo_command(cargo: &Path, rustc: &Path) -> Command {
    let mut command = Command::new(cargo);
    command
        .env("RUSTC", rustc)
        // `-Zbuild-std` is unstable; Debian's rustc is a stable release that accepts it
        // with this switch, which is the only way to get a wasm32 std on this toolchain.
        .env("RUSTC_BOOTSTRAP", "1");
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET_DIR",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        command.env_remove(var);
    }
    command
}

fn rust_hint(output: &str) -> Option<&'static str> {
    if output.contains("can't find crate for `core`") || output.contains("library/Cargo.lock") {
        Some("the standard library sources are missing; install rust-web-src (scripts/install.sh)")
    } else if output.contains("rust-lld") && output.contains("not found") {
        Some("the wasm linker is missing; install lld-22 (scripts/install.sh)")
    } else {
        None
    }
}

/// The crate's package name and its cdylib target's name, from `cargo metadata`.
fn cdylib(
    job: &Job<'_>,
    cargo: &Path,
    rustc: &Path,
    cargo_toml: &Path,
) -> Result<(String, String), Error> {
    let mut command = cargo_command(cargo, rustc);
    command
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(cargo_toml);
    let output = tool::run(command, &job.manifest.name, |_| None)?;
    let cargo_error = |message: String| Error::Cargo {
        path: cargo_toml.to_path_buf(),
        message,
    };
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|e| {
        cargo_error(format!(
            "cargo metadata printed something that is not JSON: {e}"
        ))
    })?;
    // In a workspace, metadata lists every member; ours is the one at this manifest path.
    let wanted = canonical(cargo_toml);
    let package = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| {
            p["manifest_path"].as_str().map(|m| canonical(Path::new(m))) == Some(wanted.clone())
        })
        .ok_or_else(|| cargo_error("cargo metadata does not list this crate".into()))?;
    let name = package["name"]
        .as_str()
        .ok_or_else(|| cargo_error("cargo metadata gives the crate no name".into()))?;
    let lib = package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"))
        })
        .and_then(|t| t["name"].as_str())
        .ok_or_else(|| {
            cargo_error(format!(
                "crate {name} has no cdylib target; add `[lib]` with \
                 `crate-type = [\"cdylib\"]` to its Cargo.toml"
            ))
        })?;
    Ok((name.to_string(), lib.to_string()))
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}
