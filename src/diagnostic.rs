//! An error as `--json` gives it: one document with `format_version` and an `error` object
//! whose `code` is stable (scripts branch on it; the message is for people and may change):
//!
//! | code | what |
//! |---|---|
//! | `usage` | the command line does not parse |
//! | `spec_invalid` | the spec (or a module) is wrong at `file`:`line`:`column`, `field` |
//! | `sandbox_not_found` | `--host sandbox:DIR` names a folder without an emulated Mac |
//! | `ollama_not_running` | nothing answers where Ollama should |
//! | `ollama_error` | Ollama answered with an error (`status`, its text word for word) |
//! | `model_over_budget` | `--strict` and models that will not fit (`details`: the warnings) |
//! | `error` | anything else |

use crate::commands::OverBudget;
use crate::ollama::client::{ApiError, NotRunning};
use crate::sandbox::NotAnEmulatedMac;
use crate::spec::SpecError;
use serde_json::{Value, json};

/// The document for `err`.
pub fn document(err: &anyhow::Error) -> Value {
    let mut error = match find::<SpecError>(err) {
        Some(spec) => json!({
            "code": "spec_invalid",
            "message": spec.message,
            "hint": spec.hint,
            "file": spec.file,
            "line": spec.line,
            "column": spec.column,
            "field": spec.field,
        }),
        None => {
            let (message, hint) = split_hint(&format!("{err:#}"));
            json!({ "code": code(err), "message": message, "hint": hint })
        }
    };
    if let Some(api) = find::<ApiError>(err) {
        error["status"] = api.status.into();
    }
    if let Some(over) = find::<OverBudget>(err) {
        error["message"] = over.summary().into();
        error["details"] = json!(over.warnings);
    }
    json!({ "format_version": crate::plan::PLAN_FORMAT_VERSION, "error": error })
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
    json!({
        "format_version": crate::plan::PLAN_FORMAT_VERSION,
        "error": { "code": "usage", "message": message, "hint": hint },
    })
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
                "error": {
                    "code": "sandbox_not_found",
                    "message": "opening the host: mca is not an emulated Mac (it has no machine.json)",
                    "hint": "create one with `macllm sandbox init mca`, or let `macllm --host sandbox:mca apply` create it",
                }
            })
        );
        let plain = anyhow::anyhow!("something else");
        assert_eq!(document(&plain)["error"]["code"], "error");
        assert_eq!(document(&plain)["error"]["hint"], Value::Null);
    }
}
