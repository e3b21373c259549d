//! Masking of sensitive strings: values from `secret()` are remembered for the rest of the run
//! so that every output (the terminal, a log, a displayed command, the state file) can replace
//! them with `(sensitive)`. A leaf: it imports nothing of the crate, so the lowest layers
//! (`host/`) can mask without knowing where secrets come from.

use std::sync::Mutex;

/// What outputs show instead of a secret.
pub const MASK: &str = "(sensitive)";

static REVEALED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Remembers a value as sensitive for the rest of the run.
pub fn reveal(value: &str) {
    if value.is_empty() {
        return;
    }
    if let Ok(mut revealed) = REVEALED.lock()
        && !revealed.iter().any(|v| v == value)
    {
        revealed.push(value.to_string());
    }
}

fn revealed() -> Vec<String> {
    REVEALED.lock().map(|r| r.clone()).unwrap_or_default()
}

/// Forms a secret takes in text: as is, and escaped inside JSON strings.
fn forms(secret: &str) -> Vec<String> {
    let escaped = serde_json::to_string(secret).unwrap_or_default();
    let escaped = escaped.trim_matches('"').to_string();
    let mut forms = vec![secret.to_string()];
    if escaped != secret {
        forms.push(escaped);
    }
    forms
}

/// `text` with every secret fetched in this run replaced by `(sensitive)`.
pub fn mask(text: &str) -> String {
    let mut out = text.to_string();
    for secret in revealed() {
        for form in forms(&secret) {
            out = out.replace(&form, MASK);
        }
    }
    out
}

pub fn contains_secret(text: &str) -> bool {
    revealed().iter().any(|secret| {
        forms(secret)
            .iter()
            .any(|form| text.contains(form.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_covers_plain_and_json_forms() {
        reveal("s3cr\"et");
        assert_eq!(mask("token=s3cr\"et;"), "token=(sensitive);");
        assert_eq!(mask(r#"{"v":"s3cr\"et"}"#), r#"{"v":"(sensitive)"}"#);
        assert!(contains_secret("xx s3cr\"et"));
    }
}
