//! What the CLI shows a person: plugin text made safe for a terminal, progress bars, and the
//! command that fixes an error.

use std::borrow::Cow;

use genops_app::Fix;
use genops_ingest::Progress;

/// Text that came from a plugin or a document, made safe to print on a terminal: control
/// characters (escape sequences that could move the cursor, retitle the window or hide
/// output) are shown as `\u{..}` escapes; newlines and tabs are kept only when
/// `keep_lines` is set.
pub fn escape(text: &str, keep_lines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && !(keep_lines && (c == '\n' || c == '\t'));
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The command that carries out `fix`.
pub fn fix_hint(fix: &Fix) -> String {
    match fix {
        Fix::InstallModel { model } => format!("install it with `genops models install {model}`"),
        Fix::InstallModels => {
            "run `genops models install` to fetch the pinned library and the default model"
                .to_string()
        }
        Fix::ReinstallModel { model } => {
            format!("reinstall it with `genops models install --force {model}`")
        }
        Fix::AddModel { name } => {
            format!("add your own with `genops models install --from <folder> {name}`")
        }
        Fix::ListModels => "see `genops models list`".to_string(),
        Fix::InstallPlugin { .. } => {
            "see `genops plugin list`, or install one with `genops plugin install <folder>`"
                .to_string()
        }
        Fix::ListPlugins => "see `genops plugin list`".to_string(),
        Fix::BuildPlugin => "build the plugin with `genops plugin build <folder>`".to_string(),
        Fix::Ingest { index } => format!("create it with `genops ingest --index {index} <paths>`"),
        Fix::Reingest => "rebuild it with `genops ingest --index <name> <paths>`".to_string(),
        Fix::Rollback => {
            "roll back with `genops index rollback <name> <version>`, or ingest again".to_string()
        }
        Fix::UsePath { path } => format!("to load that folder, pass `{path}`"),
    }
}

/// A progress bar on standard error, one per stage.
#[derive(Default)]
pub struct Bar {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress for Bar {
    fn stage(&mut self, name: &str, total: u64) {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix:>10} [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(name.to_string());
        self.bar = Some(bar);
    }

    fn advance(&mut self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    fn finish_stage(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_from_plugins_are_neutralised() {
        let hostile = "ok\x1b]0;pwned\x07\x1b[2Jdone\r";
        let shown = escape(hostile, false);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown:?}");
        assert!(
            shown.contains("\\u{1b}") && shown.contains("done"),
            "{shown}"
        );
        assert_eq!(escape("two\nlines\tok", true), "two\nlines\tok");
        assert_eq!(escape("two\nlines", false), "two\\u{a}lines");
        assert!(matches!(escape("plain", false), Cow::Borrowed(_)));
    }
}
