//! Emulated `mdutil` (Spotlight index management). Spotlight is not open source; this follows
//! captures (reference/macos-commands.md 3.1; fixtures `mdutil-*.txt`) and the public
//! transcripts cited next to each behaviour. Where they are silent the choice is marked
//! UNCONFIRMED.
//!
//! - `mdutil -s VOLUME` (no root needed): the volume as mdutil echoes it and a colon, then a
//!   TAB and the state: `Indexing enabled.`, `Indexing disabled.`, `Indexing and searching
//!   disabled.` (fixtures `mdutil-s-enabled.txt`, `mdutil-s-indexing-and-searching-disabled.txt`;
//!   microsoft/macos-cookbook expects `"/:\n\tIndexing enabled."`). The echo is the real path
//!   behind the firmlinks: `/Volumes/Shared/` prints `/System/Volumes/Data/Volumes/Shared:`
//!   (fixture `mdutil-s-data-volume.txt`; also Ellerhold/fs2es-indexer#24, 2022), a folder in
//!   `/tmp` prints `/System/Volumes/Data/private/tmp/...`.
//! - Volumes: `/` (the system volume) and `/System/Volumes/Data` (the data volume) have
//!   separate states, as every modern capture shows (`mdutil -as` lists `/:` and
//!   `/System/Volumes/Data:` blocks, and users report `/` "Indexing and searching disabled."
//!   next to Data "Indexing enabled."); each directory in the emulated `/Volumes` is a mounted
//!   volume. `-a` lists `/`, `/System/Volumes/Data`, then `/Volumes/NAME` as mounted, not
//!   firmlink-resolved (a 2021 `sudo mdutil -a -s` transcript shows `/Volumes/SD_card:`).
//!   (`/System/Volumes/Preboot`, listed by some Sequoia machines, is left out.)
//! - A folder is not a volume: `-s` prints its real path and `\tError: unknown indexing
//!   state.`; `-i`/`-d`/`-E` on it print `Error: invalid operation.` before that line
//!   (transcripts: a 2026 `mdutil -i off ~/AI_Adult` on a Mac mini; an mdutil wrapper recording
//!   `mdutil -s /tmp/test-dir`). A path that does not exist: `Error: invalid path `P'.`
//!   (recorded in a public mdfind/mdutil wrapper, "all of which exit 0").
//! - `sudo mdutil -i off VOL`: the header, an NSLog line on stderr `mdutil disabling
//!   Spotlight: VOL -> kMDConfigSearchLevelFSSearchOnly`, then `\tIndexing disabled.` for a
//!   volume with an index store (`/`, Data: 2022 and 2024 transcripts of `sudo mdutil -a -i
//!   off`) or `\tIndexing and searching disabled.` for one without (2017 transcript of `mdutil
//!   -i off /Volumes/Media128G`; an external volume has a store when `.Spotlight-V100` exists
//!   at its root). `-d` logs `-> kMDConfigSearchLevelOff` and leaves `Indexing and searching
//!   disabled.` (2021 and 2023 transcripts of `mdutil -a -d`, `mdutil -d -E`). `-i on` prints
//!   the header and `\tIndexing enabled.` with no log line (2024 transcript). `-E` (erase and
//!   rebuild) prints the block with the state unchanged.
//! - Without root, `-i`/`-d`/`-E` fail. The text is UNCONFIRMED: we print the NSLog line (as
//!   mdutil logs before asking mds), `Error: unable to perform operation.  (-1)` (the wording
//!   and double space of a captured failure, 2024), and the unchanged state; nothing changes.
//! - `-i` takes only `on` or `off`: `-Eia off` printed `Error: unexpected indexing state (a)`
//!   (2024 transcript). Exit status: 0 for everything above (UNCONFIRMED beyond the recorded
//!   invalid-path case); usage is status 1 (UNCONFIRMED). Callers must read the state with
//!   `-s` afterwards rather than trust the status.
//! - `.metadata_never_index` at the root of a volume turns its state into `Indexing and
//!   searching disabled because of .metadata_never_index file at root of volume.` (text from a
//!   public mdutil stub that quotes the binary's strings: UNCONFIRMED); anywhere else it does
//!   nothing (reference 3.2).
//! - `-p -t -V -L -r -X -P` are refused as not emulated.
//!
//! States a real Mac reaches by itself, which a test sets in the state file (issue 10; the
//! "find_string id" numbers are public files of the search index, as
//! /work/notes/issue10-research.md section 6 cites them):
//! - `no_index`: `\tNo index.` (fixture `mdutil-a-s-and-usage-2016.txt`, `/.MobileBackups`;
//!   SMB and Time Machine mounts in a public Go test of `mdutil -a -s`, id 71525596464).
//!   `-i on` turns indexing on, `-i off` leaves `Indexing and searching disabled.`
//!   (UNCONFIRMED, as for any volume without a store).
//! - `server_search`: `\tServer search enabled.`, a network volume searched by its server:
//!   `mdutil -s /Volumes/kymedia` printed `/System/Volumes/Data/Volumes/kymedia:` then that line
//!   (id 14277725604). `-i`/`-d` on it: `Error: unable to perform operation.  (-1)` and no
//!   change (UNCONFIRMED).
//! - `unknown`: a volume whose Spotlight store is damaged prints `\tError: unknown indexing
//!   state.` (`/System/Volumes/Data:\n\tError: unknown indexing state.\n` verbatim from an
//!   affected Mac, id 68606928184). `sudo mdutil -a -i off` on macOS 15 printed the NSLog
//!   line, `Error: unable to perform operation.  (-1)` and that state for the Data volume
//!   (id 44592278695): `-i off` and `-d` fail so here. `-i on` repairs it: Qt's CI turns
//!   indexing back on volume by volume to "Fix unknown indexing state" (qt/qt5
//!   `coin/provisioning/common/macos/disable_spotlight.sh` at commit
//!   0b23c3afcda228e4cd6298d1d050a577a63297f1, lines 18-22, `fixUnknownIndexingState`).
//! - `"server_disabled": true` (mds unloaded): every `-s VOLUME` prints only `Spotlight
//!   server is disabled.` (no volume line) and `-a -s` prints nothing (a public Go test's
//!   fake mdutil, id 71525596464; `mdutil -s /` and Data both said so, id 68835163479); `-i`
//!   prints the same line (a 2019 note: `sudo mdutil -a -i on` "throws Spotlight server is
//!   disabled", id 4634496370). Nothing changes. Output shape UNCONFIRMED beyond those.
//!
//! States are kept in `var/db/spotlight.json` (`{"volumes": {"/": "enabled", ...}}`, one of
//! `enabled`, `disabled`, `off`, `no_index`, `server_search`, `unknown`; and
//! `"server_disabled": true`); a volume not listed is enabled.

use super::files::{self, Kind};
use super::getopt::getopt;
use super::machine::Machine;
use super::nslog::nslog;
use crate::output::Output;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const STATE_FILE: &str = "var/db/spotlight.json";

const SYSTEM_VOLUME: &str = "/";
const DATA_VOLUME: &str = "/System/Volumes/Data";

/// Usage as printed by macOS 10.12 (fixture `mdutil-a-s-and-usage-2016.txt`) with the lines
/// later releases add (`-r`: a 2021 transcript; `-a` wording and `-L`: a 2024 Sequoia
/// transcript). The exact modern text is UNCONFIRMED.
pub const USAGE: &str = "\
Usage: mdutil -pEsa -i (on|off) -d volume ...
       mdutil -t {volume-path | deviceid} fileid
\tUtility to manage Spotlight indexes.
\t-p             Publish metadata.
\t-i (on|off)    Turn indexing on or off.
\t-d             Disable Spotlight activity for volume (re-enable using -i on).
\t-E             Erase and rebuild index.
\t-s             Print indexing status.
\t-t             Resolve files from file id with an optional volume path or device id.
\t-a             Apply command to all stores on all volumes.
\t-V vol         Apply command to all stores on the specified volume.
\t-v             Display verbose information.
\t-r plugins     Ask the server to reimport files for UTIs claimed by the listed plugin.
\t-L volume-path List the directory contents of the Spotlight index on the specified volume.
NOTE: Run as owner for network homes, otherwise run as root.
";

/// A volume's indexing level (mds `kMDConfigSearchLevel*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Indexing and searching on.
    Enabled,
    /// `kMDConfigSearchLevelFSSearchOnly` with an index store: "Indexing disabled."
    Disabled,
    /// `kMDConfigSearchLevelOff`, or search-only without a store: "Indexing and searching
    /// disabled."
    Off,
    /// "No index." (a volume without an index store, such as a Time Machine mount).
    NoIndex,
    /// "Server search enabled." (a network volume its server searches).
    ServerSearch,
    /// "Error: unknown indexing state." (a damaged Spotlight store).
    Unknown,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SpotlightState {
    pub volumes: BTreeMap<String, Level>,
    /// Spotlight's server (mds) is unloaded: mdutil answers `Spotlight server is disabled.`
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub server_disabled: bool,
}

pub const SERVER_DISABLED: &str = "Spotlight server is disabled.\n";

/// Every volume's state (volumes not recorded are enabled).
pub fn load(machine: &Machine) -> SpotlightState {
    std::fs::read_to_string(machine.dir.join(STATE_FILE))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn save(machine: &Machine, state: &SpotlightState) -> Result<()> {
    let path = machine.dir.join(STATE_FILE);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let text = serde_json::to_string_pretty(state)? + "\n";
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// What an argument names.
enum Target {
    /// A volume: its key in the state file and how mdutil echoes it.
    Volume { key: String, echo: String },
    /// A folder or file: its real path, as echoed.
    Folder { echo: String },
    /// Nothing there.
    Invalid,
}

/// The mounted volumes, as `-a` lists them.
fn all_volumes(machine: &Machine) -> Vec<(String, String)> {
    let mut list = vec![
        (SYSTEM_VOLUME.to_string(), SYSTEM_VOLUME.to_string()),
        (DATA_VOLUME.to_string(), DATA_VOLUME.to_string()),
    ];
    let mut mounted: Vec<String> = std::fs::read_dir(machine.dir.join("Volumes"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .map(|entry| format!("/Volumes/{}", entry.file_name().to_string_lossy()))
        .collect();
    mounted.sort();
    list.extend(mounted.into_iter().map(|v| (v.clone(), v)));
    list
}

/// The real path behind the firmlinks and the `/tmp`, `/var`, `/etc` links, as mdutil
/// echoes it.
fn real_path(mac: &str) -> String {
    if mac == "/" || files::under(mac, DATA_VOLUME) || !files::on_data_volume(mac) {
        return mac.to_string();
    }
    let top = mac.split('/').nth(1).unwrap_or("");
    if ["tmp", "var", "etc"].contains(&top) {
        format!("{DATA_VOLUME}/private{mac}")
    } else {
        format!("{DATA_VOLUME}{mac}")
    }
}

fn target(machine: &Machine, arg: &str) -> Target {
    let Ok(resolved) = files::resolve(machine, arg, true) else {
        return Target::Invalid;
    };
    let Some(kind) = resolved.kind else {
        return Target::Invalid;
    };
    let mac = resolved.mac;
    if mac == SYSTEM_VOLUME || mac == DATA_VOLUME {
        return Target::Volume {
            echo: mac.clone(),
            key: mac,
        };
    }
    let parts: Vec<&str> = mac.split('/').filter(|p| !p.is_empty()).collect();
    if kind == Kind::Dir && parts.len() == 2 && parts[0] == "Volumes" {
        return Target::Volume {
            echo: real_path(&mac),
            key: mac,
        };
    }
    Target::Folder {
        echo: real_path(&mac),
    }
}

/// Whether the volume has an index store (`.Spotlight-V100` at its root; always for the
/// internal volumes).
fn has_store(machine: &Machine, key: &str) -> bool {
    key == SYSTEM_VOLUME
        || key == DATA_VOLUME
        || exists_in(machine, &format!("{key}/.Spotlight-V100"), Kind::Dir)
}

fn exists_in(machine: &Machine, path: &str, kind: Kind) -> bool {
    files::resolve(machine, path, true).is_ok_and(|r| r.kind == Some(kind))
}

fn never_index(machine: &Machine, key: &str) -> bool {
    key != SYSTEM_VOLUME && exists_in(machine, &format!("{key}/.metadata_never_index"), Kind::File)
}

fn state_text(machine: &Machine, state: &SpotlightState, key: &str) -> &'static str {
    let level = state.volumes.get(key).copied().unwrap_or(Level::Enabled);
    match level {
        Level::Enabled if never_index(machine, key) => {
            "Indexing and searching disabled because of .metadata_never_index file at root of \
             volume."
        }
        Level::Enabled => "Indexing enabled.",
        Level::Disabled => "Indexing disabled.",
        Level::Off => "Indexing and searching disabled.",
        Level::NoIndex => "No index.",
        Level::ServerSearch => "Server search enabled.",
        Level::Unknown => "Error: unknown indexing state.",
    }
}

/// The action of one run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    Status,
    On,
    Off,
    Disable,
    Erase,
}

pub fn run(machine: &Machine, args: &[String]) -> Output {
    files::ensure_skeleton(machine);
    let usage = || Output {
        status: 1,
        stdout: USAGE.to_string(),
        stderr: String::new(),
    };
    let parsed = match getopt("mdutil", args, "pEsai:dvV:tL:r:XP") {
        Ok(parsed) => parsed,
        Err(diagnostic) => {
            return Output {
                stderr: diagnostic,
                ..usage()
            };
        }
    };
    let mut all = false;
    let mut status = false;
    let mut erase = false;
    let mut indexing = None;
    let mut disable = false;
    for (option, value) in &parsed.options {
        match option {
            'a' => all = true,
            's' => status = true,
            'E' => erase = true,
            'd' => disable = true,
            'v' => {}
            'i' => match value.as_deref() {
                Some("on") => indexing = Some(true),
                Some("off") => indexing = Some(false),
                other => {
                    return Output {
                        status: 1,
                        stdout: format!(
                            "Error: unexpected indexing state ({})\n",
                            other.unwrap_or("")
                        ),
                        stderr: String::new(),
                    };
                }
            },
            other => {
                return Output::failed(
                    1,
                    format!("mdutil: option -{other} is not emulated by macllm's sandbox\n"),
                );
            }
        }
    }
    let action = if disable {
        Action::Disable
    } else if indexing == Some(false) {
        Action::Off
    } else if indexing == Some(true) {
        Action::On
    } else if erase {
        Action::Erase
    } else if status {
        Action::Status
    } else {
        return usage();
    };
    let targets: Vec<Target> = if all {
        all_volumes(machine)
            .into_iter()
            .map(|(key, echo)| Target::Volume { key, echo })
            .collect()
    } else if parsed.operands.is_empty() {
        return usage();
    } else {
        parsed.operands.iter().map(|a| target(machine, a)).collect()
    };
    let mut out = Output::ok("");
    let mut state = load(machine);
    let before = state.clone();
    if state.server_disabled {
        // mds is not there to ask: one line per volume named, none for `-a -s`.
        if !(all && action == Action::Status) {
            for _ in &targets {
                out.stdout.push_str(SERVER_DISABLED);
            }
        }
        return out;
    }
    for (index, target) in targets.iter().enumerate() {
        match target {
            Target::Invalid => {
                let arg = parsed.operands.get(index).map(String::as_str).unwrap_or("");
                out.stdout
                    .push_str(&format!("Error: invalid path `{arg}'.\n"));
            }
            Target::Folder { echo } => {
                out.stdout.push_str(&format!("{echo}:\n"));
                if action != Action::Status {
                    out.stdout.push_str("Error: invalid operation.\n");
                }
                out.stdout.push_str("\tError: unknown indexing state.\n");
            }
            Target::Volume { key, echo } => {
                out.stdout.push_str(&format!("{echo}:\n"));
                change(machine, &mut state, key, echo, action, &mut out);
                let text = state_text(machine, &state, key);
                out.stdout.push_str(&format!("\t{text}\n"));
            }
        }
    }
    if state != before
        && let Err(err) = save(machine, &state)
    {
        out.stderr.push_str(&format!("mdutil: {err:#}\n"));
        out.status = 1;
    }
    out
}

/// Applies `action` to one volume (root only), with mdutil's log line.
fn change(
    machine: &Machine,
    state: &mut SpotlightState,
    key: &str,
    echo: &str,
    action: Action,
    out: &mut Output,
) {
    let current = state.volumes.get(key).copied().unwrap_or(Level::Enabled);
    let level = match action {
        Action::Status => return,
        Action::Erase => None,
        Action::On => Some(Level::Enabled),
        Action::Off if has_store(machine, key) => Some(Level::Disabled),
        Action::Off | Action::Disable => Some(Level::Off),
    };
    // A damaged store refuses to be switched off (id 44592278695) but `-i on` repairs it
    // (Qt's fixUnknownIndexingState); a server-searched volume cannot be switched at all.
    let refused = match current {
        Level::Unknown => matches!(action, Action::Off | Action::Disable),
        Level::ServerSearch => action != Action::Erase,
        _ => false,
    };
    let search_level = match action {
        Action::Off => Some("kMDConfigSearchLevelFSSearchOnly"),
        Action::Disable => Some("kMDConfigSearchLevelOff"),
        _ => None,
    };
    if let Some(search_level) = search_level {
        out.stderr.push_str(&nslog(
            "mdutil",
            &format!("mdutil disabling Spotlight: {echo} -> {search_level}"),
        ));
    }
    if !machine.is_root() || refused {
        out.stdout
            .push_str("Error: unable to perform operation.  (-1)\n");
        return;
    }
    match level {
        Some(Level::Enabled) => {
            state.volumes.remove(key);
        }
        Some(level) => {
            state.volumes.insert(key.to_string(), level);
        }
        None => {}
    }
}

#[cfg(test)]
mod tests {
    //! One test per emulated behaviour, each naming the capture it follows (fixtures in
    //! ../shared/reference/fixtures/macos/, transcripts cited in the module comment).

    use super::*;
    use crate::testing::{args, mac};

    fn mdutil(machine: &Machine, list: &[&str]) -> Output {
        run(machine, &args(list))
    }

    /// Fixtures `mdutil-s-enabled.txt` (`/:` then TAB `Indexing enabled.`),
    /// `mdutil-s-indexing-and-searching-disabled.txt` (after `-d`) and
    /// `mdutil-s-data-volume.txt` (`/Volumes/Shared/` echoed as
    /// `/System/Volumes/Data/Volumes/Shared:`). No root needed.
    #[test]
    fn status_matches_the_three_fixtures() {
        let (_dir, mut m) = mac("m2-16gb-sonoma");
        let out = mdutil(&m, &["-s", "/"]);
        assert_eq!(
            (out.status, out.stdout.as_str(), out.stderr.as_str()),
            (0, "/:\n\tIndexing enabled.\n", "")
        );
        std::fs::create_dir_all(m.dir.join("Volumes/Shared")).unwrap();
        let out = mdutil(&m, &["-s", "/Volumes/Shared/"]);
        assert_eq!(
            out.stdout,
            "/System/Volumes/Data/Volumes/Shared:\n\tIndexing enabled.\n"
        );
        m.info.uid = 0;
        mdutil(&m, &["-d", "/"]);
        m.info.uid = 501;
        let out = mdutil(&m, &["-s", "/"]);
        assert_eq!(out.stdout, "/:\n\tIndexing and searching disabled.\n");
    }

    /// `mdutil -a -s` prints one block per volume (fixture `mdutil-a-s-and-usage-2016.txt`);
    /// modern Macs list `/` and `/System/Volumes/Data`, then mounted volumes as mounted.
    #[test]
    fn all_volumes_one_block_each() {
        let (_dir, m) = mac("m4pro-48gb-sequoia");
        std::fs::create_dir_all(m.dir.join("Volumes/SD_card")).unwrap();
        let out = mdutil(&m, &["-a", "-s"]);
        assert_eq!(
            out.stdout,
            "/:\n\tIndexing enabled.\n/System/Volumes/Data:\n\tIndexing enabled.\n\
             /Volumes/SD_card:\n\tIndexing enabled.\n"
        );
        assert_eq!(mdutil(&m, &["-as"]).stdout, out.stdout);
    }

    /// `sudo mdutil -i off /` (2022 and 2024 transcripts): the header, the NSLog line on
    /// stderr, `\tIndexing disabled.`; kept in var/db/spotlight.json; `/` and the data volume
    /// are separate. Without root nothing changes (message UNCONFIRMED).
    #[test]
    fn indexing_off_needs_root_and_persists() {
        let (_dir, mut m) = mac("m2-16gb-sonoma");
        let out = mdutil(&m, &["-i", "off", "/"]);
        assert_eq!(
            (out.status, out.stdout.as_str()),
            (
                0,
                "/:\nError: unable to perform operation.  (-1)\n\tIndexing enabled.\n"
            )
        );
        assert!(
            out.stderr
                .ends_with(" mdutil disabling Spotlight: / -> kMDConfigSearchLevelFSSearchOnly\n")
        );
        assert_eq!(load(&m), SpotlightState::default());
        m.info.uid = 0;
        let out = mdutil(&m, &["-i", "off", "/"]);
        assert_eq!(out.stdout, "/:\n\tIndexing disabled.\n");
        assert!(out.stderr.contains("] mdutil disabling Spotlight: / -> "));
        assert_eq!(load(&m).volumes["/"], Level::Disabled);
        let text = std::fs::read_to_string(m.dir.join(STATE_FILE)).unwrap();
        assert!(text.contains("\"/\": \"disabled\""));
        m.info.uid = 501;
        assert_eq!(
            mdutil(&m, &["-s", "/"]).stdout,
            "/:\n\tIndexing disabled.\n"
        );
        let data = mdutil(&m, &["-s", "/System/Volumes/Data"]).stdout;
        assert_eq!(data, "/System/Volumes/Data:\n\tIndexing enabled.\n");
        m.info.uid = 0;
        let out = mdutil(&m, &["-i", "on", "/"]);
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str()),
            ("/:\n\tIndexing enabled.\n", "")
        );
    }

    /// mdutil takes volumes only (reference 3.1): a folder shows its real path and
    /// `Error: unknown indexing state.`, `-i` on it adds `Error: invalid operation.`; a
    /// missing path is `Error: invalid path`. Status 0 throughout.
    #[test]
    fn folders_are_not_volumes() {
        let (_dir, mut m) = mac("m2-16gb-sonoma");
        let out = mdutil(&m, &["-s", "/Users/admin"]);
        assert_eq!(
            (out.status, out.stdout.as_str()),
            (
                0,
                "/System/Volumes/Data/Users/admin:\n\tError: unknown indexing state.\n"
            )
        );
        m.info.uid = 0;
        let out = mdutil(&m, &["-i", "off", "/Users/admin/Documents"]);
        assert_eq!(
            out.stdout,
            "/System/Volumes/Data/Users/admin/Documents:\nError: invalid operation.\n\
             \tError: unknown indexing state.\n"
        );
        std::fs::create_dir_all(m.dir.join("private/tmp/test-dir")).unwrap();
        let out = mdutil(&m, &["-s", "/private/tmp/test-dir"]);
        assert!(
            out.stdout
                .starts_with("/System/Volumes/Data/private/tmp/test-dir:\n")
        );
        let out = mdutil(&m, &["-s", "/Volumes/nonexistent"]);
        assert_eq!(
            (out.status, out.stdout.as_str()),
            (0, "Error: invalid path `/Volumes/nonexistent'.\n")
        );
        assert_eq!(load(&m), SpotlightState::default());
    }

    /// External volumes: `-i off` leaves `Indexing and searching disabled.` without an index
    /// store (2017 transcript, /Volumes/Media128G) and `Indexing disabled.` with one; `-d`
    /// logs kMDConfigSearchLevelOff (2023 transcript).
    #[test]
    fn external_volumes_depend_on_their_store() {
        let (_dir, mut m) = mac("m2-16gb-sonoma");
        m.info.uid = 0;
        std::fs::create_dir_all(m.dir.join("Volumes/Media128G")).unwrap();
        std::fs::create_dir_all(m.dir.join("Volumes/Backup/.Spotlight-V100")).unwrap();
        let out = mdutil(&m, &["-i", "off", "/Volumes/Media128G"]);
        assert_eq!(
            out.stdout,
            "/System/Volumes/Data/Volumes/Media128G:\n\tIndexing and searching disabled.\n"
        );
        let out = mdutil(&m, &["-i", "off", "/Volumes/Backup"]);
        assert!(out.stdout.ends_with("\tIndexing disabled.\n"));
        let out = mdutil(&m, &["-d", "/Volumes/Backup"]);
        assert!(out.stderr.contains("-> kMDConfigSearchLevelOff\n"));
        assert!(out.stdout.ends_with("\tIndexing and searching disabled.\n"));
    }

    /// `.metadata_never_index` counts only at a volume root (reference 3.2).
    #[test]
    fn never_index_marker_only_at_volume_root() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        std::fs::create_dir_all(m.dir.join("Volumes/X/sub")).unwrap();
        std::fs::write(m.dir.join("Volumes/X/sub/.metadata_never_index"), "").unwrap();
        assert!(
            mdutil(&m, &["-s", "/Volumes/X"])
                .stdout
                .ends_with("\tIndexing enabled.\n")
        );
        std::fs::write(m.dir.join("Volumes/X/.metadata_never_index"), "").unwrap();
        let out = mdutil(&m, &["-s", "/Volumes/X"]).stdout;
        assert!(out.contains("because of .metadata_never_index file at root of volume."));
    }

    fn set_state(m: &Machine, json: &str) {
        std::fs::create_dir_all(m.dir.join("var/db")).unwrap();
        std::fs::write(m.dir.join(STATE_FILE), json).unwrap();
    }

    /// `No index.` (fixture `mdutil-a-s-and-usage-2016.txt`) and `Server search enabled.` for
    /// a network volume, echoed under the Data volume (id 14277725604: `mdutil -s
    /// /Volumes/kymedia` -> `/System/Volumes/Data/Volumes/kymedia:` / `\tServer search
    /// enabled.`). A server-searched volume is not switched.
    #[test]
    fn no_index_and_server_search_from_the_state_file() {
        let (_dir, mut m) = mac("m4pro-48gb-sequoia");
        std::fs::create_dir_all(m.dir.join("Volumes/kymedia")).unwrap();
        std::fs::create_dir_all(m.dir.join("Volumes/Backup")).unwrap();
        set_state(
            &m,
            r#"{"volumes": {"/Volumes/kymedia": "server_search", "/Volumes/Backup": "no_index"}}"#,
        );
        let out = mdutil(&m, &["-s", "/Volumes/kymedia"]);
        assert_eq!(
            (out.status, out.stdout.as_str(), out.stderr.as_str()),
            (
                0,
                "/System/Volumes/Data/Volumes/kymedia:\n\tServer search enabled.\n",
                ""
            )
        );
        assert_eq!(
            mdutil(&m, &["-s", "/Volumes/Backup"]).stdout,
            "/System/Volumes/Data/Volumes/Backup:\n\tNo index.\n"
        );
        m.info.uid = 0;
        let out = mdutil(&m, &["-i", "off", "/Volumes/kymedia"]);
        assert_eq!(
            out.stdout,
            "/System/Volumes/Data/Volumes/kymedia:\nError: unable to perform operation.  (-1)\n\
             \tServer search enabled.\n"
        );
        let out = mdutil(&m, &["-i", "on", "/Volumes/Backup"]);
        assert!(out.stdout.ends_with("\tIndexing enabled.\n"));
    }

    /// A damaged store: `/System/Volumes/Data:\n\tError: unknown indexing state.\n` (id
    /// 68606928184); `-i off` fails with the NSLog line and `Error: unable to perform
    /// operation.  (-1)` before the state (id 44592278695, macOS 15); `-i on` repairs it
    /// (qt/qt5 disable_spotlight.sh `fixUnknownIndexingState`).
    #[test]
    fn a_damaged_store_reports_an_unknown_state_until_indexing_is_turned_on() {
        let (_dir, mut m) = mac("m4pro-48gb-sequoia");
        set_state(&m, r#"{"volumes": {"/System/Volumes/Data": "unknown"}}"#);
        let out = mdutil(&m, &["-s", "/System/Volumes/Data"]);
        assert_eq!(
            out.stdout,
            "/System/Volumes/Data:\n\tError: unknown indexing state.\n"
        );
        assert_eq!(mdutil(&m, &["-s", "/"]).stdout, "/:\n\tIndexing enabled.\n");
        m.info.uid = 0;
        let out = mdutil(&m, &["-i", "off", "/System/Volumes/Data"]);
        assert_eq!(
            out.stdout,
            "/System/Volumes/Data:\nError: unable to perform operation.  (-1)\n\
             \tError: unknown indexing state.\n"
        );
        assert!(out.stderr.ends_with(
            " mdutil disabling Spotlight: /System/Volumes/Data -> kMDConfigSearchLevelFSSearchOnly\n"
        ));
        let out = mdutil(&m, &["-i", "on", "/System/Volumes/Data"]);
        assert_eq!(out.stdout, "/System/Volumes/Data:\n\tIndexing enabled.\n");
        assert_eq!(load(&m), SpotlightState::default());
    }

    /// mds unloaded: `Spotlight server is disabled.` alone for each volume asked about, nothing
    /// for `-a -s` (ids 71525596464, 68835163479), the same line for `-i` (id 4634496370).
    #[test]
    fn a_disabled_server_answers_for_no_volume() {
        let (_dir, mut m) = mac("m2-16gb-sonoma");
        set_state(&m, r#"{"volumes": {}, "server_disabled": true}"#);
        let out = mdutil(&m, &["-s", "/"]);
        assert_eq!(
            (out.status, out.stdout.as_str(), out.stderr.as_str()),
            (0, "Spotlight server is disabled.\n", "")
        );
        assert_eq!(
            mdutil(&m, &["-s", "/", "/System/Volumes/Data"]).stdout,
            "Spotlight server is disabled.\nSpotlight server is disabled.\n"
        );
        assert_eq!(mdutil(&m, &["-a", "-s"]).stdout, "");
        m.info.uid = 0;
        let before = load(&m);
        assert_eq!(
            mdutil(&m, &["-a", "-i", "on"]).stdout,
            "Spotlight server is disabled.\nSpotlight server is disabled.\n"
        );
        assert_eq!(load(&m), before);
    }

    /// Usage without a volume; `-i` takes on/off only (`-Eia off` printed `Error: unexpected
    /// indexing state (a)`, 2024 transcript); unknown options go through getopt.
    #[test]
    fn bad_arguments() {
        let (_dir, m) = mac("m2-16gb-sonoma");
        let out = mdutil(&m, &[]);
        assert_eq!((out.status, out.stdout.as_str()), (1, USAGE));
        assert_eq!(mdutil(&m, &["-s"]).stdout, USAGE);
        let out = mdutil(&m, &["-Eia", "off"]);
        assert_eq!(out.stdout, "Error: unexpected indexing state (a)\n");
        let out = mdutil(&m, &["-z", "/"]);
        assert_eq!(
            (out.status, out.stderr.as_str()),
            (1, "mdutil: illegal option -- z\n")
        );
    }
}
