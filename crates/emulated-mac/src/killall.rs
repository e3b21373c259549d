//! Emulated `killall`, following Apple's `killall/killall.c` (apple-oss-distributions/
//! shell_cmds; the same messages from macOS 12 to 15):
//!
//! - Signal options (`-HUP`, `-SIGKILL`, `-9`, any case) are taken out of argv before getopt
//!   (`kludge_signal_args`); a dash word that is neither a signal nor one of killall's options
//!   is `unknown signal X; valid signals:` plus the list, status 1. `-help` is usage.
//! - Names match the executable's file name exactly (`strcmp`), case-sensitively.
//! - Without `-u`, a non-root caller only sees its own processes; root sees all of them.
//! - Success prints nothing and exits 0. When nothing matched: `No matching processes
//!   belonging to you were found` (`were found` alone for root) on stderr, status 1; `-q`
//!   drops the message, not the status. This settles the UNCONFIRMED text of reference 1.9.
//! - `-s` prints `kill -term PID` without signalling, `-v` prints it and signals; signal
//!   names are Libc's lowercase `sys_signame`. Signalling someone else's process as non-root
//!   prints `killall: warning: kill -term PID: Operation not permitted`, status 1.
//! - `-l` lists the signals. `-d` (debug dump), `-I` (asks on the terminal), `-m` (regular
//!   expressions) and `-t` (ttys) are not emulated and say so.
//!
//! The emulated Mac always runs Dock, Finder, SystemUIServer, ControlCenter and a cfprefsd
//! for its user, and root's cfprefsd. launchd relaunches them when they exit, so killing them
//! succeeds every time. Each name killed with a signal that terminates by default is recorded
//! once per run as `killall NAME` in the machine's restart log, the evidence tests use that
//! macllm restarted what its changes need (reference 1.9).

use super::getopt::getopt;
use super::machine::{Machine, RESTART_LOG};
use crate::output::Output;

const OPTIONS: &str = "c:dej:Ilmqst:u:vz";

const USAGE: &str = "usage: killall [-delmsqvz] [-help] [-I]\n               \
                     [-u user] [-t tty] [-c cmd] [-SIGNAL] [cmd]...\n\
                     At least one option or argument to specify processes must be given.\n";

/// Libc `sys_signame` (gen/FreeBSD/siglist.c), indexed by signal number.
const SIGNALS: [&str; 32] = [
    "Signal 0", "hup", "int", "quit", "ill", "trap", "abrt", "emt", "fpe", "kill", "bus", "segv",
    "sys", "pipe", "alrm", "term", "urg", "stop", "tstp", "cont", "chld", "ttin", "ttou", "io",
    "xcpu", "xfsz", "vtalrm", "prof", "winch", "info", "usr1", "usr2",
];
const SIGTERM: usize = 15;

/// MAXCOMLEN: `-c` compares this many characters.
const MAXCOMLEN: usize = 16;

/// Signals whose default action ends the process (signal(3)); the others (0, urg, stop,
/// tstp, cont, chld, ttin, ttou, io, winch, info) leave it running, so nothing restarts.
fn terminates(signal: usize) -> bool {
    !matches!(signal, 0 | 16..=23 | 28 | 29)
}

struct Process {
    pid: u32,
    uid: u32,
    command: &'static str,
}

/// The emulated process table. The pids are fixed: relaunched processes keep theirs.
fn processes(machine: &Machine) -> Vec<Process> {
    let user = machine.info.user_uid;
    let process = |pid, uid, command| Process { pid, uid, command };
    vec![
        process(164, 0, "cfprefsd"),
        process(512, user, "cfprefsd"),
        process(571, user, "Dock"),
        process(574, user, "SystemUIServer"),
        process(576, user, "Finder"),
        process(579, user, "ControlCenter"),
    ]
}

/// killall.c `printsig()`: names followed by a space, a line break once a line reaches 75
/// columns, and a final newline.
fn signal_list() -> String {
    let mut text = String::new();
    let mut offset = 0;
    for (index, name) in SIGNALS[1..].iter().enumerate() {
        text.push_str(name);
        text.push(' ');
        offset += name.len() + 1;
        let remaining = SIGNALS.len() - 1 - index;
        if offset >= 75 && remaining > 1 {
            offset = 0;
            text.push('\n');
        }
    }
    text.push('\n');
    text
}

fn unknown_signal(name: &str) -> Output {
    Output::failed(
        1,
        format!(
            "killall: unknown signal {name}; valid signals:\n{}",
            signal_list()
        ),
    )
}

/// killall.c `kludge_signal_args()`: removes `-SIGNAL` words (up to `--`), returning the
/// signal and the remaining words.
fn take_signal(args: &[String]) -> Result<(usize, Vec<String>), Output> {
    let mut signal = SIGTERM;
    let mut kept = Vec::new();
    let mut kludge = true;
    for word in args {
        if word == "--" {
            kludge = false;
        }
        let Some(rest) = word
            .strip_prefix('-')
            .filter(|rest| kludge && !rest.is_empty())
        else {
            kept.push(word.clone());
            continue;
        };
        let first = rest.chars().next().unwrap_or_default();
        let optionlike = OPTIONS.contains(first);
        if first.is_ascii_alphabetic() {
            if rest == "help" {
                return Err(Output::failed(1, USAGE));
            }
            let name = match rest.get(..3) {
                Some(prefix) if prefix.eq_ignore_ascii_case("SIG") => &rest[3..],
                _ => rest,
            };
            match (1..SIGNALS.len()).find(|&n| SIGNALS[n].eq_ignore_ascii_case(name)) {
                Some(number) => signal = number,
                None if optionlike => kept.push(word.clone()),
                None => return Err(unknown_signal(name)),
            }
        } else if first.is_ascii_digit() {
            let digits_end = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits_end < rest.len() {
                return Err(Output::failed(
                    1,
                    format!("killall: illegal signal number: {rest}\n"),
                ));
            }
            match rest.parse::<usize>() {
                Ok(number) if number < SIGNALS.len() => signal = number,
                _ => return Err(unknown_signal(rest)),
            }
        } else if optionlike {
            kept.push(word.clone());
        } else {
            return Err(unknown_signal(rest));
        }
    }
    Ok((signal, kept))
}

pub fn run(machine: &Machine, args: &[String]) -> Output {
    let (signal, args) = match take_signal(args) {
        Ok(taken) => taken,
        Err(output) => return output,
    };
    let parsed = match getopt("killall", &args, OPTIONS) {
        Ok(parsed) => parsed,
        Err(diagnostic) => return Output::failed(1, format!("{diagnostic}{USAGE}")),
    };
    let (mut quiet, mut verbose, mut show_only) = (false, false, false);
    let mut user: Option<String> = None;
    let mut cmd: Option<String> = None;
    for (option, argument) in parsed.options {
        match option {
            'c' => cmd = argument,
            'u' => user = argument,
            'q' => quiet = true,
            'v' => verbose = true,
            's' => show_only = true,
            // Effective instead of real uid, and zombies: the same here.
            'e' | 'z' => {}
            'l' => return Output::ok(signal_list()),
            // Jails are FreeBSD only: Apple's switch sends `-j` to usage().
            'j' => return Output::failed(1, USAGE),
            other => {
                return Output::failed(
                    1,
                    format!("killall: option -{other} is not emulated by macllm's sandbox\n"),
                );
            }
        }
    }
    let names = parsed.operands;
    if user.is_none() && cmd.is_none() && names.is_empty() {
        return Output::failed(1, USAGE);
    }
    let caller = machine.info.uid;
    // Whose processes to look at: `-u` (a uid, or a name looked up), else the caller's own
    // unless the caller is root.
    let owner = match user.as_deref() {
        Some(text) => match text.parse::<u32>() {
            Ok(uid) if !text.is_empty() => Some(uid),
            _ if text == "root" => Some(0),
            _ if text == machine.info.user => Some(machine.info.user_uid),
            _ => {
                return Output::failed(1, format!("killall: user {text} does not exist\n"));
            }
        },
        None if caller != 0 => Some(caller),
        None => None,
    };
    let mut output = Output::default();
    let mut killed = 0;
    let mut restarted: Vec<&str> = Vec::new();
    for process in processes(machine) {
        if owner.is_some_and(|uid| process.uid != uid) {
            continue;
        }
        if let Some(cmd) = &cmd {
            let prefix = |text: &str| text.chars().take(MAXCOMLEN).collect::<String>();
            if prefix(process.command) != prefix(cmd) {
                continue;
            }
        }
        if !names.is_empty() && !names.iter().any(|name| name == process.command) {
            continue;
        }
        let line = format!("kill -{} {}\n", SIGNALS[signal], process.pid);
        if verbose || show_only {
            output.stdout.push_str(&line);
        }
        killed += 1;
        if show_only {
            continue;
        }
        if caller != 0 && process.uid != caller {
            output.stderr.push_str(&format!(
                "killall: warning: {}: Operation not permitted\n",
                line.trim_end()
            ));
            output.status = 1;
        } else if terminates(signal) && !restarted.contains(&process.command) {
            restarted.push(process.command);
        }
    }
    if killed == 0 {
        if !quiet {
            let whose = if caller != 0 { "belonging to you " } else { "" };
            output
                .stderr
                .push_str(&format!("No matching processes {whose}were found\n"));
        }
        output.status = 1;
    }
    for command in restarted {
        if let Err(err) = machine.log(RESTART_LOG, &format!("killall {command}")) {
            output.stderr.push_str(&format!(
                "killall: the emulated Mac could not record the restart: {err:#}\n"
            ));
            output.status = 1;
        }
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{args, mac, restarts};

    fn killall(machine: &Machine, list: &[&str]) -> Output {
        run(machine, &args(list))
    }

    /// killall.c: success is silent, status 0; launchd relaunches Dock, so a second kill
    /// succeeds too; each kill is one `killall NAME` line (reference 1.9 restart map).
    #[test]
    fn kill_is_silent_and_logged() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        for _ in 0..2 {
            assert_eq!(killall(&machine, &["Dock"]), Output::ok(""));
        }
        assert_eq!(killall(&machine, &["Finder", "SystemUIServer"]).status, 0);
        assert_eq!(
            restarts(&machine),
            "killall Dock\nkillall Dock\nkillall SystemUIServer\nkillall Finder\n"
        );
    }

    /// killall.c: `No matching processes %swere found`, "belonging to you " unless root;
    /// names are case-sensitive.
    #[test]
    fn no_match_message() {
        let (_dir, mut machine) = mac("m1-8gb-monterey");
        let out = killall(&machine, &["dock"]);
        assert_eq!(
            (out.status, out.stderr.as_str()),
            (1, "No matching processes belonging to you were found\n")
        );
        machine.info.uid = 0;
        let out = killall(&machine, &["Safari"]);
        assert_eq!(out.stderr, "No matching processes were found\n");
        assert_eq!(restarts(&machine), "");
    }

    /// killall.c: `-q` drops the message but keeps status 1.
    #[test]
    fn q_is_quiet() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        let out = killall(&machine, &["-q", "Nope"]);
        assert_eq!((out.status, out.stderr.as_str()), (1, ""));
    }

    /// killall.c: `-u USER` selects by owner (nix-darwin runs `killall -qu USER Dock`);
    /// unknown users are an error.
    #[test]
    fn u_selects_owner() {
        let (_dir, mut machine) = mac("m1-8gb-monterey");
        machine.info.uid = 0;
        assert_eq!(killall(&machine, &["-qu", "admin", "Dock"]).status, 0);
        assert_eq!(restarts(&machine), "killall Dock\n");
        let out = killall(&machine, &["-u", "bob", "Dock"]);
        assert_eq!(
            (out.status, out.stderr.as_str()),
            (1, "killall: user bob does not exist\n")
        );
        // Root's own processes: only root's cfprefsd.
        let out = killall(&machine, &["-s", "-u", "root", "cfprefsd"]);
        assert_eq!(out.stdout, "kill -term 164\n");
    }

    /// killall.c: kill(2) of another user's process fails with EPERM for a non-root caller.
    #[test]
    fn others_processes_need_root() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        let out = killall(&machine, &["-u", "0", "cfprefsd"]);
        assert_eq!(out.status, 1);
        assert_eq!(
            out.stderr,
            "killall: warning: kill -term 164: Operation not permitted\n"
        );
        assert_eq!(restarts(&machine), "");
    }

    /// killall.c: `-s` shows without signalling, `-v` shows and signals (Libc sys_signame).
    #[test]
    fn s_and_v() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        let out = killall(&machine, &["-s", "Dock"]);
        assert_eq!((out.status, out.stdout.as_str()), (0, "kill -term 571\n"));
        assert_eq!(restarts(&machine), "");
        let out = killall(&machine, &["-v", "-KILL", "Finder"]);
        assert_eq!(out.stdout, "kill -kill 576\n");
        assert_eq!(restarts(&machine), "killall Finder\n");
    }

    /// killall.c `kludge_signal_args`: `-HUP`, `-SIGHUP`, `-1` all send SIGHUP (which ends
    /// cfprefsd); `-0` only checks, so nothing restarts.
    #[test]
    fn signal_words() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        for word in ["-HUP", "-sighup", "-1"] {
            let out = killall(&machine, &["-s", word, "cfprefsd"]);
            assert_eq!(out.stdout, "kill -hup 512\n", "{word}");
        }
        assert_eq!(killall(&machine, &["-0", "ControlCenter"]).status, 0);
        assert_eq!(restarts(&machine), "");
        let out = killall(&machine, &["-x", "Dock"]);
        assert!(
            out.stderr
                .starts_with("killall: unknown signal x; valid signals:\nhup int ")
        );
        let out = killall(&machine, &["-9x", "Dock"]);
        assert_eq!(out.stderr, "killall: illegal signal number: 9x\n");
    }

    /// killall.c `usage()` (three lines), for no operands and for `-help`.
    #[test]
    fn usage() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        for args in [&[][..], &["-help"], &["-q"]] {
            let out = killall(&machine, args);
            assert_eq!((out.status, out.stderr.as_str()), (1, USAGE), "{args:?}");
        }
    }

    /// killall.c `printsig()`: `-l` lists Libc's signal names, wrapped at 75 columns.
    #[test]
    fn l_lists_signals() {
        let (_dir, machine) = mac("m1-8gb-monterey");
        let out = killall(&machine, &["-l"]);
        assert_eq!(out.status, 0);
        assert_eq!(
            out.stdout,
            "hup int quit ill trap abrt emt fpe kill bus segv sys pipe alrm term urg stop \n\
             tstp cont chld ttin ttou io xcpu xfsz vtalrm prof winch info usr1 usr2 \n"
        );
    }
}
