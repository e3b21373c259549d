//! A LaunchAgent macllm owns (e.g. `ollama serve` at interactive priority): the plist is
//! rendered from the spec, written to `~/Library/LaunchAgents/<label>.plist` through the
//! machine interface (`tee`, so the sandbox and SSH work the same), checked with
//! `plutil -lint` and bootstrapped into the user's domain. The value is `{plist, loaded}`, so a
//! change shows as a unified diff of the plist text, plus `launchd_override: disabled` when
//! launchd's database disables the label (with or without a file), so that destroy can put
//! that override back after apply enabled it. macllm writes no override the label did not
//! need: none can be removed again (reference macos-commands.md 2.2).

use super::services::{
    Domain, domain_target, is_loaded, launchctl, override_of, print_disabled, print_domain,
    print_job, wait_until_unloaded,
};
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
pub(super) fn holds_secret(value: &Value) -> bool {
    any_string(value, &crate::mask::contains_secret)
}

/// Whether `test` holds for a string anywhere in `value`, dictionary keys included.
pub(super) fn any_string(value: &Value, test: &dyn Fn(&str) -> bool) -> bool {
    match value {
        Value::String(text) => test(text),
        Value::Array(items) => items.iter().any(|item| any_string(item, test)),
        Value::Dict(fields) => fields
            .iter()
            .any(|(key, value)| test(key) || any_string(value, test)),
        _ => false,
    }
}

fn agent_value(plist_text: String, loaded: bool) -> Value {
    Value::Dict(BTreeMap::from([
        ("plist".to_string(), Value::String(plist_text)),
        ("loaded".to_string(), Value::Bool(loaded)),
    ]))
}

/// The key that records a `disabled` override of the agent's label: the only override that
/// changes what launchd does with it (an `enabled` one is what no override means for a plist
/// without `Disabled`). Recorded so that destroy can put it back; absent otherwise.
const DISABLED_OVERRIDE: &str = "launchd_override";

fn with_disabled_override(value: Option<Value>) -> Value {
    let mut fields = match value {
        Some(Value::Dict(fields)) => fields,
        _ => BTreeMap::new(),
    };
    fields.insert(
        DISABLED_OVERRIDE.to_string(),
        Value::String("disabled".to_string()),
    );
    Value::Dict(fields)
}

impl Agent {
    /// The exact file text macllm writes (the plist crate's XML, deterministic for a value).
    pub fn plist_text(&self) -> String {
        self.plist.to_xml_document()
    }
}

impl Agent {
    /// The plist as its owner reads it (the one read [`Resource::reads`] sends ahead).
    fn plist_read(&self, target: &Target) -> Result<Invocation> {
        target.as_user(Invocation::read(["cat", &target.expand_home(&self.path)?]))
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

    /// Its plist, the domain, the domain's overrides and whether it is loaded.
    fn reads(&self, target: &Target) -> Result<Vec<Invocation>> {
        let domain = format!("gui/{}", target.facts()?.uid);
        Ok(vec![
            self.plist_read(target)?,
            print_domain(&domain),
            print_disabled(&domain),
            print_job(&domain, &self.label),
        ])
    }

    fn read(&self, target: &Target) -> Result<Option<Value>> {
        let host = target.host();
        let path = target.expand_home(&self.path)?;
        let file = target.host().run(&self.plist_read(target)?)?;
        if !file.success() && !file.stderr.contains("No such file") {
            bail!(
                "`cat {path}` exited with status {}: {}",
                file.status,
                file.stderr.trim()
            );
        }
        let domain = domain_target(target, Domain::Gui)?;
        let disabled = override_of(host, &domain, &self.label)? == Some(true);
        let value = if file.success() {
            let loaded = is_loaded(host, &domain, &self.label)?;
            Some(agent_value(file.stdout, loaded))
        } else {
            None
        };
        Ok(if disabled {
            Some(with_disabled_override(value))
        } else {
            value
        })
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
        let fields = match value {
            Some(Value::Dict(fields)) => fields.clone(),
            _ => BTreeMap::new(),
        };
        let disabled = override_of(host, &domain, &self.label)? == Some(true);
        let Some(Value::String(text)) = fields.get("plist") else {
            let rm = target.as_user(Invocation::write(["rm", "-f", &path]))?;
            run_ok(host, &rm)?;
            // Back to the override the label had before macllm enabled it.
            if fields.contains_key(DISABLED_OVERRIDE) && !disabled {
                launchctl(host, &["disable", &service], &[])?;
            }
            return Ok(());
        };
        // Written as the user: the file (and a LaunchAgents folder made for it) must be
        // theirs, not root's, or the user could not change it later without sudo.
        // A plist holding a secret is the user's alone (0600, not 0644): the file is made
        // empty and chmod-ed first, so the secret is never in a file others may read.
        if crate::mask::contains_secret(text) || holds_secret(&self.plist) {
            target.write_private_file_as_user(&path, text.clone().into_bytes())?;
        } else {
            target.write_file_as_user(&path, text.clone().into_bytes(), None)?;
        }
        let lint = host.run(&Invocation::read(["plutil", "-lint", &path]))?;
        if !lint.success() {
            bail!("launchd would refuse {path}: {}", lint.stdout.trim());
        }
        if fields.get("loaded") == Some(&Value::Bool(true)) {
            // A label disabled earlier (by hand or by a service resource) cannot be
            // bootstrapped until enabled (Homebrew enables before bootstrap, services/cli.rb).
            // Only then: `enable` writes an override that nothing removes again (reference
            // 2.2), so an agent macllm adds and later deletes leaves no trace in launchd's
            // database unless its label was disabled before.
            // The `disabled` one it had is recorded in the value, and destroy writes it back.
            if disabled {
                launchctl(host, &["enable", &service], &[])?;
            }
            launchctl(host, &["bootstrap", &domain, &path], &[])?;
        } else if fields.contains_key(DISABLED_OVERRIDE) && !disabled {
            launchctl(host, &["disable", &service], &[])?;
        }
        Ok(())
    }

    fn notes(&self) -> Vec<String> {
        vec![format!("file: {}", self.path)]
    }

    /// launchd starts the job with `ProgramArguments` as its argv, which every user of the
    /// Mac can read in `ps`; `EnvironmentVariables` reach it without that.
    fn warnings(&self) -> Vec<String> {
        let Value::Dict(plist) = &self.plist else {
            return Vec::new();
        };
        match plist.get("ProgramArguments") {
            Some(arguments) if holds_secret(arguments) => vec![format!(
                "{}: a secret is in program_arguments: launchd puts it on the job's command line, where other users of the Mac can see it in `ps`\nhint: pass it in `environment:` instead",
                self.id()
            )],
            _ => Vec::new(),
        }
    }
}
