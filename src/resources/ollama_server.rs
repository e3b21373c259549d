//! How Ollama runs on a host, and restarting it so it reads its environment again. Ollama
//! reads its variables only when `ollama serve` starts (reference/ollama.md 4): Homebrew's
//! service is restarted with `launchctl kickstart -k`, the desktop app is quit and reopened
//! (the app's own server restart reuses its stale environment, 4.1).

use super::ollama_env::server_uses;
use super::services::{Domain, domain_target, launchctl};
use super::{AnyResource, Restarted};
use crate::host::{Invocation, run_ok};
use crate::ollama::client::Client;
use crate::target::Target;
use anyhow::{Result, bail};
use std::collections::BTreeMap;

/// Homebrew's service label for the `ollama` formula (reference macos-commands 5.2).
pub const HOMEBREW_LABEL: &str = "homebrew.mxcl.ollama";
pub const APP_PATH: &str = "/Applications/Ollama.app";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Server {
    /// `brew services`: a LaunchAgent whose plist Homebrew rewrites on every start.
    Homebrew { domain: String },
    /// Ollama.app: it starts `ollama serve` with its own environment.
    App,
}

impl Server {
    pub fn detect(target: &Target) -> Result<Server> {
        let host = target.host();
        let domain = domain_target(target, Domain::Gui)?;
        let service = format!("{domain}/{HOMEBREW_LABEL}");
        if host
            .run(&Invocation::read(["launchctl", "print", &service]))?
            .success()
        {
            return Ok(Server::Homebrew { domain });
        }
        if host
            .run(&Invocation::read(["test", "-d", APP_PATH]))?
            .success()
        {
            return Ok(Server::App);
        }
        bail!(
            "cannot tell how Ollama runs on {}: neither Homebrew's service ({HOMEBREW_LABEL}) is loaded nor {APP_PATH} installed\nhint: `brew install ollama && brew services start ollama`, or install the app",
            host.name()
        )
    }

    /// Where the running server writes its log, whose first line per start records the
    /// environment it read (`msg="server config"`, reference/ollama.md 0.9).
    pub fn log_path(&self, target: &Target) -> Result<String> {
        Ok(match self {
            Server::Homebrew { .. } => {
                let plist = homebrew_plist(target)?;
                plist
                    .as_ref()
                    .and_then(|p| p.get("StandardErrorPath"))
                    .and_then(|v| v.as_string())
                    .unwrap_or("/opt/homebrew/var/log/ollama.log")
                    .to_string()
            }
            Server::App => format!("{}/.ollama/logs/server.log", target.facts()?.home),
        })
    }

    /// Variables Homebrew's own plist sets: they beat `launchctl setenv` (a job's
    /// EnvironmentVariables win over the domain's), so macllm cannot change them this way.
    pub fn fixed_variables(&self, target: &Target) -> Result<BTreeMap<String, String>> {
        let Server::Homebrew { .. } = self else {
            return Ok(BTreeMap::new());
        };
        Ok(homebrew_plist(target)?
            .and_then(|p| p.get("EnvironmentVariables").cloned())
            .and_then(|v| v.into_dictionary())
            .map(|d| {
                d.into_iter()
                    .filter_map(|(k, v)| v.as_string().map(|s| (k, s.to_string())))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Restarts the server, waits until it answers and returns the environment its log says
    /// it started with.
    pub fn restart(&self, target: &Target) -> Result<BTreeMap<String, String>> {
        let host = target.host();
        match self {
            Server::Homebrew { domain } => {
                launchctl(
                    host,
                    &["kickstart", "-k", &format!("{domain}/{HOMEBREW_LABEL}")],
                    &[],
                )?;
            }
            Server::App => {
                run_ok(
                    host,
                    &Invocation::write(["osascript", "-e", "quit app \"Ollama\""]),
                )?;
                run_ok(host, &Invocation::write(["open", "-a", "Ollama"]))?;
            }
        }
        let client = Client::new(host);
        let started = std::time::Instant::now();
        while !client.is_running() {
            if started.elapsed().as_secs() > 60 {
                bail!("Ollama did not answer within 60 s of its restart");
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        let log = run_ok(host, &Invocation::read(["cat", &self.log_path(target)?]))?;
        crate::ollama::server_config::parse_log(&log).ok_or_else(|| {
            anyhow::anyhow!("Ollama's log has no `server config` line to verify with")
        })
    }
}

/// Restarts Ollama once, waits for it and checks, from the `server config` line of its log,
/// that it now runs with every variable in `owed` (the variables just set).
pub fn restart_for(target: &Target, owed: &[&AnyResource]) -> Result<Restarted> {
    let server = Server::detect(target)?;
    target.hook().step("Restarting the Ollama server...");
    let env = server.restart(target)?;
    let mut wrong = Vec::new();
    for resource in owed {
        let AnyResource::OllamaEnv(variable) = resource else {
            continue;
        };
        let logged = env.get(&variable.name).map(String::as_str).unwrap_or("");
        match server_uses(&variable.name, &variable.value, logged) {
            Some(true) => {}
            Some(false) => wrong.push(format!(
                "  {}: set {}, the server reports `{logged}`",
                variable.name, variable.value
            )),
            None => target.warn(format!(
                "{} cannot be verified after the restart: Ollama reads it but does not log it",
                variable.name
            )),
        }
    }
    if !wrong.is_empty() {
        bail!(
            "Ollama restarted but does not use what was set:\n{}\nhint: the desktop app overrides OLLAMA_HOST, OLLAMA_MODELS and OLLAMA_CONTEXT_LENGTH from its own settings",
            wrong.join("\n")
        );
    }
    Ok(Restarted::Done(
        "Restarted: the Ollama server, and it reports the new variables".to_string(),
    ))
}

fn homebrew_plist(target: &Target) -> Result<Option<plist::Dictionary>> {
    let path = format!(
        "{}/Library/LaunchAgents/{HOMEBREW_LABEL}.plist",
        target.facts()?.home
    );
    let output = target.host().run(&Invocation::read(["cat", &path]))?;
    if !output.success() {
        return Ok(None);
    }
    Ok(plist::Value::from_reader_xml(output.stdout.as_bytes())
        .ok()
        .and_then(|v| v.into_dictionary()))
}
