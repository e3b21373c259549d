//! `macllm drift`: what changed on the host since the last apply. Needs only the state.

use super::Context;
use crate::fleet::{Counts, Done};
use crate::plan::{self, Mode};
use crate::render;
use anyhow::Result;

pub fn run(context: &Context) -> Result<i32> {
    context.for_each_host(|host, file| {
        let Some(state) = file.load()? else {
            context.ui.summary(&format!(
                "\nNo state for {} at {}: nothing has been applied there yet.\n",
                host.name(),
                file.path.display()
            ));
            return Ok(Done::from(0));
        };
        let plan = plan::plan(None, Some(&state), host, Mode::RefreshOnly)?;
        if context.ui.json {
            context.print_json(serde_json::json!({
                "host": plan.host,
                // Fallible: a value JSON cannot hold is an error, not a panic.
                "drift": serde_json::to_value(&plan.drift)?,
            }))?;
        } else if plan.drift.is_empty() {
            context.ui.summary(&format!(
                "\nNo drift. {} still matches what the last apply left ({} resources checked).\n",
                host.name(),
                state.resources.len()
            ));
        } else if context.ui.quiet {
            context.ui.data(&render::drift_count(plan.drift.len()));
        } else {
            context
                .ui
                .data(&render::drift_section(&context.ui, &plan.drift));
        }
        let exit = if plan.drift.is_empty() { 0 } else { 2 };
        Ok(Done::counted(exit, Counts::Drifted(plan.drift.len())))
    })
}
