//! `macllm init`: a starter spec sized for the host (see `import::starter`).

use super::Context;
use crate::cli::WriteSpecArgs;
use anyhow::{Result, bail};
use std::path::Path;

pub fn run(context: &Context, args: WriteSpecArgs) -> Result<i32> {
    let WriteSpecArgs { out, force } = args;
    one_host(context, "init")?;
    refuse_existing(out.as_deref(), force)?;
    context.for_each_host(|host, _| {
        let text = crate::import::starter::spec(host)?;
        emit(context, host.name(), &text, out.as_deref(), force)?;
        Ok(0)
    })
}

/// A spec describes one Mac.
pub fn one_host(context: &Context, command: &str) -> Result<()> {
    if context.host_names()?.len() > 1 {
        bail!("`{command}` writes the spec of one Mac: give a single --host");
    }
    Ok(())
}

/// Says no before reading the Mac, rather than after.
pub fn refuse_existing(out: Option<&Path>, force: bool) -> Result<()> {
    if let Some(path) = out
        && !force
        && path.exists()
    {
        bail!(
            "{} already exists; it was left as it is\nhint: pass --force to replace it, or --out another file",
            path.display()
        );
    }
    Ok(())
}

/// The spec on stdout, or in `out` with a line saying what to run next; with `--json`, one
/// document that holds the spec's text either way.
pub fn emit(
    context: &Context,
    host_name: &str,
    text: &str,
    out: Option<&Path>,
    force: bool,
) -> Result<()> {
    if let Some(path) = out {
        crate::import::write_new(path, text, force)?;
    }
    if context.ui.json {
        let document = serde_json::json!({
            "format_version": crate::plan::PLAN_FORMAT_VERSION,
            "host": host_name,
            "spec": text,
            "written_to": out.map(|path| path.display().to_string()),
        });
        context
            .ui
            .data(&(serde_json::to_string_pretty(&document)? + "\n"));
        return Ok(());
    }
    let Some(path) = out else {
        context.ui.data(text);
        return Ok(());
    };
    let host_flag = match host_name {
        "local" => String::new(),
        name => format!("--host {name} "),
    };
    let spec_flag = if path == Path::new("macllm.yaml") {
        String::new()
    } else {
        format!("--spec {} ", path.display())
    };
    context.ui.data(&format!(
        "Wrote {}.\nNext: macllm {host_flag}{spec_flag}plan\n",
        path.display()
    ));
    Ok(())
}
