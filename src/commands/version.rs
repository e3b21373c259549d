//! `macllm version`: what `--version` says, and with `--json` the same as one document.

use super::Context;
use anyhow::Result;

/// The full commit id, or None for a build from a tree that did not say (build.rs).
pub fn commit() -> Option<&'static str> {
    Some(env!("MACLLM_COMMIT")).filter(|id| !id.is_empty())
}

pub fn run(context: &Context) -> Result<i32> {
    if context.ui.json {
        let document = serde_json::json!({
            "format_version": crate::plan::PLAN_FORMAT_VERSION,
            "name": env!("CARGO_PKG_NAME"),
            "version": env!("CARGO_PKG_VERSION"),
            "commit": commit(),
            "target": env!("MACLLM_TARGET"),
        });
        context
            .ui
            .data(&format!("{}\n", serde_json::to_string_pretty(&document)?));
    } else {
        context.ui.data(&format!(
            "{} {}\n",
            env!("CARGO_PKG_NAME"),
            env!("MACLLM_VERSION_LINE")
        ));
    }
    Ok(0)
}
