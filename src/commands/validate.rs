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
        match context.spec_for_preset(preset) {
            Ok(spec) => {
                let templated = spec.templated;
                specs.push(spec);
                if !templated {
                    break;
                }
            }
            Err(err) => return Err(on_which_mac(context, preset, err)),
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

/// A spec that fails on one emulated Mac but not on every one (a template, a `when:`) says
/// which; an error every Mac shares is the spec's own and is shown as it is.
fn on_which_mac(
    context: &Context,
    preset: &crate::sandbox::Preset,
    err: anyhow::Error,
) -> anyhow::Error {
    let shown = format!("{err:#}");
    let everywhere = crate::sandbox::PRESETS.iter().all(|other| {
        context
            .spec_for_preset(other)
            .is_err_and(|other| format!("{other:#}") == shown)
    });
    if everywhere {
        err
    } else {
        err.context(format!(
            "rendered for the emulated {} ({})",
            preset.name, preset.summary
        ))
    }
}
