//! A LaunchAgent macllm owns (e.g. `ollama serve` at interactive priority): the plist is
//! rendered from the spec, written to `~/Library/LaunchAgents/<label>.plist` through the
//! machine interface (`tee`, so the sandbox and SSH work the same), checked with
//! `plutil -lint` and bootstrapped into the user's domain. The value is `{plist, loaded}`, so a
//! change shows as a unified diff of the plist text.

use super::services::{Domain, domain_target, is_loaded, launchctl, wait_until_unloaded};
use super::{Resource, ResourceId};
use crate::host::{Invocation, run_ok};
use crate::target::Target;
use crate::value::Value;
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub label: String,
    /// As written in the spec (may start with `~/`); the default is
    /// `~/Library/LaunchAgents/<label>.plist`.
    pub path: String,
    /// The launchd.plist(5) keys, already typed (`Label` included).
    pub plist: Value,
}

/// Session types a generated agent may load in. Homebrew writes this list into every service
/// plist so the job also loads in `user/<uid>` when there is no GUI login (reference 2.1;
/// Homebrew `service.rb` `to_plist`).
pub const ALL_SESSIONS: &[&str] = &["Aqua", "Background", "LoginWindow", "StandardIO", "System"];

pub fn default_path(label: &str) -> String {
    format!("~/Library/LaunchAgents/{label}.plist")
}

impl Agent {
    /// Whether the agent runs `ollama serve` (Ollama served by the spec's own agent).
    pub fn serves_ollama(&self) -> bool {
        let Value::Dict(plist) = &self.plist else {
            return false;
        };
        let Some(Value::Array(arguments)) = plist.get("ProgramArguments") else {
            return false;
        };
        matches!(
            arguments.as_slice(),
            [Value::String(program), Value::String(verb), ..]
                if verb == "serve" && program.rsplit('/').next() == Some("ollama")
        )
    }
}

/// Whether a string in `value` holds a secret (unescaped: the XML text escapes `"`, `&`, `<`).
fn holds_secret(value: &Value) -> bool {
    match value {
        Value::String(text) => crate::mask::contains_secret(text),
        Value::Array(items) => items.iter().any(holds_secret),
        Value::Dict(fields) => fields
            .iter()
            .any(|(key, value)| crate::mask::contains_secret(key) || holds_secret(value)),
        _ => false,
    }
}

fn agent_value(plist_text: String, loaded: bool) -> Value {
    Value::Dict(BTreeMap::from([
        ("plist".to_string(), Value::String(plist_text)),
        ("loaded".to_string(), Value::Bool(loaded)),
    ]))
}

impl Agent {
    /// The exact file text macllm writes (the plist crate's XML, deterministic for a value).
    pub fn plist_text(&self) -> String {
        self.plist.to_xml_document()
    }
}

impl Resource for Agent {
    fn id(&self) -> ResourceId {
        ResourceId(format!("agent:{}", self.label))
    }

    fn noun(&self) -> &'static str {
        "a launch agent"
    }

    fn desired(&self) -> Option<Value> {
        Some(agent_value(self.plist_text(), true))
    }

    fn read(&self, target: &Target) -> Result<Option<Value>> {
        let host = target.host();
        let path = target.expand_home(&self.path)?;
        let file = target.run_as_user(Invocation::read(["cat", &path]))?;
        if !file.success() {
            if file.stderr.contains("No such file") {
                return Ok(None);
            }
            bail!(
                "`cat {path}` exited with status {}: {}",
                file.status,
                file.stderr.trim()
            );
        }
        let domain = domain_target(target, Domain::Gui)?;
        let loaded = is_loaded(host, &domain, &self.label)?;
        Ok(Some(agent_value(file.stdout, loaded)))
    }

    fn write(&self, target: &Target, value: Option<&Value>) -> Result<()> {
        let host = target.host();
        let path = target.expand_home(&self.path)?;
        let domain = domain_target(target, Domain::Gui)?;
        let service = format!("{domain}/{}", self.label);
        if is_loaded(host, &domain, &self.label)? {
            launchctl(host, &["bootout", &service], &[3])?;
            wait_until_unloaded(host, &domain, &self.label)?;
        }
        let Some(Value::Dict(fields)) = value else {
            let rm = target.as_user(Invocation::write(["rm", "-f", &path]))?;
            run_ok(host, &rm)?;
            return Ok(());
        };
        let Some(Value::String(text)) = fields.get("plist") else {
            bail!("internal error: an agent value has no plist text");
        };
        // Written as the user: the file (and a LaunchAgents folder made for it) must be
        // theirs, not root's, or the user could not change it later without sudo.
        // A plist holding a secret is the user's alone (0600, not 0644): the file is made
        // empty and chmod-ed first, so the secret is never in a file others may read.
        if crate::mask::contains_secret(text) || holds_secret(&self.plist) {
            target.write_file_as_user(&path, Vec::new())?;
            let chmod = target.as_user(Invocation::write(["chmod", "600", &path]))?;
            run_ok(host, &chmod)?;
        }
        target.write_file_as_user(&path, text.clone().into_bytes())?;
        let lint = host.run(&Invocation::read(["plutil", "-lint", &path]))?;
        if !lint.success() {
            bail!("launchd would refuse {path}: {}", lint.stdout.trim());
        }
        if fields.get("loaded") == Some(&Value::Bool(true)) {
            // Enabled first: a label disabled earlier (by hand or by a service resource)
            // cannot be bootstrapped (Homebrew enables before bootstrap, services/cli.rb).
            launchctl(host, &["enable", &service], &[])?;
            launchctl(host, &["bootstrap", &domain, &path], &[])?;
        }
        Ok(())
    }

    fn notes(&self) -> Vec<String> {
        vec![format!("file: {}", self.path)]
    }
}
