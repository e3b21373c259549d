//! Keeping Spotlight off a folder, and volume indexing on or off.
//!
//! `mdutil` switches whole volumes only, and `.metadata_never_index` is honoured only at a
//! volume root on current macOS (reference/macos-commands.md 3.1, 3.2). What does work for a
//! folder without root is a name ending in `.noindex` (alidock PR #30, r-lib/revdepcheck#77,
//! spatie/bloom PR #119): macllm renames the folder to `<name>.noindex` and leaves a symlink
//! under the old name, so programs (Ollama's `~/.ollama/models`) find it where they expect.

use super::{Resource, ResourceId};
use crate::host::{Host, Invocation, run_ok};
use crate::target::Target;
use crate::value::Value;
use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

/// A folder kept out of Spotlight by the `.noindex` method.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpotlightFolder {
    /// As written in the spec (`~/.ollama/models`).
    pub path: String,
    pub indexed: bool,
}

/// A volume's indexing, switched with `mdutil -i` (root).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpotlightVolume {
    pub volume: String,
    pub indexed: bool,
}

fn succeeds(host: &dyn Host, argv: &[&str]) -> Result<bool> {
    Ok(host.run(&Invocation::read(argv.iter().copied()))?.success())
}

impl Resource for SpotlightFolder {
    fn id(&self) -> ResourceId {
        ResourceId(format!("spotlight:{}", self.path))
    }

    fn noun(&self) -> &'static str {
        "a Spotlight setting"
    }

    fn desired(&self) -> Option<Value> {
        Some(Value::Bool(self.indexed))
    }

    /// Indexed unless the path is, or links to, a `.noindex` folder.
    fn read(&self, target: &Target) -> Result<Option<Value>> {
        let path = target.expand_home(&self.path)?;
        if path.trim_end_matches('/').ends_with(".noindex") {
            return Ok(Some(Value::Bool(false)));
        }
        let link = target.host().run(&Invocation::read(["readlink", &path]))?;
        let hidden = link.success() && link.stdout.trim_end().ends_with(".noindex");
        Ok(Some(Value::Bool(!hidden)))
    }

    fn write(&self, target: &Target, value: Option<&Value>) -> Result<()> {
        let host = target.host();
        let path = target.expand_home(&self.path)?;
        let hidden = format!("{}.noindex", path.trim_end_matches('/'));
        match value {
            Some(Value::Bool(false)) => {
                if succeeds(host, &["test", "-L", &path])? {
                    bail!("{path} is already a symlink; macllm will not move what it points to");
                }
                if succeeds(host, &["test", "-e", &hidden])? {
                    bail!("{hidden} already exists; move it away or merge it by hand first");
                }
                if succeeds(host, &["test", "-d", &path])? {
                    run_ok(host, &Invocation::write(["mv", &path, &hidden]))?;
                } else if succeeds(host, &["test", "-e", &path])? {
                    bail!("{path} is a file, not a folder");
                } else {
                    run_ok(host, &Invocation::write(["mkdir", "-p", &hidden]))?;
                }
                run_ok(host, &Invocation::write(["ln", "-s", &hidden, &path]))?;
            }
            _ => {
                // Back to a plain folder under the original name.
                if succeeds(host, &["test", "-L", &path])? {
                    run_ok(host, &Invocation::write(["rm", &path]))?;
                    if succeeds(host, &["test", "-d", &hidden])? {
                        run_ok(host, &Invocation::write(["mv", &hidden, &path]))?;
                    }
                }
            }
        }
        Ok(())
    }

    fn notes(&self) -> Vec<String> {
        vec![format!(
            "method: noindex (the folder becomes {}.noindex with a symlink in its place; no root needed)",
            self.path.trim_end_matches('/')
        )]
    }

    fn warnings(&self) -> Vec<String> {
        vec![format!(
            "{}: quit programs that use {} (Ollama) before apply: the folder is moved",
            self.id(),
            self.path
        )]
    }
}

/// `mdutil -s VOLUME`: the volume line, then a TAB and the state (fixtures mdutil-s-*.txt).
pub fn parse_mdutil_status(text: &str) -> Option<bool> {
    let state = text.lines().nth(1)?.trim();
    match state {
        "Indexing enabled." => Some(true),
        "Indexing disabled." | "Indexing and searching disabled." | "No index." => Some(false),
        _ => None,
    }
}

impl Resource for SpotlightVolume {
    fn id(&self) -> ResourceId {
        ResourceId(format!("spotlight-volume:{}", self.volume))
    }

    fn noun(&self) -> &'static str {
        "a Spotlight setting"
    }

    fn desired(&self) -> Option<Value> {
        Some(Value::Bool(self.indexed))
    }

    fn read(&self, target: &Target) -> Result<Option<Value>> {
        let status = run_ok(
            target.host(),
            &Invocation::read(["mdutil", "-s", &self.volume]),
        )?;
        match parse_mdutil_status(&status) {
            Some(indexed) => Ok(Some(Value::Bool(indexed))),
            None => bail!(
                "`mdutil -s {}` printed a state macllm does not know: {}",
                self.volume,
                status.trim()
            ),
        }
    }

    fn write(&self, target: &Target, value: Option<&Value>) -> Result<()> {
        let on = matches!(value, Some(Value::Bool(true)));
        run_ok(
            target.host(),
            &Invocation::write(["mdutil", "-i", if on { "on" } else { "off" }, &self.volume]),
        )?;
        Ok(())
    }

    fn needs_root(&self) -> bool {
        true
    }

    fn notes(&self) -> Vec<String> {
        vec!["method: mdutil -i (whole volume)".to_string()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mdutil_states_from_the_fixtures() {
        assert_eq!(parse_mdutil_status("/:\n\tIndexing enabled.\n"), Some(true));
        assert_eq!(
            parse_mdutil_status("/Volumes/TDD-ROM:\n\tIndexing and searching disabled.\n"),
            Some(false)
        );
        assert_eq!(parse_mdutil_status("/:\n\tSomething else.\n"), None);
    }
}
