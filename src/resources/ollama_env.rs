//! One Ollama server variable, set where the server really reads it and durably. For
//! Homebrew's service and the desktop app that is launchd's user domain: `launchctl setenv`
//! now, and a tiny login agent that repeats it at every login because setenv is lost at
//! reboot (reference/ollama.md 4.1, 4.2; ollama/ollama#3639, #11264). Homebrew's plist is
//! never edited: `brew services` rewrites it on every start (#3581). The value is
//! `{live, at_login}`; the server restarts once after all variable changes.

use super::agents::ALL_SESSIONS;
use super::ollama_server::Server;
use super::{Resource, ResourceId, Restart};
use crate::host::{Invocation, run_ok};
use crate::ollama::server_config::{self, Logged};
use crate::target::Target;
use crate::value::Value;
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OllamaEnv {
    pub name: String,
    /// Normalised by `ollama::env::check`.
    pub value: String,
}

/// The login agent that repeats one `launchctl setenv` at every login.
pub fn login_agent_label(name: &str) -> String {
    format!("com.macllm.ollama-env.{name}")
}

fn env_value(live: Option<String>, at_login: Option<String>) -> Option<Value> {
    if live.is_none() && at_login.is_none() {
        return None;
    }
    let field = |v: Option<String>| v.map(Value::String).unwrap_or(Value::Bool(false));
    Some(Value::Dict(BTreeMap::from([
        ("live".to_string(), field(live)),
        ("at_login".to_string(), field(at_login)),
    ])))
}

impl OllamaEnv {
    fn agent_path(&self, target: &Target) -> Result<String> {
        Ok(format!(
            "{}/Library/LaunchAgents/{}.plist",
            target.facts()?.home,
            login_agent_label(&self.name)
        ))
    }

    fn agent_plist(&self, value: &str) -> String {
        let mut plist = BTreeMap::new();
        plist.insert(
            "Label".to_string(),
            Value::String(login_agent_label(&self.name)),
        );
        plist.insert(
            "ProgramArguments".to_string(),
            Value::Array(
                ["/bin/launchctl", "setenv", &self.name, value]
                    .into_iter()
                    .map(|s| Value::String(s.to_string()))
                    .collect(),
            ),
        );
        plist.insert("RunAtLoad".to_string(), Value::Bool(true));
        plist.insert(
            "LimitLoadToSessionType".to_string(),
            Value::Array(
                ALL_SESSIONS
                    .iter()
                    .map(|s| Value::String(s.to_string()))
                    .collect(),
            ),
        );
        Value::Dict(plist).to_xml_document()
    }

    /// The value the login agent sets, if it exists and sets this variable.
    fn read_at_login(&self, target: &Target) -> Result<Option<String>> {
        let output = target
            .host()
            .run(&Invocation::read(["cat", &self.agent_path(target)?]))?;
        if !output.success() {
            return Ok(None);
        }
        let arguments = plist::Value::from_reader_xml(output.stdout.as_bytes())
            .ok()
            .and_then(|v| v.into_dictionary())
            .and_then(|d| d.get("ProgramArguments").cloned())
            .and_then(|v| v.into_array())
            .unwrap_or_default();
        Ok(match arguments.as_slice() {
            [_, verb, name, value]
                if verb.as_string() == Some("setenv")
                    && name.as_string() == Some(self.name.as_str()) =>
            {
                value.as_string().map(str::to_string)
            }
            _ => None,
        })
    }
}

impl Resource for OllamaEnv {
    fn id(&self) -> ResourceId {
        ResourceId(format!("ollama_env:{}", self.name))
    }

    fn noun(&self) -> &'static str {
        "an Ollama server setting"
    }

    fn desired(&self) -> Option<Value> {
        env_value(Some(self.value.clone()), Some(self.value.clone()))
    }

    fn read(&self, target: &Target) -> Result<Option<Value>> {
        let server = Server::detect(target)?;
        if let Some(fixed) = server.fixed_variables(target)?.get(&self.name)
            && *fixed != self.value
        {
            bail!(
                "Homebrew's service sets {}={fixed} in its own plist, which beats `launchctl setenv`, and `brew services` rewrites that plist on every start\nhint: run `brew services stop ollama` and serve Ollama from an agent of your own (`agents:`, with `environment:`)",
                self.name
            );
        }
        let live = run_ok(
            target.host(),
            &Invocation::read(["launchctl", "getenv", &self.name]),
        )?;
        // `getenv` of an unset variable prints nothing (reference macos-commands 2.6).
        let live = Some(live.trim_end_matches('\n').to_string()).filter(|v| !v.is_empty());
        Ok(env_value(live, self.read_at_login(target)?))
    }

    fn write(&self, target: &Target, value: Option<&Value>) -> Result<()> {
        let host = target.host();
        let path = self.agent_path(target)?;
        let wanted = match value {
            Some(Value::Dict(fields)) => match fields.get("live") {
                Some(Value::String(v)) => Some(v.clone()),
                _ => None,
            },
            _ => None,
        };
        match wanted {
            Some(value) => {
                run_ok(
                    host,
                    &Invocation::write(["launchctl", "setenv", &self.name, &value]),
                )?;
                if let Some((dir, _)) = path.rsplit_once('/') {
                    run_ok(host, &Invocation::write(["mkdir", "-p", dir]))?;
                }
                run_ok(
                    host,
                    &Invocation::write(["tee", &path])
                        .with_stdin(self.agent_plist(&value).into_bytes()),
                )?;
            }
            None => {
                run_ok(
                    host,
                    &Invocation::write(["launchctl", "unsetenv", &self.name]),
                )?;
                run_ok(host, &Invocation::write(["rm", "-f", &path]))?;
            }
        }
        Ok(())
    }

    fn restart(&self) -> Option<Restart> {
        Some(Restart::OllamaServer)
    }

    fn notes(&self) -> Vec<String> {
        vec![format!(
            "launchctl setenv now, and at every login by the agent {}",
            login_agent_label(&self.name)
        )]
    }
}

/// Whether the server's `%v` rendering of a variable (from its log) means `value`; `None`
/// when the server reads the variable but never logs it.
pub fn server_uses(name: &str, value: &str, logged: &str) -> Option<bool> {
    match server_config::logged_form(name, value) {
        Logged::As(expected) => Some(expected == logged),
        Logged::NotLogged => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_values_are_compared_by_meaning() {
        assert_eq!(server_uses("OLLAMA_KEEP_ALIVE", "5m", "5m0s"), Some(true));
        assert_eq!(
            server_uses("OLLAMA_KEEP_ALIVE", "3600", "1h0m0s"),
            Some(true)
        );
        assert_eq!(server_uses("OLLAMA_KEEP_ALIVE", "10m", "5m0s"), Some(false));
        assert_eq!(
            server_uses("OLLAMA_FLASH_ATTENTION", "1", "true"),
            Some(true)
        );
        assert_eq!(
            server_uses("OLLAMA_FLASH_ATTENTION", "0", "true"),
            Some(false)
        );
        assert_eq!(server_uses("OLLAMA_NUM_PARALLEL", "2", "2"), Some(true));
        assert_eq!(server_uses("OLLAMA_AUTH", "1", ""), None);
    }
}
