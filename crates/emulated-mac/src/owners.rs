//! Who owns a file, and the two programs that show and change it: `stat -f FORMAT` and
//! `chown`.
//!
//! The sandbox's files are the host's, all owned by whoever runs the tests, so the emulated
//! Mac keeps owners itself: everything under the user's home (and `/opt/homebrew`, which
//! Homebrew's installer gives to the user) belongs to the user, the rest to root, except for
//! the paths recorded in [`OWNERS_FILE`] (a readable JSON map of Mac path to account). A file
//! or directory that root creates inside the user's home is root's, as on any Unix (open(2)
//! and mkdir(2) give a new entry the effective uid of its creator): that is what running a
//! per-user tool under plain `sudo` leaves behind (Opsek/OSs-security#38; nix-darwin runs such
//! writes as the user, `launchctl asuser UID sudo --user=USER -- ...`, modules/system/
//! defaults-write.nix). The user then cannot change a root-owned file or add to a root-owned
//! directory in its own home (EACCES: [`crate::files::may_write`]) until root `chown`s it.
//!
//! `/dev/console` belongs to the user logged in at the login window, root when nobody is:
//! MDM scripts and installers read the console user with `stat -f%Su /dev/console` (or the uid
//! with `stat -f%u /dev/console`: chilcote/outset#108; notes/issue10-research.md section 5).
//!
//! - `stat`: file_cmds `stat/stat.c`. Only `-f FORMAT` is emulated, with the conversions
//!   `%Su %u %Sg %g %N %%`; a missing file is `warn("%s: stat", file)` =
//!   `stat: PATH: stat: No such file or directory`, status 1, the other files still print.
//! - `chown`: file_cmds `chown/chown.c`: `chown [-R] owner[:group] file...`; an unknown name is
//!   `errx(1, "%s: illegal user name")` (`illegal group name` for a group); a non-root caller
//!   giving a file away gets EPERM, `chown: FILE: Operation not permitted`, status 1 (chown(2):
//!   "only the super-user may change the owner"). Groups are checked and otherwise ignored:
//!   the emulated Mac keeps owners only.

use super::files::{Errno, resolve, under};
use super::getopt::getopt;
use super::machine::Machine;
use crate::output::Output;
use std::collections::BTreeMap;
use std::path::Path;

/// Inside the emulated Mac: owners that differ from the default rule above.
pub const OWNERS_FILE: &str = "private/var/db/emulated-owners.json";

fn load(machine: &Machine) -> BTreeMap<String, String> {
    std::fs::read_to_string(machine.dir.join(OWNERS_FILE))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

fn save(machine: &Machine, owners: &BTreeMap<String, String>) {
    let path = machine.dir.join(OWNERS_FILE);
    if owners.is_empty() {
        let _ = std::fs::remove_file(&path);
        return;
    }
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    if let Ok(json) = serde_json::to_string_pretty(owners) {
        let _ = std::fs::write(&path, json + "\n");
    }
}

/// The owner a path has unless something changed it.
fn default_owner(machine: &Machine, mac: &str) -> String {
    if under(mac, &machine.mac_home()) || under(mac, "/opt/homebrew") {
        machine.info.user.clone()
    } else {
        "root".to_string()
    }
}

/// The account owning `mac` (a canonical Mac path).
pub fn owner_of(machine: &Machine, mac: &str) -> String {
    if mac == "/dev/console" {
        return if machine.info.gui_session {
            machine.info.user.clone()
        } else {
            "root".to_string()
        };
    }
    load(machine)
        .remove(mac)
        .unwrap_or_else(|| default_owner(machine, mac))
}

/// Records that the running account has just created `mac`.
pub fn created(machine: &Machine, mac: &str) {
    let creator = machine
        .account_name(machine.info.uid)
        .unwrap_or_else(|| "root".to_string());
    set(machine, &[mac.to_string()], &creator);
}

/// `mac` and everything under it are gone.
pub fn removed(machine: &Machine, mac: &str) {
    let mut owners = load(machine);
    let before = owners.len();
    owners.retain(|path, _| !under(path, mac));
    if owners.len() != before {
        save(machine, &owners);
    }
}

fn set(machine: &Machine, paths: &[String], owner: &str) {
    let mut owners = load(machine);
    let before = owners.clone();
    for mac in paths {
        if default_owner(machine, mac) == owner {
            owners.remove(mac);
        } else {
            owners.insert(mac.clone(), owner.to_string());
        }
    }
    if owners != before {
        save(machine, &owners);
    }
}

/// `stat -f FORMAT FILE...`.
pub fn stat(machine: &Machine, args: &[String]) -> Output {
    const USAGE: &str =
        "usage: stat [-FLnq] [-f format | -l | -r | -s | -x] [-t timefmt] [file|handle ...]\n";
    let parsed = match getopt("stat", args, "FLnqf:lrsxt:") {
        Ok(parsed) => parsed,
        Err(diagnostic) => return Output::failed(1, format!("{diagnostic}{USAGE}")),
    };
    let mut format = None;
    for (option, value) in &parsed.options {
        match option {
            'f' => format = value.clone(),
            other => {
                return Output::failed(
                    1,
                    format!("stat: option -{other} is not emulated by macllm's sandbox\n"),
                );
            }
        }
    }
    let Some(format) = format else {
        return Output::failed(
            1,
            "stat: only `stat -f FORMAT` is emulated by macllm's sandbox\n",
        );
    };
    let mut output = Output::ok("");
    for path in &parsed.operands {
        let canonical = if path == "/dev/console" {
            Ok(path.clone())
        } else {
            resolve(machine, path, true).and_then(|r| match r.kind {
                Some(_) => Ok(r.mac),
                None => Err(Errno::NoEnt),
            })
        };
        match canonical {
            Ok(mac) => match render(machine, &format, path, &mac) {
                Ok(line) => output.stdout.push_str(&format!("{line}\n")),
                Err(message) => return Output::failed(1, message),
            },
            Err(errno) => {
                output.status = 1;
                output
                    .stderr
                    .push_str(&format!("stat: {path}: stat: {}\n", errno.text()));
            }
        }
    }
    output
}

fn render(machine: &Machine, format: &str, given: &str, mac: &str) -> Result<String, String> {
    let owner = owner_of(machine, mac);
    let uid = machine.account_uid(&owner).unwrap_or(0);
    let (group, gid) = if uid == 0 {
        ("wheel", 0)
    } else {
        ("staff", 20)
    };
    let mut line = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            line.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => line.push('%'),
            Some('u') => line.push_str(&uid.to_string()),
            Some('g') => line.push_str(&gid.to_string()),
            Some('N') => line.push_str(given),
            Some('S') => match chars.next() {
                Some('u') => line.push_str(&owner),
                Some('g') => line.push_str(group),
                other => return Err(not_emulated_format(other)),
            },
            other => return Err(not_emulated_format(other)),
        }
    }
    Ok(line)
}

fn not_emulated_format(conversion: Option<char>) -> String {
    format!(
        "stat: the format conversion %{} is not emulated by macllm's sandbox (it emulates %Su %u %Sg %g %N %%)\n",
        conversion.map(String::from).unwrap_or_default()
    )
}

/// `chown [-R] owner[:group] FILE...`.
pub fn chown(machine: &Machine, args: &[String]) -> Output {
    const USAGE: &str = "usage: chown [-fhnvx] [-R [-H | -L | -P]] owner[:group] file ...\n       chown [-fhnvx] [-R [-H | -L | -P]] :group file ...\n";
    let parsed = match getopt("chown", args, "fhnvxRHLP") {
        Ok(parsed) => parsed,
        Err(diagnostic) => return Output::failed(1, format!("{diagnostic}{USAGE}")),
    };
    let recursive = parsed.options.iter().any(|(o, _)| *o == 'R');
    let [spec, paths @ ..] = &parsed.operands[..] else {
        return Output::failed(1, USAGE);
    };
    if paths.is_empty() {
        return Output::failed(1, USAGE);
    }
    let (user, group) = match spec.split_once([':', '.']) {
        Some((user, group)) => (user, Some(group)),
        None => (spec.as_str(), None),
    };
    let owner = if user.is_empty() {
        None
    } else {
        let name = user
            .parse::<u32>()
            .ok()
            .and_then(|uid| machine.account_name(uid))
            .or_else(|| machine.account_uid(user).map(|_| user.to_string()));
        match name {
            Some(name) => Some(name),
            None => return Output::failed(1, format!("chown: {user}: illegal user name\n")),
        }
    };
    if let Some(group) = group.filter(|g| !g.is_empty())
        && !["staff", "wheel", "admin", "everyone", "20", "0", "80", "12"].contains(&group)
    {
        return Output::failed(1, format!("chown: {group}: illegal group name\n"));
    }
    let mut output = Output::ok("");
    for path in paths {
        let resolved = match resolve(machine, path, true) {
            Ok(r) if r.kind.is_some() => r,
            Ok(_) => {
                fail(&mut output, path, Errno::NoEnt);
                continue;
            }
            Err(errno) => {
                fail(&mut output, path, errno);
                continue;
            }
        };
        let Some(owner) = &owner else {
            continue;
        };
        // chown(2): only the super-user may change the owner (a no-op change is allowed).
        if !machine.is_root() && owner_of(machine, &resolved.mac) != *owner {
            fail(&mut output, path, Errno::NotPermitted);
            continue;
        }
        let mut macs = vec![resolved.mac.clone()];
        if recursive {
            walk(&resolved.host, &resolved.mac, &mut macs);
        }
        set(machine, &macs, owner);
    }
    output
}

/// `warn("%s", path)`: the operand failed, the others still run.
fn fail(output: &mut Output, path: &str, errno: Errno) {
    output.status = 1;
    output
        .stderr
        .push_str(&format!("chown: {path}: {}\n", errno.text()));
}

fn walk(host: &Path, mac: &str, into: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(host) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let child = format!("{}/{name}", mac.trim_end_matches('/'));
        into.push(child.clone());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&entry.path(), &child, into);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{args, mac};

    #[test]
    fn the_console_belongs_to_the_gui_user() {
        let (_dir, mut mac) = mac("m2-16gb-sonoma");
        let out = stat(&mac, &args(&["-f%Su", "/dev/console"]));
        assert_eq!(out, Output::ok("admin\n"));
        let out = stat(&mac, &args(&["-f", "%u", "/dev/console"]));
        assert_eq!(out, Output::ok("501\n"));
        mac.info.gui_session = false;
        let out = stat(&mac, &args(&["-f%Su", "/dev/console"]));
        assert_eq!(out, Output::ok("root\n"));
    }

    #[test]
    fn root_creates_root_owned_files_in_the_home_until_chowned() {
        let (_dir, mac) = mac("m2-16gb-sonoma");
        let file = "/Users/admin/Library/LaunchAgents/x.plist";
        let root = mac.running_as(0, Some("admin".into()));
        let tee = crate::run(&root, &args(&["tee", file]), b"x").unwrap();
        assert!(tee.success(), "{tee:?}");
        assert_eq!(
            stat(&mac, &args(&["-f%Su:%Sg", file])),
            Output::ok("root:wheel\n")
        );
        // The user cannot rewrite it, nor give it to itself.
        let tee = crate::run(&mac, &args(&["tee", file]), b"y").unwrap();
        assert_eq!(tee.stderr, format!("tee: {file}: Permission denied\n"));
        assert_eq!(
            chown(&mac, &args(&["admin", file])),
            Output::failed(1, format!("chown: {file}: Operation not permitted\n"))
        );
        assert_eq!(chown(&root, &args(&["admin:staff", file])), Output::ok(""));
        assert_eq!(stat(&mac, &args(&["-f%Su", file])), Output::ok("admin\n"));
        let tee = crate::run(&mac, &args(&["tee", file]), b"y").unwrap();
        assert!(tee.success(), "{tee:?}");
        assert!(
            !mac.dir.join(OWNERS_FILE).exists(),
            "nothing left to record"
        );
        assert_eq!(
            chown(&root, &args(&["bob", file])),
            Output::failed(1, "chown: bob: illegal user name\n")
        );
        assert_eq!(
            stat(&mac, &args(&["-f%Su", "/Users/admin/nothing"])),
            Output::failed(
                1,
                "stat: /Users/admin/nothing: stat: No such file or directory\n"
            )
        );
    }
}
