//! One Ollama server variable, set where the server really reads it and durably. For
//! Homebrew's service and the desktop app that is launchd's user domain: `launchctl setenv`
//! now, and a tiny login agent that repeats it at every login because setenv is lost at
//! reboot (reference/ollama.md 4.1, 4.2; ollama/ollama#3639, #11264). Homebrew's plist is
//! never edited: `brew services` rewrites it on every start (#3581). The value is
//! `{live, at_login}`; the server restarts once after all variable changes.

use super::agents::ALL_SESSIONS;
use super::ollama_server::{Server, ServerChoice};
use super::{Resource, ResourceId, Restart};
use crate::host::{Invocation, run_ok};
use crate::ollama::client::Client;
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
    /// The spec's `ollama.server` (never `own`: then the variables live in the agent).
    #[serde(default, skip_serializing_if = "ServerChoice::is_auto")]
    pub server: ServerChoice,
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
    /// What the user's launchd session holds for the variable (`launchctl setenv`'s value).
    fn getenv(&self, target: &Target) -> Result<Invocation> {
        target.as_user(Invocation::read(["launchctl", "getenv", &self.name]))
    }

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

    /// What the running server uses for this variable, from the last `server config` line
    /// of its log; `false` when no server runs, absent when the server never logs it.
    fn server_field(&self, target: &Target, server: &Server) -> Result<Option<Value>> {
        if server_config::logged_form(&self.name, &self.value) == Logged::NotLogged {
            return Ok(None);
        }
        if !Client::new(target.host()).is_running() {
            return Ok(Some(Value::Bool(false)));
        }
        let log = target
            .host()
            .run(&Invocation::read(["cat", &server.log_path(target)?]))?;
        let logged =
            server_config::parse_log(&log.stdout).and_then(|env| env.get(&self.name).cloned());
        Ok(Some(logged.map_or(Value::Bool(false), Value::String)))
    }

    /// What macllm keeps of this variable on the Mac, where `server` reads it from.
    fn read_fields(
        &self,
        target: &Target,
        server: &Server,
    ) -> Result<Option<BTreeMap<String, Value>>> {
        let fields = match server {
            Server::HomebrewEnvFile { env_file, .. } => {
                let file = target.host().run(&Invocation::read(["cat", env_file]))?;
                let value = env_file_value(&file.stdout, &self.name).filter(|_| file.success());
                match value {
                    Some(value) => BTreeMap::from([("env_file".to_string(), Value::String(value))]),
                    None => BTreeMap::new(),
                }
            }
            Server::Homebrew { .. } | Server::App => {
                if let Some(fixed) = server.fixed_variables(target)?.get(&self.name)
                    && *fixed != self.value
                {
                    bail!(
                        "Homebrew's service sets {}={fixed} in its own plist, which beats `launchctl setenv`, and this Homebrew (older than 6.0.15) rewrites that plist on every start\nhint: `brew upgrade` (Homebrew 6.0.15 reads ~/.homebrew/services/ollama.env, which can override it), or run `brew services stop ollama` and serve Ollama from an agent of your own (`agents:`, with `environment:`)",
                        self.name
                    );
                }
                if *server == Server::App {
                    super::ollama_server::require_gui_login(target)?;
                }
                if crate::mask::contains_secret(&self.value) {
                    // launchctl has no stdin form of setenv (reference 2.6), and the login
                    // agent repeats the command line at every login.
                    target.warn(format!(
                        "{}: the secret travels on the command line of `launchctl setenv {}` (now, and from the login agent at every login), where other users of the Mac can see it in `ps`",
                        self.id(),
                        self.name
                    ));
                }
                let session = run_ok(
                    target.host(),
                    &target.as_user(Invocation::read(["launchctl", "managername"]))?,
                )?;
                let server_in_gui = match server {
                    Server::Homebrew { domain } => domain.starts_with("gui/"),
                    _ => true,
                };
                if session.trim() == "Background" && server_in_gui {
                    bail!(
                        "this session is a Background one (over SSH): `launchctl setenv` from here does not reach the Ollama server of the GUI session (ollama/ollama#3581), and only root can reach that session (`launchctl asuser`)\nhint: upgrade Homebrew to 6.0.15 or newer (its service env file works from anywhere), use `ollama: {{ server: own }}`, or run macllm with sudo"
                    );
                }
                let live = run_ok(target.host(), &self.getenv(target)?)?;
                // `getenv` of an unset variable prints nothing (reference macos-commands 2.6).
                let live = Some(live.trim_end_matches('\n').to_string()).filter(|v| !v.is_empty());
                match env_value(live, self.read_at_login(target)?) {
                    Some(Value::Dict(fields)) => fields,
                    _ => BTreeMap::new(),
                }
            }
        };
        // Nothing of macllm's on the Mac: the variable is absent, whatever the server uses.
        Ok(Some(fields).filter(|fields| !fields.is_empty()))
    }

    fn desired_server_field(&self) -> Option<Value> {
        match server_config::logged_form(&self.name, &self.value) {
            Logged::As(text) => Some(Value::String(text)),
            Logged::NotLogged => None,
        }
    }
}

/// The value of `name` in a Homebrew service env file: `KEY=value` lines, stripped, `#`
/// lines skipped, split at the first `=`, a later key winning (`service.rb`
/// `effective_environment_variables`).
fn env_file_value(text: &str, name: &str) -> Option<String> {
    text.lines()
        .rev()
        .filter_map(env_file_entry)
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

/// One `KEY=value` line of a Homebrew service env file (`None` for comments and the rest).
pub fn env_file_entry(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    if line.starts_with('#') {
        return None;
    }
    let (key, value) = line.split_once('=')?;
    Some((key.trim(), value.trim()))
}

/// The env file with `name` set to `value` (or removed), every other line kept as it was.
fn edit_env_file(text: &str, name: &str, value: Option<&str>) -> String {
    let mut lines: Vec<String> = text
        .lines()
        .filter(|line| env_file_entry(line).is_none_or(|(key, _)| key != name))
        .map(str::to_string)
        .collect();
    if let Some(value) = value {
        lines.push(format!("{name}={value}"));
    }
    if lines.iter().all(|line| line.trim().is_empty()) {
        return String::new();
    }
    lines.join("\n") + "\n"
}

fn field(value: Option<&Value>, name: &str) -> Option<String> {
    match value {
        Some(Value::Dict(fields)) => match fields.get(name) {
            Some(Value::String(v)) => Some(v.clone()),
            _ => None,
        },
        _ => None,
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

    fn desired_on(&self, target: &Target) -> Result<Option<Value>> {
        let mut fields = match Server::detect_as(target, self.server)? {
            Server::HomebrewEnvFile { .. } => {
                BTreeMap::from([("env_file".to_string(), Value::String(self.value.clone()))])
            }
            Server::Homebrew { .. } | Server::App => match self.desired() {
                Some(Value::Dict(fields)) => fields,
                _ => BTreeMap::new(),
            },
        };
        if let Some(server) = self.desired_server_field() {
            fields.insert("server".to_string(), server);
        }
        Ok(Some(Value::Dict(fields)))
    }

    /// How Ollama runs, and what a variable is read from whichever way that is.
    fn reads(&self, target: &Target) -> Result<Vec<Invocation>> {
        let mut reads = Server::probes(target)?;
        reads.push(self.getenv(target)?);
        reads.push(Invocation::read(["cat", &self.agent_path(target)?]));
        Ok(reads)
    }

    fn read(&self, target: &Target) -> Result<Option<Value>> {
        let server = Server::detect_as(target, self.server)?;
        let Some(mut fields) = self.read_fields(target, &server)? else {
            return Ok(None);
        };
        if let Some(used) = self.server_field(target, &server)? {
            fields.insert("server".to_string(), used);
        }
        Ok(Some(Value::Dict(fields)))
    }

    /// Without the server's own view, which settles only with the restart (so apply's check
    /// after the write neither asks the server nor reads its log).
    fn read_before_restart(&self, target: &Target) -> Result<Option<Value>> {
        let server = Server::detect_as(target, self.server)?;
        Ok(self.read_fields(target, &server)?.map(Value::Dict))
    }

    /// Every write acts as the user whose Ollama this is (under sudo: the caller), so the
    /// env file and the agent are theirs and `launchctl setenv` reaches their session.
    fn write(&self, target: &Target, value: Option<&Value>) -> Result<()> {
        let host = target.host();
        let wanted = field(value, "env_file").or_else(|| field(value, "live"));
        if let Server::HomebrewEnvFile { env_file, .. } = Server::detect_as(target, self.server)? {
            let current = host.run(&Invocation::read(["cat", env_file.as_str()]))?;
            let text = if current.success() {
                current.stdout
            } else {
                String::new()
            };
            let edited = edit_env_file(&text, &self.name, wanted.as_deref());
            if edited.is_empty() {
                run_ok(
                    host,
                    &target.as_user(Invocation::write(["rm", "-f", env_file.as_str()]))?,
                )?;
                return Ok(());
            }
            // Homebrew skips a group- or world-writable env file whole (`service.rb`); one
            // holding a secret is private before the secret goes in.
            if crate::mask::contains_secret(&edited) {
                target.write_private_file_as_user(&env_file, edited.into_bytes())?;
            } else {
                target.write_file_as_user(&env_file, edited.into_bytes(), Some("600"))?;
            }
            return Ok(());
        }
        let path = self.agent_path(target)?;
        match wanted {
            Some(value) => {
                run_ok(
                    host,
                    &target.as_user(Invocation::write([
                        "launchctl",
                        "setenv",
                        &self.name,
                        &value,
                    ]))?,
                )?;
                // The login agent holds the value in its arguments: a secret's is the user's alone.
                let plist = self.agent_plist(&value).into_bytes();
                if crate::mask::contains_secret(&value) {
                    target.write_private_file_as_user(&path, plist)?;
                } else {
                    target.write_file_as_user(&path, plist, None)?;
                }
            }
            None => {
                run_ok(
                    host,
                    &target.as_user(Invocation::write(["launchctl", "unsetenv", &self.name]))?,
                )?;
                run_ok(
                    host,
                    &target.as_user(Invocation::write(["rm", "-f", &path]))?,
                )?;
            }
        }
        Ok(())
    }

    /// The server's own view changes only with its restart, which runs after the writes
    /// and checks it then.
    fn before_restart(&self, value: Option<Value>) -> Option<Value> {
        match value {
            Some(Value::Dict(mut fields)) => {
                fields.remove("server");
                Some(Value::Dict(fields))
            }
            other => other,
        }
    }

    fn restart(&self) -> Option<Restart> {
        Some(Restart::OllamaServer)
    }

    fn notes_on(&self, target: &Target) -> Result<Vec<String>> {
        Ok(vec![
            Server::detect_as(target, self.server)?.delivery(&login_agent_label(&self.name)),
        ])
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

    /// Homebrew's rules (`service.rb`): stripped lines, `#` comments, the first `=`, the
    /// last key winning; an edit keeps every other line and leaves no empty file.
    #[test]
    fn the_env_file_is_read_and_edited_line_by_line() {
        let text = "# mine\nOLLAMA_NUM_PARALLEL = 2\nOTHER=x=y\nOLLAMA_NUM_PARALLEL=3\n";
        assert_eq!(
            env_file_value(text, "OLLAMA_NUM_PARALLEL").as_deref(),
            Some("3")
        );
        assert_eq!(env_file_value(text, "OTHER").as_deref(), Some("x=y"));
        assert_eq!(env_file_value(text, "mine"), None);
        assert_eq!(
            edit_env_file(text, "OLLAMA_NUM_PARALLEL", Some("4")),
            "# mine\nOTHER=x=y\nOLLAMA_NUM_PARALLEL=4\n"
        );
        assert_eq!(
            edit_env_file("OLLAMA_NUM_PARALLEL=4\n", "OLLAMA_NUM_PARALLEL", None),
            ""
        );
    }

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
