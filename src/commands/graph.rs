//! `macllm graph`: the spec's dependency graph as DOT (or JSON).

use super::Context;
use anyhow::Result;

pub fn run(context: &Context) -> Result<i32> {
    // The graph of the default emulated Mac: drawing it touches no host.
    let preset = crate::sandbox::default_preset();
    let spec = context.spec_for_preset(preset)?;
    if context.ui.json {
        let edges: Vec<_> = spec
            .graph
            .edges()
            .into_iter()
            .map(|(from, to)| serde_json::json!({ "from": from, "to": to }))
            .collect();
        context.print_json(serde_json::json!({
            // In the order apply walks them.
            "resources": spec.graph.apply_order(),
            "edges": edges,
        }))?;
    } else {
        context.ui.data(&spec.graph.to_dot());
    }
    Ok(0)
}
