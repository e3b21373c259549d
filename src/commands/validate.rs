//! `macllm validate`: parse, template and type-check the spec; touches no host.

use super::Context;
use anyhow::Result;

/// Parses and checks the spec without touching a host. A spec with templates is rendered
/// with the facts of every emulated preset, so a template that breaks on some Macs (8 GB
/// ones, say) is caught here.
pub fn run(context: &Context) -> Result<i32> {
    let presets = crate::sandbox::PRESETS;
    let mut specs = Vec::new();
    for preset in presets {
        let spec = context
            .spec_for_preset(preset)
            .map_err(|err| err.context(format!("rendered for a {}", preset.summary)))?;
        let templated = spec.templated;
        specs.push(spec);
        if !templated {
            break;
        }
    }
    let spec = &specs[0];
    let checked = if specs.len() > 1 {
        format!(" (rendered for each of the {} emulated Macs)", specs.len())
    } else {
        String::new()
    };
    if context.ui.json {
        let ids: Vec<String> = spec
            .graph
            .apply_order()
            .into_iter()
            .map(|id| id.0)
            .collect();
        context.ui.data(
            &(serde_json::json!({
                "format_version": crate::plan::PLAN_FORMAT_VERSION,
                "valid": true,
                "resources": ids,
            })
            .to_string()
                + "\n"),
        );
    } else {
        context.ui.data(&format!(
            "Success! {} is valid: {} resources{checked}.\n",
            spec.file.display(),
            spec.resources.len()
        ));
    }
    Ok(0)
}
