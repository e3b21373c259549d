//! Emulated `sudo`, as far as a root process uses it to run a command as another account:
//! `sudo [-n] [-H] (-u USER | --user=USER | --user USER) [--] COMMAND...` (sudo(8)). Run by root,
//! sudo asks for no password and runs the command with the target account's uid and
//! `SUDO_USER` set to root (sudo(8), "ENVIRONMENT"). MDM scripts and nix-darwin combine it with
//! `launchctl asuser UID` to run a per-user command in that user's session:
//! `launchctl asuser "$(id -u -- USER)" sudo --user=USER -- defaults write ...` (nix-darwin
//! `modules/system/defaults-write.nix`; scriptingosx.com "Running a command as another user",
//! 2020, used by homebysix/jss-filevault-reissue#42), because `asuser` alone "does not modify
//! the process' credentials" (man launchctl, quoted in nix-darwin/nix-darwin#1341).
//!
//! Run by anyone else sudo would need a password, and the emulated Mac has no terminal to type
//! it on: `sudo: a terminal is required to read the password; either use the -S option to read
//! from standard input or configure an askpass helper` then `sudo: a password is required`,
//! status 1 (sudo 1.9's messages, as macOS 13 and later ship it; `-n` prints only the second
//! line). An unknown account is `sudo: unknown user NAME`, status 1 (UNCONFIRMED: sudo 1.9
//! adds a line about its audit plugin). A program the emulated Mac lacks is
//! `sudo: NAME: command not found`, status 1.

use super::machine::Machine;
use crate::output::Output;

const USAGE: &str =
    "usage: sudo -h | -K | -k | -V\nusage: sudo [-n] [-H] [-u user] [--] command [arg ...]\n";

pub fn run(machine: &Machine, args: &[String], stdin: &[u8]) -> Output {
    let mut user = None;
    let mut non_interactive = false;
    let mut rest = args;
    while let Some((word, tail)) = rest.split_first() {
        if word == "--" {
            rest = tail;
            break;
        }
        if let Some(name) = word.strip_prefix("--user=") {
            user = Some(name.to_string());
        } else if word == "-u" || word == "--user" {
            let Some((name, tail)) = tail.split_first() else {
                return Output::failed(
                    1,
                    format!("sudo: option requires an argument -- u\n{USAGE}"),
                );
            };
            user = Some(name.clone());
            rest = tail;
            continue;
        } else if let Some(name) = word.strip_prefix("-u").filter(|n| !n.is_empty()) {
            user = Some(name.to_string());
        } else if word == "-n" || word == "--non-interactive" {
            non_interactive = true;
        } else if word == "-H" || word == "--set-home" {
        } else if word.starts_with('-') {
            return Output::failed(
                1,
                format!("sudo: option {word} is not emulated by macllm's sandbox\n"),
            );
        } else {
            break;
        }
        rest = tail;
    }
    if rest.is_empty() {
        return Output::failed(1, USAGE);
    }
    if !machine.is_root() {
        let mut stderr = String::new();
        if !non_interactive {
            stderr.push_str(
                "sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\n",
            );
        }
        stderr.push_str("sudo: a password is required\n");
        return Output::failed(1, stderr);
    }
    let name = user.unwrap_or_else(|| "root".to_string());
    let uid = match name.strip_prefix('#').map(str::parse::<u32>) {
        Some(Ok(uid)) => machine.account_name(uid).map(|_| uid),
        _ => machine.account_uid(&name),
    };
    let Some(uid) = uid else {
        return Output::failed(1, format!("sudo: unknown user {name}\n"));
    };
    let child = machine.running_as(uid, Some("root".to_string()));
    match crate::run(&child, rest, stdin) {
        Ok(output) => output,
        Err(_) => Output::failed(1, format!("sudo: {}: command not found\n", rest[0])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{args, mac};

    #[test]
    fn root_runs_a_command_as_the_user_and_others_need_a_password() {
        let (_dir, mac) = mac("m2-16gb-sonoma");
        let root = mac.running_as(0, Some("admin".into()));
        let out = run(&root, &args(&["--user=admin", "--", "id", "-un"]), b"");
        assert_eq!(out, Output::ok("admin\n"));
        let out = run(&root, &args(&["-u", "admin", "printenv", "SUDO_USER"]), b"");
        assert_eq!(out, Output::ok("root\n"), "sudo names who ran it");
        let out = run(&root, &args(&["-u", "bob", "id"]), b"");
        assert_eq!(out, Output::failed(1, "sudo: unknown user bob\n"));
        let out = run(&root, &args(&["-u", "admin", "nosuch"]), b"");
        assert_eq!(out, Output::failed(1, "sudo: nosuch: command not found\n"));
        let out = run(&mac, &args(&["-n", "id"]), b"");
        assert_eq!(out, Output::failed(1, "sudo: a password is required\n"));
    }

    /// Root's plain `defaults write` changes root's preferences; nix-darwin's form changes the
    /// user's; the user cannot join another session with `launchctl asuser`.
    #[test]
    fn defaults_as_root_and_as_the_user_through_launchctl_asuser() {
        let (_dir, mac) = mac("m2-16gb-sonoma");
        let root = mac.running_as(0, Some("admin".into()));
        let write = args(&["defaults", "write", "com.example.x", "k", "-bool", "true"]);
        assert!(crate::run(&root, &write, b"").unwrap().success());
        assert!(
            mac.dir
                .join("private/var/root/Library/Preferences/com.example.x.plist")
                .exists()
        );
        let user_file = mac
            .dir
            .join("Users/admin/Library/Preferences/com.example.x.plist");
        assert!(!user_file.exists(), "root's write is not the user's");
        let wrapped: Vec<String> =
            args(&["launchctl", "asuser", "501", "sudo", "--user=admin", "--"])
                .into_iter()
                .chain(write.iter().cloned())
                .collect();
        assert_eq!(crate::innermost(&wrapped), &write[..]);
        assert_eq!(crate::run(&root, &wrapped, b"").unwrap(), Output::ok(""));
        assert!(user_file.exists());
        let denied = crate::run(&mac, &wrapped, b"").unwrap();
        assert_eq!(
            denied,
            Output::failed(
                1,
                "Could not switch to audit session 0x186a4: 1: Operation not permitted\n"
            )
        );
        // Inside asuser, root's legacy launchctl calls reach the user's GUI domain.
        let setenv = args(&[
            "launchctl",
            "asuser",
            "501",
            "launchctl",
            "setenv",
            "A",
            "1",
        ]);
        assert!(crate::run(&root, &setenv, b"").unwrap().success());
        let getenv = args(&["launchctl", "getenv", "A"]);
        assert_eq!(crate::run(&mac, &getenv, b"").unwrap(), Output::ok("1\n"));
    }
}
