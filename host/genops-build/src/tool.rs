//! Finding and running the external tools.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::Error;

/// How many trailing lines of a failed tool's output an error keeps: enough for a compiler's
/// first errors with their context, short enough to read in a terminal.
const TAIL_LINES: usize = 40;

/// A tool of the toolchain, with what to tell the user when it is missing.
pub(crate) struct Tool<'a> {
    pub program: &'a Path,
    /// The environment variable that overrides it.
    pub env: &'static str,
    /// What installs it.
    pub package: &'static str,
}

impl Tool<'_> {
    /// The program's full path: as given when it contains a `/`, else found on `PATH`.
    pub fn resolve(&self) -> Result<PathBuf, Error> {
        let missing = || Error::ToolMissing {
            tool: self.program.to_path_buf(),
            env: self.env,
            package: self.package,
        };
        if self.program.components().count() > 1 {
            return if self.program.is_file() {
                Ok(self.program.to_path_buf())
            } else {
                Err(missing())
            };
        }
        let path = std::env::var_os("PATH").ok_or_else(missing)?;
        std::env::split_paths(&path)
            .map(|dir| dir.join(self.program))
            .find(|candidate| is_executable(candidate))
            .ok_or_else(missing)
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Runs `command` to completion, capturing its output. A failure becomes
/// [`Error::ToolFailed`] with the tail of what the tool printed and, when `hint` recognises
/// the output, a line on what to do.
pub(crate) fn run(
    mut command: Command,
    plugin: &str,
    hint: impl Fn(&str) -> Option<&'static str>,
) -> Result<Output, Error> {
    let program = PathBuf::from(command.get_program());
    // Tools written in Rust (componentize-py, wit-bindgen) print a backtrace of their own
    // code when the caller's environment asks for backtraces; it buries the user's error.
    command
        .env("RUST_BACKTRACE", "0")
        .env_remove("RUST_LIB_BACKTRACE");
    tracing::debug!(target: "genops_build", "running {command:?}");
    let output = command.output().map_err(|source| Error::Spawn {
        tool: program.clone(),
        source,
    })?;
    if output.status.success() {
        return Ok(output);
    }
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    // Some tools (componentize-py among them) print their errors on stdout.
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !stdout.trim().is_empty() {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&stdout);
    }
    let hint = hint(&text)
        .map(|h| format!("\nhint: {h}"))
        .unwrap_or_default();
    Err(Error::ToolFailed {
        tool: program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| program.display().to_string()),
        plugin: plugin.to_string(),
        status: output.status.to_string(),
        output: tail(&text, TAIL_LINES),
        hint,
    })
}

/// The last `lines` lines of `text`, marked when some were cut.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    let skip = all.len().saturating_sub(lines);
    let mut out = String::new();
    if skip > 0 {
        out.push_str(&format!("[{skip} earlier lines cut]\n"));
    }
    out.push_str(&all[skip..].join("\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_lines() {
        let text = (1..=50)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        let cut = tail(&text, 3);
        assert_eq!(cut, "[47 earlier lines cut]\n48\n49\n50");
        assert_eq!(tail("a\nb\n", 3), "a\nb");
    }

    #[test]
    fn missing_tool_names_its_variable() {
        let tool = Tool {
            program: Path::new("/nonexistent/clang-19"),
            env: "GENOPS_CLANG",
            package: "the Debian package clang-19",
        };
        let err = tool.resolve().unwrap_err().to_string();
        assert!(
            err.contains("GENOPS_CLANG") && err.contains("scripts/install.sh"),
            "{err}"
        );
        let tool = Tool {
            program: Path::new("no-such-tool-genops"),
            ..tool
        };
        assert!(tool.resolve().is_err());
    }

    #[test]
    fn failure_carries_output_and_hint() {
        let mut command = Command::new("sh");
        command.args(["-c", "echo 'broken.c:1:1: error: nope' >&2; exit 3"]);
        let err = run(command, "p", |out| out.contains("nope").then_some("fix it"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("broken.c:1:1: error: nope"), "{err}");
        assert!(
            err.contains("hint: fix it") && err.contains("exit status: 3"),
            "{err}"
        );
    }
}
