//! What macllm manages. One file per kind; [`AnyResource`] is the one place that lists the
//! kinds. Every kind reads and writes the machine only through `&dyn Host`, and expresses its
//! value as a typed [`Value`] so that plan, render and state need no per-kind code.

pub mod agents;
pub mod defaults;
pub mod ollama_env;
pub mod ollama_models;
pub mod ollama_server;
pub mod power;
pub mod services;
pub mod spotlight;

use crate::host::{Invocation, Output};
use crate::target::Target;
use crate::value::Value;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Names one managed thing on one host (`defaults:com.apple.dock:autohide`). Keys the graph,
/// the plan and the state file, so it must not change between releases.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResourceId(pub String);

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Something to run once after all writes so that a change takes effect.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Restart {
    /// `killall NAME`; launchd starts the app again with the new settings.
    Kill(String),
    /// `activateSettings -u`: reloads global preferences without a logout.
    ActivateSettings,
    /// Nothing to run: a logout is needed; the text says why.
    Logout(String),
    /// Restart Ollama's server (however it runs), wait for it, and check its environment.
    OllamaServer,
}

/// `activateSettings` lives inside a private framework, not on PATH.
pub const ACTIVATE_SETTINGS: &str =
    "/System/Library/PrivateFrameworks/SystemAdministration.framework/Resources/activateSettings";

/// How a restart went, for the caller to tell the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Restarted {
    /// It ran; the line says so.
    Done(String),
    /// It did not run, and nothing is wrong for that (an app that was not running has
    /// nothing stale to reload; a logout is the user's to do): a warning.
    Warning(String),
}

impl Restart {
    pub fn describe(&self) -> String {
        match self {
            Restart::Kill(app) => format!("killall {app}"),
            Restart::ActivateSettings => "activateSettings -u".to_string(),
            Restart::Logout(why) => format!("log out and back in ({why})"),
            Restart::OllamaServer => "restart the Ollama server".to_string(),
        }
    }

    /// Runs it on the host. `owed` are the resources whose writes need it, as written: a
    /// restart may check that they took effect. Failing to restart an app is a warning; an
    /// Ollama server that does not come back with its variables is an error, because the
    /// variables were the point.
    pub fn run(&self, target: &Target, owed: &[&AnyResource]) -> Result<Restarted> {
        let Some(invocation) = self.invocation(target)? else {
            return match self {
                Restart::Logout(why) => Ok(Restarted::Warning(format!(
                    "log out and back in for some changes to show: {why}"
                ))),
                _ => ollama_server::restart_for(target, owed),
            };
        };
        let output = target.host().run(&invocation);
        Ok(self.judge(target, owed, &invocation, output))
    }

    /// The one command this restart is, for those that are one command and need nothing
    /// waited for afterwards (so that several can go in one batch); `None` for the others.
    pub fn invocation(&self, target: &Target) -> Result<Option<Invocation>> {
        let argv: Vec<String> = match self {
            Restart::Kill(app) => vec!["killall".into(), app.clone()],
            Restart::ActivateSettings => vec![ACTIVATE_SETTINGS.into(), "-u".into()],
            Restart::OllamaServer | Restart::Logout(_) => return Ok(None),
        };
        // The user's apps, in the user's session (nix-darwin kills only the primary user's
        // Dock: `killall -qu USER Dock`, defaults-write.nix).
        target.as_user(Invocation::write(argv)).map(Some)
    }

    /// How the restart [`Restart::invocation`] went, from what running it gave.
    pub fn judge(
        &self,
        target: &Target,
        owed: &[&AnyResource],
        invocation: &Invocation,
        output: Result<Output>,
    ) -> Restarted {
        match output {
            Ok(output) if output.success() => match self {
                Restart::ActivateSettings => defaults::activated(target, owed),
                _ => Restarted::Done(format!("Restarted: {}", self.describe())),
            },
            // An app that is not running has nothing stale to reload; nix-darwin and
            // mathiasbynens/dotfiles ignore killall's status for the same reason.
            Ok(output) => Restarted::Warning(format!(
                "`{}` exited with status {}: {}",
                invocation.display(),
                output.status,
                output.stderr.trim()
            )),
            Err(err) => Restarted::Warning(format!("{err:#}")),
        }
    }
}

/// One kind of thing macllm manages. `read` never changes the machine.
pub trait Resource {
    fn id(&self) -> ResourceId;

    /// What kind of thing it is, for messages (`a defaults key`).
    fn noun(&self) -> &'static str;

    /// What the spec asks for; `None` means "must not be there".
    fn desired(&self) -> Option<Value>;

    /// The desired value on this host, for kinds whose target depends on the host (a custom
    /// model inherits from its base model as installed there). Read-only.
    fn desired_on(&self, _target: &Target) -> Result<Option<Value>> {
        Ok(self.desired())
    }

    fn read(&self, target: &Target) -> Result<Option<Value>>;

    /// The commands [`Resource::read`] runs, for kinds that can name them before running
    /// any: plan and apply send those of many resources ahead as one batch (one round trip
    /// over SSH), and the reads then find their answers remembered.
    fn reads(&self, _target: &Target) -> Result<Vec<Invocation>> {
        Ok(Vec::new())
    }

    /// Makes the host hold `value` (`None` removes it). Callers read back afterwards.
    fn write(&self, target: &Target, value: Option<&Value>) -> Result<()>;

    /// The one command that writes `value`, for kinds whose write is exactly one command
    /// judged by [`Resource::written`] (apply sends a wave's as one batch); `None` for kinds
    /// that write otherwise.
    fn write_invocation(
        &self,
        _target: &Target,
        _value: Option<&Value>,
    ) -> Result<Option<Invocation>> {
        Ok(None)
    }

    /// Judges what the command of [`Resource::write_invocation`] did.
    fn written(
        &self,
        _target: &Target,
        _value: Option<&Value>,
        invocation: &Invocation,
        output: Output,
    ) -> Result<()> {
        output.require_success(invocation).map(drop)
    }

    /// What must run after a write for the change to take effect.
    fn restart(&self) -> Option<Restart> {
        None
    }

    /// Whether writing needs root (known before anything changes).
    fn needs_root(&self) -> bool {
        false
    }

    /// How the change is made, shown under it in the plan (e.g. which Spotlight method).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Waits until the value can be read, when an earlier change has just started what
    /// serves it (a model once the Ollama server it needs answers).
    fn wait_until_readable(&self, _target: &Target) -> Result<()> {
        Ok(())
    }

    /// [`Resource::notes`] for kinds whose method depends on the host.
    fn notes_on(&self, _target: &Target) -> Result<Vec<String>> {
        Ok(self.notes())
    }

    /// The part of a value that a write makes true at once: apply compares this right after
    /// writing, and what settles only with the restart that follows (a server's view of its
    /// own environment) is checked by that restart.
    fn before_restart(&self, value: Option<Value>) -> Option<Value> {
        value
    }

    /// [`Resource::before_restart`] of what [`Resource::read`] gives: what apply checks right
    /// after a write. Kinds whose restart settles the rest read only this part here.
    fn read_before_restart(&self, target: &Target) -> Result<Option<Value>> {
        Ok(self.before_restart(self.read(target)?))
    }

    /// Why apply must refuse `before`, a value that looks like this kind's own change stopped
    /// halfway (a folder renamed to `.noindex` with no symlink yet), when the state holds no
    /// record of macllm starting it: finishing it would take over what someone else made.
    fn halfway_not_ours(&self, _target: &Target, _before: &Value) -> Option<String> {
        None
    }

    /// Things a user should know whenever this resource is planned (a secret on a command
    /// line): shown by every plan.
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }

    /// Things a user should know before this resource is changed (a domain that needs Full
    /// Disk Access, a folder that is moved): shown only by a plan that changes it.
    fn notices(&self) -> Vec<String> {
        Vec::new()
    }

    /// A name the spec gives that nothing on this host answers to (a launchd label no plist
    /// defines), found by [`Resource::read`]'s own reads: plan warns at the spec's line.
    fn unknown_on(&self, _target: &Target) -> Result<Option<Unknown>> {
        Ok(None)
    }
}

/// The reads that `resources` can name ([`Resource::reads`]), each once, in order: what
/// the plan, and apply after a wave's writes, send ahead as one batch. A resource that
/// cannot name its reads adds none; it reads on its own and reports its own error.
pub fn reads_of<'r>(
    resources: impl IntoIterator<Item = &'r AnyResource>,
    target: &Target,
) -> Vec<Invocation> {
    let mut seen = std::collections::HashSet::new();
    resources
        .into_iter()
        .flat_map(|resource| resource.as_resource().reads(target).unwrap_or_default())
        .filter(|read| seen.insert(read.clone()))
        .collect()
}

/// See [`Resource::unknown_on`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown {
    /// The spec field that holds the name (`label`).
    pub field: &'static str,
    pub name: String,
    /// That it is unknown, why, and what that means.
    pub message: String,
    /// The names this host has, for a did-you-mean.
    pub known: Vec<String>,
}

/// Every kind, as the spec produces it and the state file stores it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AnyResource {
    Defaults(defaults::DefaultsKey),
    Service(services::Service),
    Agent(agents::Agent),
    SpotlightFolder(spotlight::SpotlightFolder),
    SpotlightVolume(spotlight::SpotlightVolume),
    Power(power::PowerSetting),
    TimeMachine(power::TimeMachine),
    OllamaEnv(ollama_env::OllamaEnv),
    OllamaPull(ollama_models::OllamaPull),
    OllamaModel(ollama_models::OllamaModel),
}

impl AnyResource {
    pub fn as_resource(&self) -> &dyn Resource {
        match self {
            AnyResource::Defaults(resource) => resource,
            AnyResource::Service(resource) => resource,
            AnyResource::Agent(resource) => resource,
            AnyResource::SpotlightFolder(resource) => resource,
            AnyResource::SpotlightVolume(resource) => resource,
            AnyResource::Power(resource) => resource,
            AnyResource::TimeMachine(resource) => resource,
            AnyResource::OllamaEnv(resource) => resource,
            AnyResource::OllamaPull(resource) => resource,
            AnyResource::OllamaModel(resource) => resource,
        }
    }
}
