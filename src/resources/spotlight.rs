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
                    run_ok(
                        host,
                        &target.as_user(Invocation::write(["mv", &path, &hidden]))?,
                    )?;
                } else if succeeds(host, &["test", "-e", &path])? {
                    bail!("{path} is a file, not a folder");
                } else {
                    run_ok(
                        host,
                        &target.as_user(Invocation::write(["mkdir", "-p", &hidden]))?,
                    )?;
                }
                run_ok(
                    host,
                    &target.as_user(Invocation::write(["ln", "-s", &hidden, &path]))?,
                )?;
            }
            _ => {
                // Back to a plain folder under the original name.
                if succeeds(host, &["test", "-L", &path])? {
                    run_ok(host, &target.as_user(Invocation::write(["rm", &path]))?)?;
                    if succeeds(host, &["test", "-d", &hidden])? {
                        run_ok(
                            host,
                            &target.as_user(Invocation::write(["mv", &hidden, &path]))?,
                        )?;
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
