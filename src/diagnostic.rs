//! An error as `--json` gives it: one document with `format_version`, `error_count` and
//! `errors`, each with a stable `code` (scripts branch on it; the message is for people and may
//! change). Spec errors come all at once, each with its place and a code of its own kind
//! ([`SpecError::code`], set where the error is made: `unknown_field`, `wrong_type`,
//! `template`, ...); any other failure is one error, its code decided here by its type:
//!
//! | code | what |
//! |---|---|
//! | `usage` | the command line does not parse |
//! | `sandbox_not_found` | `--host sandbox:DIR` names a folder without an emulated Mac |
//! | `ollama_not_running` | nothing answers where Ollama should |
//! | `ollama_error` | Ollama answered with an error (`status`, its text word for word) |
//! | `model_over_budget` | `--strict` and models that will not fit (`details`: the warnings) |
//! | `error` | anything else |

use crate::commands::OverBudget;
use crate::host::HostUnreachable;
use crate::ollama::client::{ApiError, NotRunning};
use crate::sandbox::NotAnEmulatedMac;
use crate::spec::{SpecError, SpecErrors};
use serde_json::{Value, json};

/// The document for `err`.
pub fn document(err: &anyhow::Error) -> Value {
    let spec_errors: Vec<Value> = match (find::<SpecErrors>(err), find::<SpecError>(err)) {
        (Some(all), _) => all.0.iter().map(SpecError::to_json).collect(),
        (None, Some(one)) => vec![one.to_json()],
        (None, None) => Vec::new(),
    };
    if spec_errors.is_empty() {
        return with_errors(vec![other(err)], Vec::new());
    }
    // What was being done when they were found (the emulated Mac `validate` rendered for).
    let notes = err
        .chain()
        .take_while(|cause| !cause.is::<SpecError>() && !cause.is::<SpecErrors>())
        .map(|cause| cause.to_string())
        .collect();
    with_errors(spec_errors, notes)
}

/// A usage error (clap's text, without its `error: ` prefix and usage lines).
pub fn usage_document(text: &str) -> Value {
    let message = text
        .trim_start_matches("error: ")
        .split("\n\nUsage:")
        .next()
        .unwrap_or_default()
        .trim_end();
    let (message, hint) = split_hint(message);
    with_errors(
        vec![json!({ "code": "usage", "message": message, "hint": hint })],
        Vec::new(),
    )
}

fn with_errors(errors: Vec<Value>, notes: Vec<String>) -> Value {
    json!({
        "format_version": crate::plan::PLAN_FORMAT_VERSION,
        "error_count": errors.len(),
        "errors": errors,
        "notes": notes,
    })
}

/// A failure that is not about the spec as people read it: its causes on one line
/// (`{:#}`), except that a host that could not be reached is the whole story, whatever was
/// being read when it was met.
pub fn error_text(err: &anyhow::Error) -> String {
    match find::<HostUnreachable>(err) {
        Some(unreachable) => unreachable.to_string(),
        None => format!("{err:#}"),
    }
}

/// A failure that is not about the spec, as one error.
fn other(err: &anyhow::Error) -> Value {
    let (message, hint) = split_hint(&error_text(err));
    let mut error = json!({ "code": code(err), "message": message, "hint": hint });
    if let Some(api) = find::<ApiError>(err) {
        error["status"] = api.status.into();
    }
    if let Some(over) = find::<OverBudget>(err) {
        error["message"] = over.summary().into();
        error["details"] = json!(over.warnings);
    }
    error
}

fn code(err: &anyhow::Error) -> &'static str {
    if find::<NotAnEmulatedMac>(err).is_some() {
        "sandbox_not_found"
    } else if find::<NotRunning>(err).is_some() {
        "ollama_not_running"
    } else if find::<ApiError>(err).is_some() {
        "ollama_error"
    } else if find::<OverBudget>(err).is_some() {
        "model_over_budget"
    } else {
        "error"
    }
}

/// The first error of type `T` in `err`'s chain (contexts included).
fn find<T: std::error::Error + Send + Sync + 'static>(err: &anyhow::Error) -> Option<&T> {
    err.chain().find_map(|cause| cause.downcast_ref::<T>())
}

/// `message\nhint: fix` -> (`message`, `fix`): macllm's errors carry their hint as a last
/// line.
fn split_hint(text: &str) -> (String, Option<String>) {
    let mut message = Vec::new();
    let mut hints = Vec::new();
    for line in text.lines() {
        match line.strip_prefix("hint: ") {
            Some(hint) => hints.push(hint),
            None => message.push(line),
        }
    }
    let hint = (!hints.is_empty()).then(|| hints.join("\n"));
    (message.join("\n"), hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_are_split_off_and_codes_follow_the_error_type() {
        let err = anyhow::Error::new(NotAnEmulatedMac {
            dir: "mca".into(),
            has_files: false,
        })
        .context("opening the host");
        assert_eq!(
            document(&err),
            json!({
                "format_version": "1.0",
                "error_count": 1,
                "errors": [{
                    "code": "sandbox_not_found",
                    "message": "opening the host: mca is not an emulated Mac (it has no machine.json)",
                    "hint": "create one with `macllm sandbox init mca`, or let `macllm --host sandbox:mca apply` create it",
                }],
                "notes": [],
            })
        );
        let plain = anyhow::anyhow!("something else");
        assert_eq!(document(&plain)["errors"][0]["code"], "error");
        assert_eq!(document(&plain)["errors"][0]["hint"], Value::Null);
    }
}
