//! `macllm drift`: what changed on the host since the last apply. Needs only the state.

use super::Context;
use crate::plan::{self, Mode};
use crate::render;
use anyhow::Result;

pub fn run(context: &Context) -> Result<i32> {
    context.for_each_host(|host, file| {
        let Some(state) = file.load()? else {
            context.ui.data(&format!(
                "\nNo state for {} at {}: nothing has been applied there yet.\n",
                host.name(),
                file.path.display()
            ));
            return Ok(0);
        };
        let plan = plan::plan(None, Some(&state), host, Mode::RefreshOnly)?;
        if context.ui.json {
            context.print_json(serde_json::json!({
                "host": plan.host,
                // Fallible: a value JSON cannot hold is an error, not a panic.
                "drift": serde_json::to_value(&plan.drift)?,
            }))?;
        } else if plan.drift.is_empty() {
            context.ui.data(&format!(
                "\nNo drift. {} still matches what the last apply left ({} resources checked).\n",
                host.name(),
                state.resources.len()
            ));
        } else {
            context
                .ui
                .data(&render::drift_section(&context.ui, &plan.drift));
        }
        Ok(if plan.drift.is_empty() { 0 } else { 2 })
    })
}
