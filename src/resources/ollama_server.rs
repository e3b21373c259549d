//! How Ollama runs on a host, where its variables must go to reach it, and restarting it so
//! it reads them again. Ollama reads its variables only when `ollama serve` starts
//! (reference/ollama.md 4):
//!
//! - Homebrew 6.0.15 and newer merges `$HOMEBREW_USER_CONFIG_HOME/services/ollama.env` over
//!   the formula's variables into the service plist at every `brew services start/restart`
//!   (Homebrew/brew PR #23312, `service.rb` `effective_environment_variables`), so the
//!   variables are in the plist at boot: the durable way, and it may override the two
//!   variables the formula sets itself;
//! - older Homebrew: `launchctl setenv` and a login agent that repeats it, restarted with
//!   `launchctl kickstart -k`; at boot the agent races Homebrew's RunAtLoad server and may
//!   lose (ollama/ollama#12916), which a plan then shows as drift;
//! - the desktop app: the same setenv and agent (Ollama's FAQ), the app quit and reopened
//!   (its own server restart reuses its stale environment, 4.1).

use super::ollama_env::server_uses;
use super::services::{Domain, domain_target, launchctl, print_domain, print_job};
use super::{AnyResource, Restarted};
use crate::host::{Invocation, run_ok};
use crate::ollama::client::Client;
use crate::target::Target;
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Homebrew's service label for the `ollama` formula (reference macos-commands 5.2).
pub const HOMEBREW_LABEL: &str = "homebrew.mxcl.ollama";
pub const APP_PATH: &str = "/Applications/Ollama.app";

/// Where `brew` is: Apple silicon's prefix, Intel's, then PATH (a non-interactive SSH
/// command's PATH is `/usr/bin:/bin:/usr/sbin:/sbin`, without either prefix).
const BREW_CANDIDATES: [&str; 3] = ["/opt/homebrew/bin/brew", "/usr/local/bin/brew", "brew"];

/// Where Homebrew's service logs when its plist does not say (Apple silicon's prefix).
const HOMEBREW_LOG: &str = "/opt/homebrew/var/log/ollama.log";

/// What Homebrew's config home comes from, first that is set (see [`homebrew_config_home`]).
const CONFIG_HOME_VARIABLES: [&str; 2] = ["XDG_CONFIG_HOME", "HOMEBREW_XDG_CONFIG_HOME"];

/// The first Homebrew that reads `services/<formula>.env` (tag 6.0.15).
const ENV_FILE_SINCE: [u32; 3] = [6, 0, 15];

/// `ollama.server` in the spec: how Ollama is to be run on the Mac.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ServerChoice {
    /// Whatever the Mac has: Homebrew's service, else the app.
    #[default]
    Auto,
    Homebrew,
    /// A LaunchAgent of the spec's own runs `ollama serve`, with the variables in its
    /// plist; Homebrew's service is disabled so that two servers never fight over a port.
    Own,
    App,
}

impl ServerChoice {
    pub fn is_auto(&self) -> bool {
        *self == ServerChoice::Auto
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Server {
    /// `brew services` of Homebrew 6.0.15+ (`brew` is its path): variables go to `env_file`.
    HomebrewEnvFile { brew: String, env_file: String },
    /// `brew services` of an older Homebrew: a LaunchAgent whose plist Homebrew rewrites on
    /// every start, so variables go through `launchctl setenv`.
    Homebrew { domain: String },
    /// Ollama.app: it starts `ollama serve` with its own environment.
    App,
}

impl Server {
    /// The server the spec's `ollama.server` names, as this Mac has it; worked out once per
    /// run, though every variable asks.
    pub fn detect_as(target: &Target, choice: ServerChoice) -> Result<Server> {
        target.once(&format!("ollama server ({choice:?})"), || {
            Server::detect_uncached(target, choice)
        })
    }

    /// What [`Server::detect_as`] and the reads of a variable may run on a Mac whose Homebrew
    /// keeps its defaults, for a plan to send ahead in one batch: Homebrew's service and the
    /// app probed, each `brew` asked its version, the Homebrew config variables, the service's
    /// env file and plist, and whether the server answers.
    pub fn probes(target: &Target) -> Result<Vec<Invocation>> {
        let facts = target.facts()?;
        let gui = format!("gui/{}", facts.uid);
        let mut probes = vec![print_domain(&gui), service_probe(&gui), app_probe()];
        probes.extend(BREW_CANDIDATES.map(brew_version));
        probes.extend(CONFIG_HOME_VARIABLES.map(printenv));
        let env_file = env_file(&default_config_home(&facts.home));
        probes.push(Invocation::read(["cat", &env_file]));
        probes.push(Invocation::read(["cat", &homebrew_plist_path(&facts.home)]));
        probes.extend(target.http_read(&Client::running_request()));
        Ok(probes)
    }

    fn detect_uncached(target: &Target, choice: ServerChoice) -> Result<Server> {
        let host = target.host();
        let domain = domain_target(target, Domain::Gui)?;
        let homebrew = matches!(choice, ServerChoice::Auto | ServerChoice::Homebrew)
            && host.run(&service_probe(&domain))?.success();
        if choice == ServerChoice::Homebrew && !homebrew {
            bail!(
                "`ollama.server` is `homebrew`, but Homebrew's service ({HOMEBREW_LABEL}) is not loaded on {}\nhint: `brew install ollama && brew services start ollama`",
                host.name()
            );
        }
        if homebrew {
            return Ok(match homebrew_config_home(target)? {
                Some((brew, config)) => Server::HomebrewEnvFile {
                    brew,
                    env_file: env_file(&config),
                },
                None => Server::Homebrew { domain },
            });
        }
        if host.run(&app_probe())?.success() {
            return Ok(Server::App);
        }
        if choice == ServerChoice::App {
            bail!(
                "`ollama.server` is `app`, but {APP_PATH} is not installed on {}",
                host.name()
            );
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
            Server::Homebrew { .. } | Server::HomebrewEnvFile { .. } => {
                let plist = homebrew_plist(target)?;
                plist
                    .as_ref()
                    .and_then(|p| p.get("StandardErrorPath"))
                    .and_then(|v| v.as_string())
                    .unwrap_or(HOMEBREW_LOG)
                    .to_string()
            }
            Server::App => format!("{}/.ollama/logs/server.log", target.facts()?.home),
        })
    }

    /// Variables Homebrew's own plist sets: they beat `launchctl setenv` (a job's
    /// EnvironmentVariables win over the domain's), so macllm cannot change them this way.
    /// How the variables travel, for the plan.
    pub fn delivery(&self, label: &str) -> String {
        match self {
            Server::HomebrewEnvFile { env_file, .. } => format!(
                "in {env_file}, which `brew services restart ollama` merges into the service's plist"
            ),
            Server::Homebrew { .. } | Server::App => format!(
                "launchctl setenv now, and at every login by the agent {label} (Homebrew older than 6.0.15 or the app: at boot the server may start before the agent runs)"
            ),
        }
    }

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
            Server::HomebrewEnvFile { brew, .. } => {
                // As the user: root's `brew services` manages system daemons and ignores
                // the user's env file (`service.rb`).
                run_ok(
                    host,
                    &target.as_user(Invocation::write([
                        brew.as_str(),
                        "services",
                        "restart",
                        "ollama",
                    ]))?,
                )?;
            }
            Server::Homebrew { domain } => {
                launchctl(
                    host,
                    &["kickstart", "-k", &format!("{domain}/{HOMEBREW_LABEL}")],
                    &[],
                )?;
            }
            Server::App => {
                require_gui_login(target)?;
                run_ok(
                    host,
                    &target.as_user(Invocation::write([
                        "osascript",
                        "-e",
                        "quit app \"Ollama\"",
                    ]))?,
                )?;
                // The app stops its server asynchronously (SIGINT, then up to 5 s:
                // ollama/ollama `app/server/server.go` `stop()`); opening it again before
                // that server is gone only activates the dying instance.
                wait_until_stopped(host)?;
                run_ok(
                    host,
                    &target.as_user(Invocation::write(["open", "-a", "Ollama"]))?,
                )?;
            }
        }
        wait_until_running(host)?;
        // The log's path is in the service's plist: on a remote Mac both are read in one
        // round trip, the log where Homebrew puts it by default (read again below if the
        // plist names another).
        if host.remote() && *self != Server::App {
            let home = &target.facts()?.home;
            let reads = [
                Invocation::read(["cat", &homebrew_plist_path(home)]),
                Invocation::read(["cat", HOMEBREW_LOG]),
            ];
            let _ = host.run_batch(&reads, false);
        }
        let log = run_ok(host, &Invocation::read(["cat", &self.log_path(target)?]))?;
        crate::ollama::server_config::parse_log(&log).ok_or_else(|| {
            anyhow::anyhow!("Ollama's log has no `server config` line to verify with")
        })
    }
}

/// Ollama.app runs only in a GUI login: LaunchServices has no session to open it in
/// otherwise (a Mac reached only over SSH).
pub fn require_gui_login(target: &Target) -> Result<()> {
    let host = target.host();
    let gui = format!("gui/{}", target.facts()?.uid);
    if !host.run(&print_domain(&gui))?.success() {
        bail!(
            "Ollama.app can only be started in a GUI login, and nobody is logged in at the screen of {} ({gui} does not exist)\nhint: log in at the Mac (or with Screen Sharing) and apply again, or run Ollama as a service (`brew install ollama`, or `ollama: {{ server: own }}`)",
            host.name()
        );
    }
    Ok(())
}

/// Waits until Ollama answers (a server just started binds its port within a second or
/// two), for at most 60 s.
pub fn wait_until_running(host: &dyn crate::host::Host) -> Result<()> {
    wait_until(
        host,
        true,
        60,
        "Ollama did not answer within 60 s of its start",
    )
}

/// Waits until Ollama no longer answers, for at most 15 s (the app waits 5 s for its server
/// before killing it).
fn wait_until_stopped(host: &dyn crate::host::Host) -> Result<()> {
    wait_until(
        host,
        false,
        15,
        "Ollama.app's server was still answering 15 s after the app was asked to quit",
    )
}

/// Polls Ollama every 250 ms until it answers (`running`) or no longer does.
fn wait_until(
    host: &dyn crate::host::Host,
    running: bool,
    seconds: u64,
    timeout: &str,
) -> Result<()> {
    let client = Client::new(host);
    let started = std::time::Instant::now();
    while client.is_running() != running {
        if started.elapsed().as_secs() > seconds {
            bail!("{timeout}");
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    Ok(())
}

/// Restarts Ollama once, waits for it and checks, from the `server config` line of its log,
/// that it now runs with every variable in `owed` (the variables just set).
pub fn restart_for(target: &Target, owed: &[&AnyResource]) -> Result<Restarted> {
    let choice = owed
        .iter()
        .find_map(|resource| match resource {
            AnyResource::OllamaEnv(variable) => Some(variable.server),
            _ => None,
        })
        .unwrap_or_default();
    let server = Server::detect_as(target, choice)?;
    target.hook().step("Restarting the Ollama server...");
    let env = server.restart(target)?;
    let mut wrong = Vec::new();
    let mut verified = 0;
    for resource in owed {
        let AnyResource::OllamaEnv(variable) = resource else {
            continue;
        };
        let logged = env.get(&variable.name).map(String::as_str).unwrap_or("");
        match server_uses(&variable.name, &variable.value, logged) {
            Some(true) => verified += 1,
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
    // Only what was checked is claimed: a restart after variables were removed (a destroy
    // of variables that were absent before) has nothing to show in the log.
    Ok(Restarted::Done(if verified > 0 {
        "Restarted: the Ollama server, and it reports the new variables".to_string()
    } else {
        "Restarted: the Ollama server".to_string()
    }))
}

/// `brew`'s path and `$HOMEBREW_USER_CONFIG_HOME` when this Mac's Homebrew reads service
/// env files, else `None`. Homebrew resolves it as `$XDG_CONFIG_HOME/homebrew`, else
/// `$HOMEBREW_XDG_CONFIG_HOME/homebrew`, else `~/.homebrew` (Homebrew/brew `bin/brew`
/// 161-171), in the environment `brew` runs in: the one macllm's commands get on this host.
fn homebrew_config_home(target: &Target) -> Result<Option<(String, String)>> {
    let host = target.host();
    let mut found = None;
    for brew in BREW_CANDIDATES {
        // Not installed there: an error locally, exit 127 from a remote shell.
        match host.run(&brew_version(brew)) {
            Ok(output) if output.status != 127 => {
                found = Some((brew, output));
                break;
            }
            _ => {}
        }
    }
    let Some((brew, version)) = found else {
        return Ok(None);
    };
    // `Homebrew 6.0.18`, or `Homebrew 6.0.18-113-gecbeb2e` between tags.
    let numbers: Vec<u32> = version
        .stdout
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("Homebrew "))
        .unwrap_or_default()
        .split(['.', '-'])
        .take(3)
        .map_while(|part| part.parse().ok())
        .collect();
    if !version.success() || numbers.len() < 3 || numbers[..3] < ENV_FILE_SINCE[..] {
        return Ok(None);
    }
    for variable in CONFIG_HOME_VARIABLES {
        let set = host.run(&printenv(variable))?;
        let value = set.stdout.trim_end_matches('\n');
        if set.success() && !value.is_empty() {
            return Ok(Some((brew.to_string(), format!("{value}/homebrew"))));
        }
    }
    Ok(Some((
        brew.to_string(),
        default_config_home(&target.facts()?.home),
    )))
}

// The commands and paths of detection, named once: `Server::probes` sends the same ones
// ahead in a batch, whose answers count only if they are the very same commands.

/// Whether Homebrew's service is loaded in `domain`.
fn service_probe(domain: &str) -> Invocation {
    print_job(domain, HOMEBREW_LABEL)
}

fn app_probe() -> Invocation {
    Invocation::read(["test", "-d", APP_PATH])
}

fn brew_version(brew: &str) -> Invocation {
    Invocation::read([brew, "--version"])
}

fn printenv(variable: &str) -> Invocation {
    Invocation::read(["printenv", variable])
}

/// `$HOMEBREW_USER_CONFIG_HOME` when neither config variable is set.
fn default_config_home(home: &str) -> String {
    format!("{home}/.homebrew")
}

/// The service's env file under a Homebrew config home.
fn env_file(config_home: &str) -> String {
    format!("{config_home}/services/ollama.env")
}

fn homebrew_plist_path(home: &str) -> String {
    format!("{home}/Library/LaunchAgents/{HOMEBREW_LABEL}.plist")
}

fn homebrew_plist(target: &Target) -> Result<Option<plist::Dictionary>> {
    let path = homebrew_plist_path(&target.facts()?.home);
    let output = target.host().run(&Invocation::read(["cat", &path]))?;
    if !output.success() {
        return Ok(None);
    }
    Ok(plist::Value::from_reader_xml(output.stdout.as_bytes())
        .ok()
        .and_then(|v| v.into_dictionary()))
}
