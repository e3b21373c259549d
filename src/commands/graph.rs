//! `macllm graph`: the spec's dependency graph as DOT.

use super::Context;
use anyhow::Result;

pub fn run(context: &Context) -> Result<i32> {
    let spec = context.spec()?;
    context.ui.data(&spec.graph.to_dot());
    Ok(0)
}
