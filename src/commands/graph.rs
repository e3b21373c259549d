//! `macllm graph`: the spec's dependency graph as DOT.

use super::Context;
use anyhow::Result;

pub fn run(context: &Context) -> Result<i32> {
    // The graph of the default emulated Mac: drawing it touches no host.
    let preset = crate::sandbox::default_preset();
    let spec = context.spec_for_preset(preset)?;
    context.ui.data(&spec.graph.to_dot());
    Ok(0)
}
