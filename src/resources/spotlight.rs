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

/// What `read` gives for a folder renamed to `X.noindex` with nothing at `X`.
const HALF_MOVED: &str = "half-moved: renamed to .noindex, no symlink";
/// What `read` gives when `X` is a real entry and `X.noindex` a folder beside it.
const STRAY: &str = "both the folder and its .noindex exist";

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

    /// The link, and where a half-done move would have left the folder.
    fn reads(&self, target: &Target) -> Result<Vec<Invocation>> {
        let path = target.expand_home(&self.path)?;
        if path.trim_end_matches('/').ends_with(".noindex") {
            return Ok(Vec::new());
        }
        let hidden = format!("{}.noindex", path.trim_end_matches('/'));
        Ok(vec![
            Invocation::read(["readlink", &path]),
            Invocation::read(["test", "-d", &hidden]),
            Invocation::read(["test", "-e", &path]),
        ])
    }

    /// Indexed unless the path is, or links to, a `.noindex` folder. A folder left half-moved
    /// (renamed to `X.noindex` with no `X`, as a crash between the rename and the symlink
    /// leaves it), or both `X` and `X.noindex` as real entries, reads as a string saying so,
    /// so that neither apply nor destroy takes it for a finished state.
    fn read(&self, target: &Target) -> Result<Option<Value>> {
        let host = target.host();
        let path = target.expand_home(&self.path)?;
        if path.trim_end_matches('/').ends_with(".noindex") {
            return Ok(Some(Value::Bool(false)));
        }
        let link = host.run(&Invocation::read(["readlink", &path]))?;
        if link.success() {
            let hidden = link.stdout.trim_end().ends_with(".noindex");
            return Ok(Some(Value::Bool(!hidden)));
        }
        let hidden = format!("{}.noindex", path.trim_end_matches('/'));
        if succeeds(host, &["test", "-d", &hidden])? {
            let state = if succeeds(host, &["test", "-e", &path])? {
                STRAY
            } else {
                HALF_MOVED
            };
            return Ok(Some(Value::String(state.to_string())));
        }
        Ok(Some(Value::Bool(true)))
    }

    fn write(&self, target: &Target, value: Option<&Value>) -> Result<()> {
        let host = target.host();
        let path = target.expand_home(&self.path)?;
        let hidden = format!("{}.noindex", path.trim_end_matches('/'));
        let user = |argv: &[&str]| -> Result<()> {
            run_ok(
                host,
                &target.as_user(Invocation::write(argv.iter().copied()))?,
            )?;
            Ok(())
        };
        let is_link = succeeds(host, &["test", "-L", &path])?;
        // `test -e` follows links: a dangling one is caught by `is_link` first.
        let exists = is_link || succeeds(host, &["test", "-e", &path])?;
        match value {
            Some(Value::Bool(false)) => {
                if is_link {
                    bail!("{path} is already a symlink; macllm will not move what it points to");
                }
                if !exists && succeeds(host, &["test", "-d", &hidden])? {
                    // Renamed already (an apply stopped before the symlink): finish it.
                } else if succeeds(host, &["test", "-e", &hidden])? {
                    bail!("{hidden} already exists; move it away or merge it by hand first");
                } else if succeeds(host, &["test", "-d", &path])? {
                    user(&["mv", &path, &hidden])?;
                } else if exists {
                    bail!("{path} is a file, not a folder");
                } else {
                    user(&["mkdir", "-p", &hidden])?;
                }
                user(&["ln", "-s", &hidden, &path])?;
            }
            _ => {
                // Back to a plain folder under the original name; never reported done when
                // the folder is not back.
                let hidden_dir = succeeds(host, &["test", "-d", &hidden])?;
                if is_link {
                    if !hidden_dir {
                        bail!(
                            "cannot restore {path}: it is a symlink but {hidden} is not a folder to move back\nhint: put the folder back at {path} by hand"
                        );
                    }
                    user(&["rm", &path])?;
                    user(&["mv", &hidden, &path])?;
                } else if exists {
                    if hidden_dir {
                        bail!(
                            "cannot restore {path}: both {path} and {hidden} exist, so {hidden} \
                             cannot be moved back\nhint: merge them by hand into {path} and \
                             remove {hidden}"
                        );
                    }
                } else if hidden_dir {
                    // Renamed but never linked (an apply or a restore stopped half-way).
                    user(&["mv", &hidden, &path])?;
                }
            }
        }
        Ok(())
    }

    fn halfway_not_ours(&self, target: &Target, before: &Value) -> Option<String> {
        if *before != Value::String(HALF_MOVED.to_string()) {
            return None;
        }
        let path = target.expand_home(&self.path).ok()?;
        let path = path.trim_end_matches('/');
        Some(format!(
            "{path}.noindex exists and {path} does not, but macllm did not move it there (the \
             state has no record of {}): it will not link a folder it did not move\nhint: if \
             the folder belongs at {path}, move it back by hand (`mv {path}.noindex {path}`) \
             and apply again",
            self.id()
        ))
    }

    fn notes(&self) -> Vec<String> {
        vec![format!(
            "method: noindex (the folder becomes {}.noindex with a symlink in its place; no root needed)",
            self.path.trim_end_matches('/')
        )]
    }

    fn notices(&self) -> Vec<String> {
        vec![format!(
            "{}: quit programs that use {} (Ollama) before apply: the folder is moved",
            self.id(),
            self.path
        )]
    }
}

/// What `mdutil -s VOLUME` says about a volume's indexing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Indexing {
    On,
    Off,
    /// Off because of a `.metadata_never_index` file at the volume's root, which `mdutil -i on`
    /// does not override.
    OffByMarker,
}

impl Indexing {
    pub fn indexed(self) -> bool {
        self == Indexing::On
    }
}

/// `mdutil -s VOLUME`: the volume as mdutil resolved it and a colon, then a TAB and the state
/// (reference/macos-commands.md 3.1, fixtures mdutil-s-*.txt), or one line that is not about
/// the volume. Every state seen on real Macs is either read or refused with why
/// (/work/notes/issue10-research.md section 6; the emulator cites each capture):
///
/// - `Indexing enabled.` (also with a trailing space, as an affected Mac printed it),
///   `Indexing disabled.`, `Indexing and searching disabled.`, `No index.` (a volume without
///   an index store), and `Indexing and searching disabled because of .metadata_never_index
///   file at root of volume.`
/// - refused: `Server search enabled.` (a network volume its server searches), `Error:
///   unknown indexing state.` (not a mount point, or a damaged store), `Spotlight server is
///   disabled.` (mds is off, or mdutil runs in an app sandbox), `Error: invalid path`.
pub fn parse_mdutil_status(volume: &str, text: &str) -> Result<Indexing, String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    if lines.contains(&"Spotlight server is disabled.") {
        return Err(format!(
            "Spotlight's server is disabled on this Mac (`mdutil -s {volume}` says `Spotlight \
             server is disabled.`): mdutil can neither read nor change any volume's indexing\n\
             hint: nothing can be switched while mds is off; remove the volume from `spotlight:` \
             for this Mac"
        ));
    }
    if let Some(invalid) = lines.iter().find(|l| l.starts_with("Error: invalid path")) {
        return Err(format!(
            "{volume} does not exist on this Mac (`mdutil -s` says: {invalid})"
        ));
    }
    let state = match lines.as_slice() {
        [header, state] if header.ends_with(':') => *state,
        _ => {
            return Err(format!(
                "`mdutil -s {volume}` printed something macllm does not know: {}",
                text.trim()
            ));
        }
    };
    match state {
        "Indexing enabled." => Ok(Indexing::On),
        "Indexing disabled." | "Indexing and searching disabled." | "No index." => {
            Ok(Indexing::Off)
        }
        _ if state
            .starts_with("Indexing and searching disabled because of .metadata_never_index") =>
        {
            Ok(Indexing::OffByMarker)
        }
        "Server search enabled." => Err(format!(
            "{volume} is a network volume that its server searches (`mdutil -s` says `Server \
             search enabled.`): this Mac keeps no index of it to switch\n\
             hint: remove it from `spotlight:`"
        )),
        "Error: unknown indexing state." => Err(format!(
            "`mdutil -s {volume}` says `Error: unknown indexing state.`: mdutil answers for \
             volumes only, so {volume} is not a mount point, or its Spotlight store is damaged\n\
             hint: for a folder use `path:` (the .noindex method); a damaged store comes back \
             after `sudo mdutil -i on {volume}`"
        )),
        other => Err(format!(
            "`mdutil -s {volume}` printed a state macllm does not know: {other}"
        )),
    }
}

impl SpotlightVolume {
    fn status(&self, target: &Target) -> Result<Indexing> {
        let status = run_ok(
            target.host(),
            &Invocation::read(["mdutil", "-s", &self.volume]),
        )?;
        parse_mdutil_status(&self.volume, &status).map_err(anyhow::Error::msg)
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

    fn reads(&self, _target: &Target) -> Result<Vec<Invocation>> {
        Ok(vec![Invocation::read(["mdutil", "-s", &self.volume])])
    }

    fn read(&self, target: &Target) -> Result<Option<Value>> {
        Ok(Some(Value::Bool(self.status(target)?.indexed())))
    }

    fn write(&self, target: &Target, value: Option<&Value>) -> Result<()> {
        let on = matches!(value, Some(Value::Bool(true)));
        if on && self.status(target)? == Indexing::OffByMarker {
            bail!(
                "`mdutil -i on` cannot index {volume}: a .metadata_never_index file at its root \
                 keeps Spotlight off\nhint: remove {root}/.metadata_never_index",
                volume = self.volume,
                root = self.volume.trim_end_matches('/'),
            );
        }
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

    /// Since macOS 10.15 `/` is the sealed system volume and user data (`~/.ollama`) lives on
    /// the data volume, `/System/Volumes/Data`, whose indexing `mdutil` keeps apart (`mdutil
    /// -a -s` lists both; reference/real-mac.md, tldr-pages PR #5087, Ellerhold/fs2es-indexer#24).
    fn warnings(&self) -> Vec<String> {
        if self.volume.trim_end_matches('/').is_empty() {
            return vec![format!(
                "{}: `/` is the sealed system volume; user data (~/.ollama, /Users) is on \
                 /System/Volumes/Data, which has its own Spotlight state: use `volume: \
                 /System/Volumes/Data`",
                self.id()
            )];
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mdutil_states_from_the_fixtures_and_captures() {
        let read = |text: &str| parse_mdutil_status("/V", text);
        assert_eq!(read("/:\n\tIndexing enabled.\n"), Ok(Indexing::On));
        assert_eq!(
            read("/System/Volumes/Data:\n\tIndexing enabled. \n"),
            Ok(Indexing::On)
        );
        assert_eq!(read("/:\n\tIndexing disabled.\n"), Ok(Indexing::Off));
        assert_eq!(
            read("/Volumes/TDD-ROM:\n\tIndexing and searching disabled.\n"),
            Ok(Indexing::Off)
        );
        assert_eq!(read("/.MobileBackups:\n\tNo index.\n"), Ok(Indexing::Off));
        assert_eq!(
            read(
                "/Volumes/X:\n\tIndexing and searching disabled because of \
                 .metadata_never_index file at root of volume.\n"
            ),
            Ok(Indexing::OffByMarker)
        );
        for (text, says) in [
            (
                "/System/Volumes/Data/Volumes/kymedia:\n\tServer search enabled.\n",
                "network volume",
            ),
            (
                "/System/Volumes/Data:\n\tError: unknown indexing state.\n",
                "not a mount point, or its Spotlight store is damaged",
            ),
            ("Spotlight server is disabled.\n", "server is disabled"),
            ("Error: invalid path `/V'.\n", "does not exist"),
            ("/:\n\tSomething else.\n", "a state macllm does not know"),
            ("", "something macllm does not know"),
            ("/:\n", "something macllm does not know"),
        ] {
            let err = read(text).unwrap_err();
            assert!(err.contains(says), "{text:?}: {err}");
        }
    }

    #[test]
    fn only_the_root_volume_is_warned_about() {
        let volume = |v: &str| SpotlightVolume {
            volume: v.to_string(),
            indexed: false,
        };
        assert_eq!(volume("/").warnings().len(), 1);
        assert!(volume("/System/Volumes/Data").warnings().is_empty());
        assert!(volume("/Volumes/Media").warnings().is_empty());
    }
}
