//! Homebrew's `ollama` on the emulated Mac, as `brew install ollama && brew services start
//! ollama` leaves it (Homebrew/homebrew-core `Formula/o/ollama.rb` at v0.32.15, Homebrew/brew
//! `Library/Homebrew/service.rb to_plist`; reference ollama.md 4.2, macos-commands.md 5.2):
//!
//! - the keg `/opt/homebrew/Cellar/ollama/0.32.15/` with `libexec/ollama` (the formula builds
//!   into libexec and links `bin/ollama -> ../libexec/ollama`) and the service plist;
//! - `/opt/homebrew/opt/ollama -> ../Cellar/ollama/0.32.15` and
//!   `/opt/homebrew/bin/ollama -> ../Cellar/ollama/0.32.15/bin/ollama`;
//! - `/opt/homebrew/var/log/` for the service's log;
//! - `~/Library/LaunchAgents/homebrew.mxcl.ollama.plist`, the plist `brew services start`
//!   copies from the keg: `Label`, `ProgramArguments [opt/ollama/bin/ollama, serve]`,
//!   `RunAtLoad`, `KeepAlive`, `WorkingDirectory` var, both log paths
//!   `var/log/ollama.log`, `EnvironmentVariables` `OLLAMA_FLASH_ATTENTION=1`,
//!   `OLLAMA_KV_CACHE_TYPE=q8_0`, `LimitLoadToSessionType [Aqua Background LoginWindow
//!   StandardIO System]`; keys sorted, as the `plist` gem writes them.
//!
//! launchd loads the agent at boot like any other in `~/Library/LaunchAgents`: into
//! `gui/<uid>`, or `user/<uid>` on a Mac reached only over SSH (the Background session type).

use super::names::Name;
use super::registry;
use super::store::Store;
use crate::machine::Machine;
use anyhow::{Context, Result};
use std::fs;
use std::os::unix::fs::PermissionsExt;

/// The formula's version: the newest stable Ollama release, v0.32.15 (ollama/ollama tag
/// `v0.32.15`, commit b7871fc0d, 2026-08-19; research note issue10 section 1). homebrew-core's
/// stored `Formula/o/ollama.rb` (commit 03265686) is at 0.32.3; its `service do` block, which
/// is all the emulator renders, does not depend on the version. UNCONFIRMED: the formula's
/// bump commit to 0.32.15 was not read.
pub const VERSION: &str = "0.32.15";
pub const LABEL: &str = "homebrew.mxcl.ollama";
pub const PREFIX: &str = "/opt/homebrew";
pub const LOG: &str = "/opt/homebrew/var/log/ollama.log";

/// The service plist Homebrew renders for the formula.
pub fn service_plist() -> plist::Dictionary {
    use plist::Value as V;
    let mut env = plist::Dictionary::new();
    env.insert("OLLAMA_FLASH_ATTENTION".into(), V::String("1".into()));
    env.insert("OLLAMA_KV_CACHE_TYPE".into(), V::String("q8_0".into()));
    let strings =
        |items: &[&str]| V::Array(items.iter().map(|s| V::String(s.to_string())).collect());
    let mut dict = plist::Dictionary::new();
    dict.insert("EnvironmentVariables".into(), V::Dictionary(env));
    dict.insert("KeepAlive".into(), V::Boolean(true));
    dict.insert("Label".into(), V::String(LABEL.into()));
    dict.insert(
        "LimitLoadToSessionType".into(),
        strings(&["Aqua", "Background", "LoginWindow", "StandardIO", "System"]),
    );
    dict.insert(
        "ProgramArguments".into(),
        strings(&[&format!("{PREFIX}/opt/ollama/bin/ollama"), "serve"]),
    );
    dict.insert("RunAtLoad".into(), V::Boolean(true));
    dict.insert("StandardErrorPath".into(), V::String(LOG.into()));
    dict.insert("StandardOutPath".into(), V::String(LOG.into()));
    dict.insert(
        "WorkingDirectory".into(),
        V::String(format!("{PREFIX}/var")),
    );
    dict
}

fn xml(dict: &plist::Dictionary) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    plist::Value::Dictionary(dict.clone()).to_writer_xml(&mut bytes)?;
    bytes.push(b'\n');
    Ok(bytes)
}

fn write(machine: &Machine, mac: &str, bytes: &[u8], mode: u32) -> Result<()> {
    let path = machine
        .host_path(mac)
        .with_context(|| format!("internal error: bad Mac path {mac}"))?;
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
    Ok(())
}

fn symlink(machine: &Machine, mac: &str, target: &str) -> Result<()> {
    let path = machine
        .host_path(mac)
        .with_context(|| format!("internal error: bad Mac path {mac}"))?;
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    if fs::symlink_metadata(&path).is_err() {
        std::os::unix::fs::symlink(target, &path)?;
    }
    Ok(())
}

/// Installs the formula, its started service and `models` (pulled into the default store).
/// Leaves alone whatever is already there.
pub fn install(machine: &Machine, models: &[&str]) -> Result<()> {
    let keg = format!("{PREFIX}/Cellar/ollama/{VERSION}");
    let binary = format!("{keg}/libexec/ollama");
    if machine.host_path(&binary).is_some_and(|p| !p.exists()) {
        write(
            machine,
            &binary,
            format!(
                "#!/bin/sh\n# Ollama {VERSION} (Homebrew) on macllm's emulated Mac: the sandbox \
                 answers its HTTP API while the launchd job runs `ollama serve`.\n"
            )
            .as_bytes(),
            0o755,
        )?;
    }
    symlink(machine, &format!("{keg}/bin/ollama"), "../libexec/ollama")?;
    let plist = xml(&service_plist())?;
    write(machine, &format!("{keg}/{LABEL}.plist"), &plist, 0o644)?;
    symlink(
        machine,
        &format!("{PREFIX}/opt/ollama"),
        &format!("../Cellar/ollama/{VERSION}"),
    )?;
    symlink(
        machine,
        &format!("{PREFIX}/bin/ollama"),
        &format!("../Cellar/ollama/{VERSION}/bin/ollama"),
    )?;
    if let Some(log_dir) = machine.host_path(&format!("{PREFIX}/var/log")) {
        fs::create_dir_all(log_dir)?;
    }
    let agent = format!("{}/Library/LaunchAgents/{LABEL}.plist", machine.mac_home());
    if machine.host_path(&agent).is_some_and(|p| !p.exists()) {
        write(machine, &agent, &plist, 0o644)?;
    }
    let store = Store::open(machine, &format!("{}/.ollama/models", machine.mac_home()));
    for model in models {
        let name = Name::parse(model);
        let base = registry::find(&name)
            .with_context(|| format!("internal error: {model} is not in the emulated registry"))?;
        if store.manifest(&name).is_none() {
            store
                .install_from_registry(&name, base)
                .with_context(|| format!("pulling {model} into {}", store.host.display()))?;
        }
    }
    Ok(())
}

/// What a fresh Mac of the machine's preset has installed (called by launchd's first boot).
pub fn install_preset(machine: &Machine) -> Result<()> {
    let Some(preset) = crate::presets::find(&machine.info.preset) else {
        return Ok(());
    };
    if preset.homebrew_ollama() {
        install(machine, preset.ollama_models())?;
    }
    Ok(())
}
