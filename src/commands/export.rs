//! `macllm export mobileconfig`: the spec's `defaults` as an MDM profile (`src/export.rs`).

use super::Context;
use crate::cli::ExportCommand;
use anyhow::Result;

/// `export mobileconfig`: renders the spec for the default emulated Mac (it touches no host)
/// and writes the profile.
pub fn run(context: &Context, command: ExportCommand) -> Result<i32> {
    let ExportCommand::Mobileconfig {
        identifier,
        organization,
        display_name,
        out,
    } = command;
    let preset = crate::sandbox::default_preset();
    let spec = context.spec_for_preset(preset)?;
    let profile = crate::export::mobileconfig(
        &spec,
        &crate::export::Options {
            identifier,
            organization,
            display_name,
        },
    )?;
    for skipped in &profile.skipped {
        context.ui.warn(&format!("skipped {skipped}"));
    }
    match out {
        Some(path) => {
            std::fs::write(&path, &profile.xml)
                .map_err(|err| anyhow::anyhow!("writing {}: {err}", path.display()))?;
            context.ui.progress(&format!("Wrote {}", path.display()));
        }
        None => context.ui.data(&profile.xml),
    }
    Ok(0)
}
