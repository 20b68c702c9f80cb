//! A guardrail for the host's tests: finds e-mail addresses and, as its `action` config says,
//! redacts them (`redact`), blocks the text (`block`) or only reports them (`allow`).

use genops_sdk::guardrail::{
    config, CheckRequest, Decision, Finding, Guardrail, PluginError, PluginInfo, Verdict,
};

/// The exported plugin.
pub struct Email;

/// Byte spans of things shaped like `name@domain.tld` (a deliberately simple rule).
pub fn emails(text: &str) -> Vec<(usize, usize)> {
    let is_part = |c: char| c.is_alphanumeric() || "._%+-".contains(c);
    let mut spans = Vec::new();
    for (at, _) in text.match_indices('@') {
        let start = text[..at]
            .char_indices()
            .rev()
            .take_while(|&(_, c)| is_part(c))
            .last()
            .map(|(i, _)| i);
        let end = text[at + 1..]
            .char_indices()
            .take_while(|&(_, c)| is_part(c))
            .last()
            .map(|(i, c)| at + 1 + i + c.len_utf8());
        if let (Some(start), Some(end)) = (start, end) {
            let domain = text[at + 1..end].trim_end_matches('.');
            if domain.contains('.') && spans.last().is_none_or(|&(_, e)| e <= start) {
                spans.push((start, at + 1 + domain.len()));
            }
        }
    }
    spans
}

impl Guardrail for Email {
    fn describe() -> PluginInfo {
        PluginInfo::new("guardrail-email", "finds e-mail addresses").option(
            "action",
            "redact, block or allow",
            Some("redact"),
        )
    }

    fn check(request: CheckRequest) -> Result<Decision, PluginError> {
        let action = config::get("action").unwrap_or_else(|| "redact".into());
        let spans = emails(&request.text);
        let findings = spans
            .iter()
            .map(|&(s, e)| Finding {
                category: "pii.email".into(),
                message: "an e-mail address".into(),
                span: Some((s as u64, e as u64)),
                score: Some(1.0),
            })
            .collect();
        let verdict = match (action.as_str(), spans.is_empty()) {
            ("redact" | "block" | "allow", true) | ("allow", false) => Verdict::Allow,
            ("block", false) => {
                Verdict::Block(format!("the text holds {} e-mail address(es)", spans.len()))
            }
            ("redact", false) => {
                let mut out = String::with_capacity(request.text.len());
                let mut last = 0;
                for &(s, e) in &spans {
                    out.push_str(&request.text[last..s]);
                    out.push_str("[email]");
                    last = e;
                }
                out.push_str(&request.text[last..]);
                Verdict::Rewrite(out)
            }
            (other, _) => {
                return Err(PluginError::InvalidConfig(format!(
                    "config `action` has value `{other}`; use redact, block or allow"
                )))
            }
        };
        Ok(Decision { verdict, findings })
    }
}

genops_sdk::export_guardrail!(Email);
