//! `macllm export mobileconfig`: the spec's `defaults` as an MDM profile (`src/export.rs`).

use super::Context;
use crate::cli::ExportCommand;
use anyhow::{Result, bail};

/// `export mobileconfig`: renders the spec for the Mac named by `--host` (or an inventory of
/// one). Without one, a spec with templates is exported only if it gives the same profile on
/// every kind of Mac (templates of module parameters, say); one whose profile depends on the
/// Mac is refused rather than rendered for a Mac nobody named.
pub fn run(context: &Context, command: ExportCommand) -> Result<i32> {
    let ExportCommand::Mobileconfig {
        identifier,
        organization,
        display_name,
        out,
    } = command;
    let options = crate::export::Options {
        identifier,
        organization,
        display_name,
    };
    if context.global.hosts.is_empty() && context.global.inventory.is_none() {
        let profile = profile_for_any_mac(context, &options)?;
        return write(context, &profile, out.as_deref());
    }
    let hosts = context.host_names()?;
    if hosts.len() > 1 {
        bail!(
            "a profile is exported for one Mac, and {} were given ({})\nhint: pass a single --host",
            hosts.len(),
            hosts.join(", ")
        );
    }
    context.for_each_host(|host, _| {
        let profile = crate::export::mobileconfig(&context.spec_for(host)?, &options)?;
        write(context, &profile, out.as_deref())
    })
}

/// The profile of a spec exported without `--host`. A spec without templates reads no facts;
/// one with templates is rendered for every emulated preset, and for a Mac that differs from
/// them in what they share (user, home, hostname, root, GPU limit), and must give one profile.
fn profile_for_any_mac(
    context: &Context,
    options: &crate::export::Options,
) -> Result<crate::export::Profile> {
    let templated = std::cell::Cell::new(false);
    let first = crate::sandbox::default_preset();
    let facts = || {
        templated.set(true);
        Ok(crate::sandbox::facts_of_preset(first))
    };
    let profile = crate::export::mobileconfig(
        &context.load_spec(&facts, &serde_json::Value::Null)?,
        options,
    )?;
    if !templated.get() {
        return Ok(profile);
    }
    let mut others: Vec<(String, crate::facts::Facts)> = crate::sandbox::PRESETS
        .iter()
        .map(|p| {
            (
                format!("an emulated {}", p.name),
                crate::sandbox::facts_of_preset(p),
            )
        })
        .collect();
    let mut stranger = crate::sandbox::facts_of_preset(first);
    stranger.hostname = "other.local".into();
    stranger.user = "other".into();
    stranger.home = "/Users/other".into();
    stranger.uid = 502;
    stranger.root = !stranger.root;
    stranger.gpu_wired_limit_mb = Some(4096);
    others.push((
        format!("an emulated {} with another user and hostname", first.name),
        stranger,
    ));
    let options_of_spec = crate::spec::ollama::Options {
        allow_unknown_env: context.global.allow_unknown_env,
    };
    for (which, facts) in others {
        // Not through `load_spec`: its warnings were shown once already.
        let spec = crate::spec::Spec::load(
            &context.global.spec,
            options_of_spec,
            &|| Ok(facts.clone()),
            &serde_json::Value::Null,
        )?;
        if crate::export::mobileconfig(&spec, options)? != profile {
            bail!(
                "{} has templates that give a different profile on different Macs ({} and {}), and no --host says which Mac to export for\n\
                 hint: pass the Mac, as in `macllm --host ssh:admin@studio.lan export mobileconfig` (`--host sandbox:DIR` for an emulated one)",
                context.global.spec.display(),
                format_args!("an emulated {}", first.name),
                which
            );
        }
    }
    Ok(profile)
}

fn write(
    context: &Context,
    profile: &crate::export::Profile,
    out: Option<&std::path::Path>,
) -> Result<i32> {
    for skipped in &profile.skipped {
        context.ui.warn(&format!("skipped {skipped}"));
    }
    match out {
        Some(path) => {
            std::fs::write(path, &profile.xml)
                .map_err(|err| anyhow::anyhow!("writing {}: {err}", path.display()))?;
            context.ui.progress(&format!("Wrote {}", path.display()));
        }
        None => context.ui.data(&profile.xml),
    }
    Ok(0)
}
